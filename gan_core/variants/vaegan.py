"""VAE-GAN (Larsen et al. 2016): a VAE whose reconstructions are judged in a discriminator's features.

An encoder gives q(z|x) as in the VAE (gan_core.variants.vae), the decoder doubles as the GAN's generator, and a
discriminator D tells real images from two kinds of decoded ones: reconstructions x~ = Dec(z ~ q(z|x)) and prior
samples x_p = Dec(z ~ N(0, I)). Instead of comparing pixels, a reconstruction is compared with its original in
the activations D_l of D's last hidden layer: L_llike = 0.5 * ||D_l(x) - D_l(x~)||^2 (a Gaussian likelihood in
that space), which rewards what D finds salient rather than per-pixel agreement, so images come out sharper.

The paper writes L_GAN = log D(x) + log(1 - D(x~)) + log(1 - D(x_p)), which D maximises and the decoder is said to
"minimise -L_GAN" alongside gamma * L_llike. Written as losses that each network MINIMISES (the logits' sigmoid is
D's probability of "real"):

- encoder:  kl_weight * KL(q(z|x) || N(0, I)) + L_llike. No GAN term: the encoder never gets a GAN gradient.
- decoder:  gamma * L_llike + [-log D(x~) - log D(x_p)], the non-saturating form of the generator's side of
  L_GAN (Goodfellow et al. 2014), which keeps a gradient when D rejects the decoded images early on.
- D:        -log D(x) - log(1 - D(x~)) - log(1 - D(x_p)), i.e. -L_GAN. D does not train on L_llike.

All three gradients come from one forward pass and are applied together, as in the paper's code. D has no batch
norm, so that D_l(x~) depends on x~ alone: with batch norm a reconstruction's features would shift with the rest
of its batch, and L_llike would no longer compare an image with its own reconstruction.

gamma weighs the decoder's reconstruction against fooling D. The paper's code used 1e-5 to 5e-5 on 64x64 faces
with its own feature scaling. Here L_llike is summed over D's features and stays about 13 to 25 per image on
Fashion-MNIST, against an adversarial loss of 2 to 4, and gamma was chosen by the Frechet distance of prior
samples in the project's classifier space (2,000 samples, width 32): at 1,000 / 3,000 steps gamma 0.01 gave
66.9 / -, gamma 1 gave 62.8 / 37.9 and gamma 5 gave 82.4 / 50.4. The plain VAE preset scored 77.6 / 66.4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gan_core.measuring import health
from gan_core.spec import registry
from gan_core.spec.settings import Setting
from gan_core.variants import vae
from gan_core.variants.base import Batch, Chart, Series, Training, View

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig


# ---------------------------------------------------------------------------------------------------------------
# The maths, as pure functions of tensors. Logits are D's raw outputs; each function returns what one network
# minimises, averaged over the batch.


def feature_reconstruction_loss(real_features: tf.Tensor, reconstructed_features: tf.Tensor) -> tf.Tensor:
    """L_llike = 0.5 * ||D_l(x) - D_l(x~)||^2, summed over an example's features, averaged over the batch."""
    import tensorflow as tf

    squared = tf.square(real_features - reconstructed_features)
    return tf.reduce_mean(0.5 * tf.reduce_sum(tf.reshape(squared, [tf.shape(squared)[0], -1]), axis=-1))


def vaegan_encoder_loss(kl: tf.Tensor, llike: tf.Tensor, kl_weight: float) -> tf.Tensor:
    """The encoder's loss: the prior term and the reconstruction in D's features, and nothing of the GAN."""
    return kl_weight * kl + llike


def vaegan_generator_loss(reconstructed_logits: tf.Tensor, prior_logits: tf.Tensor) -> tf.Tensor:
    """The decoder's adversarial loss: -log D(x~) - log D(x_p), each averaged over its batch."""
    from gan_core.nets import losses

    return losses.non_saturating_generator_loss(reconstructed_logits) + \
        losses.non_saturating_generator_loss(prior_logits)


def vaegan_decoder_loss(llike: tf.Tensor, generator_loss: tf.Tensor, gamma: float) -> tf.Tensor:
    """The decoder's loss: gamma * L_llike plus its adversarial loss."""
    return gamma * llike + generator_loss


def vaegan_discriminator_loss(real_logits: tf.Tensor, reconstructed_logits: tf.Tensor,
                              prior_logits: tf.Tensor) -> tf.Tensor:
    """-L_GAN: -log D(x) - log(1 - D(x~)) - log(1 - D(x_p)), each averaged over its batch."""
    import tensorflow as tf

    from gan_core.nets import losses

    return losses.non_saturating_discriminator_loss(real_logits, reconstructed_logits) + \
        tf.reduce_mean(tf.nn.softplus(prior_logits))


# ---------------------------------------------------------------------------------------------------------------
# The variant.


