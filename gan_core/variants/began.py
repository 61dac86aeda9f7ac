"""BEGAN, the boundary-equilibrium GAN of Berthelot et al. (2017): the discriminator is an autoencoder.

The discriminator D reconstructs images, and L(v) = mean |v - D(v)| is its reconstruction loss (per example, then
the batch mean). D learns to reconstruct real images and to reconstruct generated ones badly; the generator
learns to make images D reconstructs well:

    L_D = L(x) - k_t * L(G(z))      L_G = L(G(z))
    k_{t+1} = clip(k_t + lambda_k * (gamma * L(x) - L(G(z))), 0, 1)

k_t holds the two players in equilibrium: it grows while generated images are reconstructed better than gamma
times the real ones, which makes D push them away harder. gamma (the diversity ratio) is the ratio
L(G(z)) / L(x) aimed at; lower values give sharper but less varied images. The convergence measure
M_global = L(x) + |gamma * L(x) - L(G(z))| falls as the images improve, which plain GAN losses do not show.

k_t is saved in the checkpoint, so a resumed run continues exactly. The maths are the pure functions below;
the scalar ones work on numbers and tensors alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gan_core.inputs import data, images as pictures
from gan_core.measuring import evaluation
from gan_core.spec import registry
from gan_core.measuring.measures import Measure
from gan_core.spec.settings import Setting
from gan_core.variants.base import Batch, Chart, Networks, Picture, Series, Training, Variant, View

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.store.runs import Run

# The offset of the one noise draw of a step (below Variant.SEED_STRIDE).
Z_SEED_OFFSET = 0
# The smallest feature map the networks shrink images to; the paper's 64x64 networks stop at 8x8.
MIN_MAP_SIDE = 7
# Image pairs (original, reconstruction) a reconstruction view shows, and how many pairs share a row.
VIEW_PAIRS = 16
VIEW_PAIRS_PER_ROW = 4
# Images per forward pass when views and measures run the networks.
INFERENCE_BATCH = 500


# ---------------------------------------------------------------------------------------------------------------
# The maths, as pure functions.


def reconstruction_loss(examples: Any, reconstructions: Any) -> tf.Tensor:
    """L(v) = mean |v - D(v)|: each example's mean absolute pixel error, averaged over the batch."""
    import tensorflow as tf

    return tf.reduce_mean(per_example_reconstruction_loss(examples, reconstructions))


def per_example_reconstruction_loss(examples: Any, reconstructions: Any) -> tf.Tensor:
    """Each example's mean absolute pixel error, shape (batch,)."""
    import tensorflow as tf

    errors = tf.abs(tf.cast(examples, tf.float32) - tf.cast(reconstructions, tf.float32))
    return tf.reduce_mean(tf.reshape(errors, [tf.shape(errors)[0], -1]), axis=1)


def began_discriminator_loss(loss_real: Any, loss_fake: Any, k: Any) -> Any:
    """L_D = L(x) - k_t * L(G(z)): reconstruct real images well and generated ones badly, weighted by k_t."""
    return loss_real - k * loss_fake


def began_generator_loss(loss_fake: Any) -> Any:
    """L_G = L(G(z)): make images the discriminator reconstructs well."""
    return loss_fake


def equilibrium_gap(loss_real: Any, loss_fake: Any, gamma: float) -> Any:
    """gamma * L(x) - L(G(z)): positive while generated images are reconstructed better than the aim."""
    return gamma * loss_real - loss_fake


def next_k(k: Any, loss_real: Any, loss_fake: Any, gamma: float, lambda_k: float) -> tf.Tensor:
    """k_{t+1} = clip(k_t + lambda_k * (gamma * L(x) - L(G(z))), 0, 1)."""
    import tensorflow as tf

    return tf.clip_by_value(k + lambda_k * equilibrium_gap(loss_real, loss_fake, gamma), 0.0, 1.0)


