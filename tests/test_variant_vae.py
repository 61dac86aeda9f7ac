"""The VAE variant: its maths on hand-computed values, and (for VAE and VAE-GAN alike, which share the encoder,
the pictures and the measures) training, exact resume, sampling, views, measures and the command line."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_core.measuring import evaluation, health
from gan_core.spec import registry
from gan_core.nets import sampling
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.spec.settings import SettingError
from gan_core.training.trainer import Trainer
from gan_core.variants import vae
from support.cli import gan_core_here, last_line
from support.datasets import requires_dataset
from support.resume import assert_resumed_like

AUTOENCODERS = ["vae", "vaegan"]
METRICS = {
    "vae": ("loss", "reconstruction_loss", "kl"),
    "vaegan": ("loss", "reconstruction_loss", "kl", "llike", "d_loss", "g_loss", "d_real", "d_fake"),
}


def tiny_config(variant_name, **overrides):
    """A digits (8x8) run of the variant's preset, small enough to train in seconds."""
    values = dict(dataset="digits", width=8, latent_dim=4, batch_size=16, steps=6, log_every=2, sample_every=3,
                  checkpoint_every=3, max_examples=256, g_learning_rate=1e-3)
    values.update(overrides)
    return preset(f"fashion-{variant_name}", **values)


# ---- maths --------------------------------------------------------------------------------------------------------


def test_kl_divergence_on_hand_values():
    # Per dimension 0.5 * (exp(lv) + mean^2 - 1 - lv): (1 + 1 - 1 - 0) / 2 and (2 + 0 - 1 - ln 2) / 2.
    mean, log_variance = tf.constant([[1.0, 0.0]]), tf.constant([[0.0, math.log(2.0)]])
    assert float(vae.kl_divergence(mean, log_variance)) == pytest.approx(0.5 + 0.5 * (1 - math.log(2.0)), rel=1e-6)
    assert float(vae.kl_divergence(tf.zeros([3, 5]), tf.zeros([3, 5]))) == 0.0, "the prior itself costs nothing"
    # Averaged over the batch, summed over dimensions.
    both = vae.kl_divergence(tf.constant([[1.0, 1.0], [0.0, 0.0]]), tf.zeros([2, 2]))
    assert float(both) == pytest.approx(0.5)


def test_bernoulli_reconstruction_loss_on_hand_values():
    # Targets 1 and 0 (pixels +1 and -1); probabilities 0.8 and 0.3 (outputs 0.6 and -0.4): -ln 0.8 - ln 0.7.
    real = tf.constant([[[[1.0], [-1.0]]]])
    reconstructed = tf.constant([[[[0.6], [-0.4]]]])
    expected = -math.log(0.8) - math.log(0.7)
    assert float(vae.bernoulli_reconstruction_loss(real, reconstructed)) == pytest.approx(expected, rel=1e-5)
    # A grey target (0.5) against probability 0.5 costs ln 2 per pixel; images are averaged, pixels summed.
    batch = tf.concat([real, tf.zeros([1, 1, 2, 1])], axis=0)
    guesses = tf.concat([reconstructed, tf.zeros([1, 1, 2, 1])], axis=0)
    assert float(vae.bernoulli_reconstruction_loss(batch, guesses)) == pytest.approx(
        (expected + 2 * math.log(2.0)) / 2, rel=1e-5)
    # A saturated tanh output stays finite.
    assert math.isfinite(float(vae.bernoulli_reconstruction_loss(tf.constant([[-1.0]]), tf.constant([[1.0]]))))


def test_reparameterisation_and_the_weighted_loss():
    draw = vae.reparameterise(tf.constant([1.0]), tf.constant([math.log(4.0)]), tf.constant([0.5]))
    assert float(draw[0]) == pytest.approx(2.0), "mean + std * noise with std 2"
    assert float(vae.vae_loss(tf.constant(10.0), tf.constant(3.0), beta=2.0)) == 16.0


def test_unit_interval_squared_error_reads_pixels_in_zero_to_one():
    real = np.array([[[0], [255]]], np.uint8)
    reconstructed = np.array([[[255], [255]]], np.uint8)
    np.testing.assert_allclose(vae.unit_interval_squared_error(real, reconstructed), [0.5])


# ---- settings -----------------------------------------------------------------------------------------------------


def test_settings_defaults_and_the_images_only_rule():
    config = preset("fashion-vae")
    assert config.variant == "vae" and config.vae_beta == 1.0
    assert {"loss", "n_critic", "gp_weight", "conditional", "d_learning_rate"} <= set(registry.get("vae").unused_fields)
    with pytest.raises(SettingError, match="image dataset"):
        preset("fashion-vae", dataset="ring", architecture="mlp")
    with pytest.raises(SettingError, match="vae_beta"):
        preset("fashion-vae", vae_beta=-1.0)


def test_health_does_not_call_a_run_without_a_discriminator_diverged():
    rows = [{"step": step, "loss": 300.0 - step, "kl": 10.0} for step in range(10, 1010, 10)]
    assert [finding.kind for finding in health.diagnose(rows, "non_saturating", "running")] == []
    assert [finding.kind for finding in health.diagnose(rows, "non_saturating", "diverged")] == ["non_finite"]


# ---- training, resume, sampling, views and measures (both variants) -----------------------------------------------


