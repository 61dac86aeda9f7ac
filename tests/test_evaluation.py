"""Tests for gan_core.measuring.evaluation on real short runs: the order real-vs-real < trained < untrained, the caches,
the 2-D measures and the messages for bad requests."""

import json
import math

import pytest

from gan_core.measuring import evaluation, features
from gan_core.spec.config import RunConfig, preset
from gan_core.store.runs import create_run
from gan_core.training.callbacks import Callback
from gan_core.training.trainer import Trainer
from support.datasets import requires_dataset

pytestmark = pytest.mark.slow


class CheckpointAfterTheFirstStep(Callback):
    """Has the trainer's own checkpoints save the networks after the first step too: the untrained point."""

    def __init__(self) -> None:
        self.trainer: Trainer | None = None

    def on_step_end(self, session, event):
        if event.done == 1:
            return self.trainer.checkpoints.save_if_finite(1, event.outputs)
        return None


def train_with_an_untrained_checkpoint(config, runs_dir):
    """A run with a checkpoint after its first step (the untrained point) and one at its last step."""
    run = create_run(config, runs_dir)
    first_step = CheckpointAfterTheFirstStep()
    first_step.trainer = Trainer(run, callbacks=[first_step])
    assert first_step.trainer.train() == "finished"
    assert run.checkpoint_steps() == [1, config.steps]
    return run


