"""Tests for gan_core.measuring.critique: the discriminator loaded from a checkpoint is the one that trained, it scores
images and points as the trainer feeds them, and its scores are read the way its loss defines them."""

import numpy as np
import pytest

from gan_core.measuring import critique
from gan_core.inputs import data
from gan_core.nets import models
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.training.trainer import Trainer


def trained_briefly(config, runs_dir):
    """A run trained for three steps, and the trainer that holds its networks."""
    run = create_run(config, runs_dir)
    trainer = Trainer(run)
    trainer.train(target_step=3)
    return run, trainer


@pytest.mark.slow
def test_the_loaded_discriminator_scores_as_the_trained_one(tmp_path):
    run, trainer = trained_briefly(preset("digits-mlp", steps=3), tmp_path)
    discriminator = critique.load_discriminator(run)
    images = data.load_builtin("digits", "test").examples[:40]
    expected = np.asarray(trainer.training.networks["discriminator"](images.astype(np.float32) / 127.5 - 1.0,
                                                                     training=False))[:, 0]
    # A batch size that does not divide the count checks that the batches are put back together in order.
    assert np.allclose(critique.discriminator_logits(discriminator, images, batch_size=16), expected, atol=1e-5)
    # A freshly initialised discriminator gives other scores, so the weights really came from the checkpoint.
    fresh = models.build_models(run.config, 0)[1]
    assert not np.allclose(critique.discriminator_logits(fresh, images), expected, atol=1e-3)


@pytest.mark.slow
def test_a_conditional_discriminator_needs_one_label_per_example(tmp_path):
    run, trainer = trained_briefly(preset("digits-mlp", steps=3, conditional=True), tmp_path)
    discriminator = critique.load_discriminator(run)
    test = data.load_builtin("digits", "test")
    images, labels = test.examples[:20], test.labels[:20]
    expected = np.asarray(trainer.training.networks["discriminator"]([images.astype(np.float32) / 127.5 - 1.0, labels],
                                                                     training=False))
    assert np.allclose(critique.discriminator_logits(discriminator, images, labels), expected[:, 0], atol=1e-5)
    with pytest.raises(ValueError, match="one class label per example"):
        critique.discriminator_logits(discriminator, images)


@pytest.mark.slow
def test_points_are_scored_as_they_are(tmp_path):
    run, trainer = trained_briefly(preset("ring-mlp", steps=3), tmp_path)
    points = data.toy_points("ring", 50, seed=1)
    expected = np.asarray(trainer.training.networks["discriminator"](points, training=False))[:, 0]
    assert np.allclose(critique.discriminator_logits(critique.load_discriminator(run), points), expected, atol=1e-5)
    with pytest.raises(ValueError, match="uint8 images"):
        critique.discriminator_logits(critique.load_discriminator(run), points.astype(np.int64))


def test_missing_checkpoints_are_refused(tmp_path):
    run = create_run(preset("ring-mlp", steps=3), tmp_path)
    with pytest.raises(ValueError, match="no checkpoint yet"):
        critique.load_discriminator(run)
    Trainer(run).train(target_step=3)
    with pytest.raises(ValueError, match=r"no checkpoint at step 2; available: \[3\]"):
        critique.load_discriminator(run, step=2)


def test_scores_are_probabilities_only_for_the_cross_entropy_losses():
    logits = np.array([-2.0, 0.0, 3.0])
    for loss in ("non_saturating", "minimax"):
        assert np.allclose(critique.readable_scores(logits, loss), 1 / (1 + np.exp(-logits)))
        assert "probability" in critique.score_label(loss)
    for loss in ("wgan_gp", "hinge", "lsgan"):
        assert np.array_equal(critique.readable_scores(logits, loss), logits)
        assert "probability" not in critique.score_label(loss)
    with pytest.raises(ValueError, match="loss='bce' is not allowed; use one of non_saturating, minimax"):
        critique.readable_scores(logits, "bce")
    with pytest.raises(ValueError, match="loss='bce' is not allowed; use one of non_saturating, minimax"):
        critique.score_label("bce")