def convergence_measure(loss_real: Any, loss_fake: Any, gamma: float) -> Any:
    """M_global = L(x) + |gamma * L(x) - L(G(z))|: low when D reconstructs real images well and the balance holds."""
    return loss_real + abs(equilibrium_gap(loss_real, loss_fake, gamma))


# ---------------------------------------------------------------------------------------------------------------
# The networks: an encoder-decoder discriminator and a generator with the decoder's architecture.


def map_side(side: int) -> tuple[int, int]:
    """(smallest map side, halvings): how far the encoder shrinks an image and the decoder grows it back.

    Halves while the side stays even and at least MIN_MAP_SIDE: 28 -> (7, 2), 32 -> (8, 2), 64 -> (8, 3),
    8 -> (8, 0).
    """
    halvings = 0
    while side % 2 == 0 and side // 2 >= MIN_MAP_SIDE:
        side, halvings = side // 2, halvings + 1
    return side, halvings


def decoder_layers(hidden: keras.KerasTensor, data_shape: tuple[int, ...], width: int, prefix: str,
                   output_activation: str | None) -> keras.KerasTensor:
    """From a vector to an image: a dense map at the smallest side, then 3x3 ELU convolutions and 2x upsamplings.

    Nearest-neighbour upsampling (as in the paper) avoids the checkerboards of transposed convolutions.
    """
    from keras import layers

    side, halvings = map_side(data_shape[0])
    hidden = layers.Dense(side * side * width, name=f"{prefix}_project")(hidden)
    hidden = layers.Reshape((side, side, width), name=f"{prefix}_start_map")(hidden)
    for index in range(1, halvings + 1):
        hidden = layers.Conv2D(width, 3, padding="same", activation="elu", name=f"{prefix}_conv_{index}")(hidden)
        hidden = layers.UpSampling2D(2, name=f"{prefix}_upsample_{index}")(hidden)
    hidden = layers.Conv2D(width, 3, padding="same", activation="elu", name=f"{prefix}_conv_last")(hidden)
    return layers.Conv2D(data_shape[2], 3, padding="same", activation=output_activation,
                         name=f"{prefix}_image")(hidden)


def encoder_layers(hidden: keras.KerasTensor, data_shape: tuple[int, ...], width: int, bottleneck: int,
                   prefix: str) -> keras.KerasTensor:
    """From an image to the bottleneck vector: 3x3 ELU convolutions, each stride-2 one adding `width` filters."""
    from keras import layers

    _, halvings = map_side(data_shape[0])
    hidden = layers.Conv2D(width, 3, padding="same", activation="elu", name=f"{prefix}_conv_first")(hidden)
    for index in range(1, halvings + 1):
        hidden = layers.Conv2D(width * (index + 1), 3, strides=2, padding="same", activation="elu",
                               name=f"{prefix}_downsample_{index}")(hidden)
    hidden = layers.Flatten(name=f"{prefix}_flatten")(hidden)
    return layers.Dense(bottleneck, name=f"{prefix}_bottleneck")(hidden)


def build_began_generator(data_shape: tuple[int, ...], latent_dim: int, width: int) -> keras.Model:
    """z to an image in [-1, 1] (tanh, matching real images as the trainer scales them)."""
    import keras

    z = keras.Input(shape=(latent_dim,), name="z")
    return keras.Model(z, decoder_layers(z, data_shape, width, "g", "tanh"), name="generator")


def build_autoencoder(data_shape: tuple[int, ...], width: int, bottleneck: int) -> keras.Model:
    """The discriminator: an image to its reconstruction through a `bottleneck`-sized code.

    The reconstruction is linear (no tanh), as in the paper, so D can undershoot and overshoot freely.
    """
    import keras

    image = keras.Input(shape=data_shape, name="x")
    code = encoder_layers(image, data_shape, width, bottleneck, "d_encoder")
    reconstruction = decoder_layers(code, data_shape, width, "d_decoder", None)
    return keras.Model(image, reconstruction, name="discriminator")