class VAEGAN(vae.VAE):
    name = "vaegan"
    title = "VAE-GAN"
    summary = ("A VAE whose decoder is also a GAN's generator, with reconstructions compared in the "
               "discriminator's features instead of pixels (Larsen et al. 2016): sharper than a VAE, and it "
               "keeps an encoder.")
    settings = (
        Setting("vaegan_gamma", float, "Reconstruction weight for the decoder (gamma)", "How much the decoder "
                "weighs reconstructing in the discriminator's features against fooling it. Larger: closer "
                "reconstructions, blurrier samples.", default=1.0, minimum=0.0, maximum=100.0, step=0.001,
                number_format="%.4f"),
        Setting("vaegan_kl_weight", float, "KL weight for the encoder", "Weight of the KL term in the "
                "encoder's loss: more keeps codes nearer the prior the samples are drawn from.", default=1.0,
                minimum=0.0, maximum=1000.0, step=0.1, number_format="%.2f"),
    )
    # The adversarial loss is fixed (cross-entropy, as in the paper); the encoder shares the generator's Adam.
    unused_fields = vae.VAE_UNUSED_FIELDS
    measures = vae.VAE.measures
    progress_metrics = ("d_loss", "g_loss", "llike", "kl")
    # Width 32: a step runs the encoder, the decoder on two batches and D on three, so at the VAE's width 64 it
    # took five times as long as a VAE step; at 32 it takes about 1.6 times as long (measured side by side).
    presets = {
        "fashion-vaegan": dict(name="Fashion-MNIST VAE-GAN", dataset="fashion_mnist", variant="vaegan",
                               width=32, latent_dim=32, steps=3000, sample_every=250),
    }

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model:
        from gan_core.nets import models

        return models.build_discriminator(config.data_shape, config.architecture, 0, config.width, batch_norm=False)

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return VAEGANTraining(config, self)

    def charts(self, config: RunConfig) -> list[Chart]:
        return [
            Chart("Adversarial losses", "loss", (Series("discriminator", "d_loss"), Series("decoder", "g_loss")),
                  caption="The discriminator's loss over real images, reconstructions and prior samples; the "
                          "decoder's adversarial loss on reconstructions and prior samples."),
            Chart("Encoder", "per image", (Series("encoder loss (KL weight x KL + llike)", "loss"),
                                           Series("reconstruction in D's features (llike)", "llike")),
                  caption="llike = 0.5 ||D_l(x) - D_l(x~)||^2, the reconstruction measured in the "
                          "discriminator's last hidden layer."),
            Chart("Pixel reconstruction", "nats per image", (Series("reconstruction", "reconstruction_loss"),),
                  caption="The Bernoulli reconstruction loss a plain VAE minimises; here it is only watched."),
            vae.kl_chart(),
            Chart("Discriminator output", health.PROBABILITY_LABEL,
                  (Series("on real", "d_real", transform=health.sigmoid),
                   Series("on prior samples", "d_fake", transform=health.sigmoid)), (0.0, 1.0),
                  "The sigmoid of D's mean logit; 1 means sure it is real, 0 sure it is generated."),
        ]

    def views(self) -> tuple[View, ...]:
        return vae.autoencoder_views(self)


def features_and_logits(discriminator: keras.Model) -> keras.Model:
    """The discriminator with a second output: the activations its logit is computed from (D_l)."""
    import keras

    features = discriminator.get_layer("d_logits").input
    return keras.Model(discriminator.inputs, [features, discriminator.output], name="discriminator_features")


class VAEGANTraining(vae.VAETraining):
    """The VAE's encoder and decoder plus a discriminator, in three updates from one forward pass."""

    def __init__(self, config: RunConfig, variant: VAEGAN) -> None:
        super().__init__(config, variant)
        self.discriminator = variant.build_discriminator(config, 0)
        self.discriminator_features = features_and_logits(self.discriminator)
        self.networks.discriminator = self.discriminator
        self.d_optimizer = self.adam("d_optimizer", config.d_learning_rate, config.d_beta_1, config.d_beta_2,
                                     self.discriminator.trainable_variables)

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        import tensorflow as tf

        config, replicas, size = self.config, batch.replicas, batch.size
        real = batch.real(0)
        posterior_noise = batch.noise(vae.POSTERIOR_SEED_OFFSET, [config.batch_size, config.latent_dim])
        prior_latent = batch.noise(vae.PRIOR_SEED_OFFSET, [config.batch_size, config.latent_dim])
        with tf.GradientTape(persistent=True) as tape:
            mean, log_variance = self.encoder(real, training=True)
            latent = vae.reparameterise(mean, log_variance, posterior_noise)
            # One decoder call for both kinds, so its batch norm sees them as one batch; D has no batch norm, so
            # one call over all three kinds scores each example as three calls would.
            decoded = self.generator(tf.concat([latent, prior_latent], axis=0), training=True)
            features, logits = self.discriminator_features(tf.concat([real, decoded], axis=0), training=True)
            real_logits, reconstructed_logits, prior_logits = tf.split(logits, 3, axis=0)
            kl = vae.kl_divergence(mean, log_variance)
            llike = feature_reconstruction_loss(features[:size], features[size : 2 * size])
            e_loss = vaegan_encoder_loss(kl, llike, config.vaegan_kl_weight)
            g_loss = vaegan_generator_loss(reconstructed_logits, prior_logits)
            decoder_loss = vaegan_decoder_loss(llike, g_loss, config.vaegan_gamma)
            d_loss = vaegan_discriminator_loss(real_logits, reconstructed_logits, prior_logits)
            shares = [loss / replicas for loss in (e_loss, decoder_loss, d_loss)]
        updates = ((self.e_optimizer, self.encoder), (self.g_optimizer, self.generator),
                   (self.d_optimizer, self.discriminator))
        # Every gradient is taken before any weight changes, so all three see the same forward pass.
        gradients = [tape.gradient(share, network.trainable_variables)
                     for share, (_, network) in zip(shares, updates)]
        del tape
        for (optimizer, network), network_gradients in zip(updates, gradients):
            optimizer.apply_gradients(zip(network_gradients, network.trainable_variables))
        reconstruction = vae.bernoulli_reconstruction_loss(real, decoded[:size])
        return {
            "loss": e_loss / replicas, "kl": kl / replicas, "llike": llike / replicas,
            "reconstruction_loss": reconstruction / replicas, "d_loss": d_loss / replicas,
            "g_loss": g_loss / replicas, "d_real": tf.reduce_mean(real_logits) / replicas,
            "d_fake": tf.reduce_mean(prior_logits) / replicas,
        }


registry.add(VAEGAN())
