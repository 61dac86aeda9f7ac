"""The GANs of Goodfellow et al. (2014) and Radford et al. (2016): one generator, one discriminator, any loss.

Unconditional or conditional (Mirza & Osindero 2014: the class label is fed to both players), with the
non-saturating, minimax, WGAN-GP, least-squares or hinge loss, and n_critic discriminator updates per generator
update. Its settings are the shared fields of RunConfig (architecture, loss, conditional, n_critic, gp_weight).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gan_core.nets import augment, precision
from gan_core.measuring import health
from gan_core.spec import registry
from gan_core.nets.precision import PRECISIONS
from gan_core.spec.settings import Setting
from gan_core.variants import class_measures
from gan_core.variants.base import Batch, Chart, Networks, Series, Training, Variant

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.store.runs import Run

# Offsets that give every random draw within one step its own stateless seed (below Variant.SEED_STRIDE).
GP_SEED_OFFSET = 120
# DiffAugment's draws: one per discriminator iteration (for its real and generated images), then the generator's.
AUGMENT_SEED_OFFSET = 130
MAX_AUGMENTED_CRITIC_ITERATIONS = 10  # so that the offsets above stay clear of the others
G_AUGMENT_SEED_OFFSET = 254
G_SEED_OFFSET = 255
# Tuned for the first minutes on a CPU (docs/benchmarks.md, "Time to quality"): networks half the classic width make
# twice the steps per second, Adam without momentum at 1e-3 with the hinge loss learns most per step, and
# simultaneous updates make a fifth more steps; samples come from an average of the generator's last hundred or so
# steps, which at this learning rate swing from step to step; under a quarter of the classic recipe's Fréchet
# distance after one minute, under half after five.
CPU_RECIPE = dict(width=32, latent_dim=32, loss="hinge", g_learning_rate=1e-3, d_learning_rate=1e-3, g_beta_1=0.0,
                  g_beta_2=0.99, d_beta_1=0.0, d_beta_2=0.99, g_ema_decay=0.99, updates="simultaneous")
# What one step logs, in the order the metrics rows have always had.
STEP_METRICS = ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "gradient_penalty")


class GAN(Variant):
    name = "gan"
    title = "GAN"
    summary = ("One generator against one discriminator, with the loss of your choice; tick Conditional to ask "
               "for a class. The family of DCGAN, WGAN-GP, LSGAN and the conditional GAN.")

    settings = (
        Setting("augment", str, "Augmentation",
                "DiffAugment (Zhao et al. 2020) shifts, cuts out and recolours real and generated images alike before "
                "the discriminator sees them, so it cannot memorise a small collection (a few hundred to a few "
                "thousand images); on large sets it mostly slows learning. It costs about 3% of the steps per "
                "second, and is chosen for you when your own collection is small.", default="none",
                choices=("none", "diffaugment")),
        Setting("precision", str, "Number format",
                "bfloat16 computes the networks in 16-bit numbers with float32 weights. It needs a processor with "
                "bfloat16 instructions (AVX512_BF16, AMX, Arm BF16), elsewhere the run trains in float32 and says "
                "so; whether it is faster depends on the processor (on a 2-core EPYC with AVX512_BF16 it was not: "
                "docs/benchmarks.md).",
                default="float32", choices=PRECISIONS),
        Setting("updates", str, "Updates",
                "alternating: the discriminator learns first, then the generator plays against the updated "
                "discriminator (Goodfellow et al. 2014). simultaneous: both learn from one pass through the "
                "networks, each against the other's weights before the step; it spares the second run of both "
                "networks on generated images: 22% more steps a second for fashion-dcgan on 2 cores, and a lower "
                "FD after a minute there (docs/benchmarks.md). It needs n_critic 1.",
                default="alternating", choices=("alternating", "simultaneous")),
    )
    # Measured for conditional runs only.
    measures = class_measures.REQUESTED_CLASS_MEASURES

    # Presets that train well on a two-core CPU. The RunConfig defaults are the classic DCGAN recipe (Adam 2e-4,
    # beta_1 0.5, 4x4 kernels, batch 64).
    presets = {
        # The default preset, on the recipe tuned for a CPU (CPU_RECIPE), and the same recipe on MNIST, plain and
        # conditional (docs/benchmarks.md, "GAN variants").
        "fashion-dcgan": dict(name="Fashion-MNIST DCGAN", dataset="fashion_mnist", **CPU_RECIPE, steps=6000),
        "mnist-dcgan": dict(name="MNIST DCGAN", dataset="mnist", **CPU_RECIPE, steps=5000),
        "mnist-cgan": dict(name="MNIST conditional DCGAN", dataset="mnist", conditional=True, **CPU_RECIPE,
                           steps=5000),
        # WGAN-GP as its paper trains it (five critic updates a step, Adam betas 0 / 0.9) with the default's widths
        # and weight average, and five times the paper's learning rate: after one minute 0.36 of the paper's
        # settings' Fréchet distance at width 64 (docs/benchmarks.md, "GAN variants").
        "fashion-wgan-gp": dict(
            name="Fashion-MNIST WGAN-GP", dataset="fashion_mnist", loss="wgan_gp", n_critic=5, width=32, latent_dim=32,
            g_learning_rate=5e-4, d_learning_rate=5e-4, g_beta_1=0.0, g_beta_2=0.9, d_beta_1=0.0, d_beta_2=0.9,
            g_ema_decay=0.99, steps=4000,
        ),
        "digits-mlp": dict(
            name="Digits MLP GAN", dataset="digits", architecture="mlp", width=128, latent_dim=32,
            batch_size=64, g_learning_rate=1e-3, d_learning_rate=1e-3, steps=3000, sample_every=100,
            checkpoint_every=500,
        ),
        # The default's lessons on the ring: with the hinge loss, Adam without momentum and a long average of the
        # generator's weights, every seed tried covers all 8 modes by step 1,000 and puts most samples within three
        # standard deviations of a mode by step 3,000 (the classic recipe covered at most 1 mode at step 1,000, 7 or
        # 8 at step 2,000, with 4-22% of the points near one); alternating updates, since simultaneous ones collapse
        # here (bench/bench_presets.py, docs/benchmarks.md).
        "ring-mlp": dict(
            name="Ring of 8 Gaussians", dataset="ring", architecture="mlp", width=128, latent_dim=16, batch_size=256,
            loss="hinge", g_learning_rate=1e-3, d_learning_rate=1e-3, g_beta_1=0.0, g_beta_2=0.99, d_beta_1=0.0,
            d_beta_2=0.99, g_ema_decay=0.999, steps=3000, sample_every=100, checkpoint_every=500,
        ),
        # The ring on the Playground: a 2-D latent, so that the manifold is GAN Lab's warped mesh. Its steps fit a
        # demo; the Playground page asks for more on one's own machine.
        "ring-playground": dict(
            name="Ring of 8 Gaussians (Playground)", dataset="ring", architecture="mlp", width=128, latent_dim=2,
            batch_size=256, g_learning_rate=1e-3, d_learning_rate=1e-3, steps=6000, sample_every=500,
            checkpoint_every=1000, log_every=20, playground=True,
        ),
    }

    def check(self, config: RunConfig) -> None:
        if config.updates == "simultaneous":
            self.require(config.n_critic == 1, "n_critic", config.n_critic, "1 with updates='simultaneous' (both "
                         "networks learn once per step)")
        if config.augment == "none":
            return
        self.require(not config.is_points, "augment", config.augment, "'none' for 2-D points (DiffAugment changes "
                     "images)")
        self.require(config.n_critic <= MAX_AUGMENTED_CRITIC_ITERATIONS, "n_critic", config.n_critic,
                     f"at most {MAX_AUGMENTED_CRITIC_ITERATIONS} with augment={config.augment!r}")

    def uses_labels(self, config: RunConfig) -> bool:
        return config.conditional

    def images_per_step(self, config: RunConfig) -> int:
        return config.batch_size * config.n_critic

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return AdversarialTraining(config, num_classes, self)

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        from gan_core.nets import models

        return models.build_generator(config.data_shape, config.latent_dim, config.architecture,
                                      num_classes, config.width)

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model:
        from gan_core.nets import models

        return models.build_discriminator(config.data_shape, config.architecture, num_classes, config.width,
                                          batch_norm=config.loss != "wgan_gp")

    def charts(self, config: RunConfig) -> list[Chart]:
        return adversarial_charts(config)

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        if not run.config.conditional:
            return {}
        return class_measures.conditional_measures(run, step, sample_count, seed)


def adversarial_charts(config: RunConfig) -> list[Chart]:
    """Losses, the discriminator's output on real and generated examples, and gradient norms."""

    _, output_title = health.discriminator_output_view([], config.loss)
    is_probability = health.output_is_probability(config.loss)

    def as_read(values: np.ndarray) -> np.ndarray:
        return health.discriminator_output_view(values, config.loss)[0]

    norms = (Series("D gradient", "d_grad_norm", smooth=False), Series("G gradient", "g_grad_norm", smooth=False))
    if config.loss == "wgan_gp":
        norms += (Series("gradient penalty", "gradient_penalty", smooth=False),)
    caption = ("Discriminator output: the sigmoid of its mean logit; 1 means sure it is real, 0 sure it is generated."
               if is_probability else
               f"Discriminator output: its mean raw score; with the {config.loss} loss it is not a probability.")
    return [
        Chart("Losses", "loss", (Series("discriminator", "d_loss"), Series("generator", "g_loss"))),
        Chart("Discriminator output", output_title,
              (Series("on real", "d_real", transform=as_read), Series("on generated", "d_fake", transform=as_read)),
              (0.0, 1.0) if is_probability else None, caption),
        Chart("Gradient norms", "norm", norms),
    ]


