"""InfoGAN (Chen et al. 2016): a GAN whose generator input carries codes that a Q head must recover.

The generator's input is [z | one-hot categorical code (10 values) | continuous codes ~ Uniform(-1, 1)]. A Q head
on the discriminator's trunk predicts the codes of generated examples: logits for the categorical code, means of
a fixed-sigma Gaussian for the continuous ones. The info loss L_I = cross-entropy(categorical) + 0.5 * MSE
(continuous), each with its own weight, is a lower bound on the mutual information between codes and images
(up to a constant); both players minimise their adversarial loss plus the weighted L_I. Without labels the
categorical code tends to pick out the digit classes, in an order of its own.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from gan_core.measuring import features, label_measures
from gan_core.inputs import images
from gan_core.spec import registry
from gan_core.measuring.measures import Measure
from gan_core.spec.settings import Setting
from gan_core.variants import class_measures
from gan_core.variants.base import Batch, Chart, Picture, Series, Training, Variant, View, fixed_seed
from gan_core.variants.gan import HeadedAdversarialTraining, adversarial_charts

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.store.runs import Run

CATEGORIES = 10
Q_HEAD = "q_head"  # the checkpoint name of the Q network's own layers
Q_HIDDEN_UNITS = 128  # the InfoGAN paper's Q: one 128-unit layer on the shared trunk
# The InfoGAN paper's error using the categorical code of its MNIST run as a classifier was 5%.
PAPER_Q_ACCURACY = 0.95
# Offsets of the step's random draws (below Variant.SEED_STRIDE): noise, categorical and continuous codes, for the
# discriminator's update and then the generator's.
D_SEED_OFFSETS = (0, 1, 2)
G_SEED_OFFSETS = (3, 4, 5)
# Traversals: this many fixed noises (rows), and continuous values from -2 to 2, beyond the training range.
TRAVERSAL_ROWS = 8
CONTINUOUS_TRAVERSAL = np.linspace(-2.0, 2.0, 9)
EVALUATION_BATCH = 500

SETTINGS = (
    Setting("info_lambda_categorical", float, "Categorical code weight (lambda)",
            "Weight of the categorical code's cross-entropy in both players' losses; the paper uses 1.",
            default=1.0, minimum=0.0, maximum=100.0, step=0.1),
    Setting("info_lambda_continuous", float, "Continuous code weight (lambda)",
            "Weight of the continuous codes' 0.5 * squared error; smaller than the categorical weight keeps it on "
            "the scale of the GAN losses (0.1 as in PyTorch-GAN).",
            default=0.1, minimum=0.0, maximum=100.0, step=0.05),
    Setting("info_continuous_codes", int, "Continuous codes",
            "How many Uniform(-1, 1) codes the generator gets beside the 10-way categorical one; 2 in the paper "
            "(they tend to learn slant and stroke width).",
            default=2, minimum=0, maximum=10, step=1),
)


# ---- the maths, as pure functions -----------------------------------------------------------------------------


def categorical_codes_from_uniform(uniform: tf.Tensor, categories: int = CATEGORIES) -> tf.Tensor:
    """Uniform [0, 1) draws to equally likely code values 0..categories-1 (int32)."""
    import tensorflow as tf

    return tf.minimum(tf.cast(tf.floor(uniform * categories), tf.int32), categories - 1)


def continuous_codes_from_uniform(uniform: tf.Tensor) -> tf.Tensor:
    """Uniform [0, 1) draws to Uniform[-1, 1) codes, the paper's range."""
    return 2.0 * uniform - 1.0


def generator_input(noise: tf.Tensor, categorical: tf.Tensor, continuous: tf.Tensor,
                    categories: int = CATEGORIES) -> tf.Tensor:
    """The generator's input vector [noise | one-hot(categorical) | continuous]."""
    import tensorflow as tf

    return tf.concat([noise, tf.one_hot(categorical, categories, dtype=noise.dtype), continuous], axis=1)


def categorical_info_loss(logits: tf.Tensor, codes: tf.Tensor) -> tf.Tensor:
    """Mean cross-entropy of Q's categorical logits against the codes the generator was given."""
    import tensorflow as tf

    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=codes, logits=logits))


