"""The GAN's `updates` setting: alternating (the discriminator first, then the generator against it) or simultaneous
(both from one pass, each against the other's weights before the step)."""

import numpy as np
import pytest
import tensorflow as tf

from gan_core.spec import registry
from gan_core.spec.config import preset
from gan_core.spec.settings import SettingError
from support.batches import BATCH, fixed_batch
from support.resume import assert_a_resumed_run_continues_exactly


def test_the_setting_and_its_limits():
    assert preset("fashion-wgan-gp").updates == "alternating"  # the setting's default
    assert preset("mnist-dcgan").updates == "simultaneous"
    assert preset("mnist-dcgan", updates="alternating").updates == "alternating"
    with pytest.raises(SettingError, match="n_critic=5 is not allowed.*must be 1 with updates='simultaneous'"):
        preset("fashion-wgan-gp", updates="simultaneous")
    with pytest.raises(SettingError, match="updates"):
        preset("mnist-dcgan", updates="both")


def tiny_training(**overrides):
    config = preset("mnist-dcgan", **{**dict(dataset="digits", width=8, latent_dim=4, batch_size=BATCH,
                                             loss="hinge", updates="alternating"), **overrides})
    tf.keras.utils.set_random_seed(3)
    return registry.of(config).build_training(config, 0)


def trainable(network) -> list[np.ndarray]:
    return [variable.numpy() for variable in network.trainable_variables]


def assert_all_close(actual: list[np.ndarray], expected: list[np.ndarray]) -> None:
    assert len(actual) == len(expected)
    for actual_weights, expected_weights in zip(actual, expected):
        np.testing.assert_allclose(actual_weights, expected_weights, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("loss", ["hinge", "non_saturating", "wgan_gp"])
def test_a_simultaneous_step_is_each_network_updated_against_the_others_weights_before_it(loss):
    simultaneous = tiny_training(loss=loss, n_critic=1, updates="simultaneous")
    discriminator_alone, generator_alone = tiny_training(loss=loss, n_critic=1), tiny_training(loss=loss, n_critic=1)
    assert_all_close(trainable(simultaneous.generator), trainable(generator_alone.generator))
    before = {name: trainable(network) for name, network in simultaneous.networks.items()}

    metrics = simultaneous.step(fixed_batch(), tf.constant(0, tf.int64))
    batch = fixed_batch()
    discriminator_alone.discriminator_update(batch, 0)
    generator_alone.generator_update(batch, batch.labels(0), latent=batch.noise(0, [BATCH, 4]))

    assert_all_close(trainable(simultaneous.discriminator), trainable(discriminator_alone.discriminator))
    assert_all_close(trainable(simultaneous.generator), trainable(generator_alone.generator))
    for name, network in simultaneous.networks.items():
        assert any(not np.array_equal(old, new) for old, new in zip(before[name], trainable(network))), name
    assert set(metrics) == {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "gradient_penalty"}
    assert (float(metrics["gradient_penalty"]) > 0) == (loss == "wgan_gp")


def test_an_alternating_step_updates_the_discriminator_alike_and_the_generator_differently():
    alternating, simultaneous = tiny_training(), tiny_training(updates="simultaneous")
    alternating.step(fixed_batch(), tf.constant(0, tf.int64))
    simultaneous.step(fixed_batch(), tf.constant(0, tf.int64))
    assert_all_close(trainable(alternating.discriminator), trainable(simultaneous.discriminator))
    assert not np.allclose(trainable(alternating.generator)[0], trainable(simultaneous.generator)[0])


@pytest.mark.slow
def test_a_run_with_simultaneous_updates_trains_and_resumes_exactly(tmp_path):
    config = preset("digits-mlp", architecture="dcgan", width=8, batch_size=16, steps=8, log_every=2,
                    checkpoint_every=100, sample_every=100, updates="simultaneous", max_examples=256)
    assert_a_resumed_run_continues_exactly(config, tmp_path, "g_loss")