class AdversarialTraining(Training):
    """A generator and a discriminator trained against each other; subclasses add heads and loss terms.

    What it does beyond that follows the settings `variant` declares (the GAN's precision, augment and updates),
    never its class.
    """

    def __init__(self, config: RunConfig, num_classes: int, variant: Variant) -> None:
        from gan_core.nets import losses

        super().__init__(config, num_classes)
        # A variant built on this class without the setting computes in float32.
        chosen = "float32"
        if variant.has_setting("precision"):
            chosen, note = precision.precision_to_use(config.precision)
            if note:
                print(note, flush=True)
        with precision.computing_in(chosen):
            self.generator = variant.build_generator(config, num_classes)
            self.discriminator = variant.build_discriminator(config, num_classes)
        self.networks = Networks(self.generator, self.discriminator)
        self.g_optimizer = self.adam("g_optimizer", config.g_learning_rate, config.g_beta_1, config.g_beta_2,
                                     self.generator.trainable_variables)
        self.d_optimizer = self.adam("d_optimizer", config.d_learning_rate, config.d_beta_1, config.d_beta_2,
                                     self.discriminator.trainable_variables)
        self.d_loss_function, self.g_loss_function = losses.loss_functions(config.loss)
        # A variant built on this class without these settings trains without augmentation, alternating updates.
        self.augments = variant.has_setting("augment") and config.augment == "diffaugment"
        self.simultaneous = variant.has_setting("updates") and config.updates == "simultaneous"

    def seen_by_discriminator(self, batch: Batch, seed_offset: int, *images: tf.Tensor) -> list[tf.Tensor]:
        """The images as the discriminator sees them: each set augmented with its own part of one seeded draw, when
        DiffAugment is on."""

        if not self.augments:
            return list(images)
        per_image = augment.DRAWS_PER_IMAGE
        draws = batch.noise(seed_offset, [self.config.batch_size, per_image * len(images)], uniform=True)
        return [augment.diff_augment(each, draws[:, index * per_image : (index + 1) * per_image])
                for index, each in enumerate(images)]

    def generator_inputs(self, latent: tf.Tensor, labels: tf.Tensor):
        return [latent, labels] if self.num_classes else latent

    def discriminator_inputs(self, examples: tf.Tensor, labels: tf.Tensor):
        return [examples, labels] if self.num_classes else examples

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """`n_critic` discriminator updates, then one generator update; or both at once (`updates=simultaneous`)."""
        if self.simultaneous:
            metrics = self.simultaneous_update(batch)
        else:
            for critic_iteration in range(self.config.n_critic):
                d_metrics = self.discriminator_update(batch, critic_iteration)
            g_metrics = self.generator_update(batch, batch.labels(self.config.n_critic - 1))
            metrics = {**d_metrics, **g_metrics}
        return {name: metrics[name] for name in STEP_METRICS}

    def discriminator_update(self, batch: Batch, critic_iteration: int,
                             latent: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """One discriminator update on the real examples and noise of `critic_iteration`; its metrics.

        `latent` replaces the seeded noise (the Playground updates on the very samples it shows).
        """
        import tensorflow as tf

        config, replicas = self.config, batch.replicas
        real, labels = batch.real(critic_iteration), batch.labels(critic_iteration)
        if latent is None:
            latent = batch.noise(critic_iteration, [config.batch_size, config.latent_dim])
        with tf.GradientTape() as tape:
            fake = self.generator(self.generator_inputs(latent, labels), training=True)
            d_loss, penalty, real_logits, fake_logits = self.discriminator_terms(batch, critic_iteration, real, fake,
                                                                                 labels)
            d_total = (d_loss + config.gp_weight * penalty) / replicas
        d_gradients = tape.gradient(d_total, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(d_gradients, self.discriminator.trainable_variables))
        return self.discriminator_metrics(d_loss, penalty, real_logits, fake_logits, d_gradients, replicas)

    def discriminator_terms(self, batch: Batch, critic_iteration: int, real: tf.Tensor, fake: tf.Tensor,
                            labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
        """The discriminator's loss on `real` and `fake` as it sees them, its gradient penalty (0 but for WGAN-GP) and
        its logits on both."""
        import tensorflow as tf

        from gan_core.nets import losses

        real_seen, fake_seen = self.seen_by_discriminator(batch, AUGMENT_SEED_OFFSET + critic_iteration, real, fake)
        real_logits = self.discriminator(self.discriminator_inputs(real_seen, labels), training=True)
        fake_logits = self.discriminator(self.discriminator_inputs(fake_seen, labels), training=True)
        d_loss = self.d_loss_function(real_logits, fake_logits)
        penalty = tf.constant(0.0)
        if self.config.loss == "wgan_gp":
            weights = batch.noise(GP_SEED_OFFSET + critic_iteration, [self.config.batch_size], uniform=True)
            penalty = losses.gradient_penalty(
                lambda points: self.discriminator(self.discriminator_inputs(points, labels), training=True),
                real, fake, weights,
            )
        return d_loss, penalty, real_logits, fake_logits

    @staticmethod
    def discriminator_metrics(d_loss: tf.Tensor, penalty: tf.Tensor, real_logits: tf.Tensor, fake_logits: tf.Tensor,
                              d_gradients: list[tf.Tensor], replicas: int) -> dict[str, tf.Tensor]:
        import tensorflow as tf

        # Each value is this replica's share; the SUM over replicas gives the global mean (or, for gradient
        # norms, the mean over replicas of each replica's batch gradient norm).
        return {
            "d_loss": d_loss / replicas,
            "d_real": tf.reduce_mean(real_logits) / replicas,
            "d_fake": tf.reduce_mean(fake_logits) / replicas,
            "d_grad_norm": tf.linalg.global_norm(d_gradients),
            "gradient_penalty": penalty / replicas,
        }

    def simultaneous_update(self, batch: Batch) -> dict[str, tf.Tensor]:
        """Both networks updated from one pass: each follows its own loss's gradient at the weights both had before
        the step. The alternating step runs the generator and the discriminator on generated images twice (once for
        each update); this runs them once."""
        import tensorflow as tf

        config, replicas = self.config, batch.replicas
        real, labels = batch.real(0), batch.labels(0)
        latent = batch.noise(0, [config.batch_size, config.latent_dim])
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            fake = self.generator(self.generator_inputs(latent, labels), training=True)
            d_loss, penalty, real_logits, fake_logits = self.discriminator_terms(batch, 0, real, fake, labels)
            g_loss = self.g_loss_function(fake_logits)
            d_total = (d_loss + config.gp_weight * penalty) / replicas
            g_total = g_loss / replicas
        d_gradients = d_tape.gradient(d_total, self.discriminator.trainable_variables)
        g_gradients = g_tape.gradient(g_total, self.generator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(d_gradients, self.discriminator.trainable_variables))
        self.g_optimizer.apply_gradients(zip(g_gradients, self.generator.trainable_variables))
        return {**self.discriminator_metrics(d_loss, penalty, real_logits, fake_logits, d_gradients, replicas),
                "g_loss": g_loss / replicas, "g_grad_norm": tf.linalg.global_norm(g_gradients)}

    def generator_update(self, batch: Batch, labels: tf.Tensor,
                         latent: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """One generator update against the current discriminator, for samples of class `labels`; its metrics.

        `latent` replaces the seeded noise, as in `discriminator_update`.
        """
        import tensorflow as tf

        config, replicas = self.config, batch.replicas
        if latent is None:
            latent = batch.noise(G_SEED_OFFSET, [config.batch_size, config.latent_dim])
        with tf.GradientTape() as tape:
            fake = self.generator(self.generator_inputs(latent, labels), training=True)
            [fake_seen] = self.seen_by_discriminator(batch, G_AUGMENT_SEED_OFFSET, fake)
            g_fake_logits = self.discriminator(self.discriminator_inputs(fake_seen, labels), training=True)
            g_loss = self.g_loss_function(g_fake_logits)
            g_total = g_loss / replicas
        g_gradients = tape.gradient(g_total, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(g_gradients, self.generator.trainable_variables))
        return {"g_loss": g_loss / replicas, "g_grad_norm": tf.linalg.global_norm(g_gradients)}


class HeadedAdversarialTraining(AdversarialTraining):
    """An AdversarialTraining whose discriminator carries extra heads on its trunk (InfoGAN's Q, ACGAN's classes).

    The heads are checkpointed as `heads_name`, beside the unchanged discriminator. They learn with the
    discriminator, and their losses reach the shared trunk, so one optimizer ("d_optimizer") holds both.
    """

    def __init__(self, config: RunConfig, num_classes: int, variant: Variant, heads_name: str,
                 heads: dict[str, int], hidden_units: int = 0) -> None:
        from gan_core.nets import models

        super().__init__(config, num_classes, variant)
        self.heads, self.discriminator_with_heads = models.build_discriminator_heads(
            self.discriminator, heads, hidden_units, heads_name)
        self.networks.others[heads_name] = self.heads
        self.d_variables = self.discriminator.trainable_variables + self.heads.trainable_variables
        # Replaces the optimizer the parent built over the discriminator alone.
        self.d_optimizer = self.adam("d_optimizer", config.d_learning_rate, config.d_beta_1, config.d_beta_2,
                                     self.d_variables)

    def minimise(self, tape: tf.GradientTape, total: tf.Tensor, variables: list,
                 optimizer: keras.optimizers.Optimizer) -> tf.Tensor:
        """One update of `variables` on `total`; returns the gradient's global norm, for the charts."""
        import tensorflow as tf

        gradients = tape.gradient(total, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return tf.linalg.global_norm(gradients)

    def adversarial_metrics(self, d_loss: tf.Tensor, g_loss: tf.Tensor, real_logits: tf.Tensor,
                            fake_logits: tf.Tensor, replicas: int) -> dict[str, tf.Tensor]:
        """The adversarial part of the step as the GAN logs it, each value this replica's share."""
        import tensorflow as tf

        return {
            "d_loss": d_loss / replicas,
            "g_loss": g_loss / replicas,
            "d_real": tf.reduce_mean(real_logits) / replicas,
            "d_fake": tf.reduce_mean(fake_logits) / replicas,
        }


registry.add(GAN())