def continuous_info_loss(means: tf.Tensor, codes: tf.Tensor) -> tf.Tensor:
    """0.5 * mean squared error: the negative log-likelihood of a unit-sigma Gaussian, less its constant."""
    import tensorflow as tf

    if means.shape[-1] == 0:
        return tf.constant(0.0)
    return 0.5 * tf.reduce_mean(tf.square(codes - means))


def info_loss(categorical: tf.Tensor, continuous: tf.Tensor, lambda_categorical: float,
              lambda_continuous: float) -> tf.Tensor:
    """lambda * L_I, with a weight of its own for each kind of code."""
    return lambda_categorical * categorical + lambda_continuous * continuous


def categorical_mutual_information(cross_entropy, categories: int = CATEGORIES):
    """The lower bound H(c) - cross-entropy on I(c; G(z, c)) for a uniform categorical code; at most ln(categories)."""
    return math.log(categories) - cross_entropy


def code_accuracy(logits: tf.Tensor, codes: tf.Tensor) -> tf.Tensor:
    """Share of examples whose most likely code under Q is the one they were generated with."""
    import tensorflow as tf

    predicted = tf.argmax(logits, axis=1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(tf.equal(predicted, codes), tf.float32))


def code_latents(noise: np.ndarray, categorical: np.ndarray, continuous: np.ndarray) -> np.ndarray:
    """numpy's generator_input: float32 rows [noise | one-hot(categorical) | continuous]."""
    one_hot = np.eye(CATEGORIES, dtype=np.float32)[np.asarray(categorical, dtype=np.int64)]
    return np.concatenate([noise, one_hot, continuous], axis=1).astype(np.float32)


# ---- the variant ----------------------------------------------------------------------------------------------


