"""Tests for gan_core.measuring.features: the project's classifiers, their cache, InceptionV3's availability, the choice
rule.

The MNIST and Fashion-MNIST classifiers are trained in the normal cache directory (GAN_CACHE_DIR or
~/.cache/gan_dashboard), so only the first run of the suite pays for training them; a fresh CI machine trains
each once (about half a minute each on two cores). So is the digits classifier, of which the tests of the cache
get copies (tests/support/cached_classifiers.py).
"""

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gan_core.inputs import data
from gan_core.measuring import features
from gan_core.store import uploads
from gan_core.spec.config import RunConfig, preset
from support.cached_classifiers import copy_of_the_digits_classifier
from support.datasets import requires_dataset, write_kaggle_cifar

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_inception_weights(tmp_path, monkeypatch):
    """A Keras home without InceptionV3's weights, as on a machine that never downloaded them."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(features, "_loaded_inception", [])
    return tmp_path / "keras_home"


@pytest.fixture(scope="module")
def digits_cache(tmp_path_factory):
    """A cache directory holding the digits classifier (the smallest built-in set), trained once in the normal cache
    and copied here; training into a cache is the test of two processes wanting one classifier."""
    cache = tmp_path_factory.mktemp("cache")
    copy_of_the_digits_classifier(cache)
    return cache


# ---------------------------------------------------------------------------------------------------------------
# 2-D points and the choice rule.


def test_point_extractor_gives_the_points_as_float64_features():
    extractor = features.choose_extractor(preset("ring-mlp"))
    points = data.toy_points("ring", 50, seed=1)
    result = extractor.features(points)
    assert result.dtype == np.float64 and result.shape == (50, 2)
    np.testing.assert_array_equal(result, points.astype(np.float64))
    assert extractor.feature_space == "2-D points" and not extractor.is_classifier
    with pytest.raises(ValueError, match="no class probabilities"):
        extractor.probabilities(points)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        extractor.features(np.zeros((4, 3), np.float32))


def test_unknown_kinds_and_kinds_that_do_not_fit_point_sets_are_refused():
    with pytest.raises(ValueError, match="auto, classifier, inception"):
        features.choose_extractor(preset("mnist-dcgan"), kind="pixels")
    with pytest.raises(ValueError, match="compared on the points themselves"):
        features.choose_extractor(preset("ring-mlp"), kind="classifier")


def test_without_inception_weights_inception_is_unavailable_with_a_clear_message(no_inception_weights):
    with pytest.raises(features.FeaturesUnavailable) as caught:
        features.inception_extractor(download=False)
    message = str(caught.value)
    assert str(no_inception_weights / "models" / features.INCEPTION_WEIGHTS_FILE) in message
    assert "FID cannot be computed" in message and "human real-or-fake test" in message
    with pytest.raises(features.FeaturesUnavailable, match="InceptionV3's ImageNet weights are not on this machine"):
        features.choose_extractor(preset("mnist-dcgan"), kind="inception")


def test_own_images_without_inception_weights_say_what_still_holds(no_inception_weights, png_folder):
    config = RunConfig(dataset="folder", data_path=str(png_folder))
    with pytest.raises(features.FeaturesUnavailable) as caught:
        features.choose_extractor(config)
    message = str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "not for a person's own images" in message
    assert "InceptionV3's ImageNet weights (for FID) are not on this machine" in message
    assert "FD / FID, KID, precision, recall, density, coverage" in message
    assert "pixel-intensity histograms" in message and "human real-or-fake test" in message
    with pytest.raises(features.FeaturesUnavailable, match="not for a person's own images"):
        features.choose_extractor(config, kind="classifier")
    # An upload is named as the person called it, not by its folder on the server.
    upload = uploads.save_upload([("holiday.zip", b"PK\x05\x06" + bytes(18))], no_inception_weights / "uploads")
    with pytest.raises(features.FeaturesUnavailable) as caught:
        features.choose_extractor(RunConfig(dataset="folder", data_path=str(upload)))
    assert "your own images, holiday.zip" in str(caught.value) and str(upload) not in str(caught.value)


def test_cifar10_has_no_classifier_when_only_a_sample_of_its_training_split_is_present(no_inception_weights,
                                                                                      tmp_path, monkeypatch):
    write_kaggle_cifar(tmp_path)  # ten images in Kaggle's layout: a partial copy of the training split
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    reason = features.classifier_unavailable_reason("cifar10")
    assert "of CIFAR-10's 50,000 training images are on this machine" in reason
    with pytest.raises(features.FeaturesUnavailable, match="too few to train a trustworthy CIFAR-10 classifier"):
        features.choose_extractor(preset("mnist-dcgan", dataset="cifar10"))


@pytest.mark.skipif(not features.inception_weights_path().is_file(), reason="InceptionV3's weights are not downloaded")
@pytest.mark.slow
def test_inception_gives_2048_features_for_grey_and_colour_images():
    extractor = features.inception_extractor()
    requires_dataset("mnist")
    grey = data.load_builtin("mnist", "test").examples[:4]
    colour = data.convert_images(grey, 32, 3)
    for images in (grey, colour):
        result = extractor.features(images)
        assert result.shape == (4, 2048) and result.dtype == np.float64 and np.isfinite(result).all()
    assert extractor.frechet_label == "FID (InceptionV3)"


# ---------------------------------------------------------------------------------------------------------------
# The classifier cache.


def test_classifier_key_depends_on_the_data_and_the_recipe(monkeypatch):
    train = data.load_builtin("digits", "train")
    key = features.classifier_key(train)
    assert features.classifier_key(data.load_builtin("digits", "train")) == key
    changed_pixel = train.examples.copy()
    changed_pixel[0, 0, 0, 0] ^= 1
    assert features.classifier_key(data.Dataset("digits", changed_pixel, train.labels, train.class_names)) != key
    changed_label = train.labels.copy()
    changed_label[0] = (changed_label[0] + 1) % 10
    assert features.classifier_key(data.Dataset("digits", train.examples, changed_label, train.class_names)) != key
    monkeypatch.setitem(features.CLASSIFIER_RECIPE, "epochs", 4)
    assert features.classifier_key(train) != key


@pytest.mark.slow
def test_digits_classifier_is_cached_and_reused_without_retraining(digits_cache, caplog):
    train, test = data.load_builtin("digits", "train"), data.load_builtin("digits", "test")
    path = features.classifier_path(train, digits_cache)
    details = json.loads(path.with_suffix(".json").read_text())
    assert path.is_file() and details["train_examples"] == 1500 and details["test_examples"] == 297
    modified = path.stat().st_mtime_ns

    with caplog.at_level(logging.INFO, logger="gan_core.measuring.features"):
        extractor = features.load_or_train_classifier(train, test, digits_cache)
    assert "training" not in caplog.text
    assert path.stat().st_mtime_ns == modified
    assert not [entry.name for entry in path.parent.iterdir() if entry.name.startswith(".")], "no temporary files left"

    # The loaded network is the one that was measured: it reproduces the recorded test accuracy.
    probabilities = extractor.probabilities(test.examples)
    assert np.mean(probabilities.argmax(axis=1) == test.labels) == pytest.approx(details["test_accuracy"], abs=1e-6)
    assert extractor.test_accuracy == details["test_accuracy"] > 0.9
    assert extractor.feature_space == "digits classifier" and extractor.frechet_label == "FD (Digits classifier)"


@pytest.mark.slow
def test_classifier_features_and_probabilities_have_the_documented_shapes(digits_cache):
    extractor = features.load_or_train_classifier(
        data.load_builtin("digits", "train"), lambda: pytest.fail("a cache hit must not load the test split"),
        digits_cache)
    images = data.load_builtin("digits", "test").examples[:37]
    feature_rows, probabilities = extractor.features_and_probabilities(images)
    assert feature_rows.shape == (37, 128) and feature_rows.dtype == np.float64
    assert probabilities.shape == (37, 10) and probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(extractor.features(images), feature_rows)
    # Images of another size and colour mode are converted to what the classifier expects.
    resized = extractor.features(data.convert_images(images, 28, 3))
    assert resized.shape == (37, 128)
    with pytest.raises(ValueError, match="uint8"):
        extractor.features(images.astype(np.float32))


@pytest.mark.slow
def test_two_processes_wanting_a_classifier_for_changed_training_data_train_a_second_one_once(tmp_path, caplog):
    """This test's process and a process of its own want the classifier of the first 600 digits at once; the cache
    holds the one of the whole training split."""
    full = copy_of_the_digits_classifier(tmp_path)
    train = data.load_builtin("digits", "train").first(600)
    script = textwrap.dedent(f"""
        import logging, sys
        logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(message)s")
        from gan_core.inputs import data
        from gan_core.measuring import features
        train = data.load_builtin("digits", "train").first(600)
        extractor = features.load_or_train_classifier(train, data.load_builtin("digits", "test"), {str(tmp_path)!r})
        print("key", extractor.key)
    """)
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=environment)
    try:
        with caplog.at_level(logging.INFO, logger="gan_core.measuring.features"):
            here = features.load_or_train_classifier(train, data.load_builtin("digits", "test"), tmp_path)
    finally:
        printed, errors = other.communicate(timeout=300)
    assert other.returncode == 0, errors[-2000:]
    told = caplog.text + printed
    assert told.count("training the digits classifier") == 1, told
    assert "training the digits classifier on 600 images" in told
    other_keys = [line.removeprefix("key ") for line in printed.splitlines() if line.startswith("key ")]
    assert [here.key, *other_keys] == [features.classifier_key(train)] * 2, "both have the changed data's classifier"
    second = features.classifier_path(train, tmp_path)
    assert second != full and second.is_file()
    # Each classifier's network and record, and the new one's lock: no temporary file is left behind.
    files = sorted(entry.name for entry in (tmp_path / "classifiers").iterdir())
    assert files == sorted([full.name, f"{full.stem}.json", second.name, f"{second.stem}.json", f"{second.stem}.lock"])


# ---------------------------------------------------------------------------------------------------------------
# The real classifiers, in the normal cache.


@pytest.mark.slow
@pytest.mark.parametrize("dataset_name, minimum", [("mnist", 0.98), ("fashion_mnist", 0.89)])
def test_dataset_classifier_reaches_its_test_accuracy(dataset_name, minimum):
    requires_dataset(dataset_name)
    extractor = features.classifier_extractor(dataset_name)
    test = data.load_builtin(dataset_name, "test")
    accuracy = np.mean(extractor.probabilities(test.examples).argmax(axis=1) == test.labels)
    assert accuracy >= minimum
    assert accuracy == pytest.approx(extractor.test_accuracy, abs=1e-6)
    assert features.choose_extractor(preset("mnist-dcgan", dataset=dataset_name)) is extractor


def test_a_preparation_whose_worker_died_reads_as_failed(tmp_path):
    from gan_core.workers import feature_jobs

    assert feature_jobs.preparation_status("mnist", tmp_path).state == "none"
    path = feature_jobs.status_path("mnist", tmp_path)
    path.parent.mkdir(parents=True)
    no_such_pid = 2**22 + 7  # above Linux's largest pid
    feature_jobs.write_preparation(path, feature_jobs.Preparation("training", 0.4, "training: 40%", no_such_pid))
    status = feature_jobs.preparation_status("mnist", tmp_path)
    assert status.state == "failed" and "ended unexpectedly" in status.message and not status.is_active


def test_a_classifiers_time_is_predicted_from_those_trained_before_on_images_of_its_size(tmp_path):
    folder = tmp_path / "classifiers"
    folder.mkdir()
    assert features.expected_classifier_seconds("fashion_mnist", tmp_path) is None
    (folder / "mnist-0123456789abcdef.json").write_text(json.dumps(
        {"dataset": "mnist", "training_seconds": 90.0, "version": features.CLASSIFIER_VERSION,
         "recipe": features.CLASSIFIER_RECIPE}))
    (folder / "mnist.preparing.json").write_text(json.dumps({"state": "done"}))  # a progress file: no pace
    # A classifier of an older version was trained another way, at another pace.
    (folder / "mnist-fedcba9876543210.json").write_text(json.dumps(
        {"dataset": "mnist", "training_seconds": 900.0, "version": features.CLASSIFIER_VERSION - 1,
         "recipe": features.CLASSIFIER_RECIPE}))
    # Fashion-MNIST's classifier does the same work as MNIST's (the same image size and number of examples).
    assert features.expected_classifier_seconds("fashion_mnist", tmp_path) == pytest.approx(90.0)
    # Digits' 8x8 images and CIFAR-10's colour ones are not judged by a 28x28 classifier's pace.
    assert features.expected_classifier_seconds("digits", tmp_path) is None
    assert features.expected_classifier_seconds("cifar10", tmp_path) is None
    assert features.classifier_training_work("cifar10") > features.classifier_training_work("mnist") > \
        features.classifier_training_work("digits")
    # A record of another recipe at the same pace predicts this recipe's time from its own work.
    wider = {**features.CLASSIFIER_RECIPE, "filters": (32, 64)}
    wider_work = features.classifier_training_work("mnist", wider)
    (folder / "mnist-0123456789abcdef.json").write_text(json.dumps(
        {"dataset": "mnist", "training_seconds": 90.0 * wider_work / features.classifier_training_work("mnist"),
         "version": features.CLASSIFIER_VERSION, "recipe": wider}))
    assert features.expected_classifier_seconds("fashion_mnist", tmp_path) == pytest.approx(90.0)


def test_the_classifier_button_gives_this_machines_time_else_the_reference_cpus(tmp_path, monkeypatch):
    from views.feature_preparation import classifier_time_text

    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path))
    assert classifier_time_text("mnist") == "about 22 s on a 2-core AMD EPYC with AVX-512"
    assert classifier_time_text("cifar10") == "one to a few minutes"  # never measured anywhere
    (tmp_path / "classifiers").mkdir()
    (tmp_path / "classifiers" / "mnist-0123456789abcdef.json").write_text(
        json.dumps({"dataset": "mnist", "training_seconds": 150.0, "version": features.CLASSIFIER_VERSION,
                    "recipe": features.CLASSIFIER_RECIPE}))
    assert classifier_time_text("fashion_mnist") == "about 2 min on this machine"
