"""ACGAN (Odena et al. 2017): the generator is asked for a class, the discriminator also names the class.

The generator takes the label as the conditional GAN's does; the discriminator does not see it, but has a second
head on its trunk with one raw logit per class (a from-logits cross-entropy, so no softmax is applied twice).
The discriminator minimises its real/fake loss L_S plus the class loss L_C on real and generated examples; the
generator minimises its adversarial loss plus L_C on its own samples. Samples become easy to classify, often at
the price of variety within each class: the measures show both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gan_core.spec import registry
from gan_core.spec.settings import Setting
from gan_core.variants import class_measures
from gan_core.variants.base import Batch, Chart, Series, Training, Variant
from gan_core.variants.gan import HeadedAdversarialTraining, adversarial_charts
from gan_core.variants.infogan import categorical_codes_from_uniform

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.store.runs import Run

CLASS_HEAD = "class_head"  # the checkpoint name of the class head's own layer
# Offsets of the step's random draws (below Variant.SEED_STRIDE): noise and requested classes, for the
# discriminator's update and then the generator's.
D_SEED_OFFSETS = (0, 1)
G_SEED_OFFSETS = (2, 3)


# ---- the maths, as pure functions -----------------------------------------------------------------------------


def class_loss(class_logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """L_C: mean cross-entropy of raw class logits against the labels (softmax applied here, once)."""
    import tensorflow as tf

    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=class_logits))


def class_accuracy(class_logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    import tensorflow as tf

    predicted = tf.argmax(class_logits, axis=1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(tf.equal(predicted, labels), tf.float32))


def acgan_discriminator_loss(adversarial: tf.Tensor, class_loss_real: tf.Tensor, class_loss_fake: tf.Tensor,
                             class_weight: float) -> tf.Tensor:
    """L_S + weight * L_C, L_C counted on real and on generated examples."""
    return adversarial + class_weight * (class_loss_real + class_loss_fake)


def acgan_generator_loss(adversarial: tf.Tensor, class_loss_fake: tf.Tensor, class_weight: float) -> tf.Tensor:
    """The generator's adversarial loss + weight * L_C on its own samples: it wants them classified as asked."""
    return adversarial + class_weight * class_loss_fake


# ---- the variant ----------------------------------------------------------------------------------------------


class ACGAN(Variant):
    name = "acgan"
    title = "ACGAN"
    summary = ("A conditional GAN whose discriminator also names the class of what it sees; the generator is asked "
               "for a class and rewarded when its samples are recognised as that class. Very classifiable samples, "
               "sometimes less varied within a class. Needs a labelled dataset.")
    settings = (
        Setting("acgan_class_weight", float, "Class loss weight",
                "Weight of the class cross-entropy beside the real/fake loss, in both players' losses; the paper "
                "uses 1.", default=1.0, minimum=0.0, maximum=100.0, step=0.1),
    )
    unused_fields = ("conditional", "n_critic", "gp_weight")
    measures = class_measures.REQUESTED_CLASS_MEASURES + class_measures.DIVERSITY_MEASURES
    presets = {
        # The default preset's lessons: networks half the classic width make 2.5 times the steps per second, and
        # Adam without momentum at 1e-3 learns more per step. In two minutes on 2 cores: 3,938 steps and the
        # asked-for digit in 99.5% of samples, where the classic recipe (width 64, Adam 2e-4, beta1 0.5) made 1,567
        # steps and 91% (docs/benchmarks.md, "GAN variants"). The non-saturating loss stays: in a screening by steps
        # the hinge loss learnt the classes more slowly here.
        "mnist-acgan": dict(name="MNIST ACGAN", dataset="mnist", variant="acgan", width=32, latent_dim=32,
                            g_learning_rate=1e-3, d_learning_rate=1e-3, g_beta_1=0.0, g_beta_2=0.99, d_beta_1=0.0,
                            d_beta_2=0.99, g_ema_decay=0.999, steps=3000, sample_every=250, checkpoint_every=1000),
    }

    def check(self, config: RunConfig) -> None:
        self.require(not config.is_points, "dataset", config.dataset, "a labelled image dataset for the ACGAN")
        self.require(config.loss != "wgan_gp", "loss", config.loss,
                     "one without a gradient penalty (its discriminator trunk has batch norm)")

    def uses_labels(self, config: RunConfig) -> bool:
        return True

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return ACGANTraining(config, num_classes, self)

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        from gan_core.nets import models

        return models.build_generator(config.data_shape, config.latent_dim, config.architecture, num_classes,
                                      config.width)

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model:
        """The real/fake part alone: the class head is checkpointed beside it as "class_head"."""
        from gan_core.nets import models

        return models.build_discriminator(config.data_shape, config.architecture, 0, config.width, batch_norm=True)

    def charts(self, config: RunConfig) -> list[Chart]:
        losses = Chart("Class losses", "cross-entropy", (
            Series("D on real", "d_class_loss_real"),
            Series("D on generated", "d_class_loss_fake"),
            Series("G on generated", "g_class_loss"),
        ), caption="The discriminator's class head against real labels and against the classes the generator was "
                   "asked for. Low on generated but high on real: the generator draws what the head finds easy, "
                   "not what the data looks like.")
        accuracy = Chart("Class accuracy of the discriminator", "share", (
            Series("on real", "d_class_accuracy_real"),
            Series("on generated (class asked for)", "d_class_accuracy_fake"),
        ), (0.0, 1.0))
        return adversarial_charts(config) + [losses, accuracy]

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        return class_measures.conditional_measures(run, step, sample_count, seed, diversity=True)