# The MNIST run's last step: far from real digits, and far from the untrained generator too.
TRAINED_STEP = 150


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    requires_dataset("mnist")
    # The classic recipe (the settings' defaults), whose samples are the generator's own rather than an average of
    # its weights. Width 16 keeps the steps quick on two cores, and learning rates of 1e-3 (five times the recipe's)
    # learn in 150 steps about what its rates learn in 300 at width 32: rough strokes, not yet digits.
    config = RunConfig(dataset="mnist", steps=TRAINED_STEP, max_examples=5000, width=16, g_learning_rate=1e-3,
                       d_learning_rate=1e-3)
    return train_with_an_untrained_checkpoint(config, tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    run = create_run(preset("ring-mlp", steps=100), tmp_path_factory.mktemp("runs"))
    Trainer(run).train()
    return run


def test_real_vs_real_beats_trained_beats_untrained_on_mnist(mnist_run, tmp_path):
    reference = evaluation.reference_scores(mnist_run.config, 1000, cache_dir=tmp_path)
    trained = evaluation.evaluate_run(mnist_run, 1000, step=TRAINED_STEP)
    untrained = evaluation.evaluate_run(mnist_run, 1000, step=1)
    for name in ("frechet_distance", "kid_mean"):
        assert reference[name] < trained[name] < untrained[name], name
    # Real against real is near the floor of each measure; the untrained generator's near-identical samples
    # cover almost none of the real data and are all put in one class.
    assert reference["frechet_distance"] < 0.1 * trained["frechet_distance"]
    assert reference["recall"] > 0.9 and reference["coverage"] > 0.9 and reference["class_histogram_distance"] < 0.1
    assert reference["coverage"] > trained["coverage"] > untrained["coverage"]
    assert reference["classifier_score"] > trained["classifier_score"] > untrained["classifier_score"]
    assert untrained["class_coverage"] <= 0.2
    # A generator after 150 steps on 5,000 images has not learnt to copy them: its samples are no closer to
    # training images than held-out real images are.
    assert trained["memorisation_ratio"] > 1 and trained["near_copy_share"] < 0.05


def test_results_are_one_flat_json_object_with_every_measure(mnist_run):
    results = evaluation.evaluate_run(mnist_run, 1000)
    assert json.loads(json.dumps(results, allow_nan=False)) == results
    assert all(not isinstance(value, dict) for value in results.values())
    assert results["step"] == TRAINED_STEP and results["sample_count"] == 1000 and results["real_split"] == "test"
    assert results["feature_space"] == "mnist classifier"
    assert results["frechet_label"] == "FD (MNIST classifier)"
    assert results["classifier_test_accuracy"] >= 0.98
    for name in ("precision", "recall", "density", "coverage", "class_coverage", "class_histogram_distance"):
        assert math.isfinite(results[name]) and results[name] >= 0, name
    assert 1 <= results["classifier_score"] <= 10 and 1 <= results["real_classifier_score"] <= 10
    # Real MNIST is nearly balanced and recognised with confidence, so its score is close to 10.
    assert results["real_classifier_score"] > 8
    assert sum(results["generated_class_histogram"]) == pytest.approx(1)
    assert len(results["real_class_histogram"]) == len(results["class_names"]) == 10
    assert 0 <= results["near_copy_share"] <= 1
    assert results["seconds"] >= results["seconds_features"] > 0


def test_each_checkpoint_is_evaluated_once_and_then_read_from_the_run_store(mnist_run):
    first = evaluation.evaluate_run(mnist_run, 1000, step=TRAINED_STEP)
    again = evaluation.evaluate_run(mnist_run, 1000, step=TRAINED_STEP)
    # A fresh computation would time itself afresh; the same "seconds" show the stored result was returned.
    assert again == first
    stored = [row for row in mnist_run.evaluations("mnist classifier") if row["step"] == TRAINED_STEP]
    assert [row["results"] for row in stored] == [first]


def test_reference_scores_are_cached_on_disk(tmp_path):
    requires_dataset("mnist")
    config = preset("mnist-dcgan")
    first = evaluation.reference_scores(config, 500, cache_dir=tmp_path)
    [path] = (tmp_path / "reference").iterdir()
    assert path.name.startswith("mnist-mnist_classifier-500-")
    written = path.stat().st_mtime_ns
    assert evaluation.reference_scores(config, 500, cache_dir=tmp_path) == first
    assert path.stat().st_mtime_ns == written, "the second call reads the file instead of measuring again"
    assert first["real_split"] == "test" and first["generated_split"] == "train"
    assert evaluation.reference_scores(config, 500, seed=1, cache_dir=tmp_path) != first


def test_ring_measures_find_every_mode_in_real_data_and_judge_a_briefly_trained_generator(ring_run, tmp_path):
    reference = evaluation.reference_scores(ring_run.config, 500, cache_dir=tmp_path)
    assert reference["feature_space"] == "2-D points" and reference["num_modes"] == 8
    # Real points lie within three standard deviations of a mode 98.9% of the time (a 2-D Gaussian's share).
    assert reference["modes_covered"] == 8 and reference["high_quality_share"] > 0.97
    assert reference["precision"] > 0.9 and reference["recall"] > 0.9 and reference["grid_js"] < 0.05
    # After 100 steps the ring GAN has not spread over the eight modes yet, which every measure shows.
    trained = evaluation.evaluate_run(ring_run, 500)
    assert "classifier_score" not in trained and trained["real_split"] == "test"
    assert 0 <= trained["modes_covered"] < 8 and trained["high_quality_share"] < 0.5
    assert reference["grid_js"] < trained["grid_js"] <= math.log(2)
    assert reference["frechet_distance"] < trained["frechet_distance"]
    assert reference["kid_mean"] < trained["kid_mean"]


def test_bad_requests_are_refused_with_what_is_allowed(ring_run):
    with pytest.raises(ValueError, match="at least 10"):
        evaluation.evaluate_run(ring_run, 5)
    with pytest.raises(ValueError, match=r"no checkpoint at step 7; available: \[100\]"):
        evaluation.evaluate_run(ring_run, 100, step=7)
    with pytest.raises(ValueError, match="use at most 20,000"):
        evaluation.evaluate_run(ring_run, 20_001)
    with pytest.raises(ValueError, match="use at most 297"):
        evaluation.reference_scores(preset("digits-mlp"), 298)


def test_own_images_without_a_feature_space_fail_with_the_explanation(tmp_path, monkeypatch, png_folder):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setattr(features, "_loaded_inception", [])
    config = RunConfig(dataset="folder", data_path=str(png_folder), architecture="mlp", width=16, steps=2,
                       batch_size=16, image_size=16)
    run = create_run(config, tmp_path)
    Trainer(run).train()
    with pytest.raises(features.FeaturesUnavailable, match="Measures that still hold: pixel-intensity histograms"):
        evaluation.evaluate_run(run, 100)