# ---------------------------------------------------------------------------------------------------------------
# Training.


class BoundaryEquilibriumTraining(Training):
    """The generator and the autoencoder updated together on one batch, then k_t moved towards equilibrium."""

    def __init__(self, config: RunConfig, num_classes: int) -> None:
        import tensorflow as tf

        super().__init__(config, num_classes)
        self.generator = build_began_generator(config.data_shape, config.latent_dim, config.width)
        self.discriminator = build_autoencoder(config.data_shape, config.width, config.began_bottleneck)
        self.networks = Networks(self.generator, self.discriminator)
        self.g_optimizer = self.adam("g_optimizer", config.g_learning_rate, config.g_beta_1, config.g_beta_2,
                                     self.generator.trainable_variables)
        self.d_optimizer = self.adam("d_optimizer", config.d_learning_rate, config.d_beta_1, config.d_beta_2,
                                     self.discriminator.trainable_variables)
        # Every replica computes the same new k_t from the globally reduced losses, so the first one's value is it.
        self.k = tf.Variable(0.0, trainable=False, name="k_t", aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.state = {"k_t": self.k}

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """Both players step on the same generated batch (as in the paper), then k_t is updated."""
        import tensorflow as tf

        config, replicas = self.config, batch.replicas
        real = batch.real(0)
        latent = batch.noise(Z_SEED_OFFSET, [config.batch_size, config.latent_dim])
        k = tf.identity(self.k)
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.generator(latent, training=True)
            loss_real = reconstruction_loss(real, self.discriminator(real, training=True))
            loss_fake = reconstruction_loss(fake, self.discriminator(fake, training=True))
            d_loss = began_discriminator_loss(loss_real, loss_fake, k)
            g_loss = began_generator_loss(loss_fake)
            d_total, g_total = d_loss / replicas, g_loss / replicas
        d_gradients = d_tape.gradient(d_total, self.discriminator.trainable_variables)
        g_gradients = g_tape.gradient(g_total, self.generator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(d_gradients, self.discriminator.trainable_variables))
        self.g_optimizer.apply_gradients(zip(g_gradients, self.generator.trainable_variables))

        # k_t and M_global need the losses of the whole global batch, not of this replica's slice.
        context = tf.distribute.get_replica_context()
        global_real = context.all_reduce(tf.distribute.ReduceOp.SUM, loss_real / replicas)
        global_fake = context.all_reduce(tf.distribute.ReduceOp.SUM, loss_fake / replicas)
        new_k = next_k(k, global_real, global_fake, config.began_gamma, config.began_lambda_k)
        self.k.assign(new_k)
        # Each value is this replica's share; the sum over replicas gives the global value.
        return {
            "d_loss": d_loss / replicas,
            "g_loss": g_loss / replicas,
            "loss_real": loss_real / replicas,
            "loss_fake": loss_fake / replicas,
            "k_t": new_k / replicas,
            "m_global": convergence_measure(global_real, global_fake, config.began_gamma) / replicas,
        }


# ---------------------------------------------------------------------------------------------------------------
# Checkpoints: reconstructions, M_global.


def load_networks(run: Run, step: int) -> tuple[keras.Model, keras.Model]:
    """(sampling generator, discriminator) of the checkpoint at `step`."""
    from gan_core.nets import sampling

    generator = sampling.load_generator(run, step)
    discriminator = build_autoencoder(run.config.data_shape, run.config.width, run.config.began_bottleneck)
    sampling.restore_network(run, step, discriminator=discriminator)
    return generator, discriminator


def in_batches(network: keras.Model, inputs: np.ndarray) -> np.ndarray:
    outputs = [np.asarray(network(inputs[start : start + INFERENCE_BATCH], training=False))
               for start in range(0, len(inputs), INFERENCE_BATCH)]
    return np.concatenate(outputs)


def as_network_input(images: np.ndarray) -> np.ndarray:
    """uint8 images scaled to [-1, 1] exactly as the trainer feeds real ones."""
    return images.astype(np.float32) / 127.5 - 1.0


def generated_images(generator: keras.Model, config: RunConfig, count: int, seed: int) -> np.ndarray:
    """`count` fresh samples as the generator's float output, before any rounding to pixels."""
    from gan_core.nets import sampling

    return in_batches(generator, sampling.latent_vectors(config, count, seed))


def reconstruction_pairs(discriminator: keras.Model, images: np.ndarray, what: str) -> Picture:
    """A grid of (image, its reconstruction by D) pairs side by side, from images in [-1, 1]."""

    reconstructions = in_batches(discriminator, images)
    loss = float(reconstruction_loss(images, reconstructions))
    pairs = np.stack([data.to_uint8_images(images), data.to_uint8_images(reconstructions)], axis=1)
    tiles = pairs.reshape(-1, *images.shape[1:])
    columns = 2 * VIEW_PAIRS_PER_ROW
    grid = pictures.image_grid(tiles, -(-len(tiles) // columns), columns,
                               scale=pictures.grid_scale(images.shape[1]))
    return Picture(grid, f"{what}, each followed by the discriminator's reconstruction; L = mean |x - D(x)| = "
                         f"{loss:.4f} (in units of the [-1, 1] pixel range)")


def draw_real_reconstructions(run: Run, step: int, seed: int) -> list[Picture]:
    _, discriminator = load_networks(run, step)
    real = evaluation.held_out_examples(run.config, VIEW_PAIRS, seed, training_if_missing=True)[0]
    return [reconstruction_pairs(discriminator, as_network_input(real), "Held-out real images")]


def draw_generated_reconstructions(run: Run, step: int, seed: int) -> list[Picture]:
    generator, discriminator = load_networks(run, step)
    fake = generated_images(generator, run.config, VIEW_PAIRS, seed)
    return [reconstruction_pairs(discriminator, fake, "Generated images")]


# ---------------------------------------------------------------------------------------------------------------
# The variant.


class BEGAN(Variant):
    name = "began"
    title = "BEGAN"
    summary = ("Boundary-equilibrium GAN (Berthelot et al. 2017): the discriminator is an autoencoder, and a "
               "balance term k_t keeps the two players level. Its M_global curve falls as the images improve.")
    settings = (
        Setting("began_gamma", float, "Diversity ratio (gamma)",
                "The aimed ratio of the reconstruction loss of generated images to that of real ones. Lower "
                "gives sharper but less varied images. The paper's 0.5 to 0.7 collapse to thin strokes on MNIST "
                "(a '1' is the easiest digit to reconstruct), so 1 is the default here.",
                default=1.0, check=lambda value: 0 < value <= 1, allowed="greater than 0 and at most 1",
                step=0.05, number_format="%.2f"),
        Setting("began_lambda_k", float, "Balance learning rate (lambda_k)",
                "How fast k_t moves towards equilibrium each step. The paper's 0.001 suits 100,000-step runs; "
                "in a few thousand steps k_t would hardly leave 0, so the default is 0.05.",
                default=0.05, minimum=0.0, maximum=1.0, step=0.001, number_format="%.4f"),
        Setting("began_bottleneck", int, "Autoencoder code size",
                "Length of the discriminator's code between its encoder and decoder (the paper's h). Smaller "
                "codes reconstruct less detail and so push the generator less.",
                default=64, minimum=1, maximum=1024, step=8),
    )
    unused_fields = ("loss", "n_critic", "gp_weight", "conditional", "architecture")
    measures = (
        Measure("m_global", "BEGAN's convergence measure L(x) + |gamma L(x) - L(G(z))| on held-out real images and "
                            "fresh samples; lower is better.", label="M_global (BEGAN)", better="lower"),
        Measure("began_loss_real", "L(x): the discriminator's mean absolute reconstruction error on held-out real "
                                   "images, in units of the [-1, 1] pixel range.",
                                   label="L(x): reconstruction error on real", better="lower"),
        Measure("began_loss_fake", "L(G(z)): its reconstruction error on fresh samples.",
        label="L(G(z)): reconstruction error on generated", better=""),
    )
    # The generator learns twice as fast as the autoencoder: with the generator slower (2e-4 against 5e-4) it
    # settled on the easy-to-reconstruct "1" for over half its MNIST samples after 1,500 steps, and with equal rates
    # for about 40%; at 1e-3 against 5e-4 every digit appears and "1" is 26-32%. Lower gamma, a faster
    # lambda_k, width 48 and the DCGAN generator (which went blank: its tanh saturates at black) did no better.
    presets = {
        "mnist-began": dict(
            name="MNIST BEGAN", variant="began", dataset="mnist", width=32, latent_dim=64, batch_size=64,
            g_learning_rate=1e-3, d_learning_rate=5e-4, steps=2000, sample_every=100, checkpoint_every=500,
        ),
    }

    def check(self, config: RunConfig) -> None:
        self.require(not config.is_points, "dataset", config.dataset,
                     "an image dataset for the BEGAN (its discriminator reconstructs images; the 2-D point sets "
                     "have none)")

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return BoundaryEquilibriumTraining(config, num_classes)

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        return build_began_generator(config.data_shape, config.latent_dim, config.width)

    def build_discriminator(self, config: RunConfig, num_classes: int) -> None:
        """None: BEGAN's discriminator outputs a reconstruction, not a score of how real an example is."""
        return None

    def charts(self, config: RunConfig) -> list[Chart]:
        gamma = config.began_gamma
        return [
            Chart("Convergence (M_global)", "M_global", (Series("M_global", "m_global"),),
                  caption=f"M_global = L(x) + |{gamma:g}·L(x) − L(G(z))|. Falling means the discriminator "
                          "reconstructs real images better while generated ones keep the aimed balance: the "
                          "images are improving. Flat means training has stalled; rising means the balance is lost."),
            Chart("Equilibrium weight k_t", "k_t", (Series("k_t", "k_t", smooth=False),), (0.0, 1.0),
                  caption="How much the discriminator pushes generated images away. It rises while they are "
                          f"reconstructed better than {gamma:g} times the real ones, and falls otherwise; "
                          "pinned at 0 or 1 for long means the balance cannot be held."),
            Chart("Reconstruction losses", "mean |v − D(v)|",
                  (Series("real, L(x)", "loss_real"), Series("generated, L(G(z))", "loss_fake")),
                  caption=f"At equilibrium L(G(z)) is {gamma:g} times L(x)."),
        ]

    def views(self) -> tuple[View, ...]:
        return (
            View("began_real_reconstructions", "Real images through the discriminator",
                 "BEGAN's discriminator is an autoencoder: it should reconstruct real images closely.",
                 "gallery", draw_real_reconstructions),
            View("began_generated_reconstructions", "Generated images through the discriminator",
                 "The generator is trained to make images the discriminator reconstructs well.",
                 "gallery", draw_generated_reconstructions),
        )

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        """M_global and its two reconstruction losses, on `sample_count` held-out real images and fresh samples."""

        generator, discriminator = load_networks(run, step)
        real = as_network_input(evaluation.held_out_examples(run.config, sample_count, seed)[0])
        fake = generated_images(generator, run.config, sample_count, seed)
        loss_real = float(reconstruction_loss(real, in_batches(discriminator, real)))
        loss_fake = float(reconstruction_loss(fake, in_batches(discriminator, fake)))
        return {
            "m_global": float(convergence_measure(loss_real, loss_fake, run.config.began_gamma)),
            "began_loss_real": loss_real,
            "began_loss_fake": loss_fake,
        }


registry.add(BEGAN())