class ACGANTraining(HeadedAdversarialTraining):
    """A label-fed generator against a discriminator with a real/fake logit and a class-logit head."""

    def __init__(self, config: RunConfig, num_classes: int, variant: ACGAN) -> None:
        super().__init__(config, num_classes, variant, CLASS_HEAD, {"class_logits": num_classes})

    def requested(self, batch: Batch, offsets: tuple[int, int]) -> tuple[tf.Tensor, tf.Tensor]:
        """(noise, the classes the generator is asked for), equally likely classes."""
        noise = batch.noise(offsets[0], [self.config.batch_size, self.config.latent_dim])
        labels = categorical_codes_from_uniform(batch.noise(offsets[1], [self.config.batch_size], uniform=True),
                                                self.num_classes)
        return noise, labels

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        import tensorflow as tf

        weight, replicas = self.config.acgan_class_weight, batch.replicas
        real, real_labels = batch.real(0), batch.labels(0)
        noise, fake_labels = self.requested(batch, D_SEED_OFFSETS)
        with tf.GradientTape() as tape:
            fake = self.generator([noise, fake_labels], training=True)
            real_outputs = self.discriminator_with_heads(real, training=True)
            fake_outputs = self.discriminator_with_heads(fake, training=True)
            d_loss = self.d_loss_function(real_outputs["logits"], fake_outputs["logits"])
            d_class_loss_real = class_loss(real_outputs["class_logits"], real_labels)
            d_class_loss_fake = class_loss(fake_outputs["class_logits"], fake_labels)
            d_total = acgan_discriminator_loss(d_loss, d_class_loss_real, d_class_loss_fake, weight) / replicas
        d_norm = self.minimise(tape, d_total, self.d_variables, self.d_optimizer)

        noise, g_labels = self.requested(batch, G_SEED_OFFSETS)
        with tf.GradientTape() as tape:
            g_outputs = self.discriminator_with_heads(self.generator([noise, g_labels], training=True), training=True)
            g_loss = self.g_loss_function(g_outputs["logits"])
            g_class_loss = class_loss(g_outputs["class_logits"], g_labels)
            g_total = acgan_generator_loss(g_loss, g_class_loss, weight) / replicas
        # Only the generator moves here: the class head is trained on real labels by the discriminator's update.
        g_norm = self.minimise(tape, g_total, self.generator.trainable_variables, self.g_optimizer)

        return {
            **self.adversarial_metrics(d_loss, g_loss, real_outputs["logits"], fake_outputs["logits"], replicas),
            "d_grad_norm": d_norm,
            "g_grad_norm": g_norm,
            "d_class_loss_real": d_class_loss_real / replicas,
            "d_class_loss_fake": d_class_loss_fake / replicas,
            "g_class_loss": g_class_loss / replicas,
            "d_class_accuracy_real": class_accuracy(real_outputs["class_logits"], real_labels) / replicas,
            "d_class_accuracy_fake": class_accuracy(fake_outputs["class_logits"], fake_labels) / replicas,
        }


registry.add(ACGAN())
