"""The variational autoencoder of Kingma & Welling (2014): the plain baseline that VAE-GAN is compared against.

An encoder maps an image x to the mean and log-variance of a Gaussian q(z|x); a latent z is drawn from it by the
reparameterisation z = mean + exp(log_variance / 2) * noise, so that gradients flow through the draw; the decoder,
the project's generator (tanh images in [-1, 1]), maps z back to an image. Samples come from the decoder fed the
prior z ~ N(0, I), as for a GAN. The loss is the negative evidence lower bound, reconstruction + beta * KL.

Reconstruction is the Bernoulli negative log-likelihood of the pixels scaled to [0, 1], summed per image (the
choice of Kingma & Welling and of keras-io's VAE for grey MNIST-like images). A unit-variance Gaussian on [-1, 1]
pixels (squared error / 2) would be the other textbook choice, but its scale is about ten times smaller than the
KL term's on 28x28 images, so at beta = 1 the prior would win and every reconstruction would blur towards the
mean image unless a pixel variance were tuned as well; the Bernoulli likelihood needs no such extra setting.

The encoder shares the generator's optimizer settings (g_learning_rate, g_beta_1, g_beta_2): the two are trained
on one loss, and Adam with the same settings over two sets of weights is the same as one Adam over both. It has
an optimizer of its own only so that VAE-GAN, where the two minimise different losses, saves the same names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gan_core.measuring import evaluation
from gan_core.inputs import images
from gan_core.spec import registry
from gan_core.measuring.measures import Measure
from gan_core.spec.settings import Setting
from gan_core.variants.base import Batch, Chart, Networks, Picture, Series, Training, Variant, View

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.store.runs import Run

# Offsets of the seeded draws within one step (below Variant.SEED_STRIDE).
POSTERIOR_SEED_OFFSET = 0
PRIOR_SEED_OFFSET = 1
# Pixel probabilities are kept this far from 0 and 1, where tanh saturates in float32 and log would give -inf.
PROBABILITY_EPSILON = 1e-6
# How many held-out images the gallery's pictures show, and the steps of each latent walk.
VIEW_PAIRS = 8
WALK_ROWS = 4
WALK_STEPS = 10
# Held-out images the encoder and decoder take at once when measuring.
MEASURE_BATCH = 500

# Shared fields that a VAE does not read: it has no discriminator, no adversarial loss and no classes.
VAE_UNUSED_FIELDS = ("loss", "n_critic", "gp_weight", "conditional")


# ---------------------------------------------------------------------------------------------------------------
# The maths, as pure functions of tensors.


def reparameterise(mean: tf.Tensor, log_variance: tf.Tensor, noise: tf.Tensor) -> tf.Tensor:
    """A draw from N(mean, exp(log_variance)) written as mean + std * noise, so gradients reach mean and variance."""
    import tensorflow as tf

    return mean + tf.exp(0.5 * log_variance) * noise


def kl_divergence(mean: tf.Tensor, log_variance: tf.Tensor) -> tf.Tensor:
    """KL(N(mean, exp(log_variance)) || N(0, I)) in nats, summed over latent dimensions, averaged over the batch."""
    import tensorflow as tf

    per_dimension = 0.5 * (tf.exp(log_variance) + tf.square(mean) - 1.0 - log_variance)
    return tf.reduce_mean(tf.reduce_sum(per_dimension, axis=-1))


def bernoulli_reconstruction_loss(real: tf.Tensor, reconstructed: tf.Tensor) -> tf.Tensor:
    """-log p(x | z) in nats with each pixel Bernoulli, summed over an image's pixels, averaged over the batch.

    Both images are in [-1, 1] (the networks' scale); they are read as [0, 1] intensities and probabilities.
    """
    import tensorflow as tf

    targets = (real + 1.0) / 2.0
    probabilities = tf.clip_by_value((reconstructed + 1.0) / 2.0, PROBABILITY_EPSILON, 1.0 - PROBABILITY_EPSILON)
    per_pixel = -(targets * tf.math.log(probabilities) + (1.0 - targets) * tf.math.log(1.0 - probabilities))
    return tf.reduce_mean(tf.reduce_sum(tf.reshape(per_pixel, [tf.shape(per_pixel)[0], -1]), axis=-1))


def vae_loss(reconstruction_loss: tf.Tensor, kl: tf.Tensor, beta: float) -> tf.Tensor:
    """The negative evidence lower bound with the KL term weighted by beta (Higgins et al. 2017; 1 is the ELBO)."""
    return reconstruction_loss + beta * kl


def unit_interval_squared_error(real: np.ndarray, reconstructed: np.ndarray) -> np.ndarray:
    """Per image, the mean over pixels of the squared difference, with both images read in [0, 1] (uint8 / 255)."""
    difference = (np.asarray(real, np.float64) - np.asarray(reconstructed, np.float64)) / 255.0
    return np.mean(np.square(difference).reshape(len(difference), -1), axis=1)


# ---------------------------------------------------------------------------------------------------------------
# The encoder.


def build_encoder(data_shape: tuple[int, ...], latent_dim: int, architecture: str, width: int) -> keras.Model:
    """Images to (mean, log_variance) of q(z|x), each (batch, latent_dim).

    The trunk mirrors the discriminator's (models.build_discriminator): for "dcgan", 4x4 stride-2 convolutions
    doubling the filters from `width`; for "mlp", dense layers of 8, 4 and 2 times `width`. It has no batch norm,
    so that an image's code does not depend on the other images of its batch.
    """
    import keras
    from keras import layers

    from gan_core.nets import models

    shape = models.check_data_shape(data_shape, architecture)
    x = keras.Input(shape=shape, name="x")
    hidden = x
    if architecture == "dcgan":
        _, downsamplings = models.dcgan_start_size(shape[0])
        for index in range(1, downsamplings + 1):
            hidden = layers.Conv2D(width * 2 ** (index - 1), 4, strides=2, padding="same",
                                   name=f"e_downsample_{index}")(hidden)
            hidden = layers.LeakyReLU(models.LEAKY_RELU_SLOPE, name=f"e_downsample_{index}_relu")(hidden)
        hidden = layers.Flatten(name="e_flatten")(hidden)
    else:
        hidden = layers.Flatten(name="e_flatten")(hidden)
        for index, units in enumerate((width * 8, width * 4, width * 2), start=1):
            hidden = layers.Dense(units, name=f"e_dense_{index}")(hidden)
            hidden = layers.LeakyReLU(models.LEAKY_RELU_SLOPE, name=f"e_dense_{index}_relu")(hidden)
    mean = layers.Dense(latent_dim, name="e_mean")(hidden)
    log_variance = layers.Dense(latent_dim, name="e_log_variance")(hidden)
    return keras.Model(x, [mean, log_variance], name="encoder")


# ---------------------------------------------------------------------------------------------------------------
# The variant.


class VAE(Variant):
    name = "vae"
    title = "VAE"
    summary = ("A variational autoencoder: an encoder and a decoder trained to reconstruct images through a "
               "Gaussian code. Stable and fast, its samples are blurry: the baseline for VAE-GAN.")
    settings = (
        Setting("vae_beta", float, "KL weight (beta)", "Weight of the KL term against the reconstruction: 1 is "
                "the true evidence lower bound; more gives smoother codes and blurrier images.", default=1.0,
                minimum=0.0, maximum=100.0, step=0.1, number_format="%.2f"),
    )
    # The encoder shares the generator's Adam settings, and there is no discriminator.
    unused_fields = VAE_UNUSED_FIELDS + ("d_learning_rate", "d_beta_1", "d_beta_2")
    measures = (
        Measure("reconstruction_error", "Mean squared error per pixel between held-out images and their "
                "reconstructions (decoded from the encoder's mean), with pixels in [0, 1].",
                label="Reconstruction error (MSE per pixel)", better="lower"),
        Measure("kl", "Mean KL divergence in nats between the encoder's q(z|x) and the prior N(0, I), per "
                "held-out image: how much of the code each image uses.", label="KL to the prior (nats)", better=""),
    )
    progress_metrics = ("loss", "reconstruction_loss", "kl")
    presets = {
        "fashion-vae": dict(name="Fashion-MNIST VAE", dataset="fashion_mnist", variant="vae", latent_dim=32,
                            g_learning_rate=1e-3, g_beta_1=0.9, steps=3000, sample_every=250),
    }

    def check(self, config: RunConfig) -> None:
        self.require(not config.is_points, "dataset", config.dataset, "an image dataset (a VAE here models images)")

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        from gan_core.nets import models

        return models.build_generator(config.data_shape, config.latent_dim, config.architecture, 0, config.width)

    def build_encoder(self, config: RunConfig) -> keras.Model:
        return build_encoder(config.data_shape, config.latent_dim, config.architecture, config.width)

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return VAETraining(config, self)

    def charts(self, config: RunConfig) -> list[Chart]:
        return [
            Chart("Loss", "nats per image", (Series("loss (reconstruction + beta KL)", "loss"),
                                             Series("reconstruction", "reconstruction_loss")),
                  caption="The negative evidence lower bound the VAE minimises, and its reconstruction part "
                          "(Bernoulli, summed over pixels)."),
            kl_chart(),
        ]

    def views(self) -> tuple[View, ...]:
        return autoencoder_views(self)

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        return autoencoder_measures(self, run, step, sample_count, seed)


def kl_chart() -> Chart:
    return Chart("KL divergence", "nats per image", (Series("KL(q(z|x) || N(0, I))", "kl"),),
                 caption="How far the codes of training images lie from the prior the samples are drawn from.")


class VAETraining(Training):
    """An encoder and a decoder (the generator) trained together on the negative ELBO."""

    def __init__(self, config: RunConfig, variant: VAE) -> None:
        super().__init__(config, 0)
        self.encoder = variant.build_encoder(config)
        self.generator = variant.build_generator(config, 0)
        self.networks = Networks(self.generator, others={"encoder": self.encoder})
        self.e_optimizer = self.adam("e_optimizer", config.g_learning_rate, config.g_beta_1, config.g_beta_2,
                                     self.encoder.trainable_variables)
        self.g_optimizer = self.adam("g_optimizer", config.g_learning_rate, config.g_beta_1, config.g_beta_2,
                                     self.generator.trainable_variables)

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        import tensorflow as tf

        config, replicas = self.config, batch.replicas
        real = batch.real(0)
        noise = batch.noise(POSTERIOR_SEED_OFFSET, [config.batch_size, config.latent_dim])
        with tf.GradientTape() as tape:
            mean, log_variance = self.encoder(real, training=True)
            reconstructed = self.generator(reparameterise(mean, log_variance, noise), training=True)
            reconstruction = bernoulli_reconstruction_loss(real, reconstructed)
            kl = kl_divergence(mean, log_variance)
            loss = vae_loss(reconstruction, kl, config.vae_beta)
            replica_share = loss / replicas
        encoder_variables, generator_variables = self.encoder.trainable_variables, self.generator.trainable_variables
        gradients = tape.gradient(replica_share, encoder_variables + generator_variables)
        self.e_optimizer.apply_gradients(zip(gradients[:len(encoder_variables)], encoder_variables))
        self.g_optimizer.apply_gradients(zip(gradients[len(encoder_variables):], generator_variables))
        return {"loss": loss / replicas, "reconstruction_loss": reconstruction / replicas, "kl": kl / replicas}


# ---------------------------------------------------------------------------------------------------------------
# Pictures and measures shared by the autoencoding variants (those with an "encoder" beside the generator).


def restore_autoencoder(variant: VAE, run: Run, step: int) -> tuple[keras.Model, keras.Model]:
    """(encoder, decoder) as trained together at `step`: the decoder is the generator itself, not its average."""
    from gan_core.nets import sampling

    encoder = variant.build_encoder(run.config)
    decoder = variant.build_generator(run.config, 0)
    sampling.restore_network(run, step, encoder=encoder, generator=decoder)
    return encoder, decoder


def encode_means(encoder: keras.Model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, log_variance) of q(z|x) for uint8 images, in batches."""
    means, log_variances = [], []
    for start in range(0, len(images), MEASURE_BATCH):
        scaled = images[start : start + MEASURE_BATCH].astype(np.float32) / 127.5 - 1.0
        mean, log_variance = encoder(scaled, training=False)
        means.append(np.asarray(mean))
        log_variances.append(np.asarray(log_variance))
    return np.concatenate(means), np.concatenate(log_variances)


def decode(decoder: keras.Model, latents: np.ndarray) -> np.ndarray:
    from gan_core.nets import sampling

    return sampling.generate(decoder, latents.astype(np.float32))


def picture(tiles: np.ndarray, rows: int, columns: int, caption: str) -> Picture:
    """A grid of uint8 tiles, as HW when grey."""

    grid = images.image_grid(tiles, rows, columns, scale=images.grid_scale(tiles.shape[1]))
    return Picture(grid[..., 0] if grid.shape[-1] == 1 else grid, caption)


def draw_reconstructions(variant: VAE, run: Run, step: int, seed: int) -> list[Picture]:
    """Held-out images in the odd rows, their reconstructions (decoded from the encoder's mean) below each."""

    encoder, decoder = restore_autoencoder(variant, run, step)
    originals, _ = evaluation.held_out_examples(run.config, VIEW_PAIRS * VIEW_PAIRS // 2, seed,
                                                training_if_missing=True)
    reconstructions = decode(decoder, encode_means(encoder, originals)[0])
    rows = [block for start in range(0, len(originals), VIEW_PAIRS)
            for block in (originals[start : start + VIEW_PAIRS], reconstructions[start : start + VIEW_PAIRS])]
    return [picture(np.concatenate(rows), len(rows), VIEW_PAIRS,
                    "Rows in pairs: held-out images, and below each its reconstruction.")]


def draw_prior_samples(variant: VAE, run: Run, step: int, seed: int) -> list[Picture]:
    """The sampling generator fed draws from the prior N(0, I)."""
    from gan_core.nets import sampling

    count = VIEW_PAIRS * VIEW_PAIRS
    samples = sampling.sample(run, count, seed=seed, step=step)
    return [picture(samples, VIEW_PAIRS, VIEW_PAIRS, "Decoded draws from the prior N(0, I).")]


def draw_latent_walks(variant: VAE, run: Run, step: int, seed: int) -> list[Picture]:
    """Each row walks in a straight line between the codes (means) of two held-out images, which end the row."""

    encoder, decoder = restore_autoencoder(variant, run, step)
    ends = evaluation.held_out_examples(run.config, 2 * WALK_ROWS, seed, training_if_missing=True)[0]
    means, _ = encode_means(encoder, ends)
    fractions = np.linspace(0.0, 1.0, WALK_STEPS)[:, np.newaxis]
    rows = []
    for start, end, first, last in zip(means[0::2], means[1::2], ends[0::2], ends[1::2]):
        walk = decode(decoder, (1.0 - fractions) * start + fractions * end)
        rows.append(np.concatenate([first[np.newaxis], walk, last[np.newaxis]]))
    return [picture(np.concatenate(rows), WALK_ROWS, WALK_STEPS + 2,
                    "Each row: a held-out image, the decoded straight walk between its code and another's, "
                    "and that other image.")]


def autoencoder_views(variant: VAE) -> tuple[View, ...]:
    return (
        View("reconstructions", "Reconstructions", "Held-out images beside what the decoder makes of their codes.",
             "gallery", lambda run, step, seed: draw_reconstructions(variant, run, step, seed)),
        View("prior_samples", "Prior samples", "The decoder fed random codes from N(0, I): the model's samples.",
             "gallery", lambda run, step, seed: draw_prior_samples(variant, run, step, seed)),
        View("latent_walks", "Latent walks", "Walks between the codes of two real held-out images.",
             "gallery", lambda run, step, seed: draw_latent_walks(variant, run, step, seed)),
    )


def autoencoder_measures(variant: VAE, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
    """reconstruction_error and kl on `sample_count` held-out images (the evaluation's real sample)."""

    encoder, decoder = restore_autoencoder(variant, run, step)
    originals = evaluation.held_out_examples(run.config, sample_count, seed)[0]
    means, log_variances = encode_means(encoder, originals)
    reconstructions = decode(decoder, means)
    return {
        "reconstruction_error": float(np.mean(unit_interval_squared_error(originals, reconstructions))),
        "kl": float(kl_divergence(means, log_variances)),
    }


registry.add(VAE())
