"""ACGAN: the class-loss maths on hand values, a tiny labelled run that trains, resumes exactly and samples one
row per class, and the class measures it shares with conditional GAN runs."""

import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gan_core.inputs import comparison
from gan_core.measuring import features
from gan_core.nets import sampling
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.spec.settings import SettingError
from gan_core.training.trainer import Trainer
from gan_core.variants import acgan, gan
from support import infogan_runs
from support.resume import assert_resumed_like


def tiny_config(**overrides):
    return infogan_runs.tiny_config(**{"variant": "acgan", **overrides})


# ---- the maths --------------------------------------------------------------------------------------------------


def test_the_class_loss_reads_logits_once():
    logits = tf.constant([[2.0, 0.0], [0.0, 0.0]])
    labels = tf.constant([0, 1])
    expected = (math.log(1 + math.exp(-2)) + math.log(2)) / 2
    # A softmax applied before this loss would give about 0.50 instead.
    assert float(acgan.class_loss(logits, labels)) == pytest.approx(expected, rel=1e-6)
    assert float(acgan.class_accuracy(tf.constant([[2.0, 0.0], [3.0, 1.0]]), labels)) == 0.5


def test_both_players_add_the_weighted_class_loss():
    assert float(acgan.acgan_discriminator_loss(1.0, 2.0, 3.0, 0.5)) == pytest.approx(3.5)
    assert float(acgan.acgan_generator_loss(1.0, 3.0, 2.0)) == pytest.approx(7.0)


def test_settings_are_checked():
    with pytest.raises(SettingError, match="acgan_class_weight"):
        tiny_config(acgan_class_weight=-0.5)
    with pytest.raises(SettingError, match="labelled image dataset"):
        tiny_config(dataset="ring", architecture="mlp")
    assert preset("mnist-acgan").acgan_class_weight == 1.0


def test_an_unlabelled_dataset_is_refused_clearly(tmp_path, png_folder):
    run = create_run(tiny_config(dataset="folder", data_path=str(png_folder), max_examples=0), tmp_path)
    with pytest.raises(ValueError, match="this ACGAN run is fed class labels, but .folder. has no labels here"):
        Trainer(run)


# ---- a tiny run -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    return infogan_runs.train_tiny_run(tiny_config(), tmp_path_factory.mktemp("acgan"))


def test_a_tiny_run_trains_with_class_heads_and_one_row_per_class(trained_run):
    run, trainer = trained_run
    for row in infogan_runs.finite_rows(run, ("d_class_loss_real", "d_class_loss_fake", "g_class_loss")):
        assert 0 <= row["d_class_accuracy_real"] <= 1 and 0 <= row["d_class_accuracy_fake"] <= 1
    assert set(trainer.training.networks) == {"generator", "discriminator", "class_head"}
    assert len(trainer.training.discriminator.inputs) == 1, "the discriminator is not told the class"
    grid = np.asarray(Image.open(run.sample_path(6)))
    assert grid.shape[0] > grid.shape[1], "10 class rows by 4 columns"
    samples = sampling.sample(run, 12, labels=np.full(12, 3))
    assert samples.shape == (12, 8, 8, 1) and samples.dtype == np.uint8


LEARNT_STEPS = 300


@pytest.fixture(scope="module")
def learnt_run(tmp_path_factory):
    """A run trained long enough (a few seconds) for its generator to draw the digits it is asked for."""
    config = tiny_config(steps=LEARNT_STEPS, log_every=10, checkpoint_every=LEARNT_STEPS, sample_every=LEARNT_STEPS,
                         width=16, g_learning_rate=1e-3, d_learning_rate=1e-3)
    return infogan_runs.train_tiny_run(config, tmp_path_factory.mktemp("acgan_learnt"))[0]


def test_the_class_head_learns_real_labels(learnt_run):
    rows = learnt_run.metrics_since()
    assert rows[-1]["d_class_loss_real"] < rows[0]["d_class_loss_real"] - 0.3
    assert rows[-1]["d_class_accuracy_real"] > 0.3


@pytest.mark.slow
def test_a_resumed_run_continues_exactly(trained_run, tmp_path):
    # The module's tiny run, trained straight through, is what a run stopped at step 4 and resumed must match.
    assert_resumed_like(trained_run[0], tmp_path, ("d_loss", "g_class_loss"), labels=np.arange(6))


# ---- measures ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_evaluate_gives_requested_class_accuracy_diversity_and_cas(learnt_run):
    results = acgan.ACGAN().evaluate(learnt_run, LEARNT_STEPS, 100, 0)
    assert "unavailable_measures" not in results
    assert {measure.name for measure in acgan.ACGAN.measures} <= set(results)
    # The samples are asked for the classes in turn; the digits classifier judges each against the class asked for,
    # and the learnt generator draws what it is asked for far more often than the 10% of chance.
    requested = comparison.cycled_labels(100, 10)
    generated = sampling.sample(learnt_run, 100, seed=0, step=LEARNT_STEPS, labels=requested)
    predicted = features.classifier_extractor("digits").probabilities(generated).argmax(axis=1)
    per_class = results["requested_class_accuracy_per_class"]
    assert per_class == [float(np.mean(predicted[requested == label] == label)) for label in range(10)]
    counts = np.bincount(requested, minlength=10)
    assert results["requested_class_accuracy"] == pytest.approx(np.dot(per_class, counts) / counts.sum())
    assert results["requested_class_accuracy"] > 0.5
    assert results["class_diversity_ratio"] > 0 and len(results["class_diversity_ratio_per_class"]) == 10
    infogan_runs.assert_the_cas_trains_on_real_digits_well(results, 100)
    assert results["classification_accuracy_score"] > 0.2, "a classifier trained on the samples alone beats chance"


@pytest.mark.slow
def test_conditional_gan_runs_get_the_requested_class_measures(tmp_path):
    config = preset("digits-mlp", conditional=True, steps=2, log_every=1, max_examples=256, width=16)
    run = create_run(config, tmp_path)
    Trainer(run).train()
    results = gan.GAN().evaluate(run, 2, 50, 0)
    assert "unavailable_measures" not in results and "class_diversity_ratio" not in results
    assert {measure.name for measure in gan.GAN.measures} <= set(results)
    assert 0 <= results["requested_class_accuracy"] <= 1 and len(results["requested_class_accuracy_per_class"]) == 10
    infogan_runs.assert_the_cas_trains_on_real_digits_well(results, 50)
    unconditional = create_run(config.replace(conditional=False), tmp_path)
    Trainer(unconditional).train()
    assert gan.GAN().evaluate(unconditional, 2, 50, 0) == {}


@pytest.mark.slow
def test_the_cli_trains_the_preset(tmp_path):
    infogan_runs.assert_the_cli_trains("mnist-acgan", tmp_path)
