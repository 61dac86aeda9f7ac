"""VAE-GAN's three losses on hand-computed values, which network each one trains, and its signs.

Training, resume, sampling, views, measures and the command line are tested for VAE and VAE-GAN together in
test_variant_vae.py.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_core.spec import registry
from gan_core.spec.config import preset
from gan_core.spec.settings import SettingError
from gan_core.variants import vaegan
from support.batches import BATCH, fixed_batch


def softplus(value: float) -> float:
    return math.log1p(math.exp(value))


def test_feature_reconstruction_loss_on_hand_values():
    # Per example 0.5 * squared distance: 0.5 * (1 + 4) and 0.5 * 1; averaged over the batch.
    real = tf.constant([[1.0, 2.0], [0.0, 0.0]])
    reconstructed = tf.constant([[0.0, 0.0], [0.0, 1.0]])
    assert float(vaegan.feature_reconstruction_loss(real, reconstructed)) == pytest.approx(1.5)
    # Feature maps are summed over every axis but the batch.
    maps = tf.ones([2, 3, 3, 4])
    assert float(vaegan.feature_reconstruction_loss(maps, tf.zeros_like(maps))) == pytest.approx(0.5 * 36)


def test_the_three_losses_on_hand_values():
    real, reconstructed, prior = tf.constant([2.0]), tf.constant([-1.0]), tf.constant([0.0])
    # D minimises -log D(x) - log(1 - D(x~)) - log(1 - D(x_p)) = softplus(-2) + softplus(-1) + softplus(0).
    assert float(vaegan.vaegan_discriminator_loss(real, reconstructed, prior)) == pytest.approx(
        softplus(-2) + softplus(-1) + softplus(0), rel=1e-6)
    # The decoder minimises -log D(x~) - log D(x_p) = softplus(1) + softplus(0).
    generator_loss = vaegan.vaegan_generator_loss(reconstructed, prior)
    assert float(generator_loss) == pytest.approx(softplus(1) + softplus(0), rel=1e-6)
    assert float(vaegan.vaegan_decoder_loss(tf.constant(10.0), tf.constant(2.0), gamma=0.1)) == pytest.approx(3.0)
    assert float(vaegan.vaegan_encoder_loss(tf.constant(3.0), tf.constant(4.0), kl_weight=2.0)) == 10.0
    # With D unsure (logits 0) each term costs ln 2.
    zero = tf.zeros([4])
    assert float(vaegan.vaegan_discriminator_loss(zero, zero, zero)) == pytest.approx(3 * math.log(2.0))


def test_only_the_decoder_and_d_see_the_gan_term():
    real, reconstructed, prior = tf.constant([2.0]), tf.constant([-1.0]), tf.constant([0.0])
    kl, llike = tf.constant(3.0), tf.constant(4.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([real, reconstructed, prior, kl, llike])
        encoder_loss = vaegan.vaegan_encoder_loss(kl, llike, kl_weight=1.0)
        decoder_loss = vaegan.vaegan_decoder_loss(llike, vaegan.vaegan_generator_loss(reconstructed, prior), 0.5)
        d_loss = vaegan.vaegan_discriminator_loss(real, reconstructed, prior)
    assert tape.gradient(encoder_loss, [real, reconstructed, prior]) == [None, None, None]
    assert [float(value) for value in tape.gradient(encoder_loss, [kl, llike])] == [1.0, 1.0]
    assert float(tape.gradient(decoder_loss, llike)) == 0.5
    # The decoder raises D's logits on its images (negative gradient), D lowers them and raises the real one's.
    assert float(tape.gradient(decoder_loss, reconstructed)[0]) < 0 and float(tape.gradient(d_loss, prior)[0]) > 0
    assert float(tape.gradient(d_loss, real)[0]) < 0
    assert tape.gradient(d_loss, [kl, llike]) == [None, None], "D does not train on the reconstruction"


def test_settings_have_working_defaults():
    config = preset("fashion-vaegan")
    assert config.variant == "vaegan" and config.vaegan_gamma > 0 and config.vaegan_kl_weight > 0
    assert {"loss", "n_critic", "gp_weight", "conditional"} <= set(registry.get("vaegan").unused_fields)
    with pytest.raises(SettingError, match="vaegan_gamma"):
        preset("fashion-vaegan", vaegan_gamma=-0.1)


# ---- the training step on fixed inputs ----------------------------------------------------------------------------


def tiny_training(**overrides):
    config = preset("fashion-vaegan", **{**dict(dataset="digits", width=8, latent_dim=4, batch_size=BATCH),
                                         **overrides})
    tf.keras.utils.set_random_seed(3)
    return registry.of(config).build_training(config, 0)


def test_no_gan_gradient_reaches_the_encoder():
    """D's last layer shapes only the GAN term; changing it changes the decoder's update, never the encoder's."""
    plain, changed = tiny_training(), tiny_training()
    logits_layer = changed.discriminator.get_layer("d_logits")
    logits_layer.set_weights([weight * -3.0 + 0.5 for weight in logits_layer.get_weights()])
    before = plain.encoder.get_weights()
    np.testing.assert_array_equal(before[0], changed.encoder.get_weights()[0])
    plain.step(fixed_batch(), tf.constant(0, tf.int64))
    changed.step(fixed_batch(), tf.constant(0, tf.int64))
    assert not np.array_equal(before[0], plain.encoder.get_weights()[0]), "the encoder did train"
    for trained, with_other_gan_term in zip(plain.encoder.get_weights(), changed.encoder.get_weights()):
        np.testing.assert_array_equal(trained, with_other_gan_term)
    assert not np.array_equal(plain.generator.get_weights()[0], changed.generator.get_weights()[0]), \
        "the decoder's update does depend on the GAN term"


def adversarial_losses(training, batch):
    """(D's loss, the decoder's adversarial loss) on the batch's fixed examples and latents."""
    real, noise = batch.real(0), batch.noise(vaegan.vae.PRIOR_SEED_OFFSET, [BATCH, 4])
    decoded = training.generator(noise, training=True)
    real_logits, prior_logits = training.discriminator(real), training.discriminator(decoded)
    return (float(vaegan.vaegan_discriminator_loss(real_logits, prior_logits, prior_logits)),
            float(vaegan.vaegan_generator_loss(prior_logits, prior_logits)))


def test_each_update_lowers_its_own_loss():
    """A sign error in either player's loss would raise it instead (steps small enough to be first-order)."""
    batch = fixed_batch()
    d_training = tiny_training(d_learning_rate=1e-4, g_learning_rate=1e-12)
    d_before, _ = adversarial_losses(d_training, batch)
    d_training.step(batch, tf.constant(0, tf.int64))
    assert adversarial_losses(d_training, batch)[0] < d_before

    g_training = tiny_training(d_learning_rate=1e-12, g_learning_rate=1e-4, vaegan_gamma=0.0)
    _, g_before = adversarial_losses(g_training, batch)
    g_training.step(batch, tf.constant(0, tf.int64))
    assert adversarial_losses(g_training, batch)[1] < g_before