@pytest.fixture(scope="module", params=AUTOENCODERS)
def tiny_run(request, tmp_path_factory):
    """(variant name, run, trainer): tiny_config of each variant trained straight through its 6 steps."""
    run = create_run(tiny_config(request.param), tmp_path_factory.mktemp(f"{request.param}-tiny"))
    trainer = Trainer(run)
    assert trainer.train() == "finished"
    return request.param, run, trainer


@pytest.mark.slow
def test_trains_checkpoints_and_samples(tiny_run):
    variant_name, run, trainer = tiny_run
    rows = run.metrics_since()
    assert [row["step"] for row in rows] == [2, 4, 6]
    for row in rows:
        for name in METRICS[variant_name]:
            assert math.isfinite(row[name]), (name, row)
        assert row["kl"] >= 0 and row["reconstruction_loss"] > 0
    assert run.checkpoint_steps() == [3, 6] and run.sample_steps() == [0, 3, 6]
    # The encoder is saved under its own name, as the views restore it.
    assert set(trainer.training.networks) == {"generator", "encoder"} | (
        {"discriminator"} if variant_name == "vaegan" else set())
    encoder = registry.of(run.config).build_encoder(run.config)
    assert sampling.restore_network(run, 6, encoder=encoder) == 6
    for restored, trained in zip(encoder.get_weights(), trainer.training.encoder.get_weights()):
        np.testing.assert_array_equal(restored, trained)
    samples = sampling.sample(run, 10, seed=0)
    assert samples.shape == (10, 8, 8, 1) and samples.dtype == np.uint8 and samples.std() > 0


@pytest.mark.slow
def test_resume_continues_exactly_and_the_seed_decides(tiny_run, tmp_path):
    # The module's tiny run, trained straight through, is what a run stopped at step 4 and resumed must match.
    variant_name, straight, _ = tiny_run
    assert_resumed_like(straight, tmp_path, METRICS[variant_name])

    other_seed = create_run(straight.config.replace(seed=1, steps=2), tmp_path)
    Trainer(other_seed).train()
    assert other_seed.metrics_since()[0]["step"] == straight.metrics_since()[0]["step"] == 2
    assert other_seed.metrics_since()[0]["loss"] != straight.metrics_since()[0]["loss"]


@pytest.fixture(scope="module", params=AUTOENCODERS)
def trained_run(request, tmp_path_factory):
    config = tiny_config(request.param, steps=40, checkpoint_every=40, sample_every=40, log_every=10,
                         max_examples=0, width=16, latent_dim=8)
    run = create_run(config, tmp_path_factory.mktemp(request.param))
    Trainer(run).train()
    return run


@pytest.mark.slow
def test_each_view_draws_pictures_of_held_out_images(trained_run):
    views = {view.key: view for view in registry.of(trained_run.config).views()}
    assert set(views) == {"reconstructions", "prior_samples", "latent_walks"}
    assert all(view.page == "gallery" for view in views.values())
    scale, padding = 7, 2  # 8x8 images are shown 7 times larger, with the grid's padding scaled alike

    def side(tiles):
        return (tiles * (8 + padding) + padding) * scale
    expected_tiles = {"reconstructions": (8, 8), "prior_samples": (8, 8),
                      "latent_walks": (vae.WALK_ROWS, vae.WALK_STEPS + 2)}
    for key, view in views.items():
        pictures = view.draw(trained_run, 40, 0)
        assert len(pictures) == 1 and pictures[0].caption
        image = pictures[0].image
        rows, columns = expected_tiles[key]
        assert image.dtype == np.uint8 and image.shape == (side(rows), side(columns)), key
    # The walks start and end at the real images whose codes they join.
    walks = views["latent_walks"].draw(trained_run, 40, 0)[0].image
    ends = evaluation.held_out_examples(trained_run.config, 2 * vae.WALK_ROWS, 0, training_if_missing=True)[0]
    corner = padding * scale
    first_tile = walks[corner : corner + 8 * scale : scale, corner : corner + 8 * scale : scale]
    np.testing.assert_array_equal(first_tile, ends[0, ..., 0])


@pytest.mark.slow
def test_evaluate_measures_reconstruction_error_and_kl(trained_run):
    variant = registry.of(trained_run.config)
    results = variant.evaluate(trained_run, 40, 100, seed=0)
    assert set(results) == {measure.name for measure in variant.measures} == {"reconstruction_error", "kl"}
    held_out = evaluation.held_out_examples(trained_run.config, 100, 0)[0] / 255.0
    assert 0 < results["reconstruction_error"] < 1, "pixels in [0, 1]"
    if trained_run.config.variant == "vae":
        # Better than guessing grey everywhere, which a few VAE steps already are (not yet a GAN's decoder).
        assert results["reconstruction_error"] < np.mean(np.square(held_out - 0.5))
    assert results["kl"] > 0
    assert variant.evaluate(trained_run, 40, 100, seed=0) == results, "the same seed measures the same images"
    with pytest.raises(ValueError, match="at most"):
        variant.evaluate(trained_run, 40, 10_000, seed=0)


@pytest.mark.slow
@pytest.mark.parametrize("variant_name", AUTOENCODERS)
def test_the_command_line_trains_the_preset(tmp_path, variant_name):
    requires_dataset("fashion_mnist")
    result = gan_core_here("train", "--preset", f"fashion-{variant_name}", "--steps", 3, "--set", "log_every=1",
                           "--runs-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "step 3/3" in result.stdout and " kl " in result.stdout
    assert last_line(result).startswith(str(tmp_path))