class InfoGAN(Variant):
    name = "infogan"
    title = "InfoGAN"
    summary = ("A GAN that learns, without labels, a 10-way code and continuous codes that control what it draws: "
               "a Q head on the discriminator must read the codes back. On MNIST the 10-way code tends to pick the "
               "digit, the continuous ones slant and width.")
    settings = SETTINGS
    unused_fields = ("conditional", "n_critic", "gp_weight")
    measures = (
        Measure("categorical_code_purity", "Share of samples (equally many per value of the categorical code) that "
                "the dataset's classifier puts in their code's most frequent class; 1 means every code value draws "
                "one class. The paper's code reached about 0.95 on MNIST.",
                label="Categorical code purity", better="higher"),
        Measure("categorical_code_matched_accuracy", "The same samples scored after matching code values to "
                "classes one-to-one; below the purity when two code values draw the same class.",
                label="Categorical code accuracy, matched", better="higher"),
        Measure("q_accuracy", f"Q's categorical prediction on real held-out images used as a classifier, after the "
                f"best one-to-one matching of code values to classes; the paper reports {PAPER_Q_ACCURACY} on MNIST.",
                label="Q accuracy on real images", better="higher"),
        # The conditional GANs' measure, with samples labelled through the code-to-class matching.
        dataclasses.replace(class_measures.CLASSIFICATION_ACCURACY_SCORE, description=(
            "Classification Accuracy Score with each code value labelled by the class it is matched to: real held-out "
            "accuracy of a classifier trained only on those generated samples; beside it "
            "classification_accuracy_score_real (trained on as many real images) and "
            "classification_accuracy_score_real_plus_generated.")),
    )
    presets = {
        # Tuned by steps on this 2-core machine (seed 0, 2,000 samples): the categorical code's purity was 0.66 at
        # 2,500 steps, 0.75 at 4,000 and 0.81 at 6,000 (Q on real test digits: 0.60). A 16-dimensional noise (the
        # paper's 62 did no better over 2,400 steps) and the paper's rates (G 1e-3, D 2e-4); width 32 was cheaper
        # per step but reached only 0.61 by 5,000.
        "mnist-infogan": dict(
            name="MNIST InfoGAN", dataset="mnist", variant="infogan", latent_dim=16, g_learning_rate=1e-3,
            d_learning_rate=2e-4, steps=6000, sample_every=250, checkpoint_every=1000,
        ),
    }

    def check(self, config: RunConfig) -> None:
        self.require(not config.is_points, "dataset", config.dataset, "an image dataset for the InfoGAN")
        self.require(config.loss != "wgan_gp", "loss", config.loss,
                     "one without a gradient penalty (its discriminator trunk has batch norm)")

    def latent_size(self, config: RunConfig) -> int:
        """Length of the generator's input: noise, the one-hot categorical code, then the continuous codes."""
        return config.latent_dim + CATEGORIES + config.info_continuous_codes

    def draw_latents(self, config: RunConfig, count: int, seed: int) -> np.ndarray:
        """Noise N(0, 1), a uniform categorical code and Uniform(-1, 1) continuous codes, as training draws them."""
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((count, config.latent_dim))
        categorical = rng.integers(0, CATEGORIES, count)
        continuous = rng.uniform(-1.0, 1.0, (count, config.info_continuous_codes))
        return code_latents(noise, categorical, continuous)

    def fixed_inputs(self, config: RunConfig, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        """One row per categorical value; each column keeps its noise, and the continuous codes are 0."""
        columns = config.sample_grid
        noise = np.random.default_rng(fixed_seed(config)).standard_normal((columns, config.latent_dim))
        categorical = np.repeat(np.arange(CATEGORIES), columns)
        continuous = np.zeros((CATEGORIES * columns, config.info_continuous_codes))
        latents = code_latents(np.tile(noise, (CATEGORIES, 1)), categorical, continuous)
        return latents, np.zeros(len(latents), dtype=np.int32)

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return InfoGANTraining(config, self)

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        from gan_core.nets import models

        return models.build_generator(config.data_shape, self.latent_size(config), config.architecture, 0,
                                      config.width)

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model:
        from gan_core.nets import models

        return models.build_discriminator(config.data_shape, config.architecture, 0, config.width, batch_norm=True)

    def build_q_network(self, config: RunConfig) -> tuple[keras.Model, keras.Model, keras.Model]:
        """(discriminator, Q head, both as one model), with the heads InfoGANTraining trains."""
        from gan_core.nets import models

        discriminator = self.build_discriminator(config, 0)
        q_head, combined = models.build_discriminator_heads(discriminator, q_heads(config), Q_HIDDEN_UNITS, Q_HEAD)
        return discriminator, q_head, combined

    def charts(self, config: RunConfig) -> list[Chart]:
        ceiling = math.log(CATEGORIES)
        information = Chart(
            "Mutual information of the categorical code", "nats",
            (Series("lower bound ln 10 - cross-entropy", "mi_categorical"),),
            (0.0, ceiling * 1.05),
            f"A lower bound on how much the images say about the 10-way code: it cannot exceed ln 10 = {ceiling:.2f} "
            "nats, reached when Q reads every generated image's code. Stuck near 0, the code is being ignored.",
        )
        continuous = Chart(
            "Continuous codes", "0.5 x squared error",
            (Series("Q's loss on the continuous codes", "info_continuous_loss"),),
            caption="Q's error recovering the Uniform(-1, 1) codes; a code ignored by the generator stays near "
                    "1/6 (the variance of its range over 2).",
        )
        accuracy = Chart("Q's accuracy on generated images", "share",
                         (Series("categorical code recovered", "q_categorical_accuracy"),), (0.0, 1.0))
        return adversarial_charts(config) + [information, accuracy, continuous]

    def views(self) -> tuple[View, ...]:
        return (
            View("infogan_categorical_traversal", "Categorical code traversal",
                 f"Rows keep one noise vector each; columns are the {CATEGORIES} values of the categorical code "
                 "(continuous codes at 0). A code that learnt the classes shows one digit per column.",
                 "gallery", draw_categorical_traversal),
            View("infogan_continuous_traversals", "Continuous code traversals",
                 "One grid per continuous code: rows keep one noise vector and categorical value each; columns move "
                 "the code from -2 to 2, beyond the -1 to 1 it was trained on; the other codes stay at 0.",
                 "gallery", draw_continuous_traversals),
        )

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        groups = ((categorical_code_measures, ("categorical_code_purity", "categorical_code_matched_accuracy")),
                  (q_accuracy_measures, ("q_accuracy",)),
                  (code_accuracy_scores, ("classification_accuracy_score",)))
        return {"q_accuracy_paper": PAPER_Q_ACCURACY,
                **class_measures.collect(groups, run, step, sample_count, seed)}


def q_heads(config: RunConfig) -> dict[str, int]:
    heads = {"q_categorical": CATEGORIES}
    if config.info_continuous_codes:
        heads["q_continuous"] = config.info_continuous_codes
    return heads


class InfoGANTraining(HeadedAdversarialTraining):
    """Generator, discriminator and Q head; each update adds the weighted info loss to the adversarial one."""

    def __init__(self, config: RunConfig, variant: InfoGAN) -> None:
        super().__init__(config, 0, variant, Q_HEAD, q_heads(config), Q_HIDDEN_UNITS)

    def codes(self, batch: Batch, offsets: tuple[int, int, int]) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """(generator input, categorical codes, continuous codes) drawn with the given seed offsets."""
        config = self.config
        noise = batch.noise(offsets[0], [config.batch_size, config.latent_dim])
        categorical = categorical_codes_from_uniform(batch.noise(offsets[1], [config.batch_size], uniform=True))
        continuous = continuous_codes_from_uniform(
            batch.noise(offsets[2], [config.batch_size, config.info_continuous_codes], uniform=True))
        return generator_input(noise, categorical, continuous), categorical, continuous

    def info_terms(self, outputs: dict, categorical: tf.Tensor, continuous: tf.Tensor):
        """(categorical cross-entropy, continuous loss, their weighted sum) of Q's outputs on generated images."""
        config = self.config
        categorical_loss = categorical_info_loss(outputs["q_categorical"], categorical)
        continuous_loss = continuous_info_loss(outputs.get("q_continuous", continuous), continuous)
        weighted = info_loss(categorical_loss, continuous_loss, config.info_lambda_categorical,
                             config.info_lambda_continuous)
        return categorical_loss, continuous_loss, weighted

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        import tensorflow as tf

        replicas = batch.replicas
        latent, categorical, continuous = self.codes(batch, D_SEED_OFFSETS)
        with tf.GradientTape() as tape:
            fake = self.generator(latent, training=True)
            real_outputs = self.discriminator_with_heads(batch.real(0), training=True)
            fake_outputs = self.discriminator_with_heads(fake, training=True)
            d_loss = self.d_loss_function(real_outputs["logits"], fake_outputs["logits"])
            categorical_loss, continuous_loss, d_info = self.info_terms(fake_outputs, categorical, continuous)
            d_total = (d_loss + d_info) / replicas
        d_norm = self.minimise(tape, d_total, self.d_variables, self.d_optimizer)

        g_latent, g_categorical, g_continuous = self.codes(batch, G_SEED_OFFSETS)
        with tf.GradientTape() as tape:
            g_outputs = self.discriminator_with_heads(self.generator(g_latent, training=True), training=True)
            g_loss = self.g_loss_function(g_outputs["logits"])
            _, _, g_info = self.info_terms(g_outputs, g_categorical, g_continuous)
            g_total = (g_loss + g_info) / replicas
        g_norm = self.minimise(tape, g_total, self.generator.trainable_variables, self.g_optimizer)

        return {
            **self.adversarial_metrics(d_loss, g_loss, real_outputs["logits"], fake_outputs["logits"], replicas),
            "d_grad_norm": d_norm,
            "g_grad_norm": g_norm,
            "info_categorical_loss": categorical_loss / replicas,
            "mi_categorical": categorical_mutual_information(categorical_loss) / replicas,
            "info_continuous_loss": continuous_loss / replicas,
            "q_categorical_accuracy": code_accuracy(fake_outputs["q_categorical"], categorical) / replicas,
        }


# ---- views and measures ---------------------------------------------------------------------------------------


def traversal_picture(run: Run, step: int, latents: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """The checkpoint's sampling generator on `latents`, tiled rows x columns as one uint8 picture."""
    from gan_core.nets import sampling

    generated = sampling.generate(sampling.load_generator(run, step), latents)
    return images.image_grid(generated, rows, columns, scale=images.grid_scale(run.config.data_shape[0]))


def traversal_noise(config: RunConfig, seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 104729]).standard_normal((TRAVERSAL_ROWS, config.latent_dim))


def draw_categorical_traversal(run: Run, step: int, seed: int) -> list[Picture]:
    config = run.config
    noise = np.repeat(traversal_noise(config, seed), CATEGORIES, axis=0)
    categorical = np.tile(np.arange(CATEGORIES), TRAVERSAL_ROWS)
    continuous = np.zeros((len(noise), config.info_continuous_codes))
    picture = traversal_picture(run, step, code_latents(noise, categorical, continuous), TRAVERSAL_ROWS, CATEGORIES)
    return [Picture(picture, f"Categorical code 0 to {CATEGORIES - 1} (columns) for {TRAVERSAL_ROWS} noise vectors "
                             f"(rows), step {step}")]


def draw_continuous_traversals(run: Run, step: int, seed: int) -> list[Picture]:
    config = run.config
    columns = len(CONTINUOUS_TRAVERSAL)
    noise = np.repeat(traversal_noise(config, seed), columns, axis=0)
    categorical = np.repeat(np.arange(TRAVERSAL_ROWS) % CATEGORIES, columns)
    pictures = []
    for code in range(config.info_continuous_codes):
        continuous = np.zeros((len(noise), config.info_continuous_codes))
        continuous[:, code] = np.tile(CONTINUOUS_TRAVERSAL, TRAVERSAL_ROWS)
        picture = traversal_picture(run, step, code_latents(noise, categorical, continuous), TRAVERSAL_ROWS, columns)
        pictures.append(Picture(picture, f"Continuous code {code + 1} from {CONTINUOUS_TRAVERSAL[0]:g} to "
                                         f"{CONTINUOUS_TRAVERSAL[-1]:g} (columns), step {step}"))
    return pictures


def code_samples(run: Run, step: int, sample_count: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Generated samples, equally many per categorical code value: (samples, codes, classifier's classes, classes)."""
    from gan_core.nets import sampling

    config = run.config
    classifier = features.classifier_extractor(config.dataset)
    latents = InfoGAN().draw_latents(config, sample_count, seed)
    codes = np.arange(sample_count) % CATEGORIES
    latents[:, config.latent_dim : config.latent_dim + CATEGORIES] = np.eye(CATEGORIES, dtype=np.float32)[codes]
    generated = sampling.generate(sampling.load_generator(run, step), latents)
    classes = classifier.probabilities(generated).argmax(axis=1)
    return generated, codes, classes, len(classifier.class_names)


def categorical_code_measures(run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
    """Purity of the categorical code: generated samples, equally many per code value, labelled by the classifier."""

    _, codes, classes, num_classes = code_samples(run, step, sample_count, seed)
    purity = label_measures.code_purity(codes, classes, CATEGORIES, num_classes)
    return {
        "categorical_code_purity": purity["purity"],
        "categorical_code_matched_accuracy": purity["matched_accuracy"],
        "categorical_code_per_code": purity["per_code"],
    }


def code_accuracy_scores(run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
    """CAS of the categorical code used as a label: each code value stands for the class it is matched to.

    Code values left without a class (only when there are more values than classes) are left out.
    """

    generated, codes, classes, num_classes = code_samples(run, step, sample_count, seed)
    labels = label_measures.match_codes_to_classes(codes, classes, CATEGORIES, num_classes)[codes]
    matched = labels >= 0
    return class_measures.accuracy_scores(run, generated[matched], labels[matched], num_classes, seed, False)


def q_accuracy_measures(run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
    """Q's categorical code on real held-out images, scored as a classifier after one-to-one matching."""
    from gan_core.nets import sampling

    examples, labels, num_classes = class_measures.labelled_held_out(run, sample_count, seed)
    discriminator, q_head, combined = InfoGAN().build_q_network(run.config)
    sampling.restore_network(run, step, discriminator=discriminator, **{Q_HEAD: q_head})
    scaled = examples.astype(np.float32) / 127.5 - 1.0
    predicted = np.concatenate([
        np.asarray(combined(scaled[start : start + EVALUATION_BATCH], training=False)["q_categorical"]).argmax(axis=1)
        for start in range(0, len(scaled), EVALUATION_BATCH)
    ])
    return {"q_accuracy": label_measures.matched_accuracy(predicted, labels, CATEGORIES, num_classes)}


registry.add(InfoGAN())
