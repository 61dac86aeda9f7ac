"""Pix2Pix (Isola et al. 2017): translation learnt from pairs (input, target), with a conditional PatchGAN.

The generator, a U-Net, maps an input x to an output G(x); the discriminator sees the input together with an
image (concatenated on channels) and answers with a map of logits, one per patch: is this a real pair or a made
one? The generator minimises the adversarial loss plus lambda * L1(y, G(x)), lambda = 100 as in the paper. L1
alone (`pix2pix_l1_only`, the paper's ablation) already gets the colours and shapes right but averages the
plausible answers into a blur; the adversarial term is what makes outputs sharp, which the Frechet distance of
outputs to real targets shows and L1 or PSNR do not.

Inputs come from pairs: derived from a built-in set or a person's images (edges, a masked square, a lower
resolution, grey from colour, see image_pairs; or noise, added here) or a person's own collection of pairs (A/ and
B/ folders, or side-by-side A|B images).

Noisy pairs teach denoising. The noise is drawn afresh at every step from the step's seeded draws, so that the
generator never sees the same noisy image twice and a resumed run draws what the uninterrupted one would have;
held-out inputs are noised once, from a fixed seed, so that every measure of a run compares like with like.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from gan_core.inputs import data, image_pairs
from gan_core.spec import registry
from gan_core.measuring import metrics
from gan_core.measuring.measures import Measure
from gan_core.spec.settings import Setting
from gan_core.variants.base import Batch, Chart, Denoising, Networks, Picture, Series, Training, View
from gan_core.variants.translation import (base_split, build_patch_discriminator, build_unet, class_preserved,
                                           GRID_GROUPS_PER_ROW, grid_picture, held_out_inputs, ImageTranslation,
                                           mean_absolute_error, overlay, pair_measures, scale_images, split_held_out,
                                           translate_images)

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.inputs.data import Dataset
    from gan_core.store.runs import Run

OWN_PAIRS = "own"
NOISY_PAIRS = "noisy"
NOISE_KINDS = ("gaussian", "salt_and_pepper")
# What the generator's input looks like for each choice of pairs (image_pairs.derive_inputs makes them): the Pairs
# setting's help and the Gallery's upload box both say it from here.
PAIR_INPUTS = {
    "edges": "a white-on-black edge drawing (the Sobel edges of an image)",
    "masked": "an image with a black square over part of it, to be filled in (inpainting)",
    "lowres": "a blocky image at a quarter (or half) of its resolution, to be sharpened (super-resolution)",
    "grey": "a grey image, to be coloured (colourisation, colour datasets only)",
    NOISY_PAIRS: "a noisy image, to be cleaned (denoising; the noise and its level are settings of their own)",
    OWN_PAIRS: "an image like those in your A/ folder, or the left halves of your side-by-side A|B images",
}
# Pairs whose input is its target damaged, so that handing the input back is a score to beat (an edge drawing is
# another kind of image; a grey image is compared in colour channels).
DAMAGED_PAIRS = ("masked", "lowres", NOISY_PAIRS)
# A fixed seed for the masks of the inpainting pairs and the noise of held-out noisy inputs, one per split, so that
# every load gives the same pairs.
MASK_SEEDS = {"train": 0, "test": 1}
# The offsets of a step's two noise draws (variants.base.Batch.noise) for noisy pairs.
GAUSSIAN_DRAW, SPECKLE_DRAW = 0, 1
VIEW_EXAMPLES = 16
PATCH_EXAMPLES = 8


# ---- the maths, as pure functions -----------------------------------------------------------------------------


def patch_cross_entropy(logits: tf.Tensor, target: float) -> tf.Tensor:
    """Mean sigmoid cross-entropy of every patch's logit against 1 (real) or 0 (made)."""
    import tensorflow as tf

    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill(tf.shape(logits), target),
                                                                   logits=logits))


def pix2pix_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Real pairs towards 1, made ones towards 0; halved, as the paper slows the discriminator down."""
    return 0.5 * (patch_cross_entropy(real_logits, 1.0) + patch_cross_entropy(fake_logits, 0.0))


def add_noise(images: tf.Tensor | np.ndarray, kind: str, level: float, normal: tf.Tensor | np.ndarray,
              uniform: tf.Tensor | np.ndarray) -> tf.Tensor:
    """Images in [-1, 1] corrupted by noise of `kind` at `level`, for a denoiser to learn to remove.

    gaussian: each value moves by `level` standard deviations of a pixel scaled to [0, 1] (so level 0.3 on [-1, 1]
    is a standard deviation of 0.6), clipped back into range. salt_and_pepper: a share `level` of the pixels, half
    of them white and half black, the same in every channel. `normal` holds standard normal draws shaped like
    `images`; `uniform` draws from [0, 1) shaped like `images` with one channel.
    """
    import tensorflow as tf

    check_noise(kind, level)
    images = tf.convert_to_tensor(images, tf.float32)
    if kind == "gaussian":
        return tf.clip_by_value(images + 2.0 * level * tf.cast(normal, tf.float32), -1.0, 1.0)
    uniform = tf.cast(uniform, tf.float32)
    peppered = tf.where(uniform < level / 2, -1.0, images)
    return tf.where(uniform >= 1.0 - level / 2, 1.0, peppered)


def check_noise(kind: str, level: float) -> None:
    if kind not in NOISE_KINDS:
        raise ValueError(f"noise {kind!r} is not allowed; use one of {', '.join(NOISE_KINDS)}")
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"noise level {level} is not allowed; use a number from 0 to 1")


def noisy_images(images: np.ndarray, kind: str, level: float, seed: int) -> np.ndarray:
    """uint8 NHWC images with noise from `seed` added (see add_noise), as uint8 again."""
    random = np.random.default_rng(seed)
    normal = random.standard_normal(images.shape, np.float32)
    uniform = random.random((*images.shape[:3], 1), np.float32)
    noisy = add_noise(scale_images(images), kind, level, normal, uniform).numpy()
    return np.rint((noisy + 1.0) * 127.5).astype(np.uint8)


def pix2pix_generator_loss(fake_logits: tf.Tensor | None, l1: tf.Tensor, l1_weight: float) -> tf.Tensor:
    """The non-saturating adversarial loss plus l1_weight * L1; L1 alone when there is no discriminator."""
    if fake_logits is None:
        return l1
    return patch_cross_entropy(fake_logits, 1.0) + l1_weight * l1


# ---- the variant ----------------------------------------------------------------------------------------------


class Pix2Pix(ImageTranslation):
    name = "pix2pix"
    title = "Pix2Pix"
    summary = ("Image-to-image translation learnt from pairs: edges to photos, a masked image to the whole one, low "
               "to high resolution, grey to colour, noisy to clean, or your own A/ and B/ pairs. A U-Net generator "
               "with an L1 loss and a PatchGAN discriminator that judges (input, output) pairs patch by patch.")
    settings = (
        Setting("pix2pix_pairs", str, "Pairs",
                "What the inputs are. " + " ".join(f"{kind}: {looks}." for kind, looks in PAIR_INPUTS.items())
                + f" With '{OWN_PAIRS}', files of the same name in A/ and B/ are pairs.", default="edges",
                choices=tuple(PAIR_INPUTS)),
        Setting("pix2pix_noise", str, "Noise",
                f"The noise of {NOISY_PAIRS!r} pairs. gaussian: every pixel moves by a normal draw. salt_and_pepper: "
                "some pixels turn white or black.", default="gaussian", choices=NOISE_KINDS),
        Setting("pix2pix_noise_level", float, "Noise level",
                f"How much noise {NOISY_PAIRS!r} pairs carry: for gaussian, the standard deviation of the noise "
                "with pixels scaled to [0, 1]; for salt_and_pepper, the share of pixels turned white or black.",
                default=0.3, minimum=0.05, maximum=1.0, step=0.05),
        Setting("pix2pix_l1_weight", float, "L1 weight (lambda)",
                "Weight of the L1 distance to the target beside the adversarial loss; the paper uses 100.",
                default=100.0, minimum=0.0, maximum=1000.0, step=10.0),
        Setting("pix2pix_l1_only", bool, "L1 only (no discriminator)",
                "Train the generator on L1 alone: the paper's ablation, blurrier but faster.", default=False),
    )
    measures = (
        Measure("l1", "Mean absolute difference between outputs and their real targets on held-out pairs, pixels "
                "scaled to [0, 1].", label="L1 to the target", better="lower"),
        Measure("psnr", "Peak signal-to-noise ratio of outputs to targets in dB (TensorFlow's tf.image.psnr). L1 "
                "alone scores well here while being blurry.", label="PSNR (dB)", better="higher"),
        Measure("ssim", "Structural similarity of outputs to targets (tf.image.ssim), from -1 to 1.",
                label="SSIM", better="higher"),
        Measure("colourfulness", "How colourful the outputs are (Hasler and Süsstrunk 2003: the spread of their "
                "colours plus how far they are from grey; 0 for grey images), beside the real targets' (grey "
                "pairs). A colouriser that plays safe with brownish greys scores far below the real images.",
                label="Colourfulness", better="close to the real images'", reference="real_colourfulness"),
        Measure("input_psnr", "PSNR of the inputs themselves to their targets, in dB: what handing the input back "
                "unchanged scores (in colour channels for grey pairs). A model worth having beats it (noisy, masked, "
                "low-resolution and grey pairs).",
                label="PSNR of the input itself (dB)", better="higher"),
        Measure("class_preserved", "Share of held-out outputs the dataset's classifier gives the class of their "
                "target.", label="Class preserved", better="higher"),
    )
    progress_metrics = ("d_loss", "g_adversarial_loss", "l1_loss")
    presets = {
        "fashion-edges2img": dict(name="Fashion-MNIST edges to images (Pix2Pix)", dataset="fashion_mnist",
                                  variant="pix2pix", pix2pix_pairs="edges", width=32, batch_size=32,
                                  steps=3000, sample_every=250, checkpoint_every=500),
        "mnist-inpaint": dict(name="MNIST inpainting (Pix2Pix)", dataset="mnist", variant="pix2pix",
                              pix2pix_pairs="masked", width=32, batch_size=32, steps=3000, sample_every=250,
                              checkpoint_every=500),
        "fashion-superres": dict(name="Fashion-MNIST 4x super-resolution (Pix2Pix)", dataset="fashion_mnist",
                                 variant="pix2pix", pix2pix_pairs="lowres", width=32, batch_size=32, steps=3000,
                                 sample_every=250, checkpoint_every=500),
        # Grey to colour. Offline, only 200 CIFAR-10 images lie beside the project: a demonstration of over-fitting
        # there; the full set (downloaded by Keras) or a person's own colour photos (dataset "folder") for real use.
        "cifar10-colourise": dict(name="CIFAR-10 grey to colour (Pix2Pix)", dataset="cifar10", variant="pix2pix",
                                  pix2pix_pairs="grey", width=32, batch_size=32, steps=3000, sample_every=250,
                                  checkpoint_every=500),
        # Five minutes on 2 cores: 7.8 dB above the noisy images' PSNR at its level (docs/benchmarks.md).
        "fashion-denoise": dict(name="Fashion-MNIST denoising (Pix2Pix)", dataset="fashion_mnist",
                                variant="pix2pix", pix2pix_pairs=NOISY_PAIRS, pix2pix_noise="gaussian",
                                pix2pix_noise_level=0.3, width=32, batch_size=32, steps=6000, sample_every=500,
                                checkpoint_every=1000),
    }

    def check(self, config: RunConfig) -> None:
        super().check(config)
        if config.dataset != "folder":
            self.require(config.pix2pix_pairs != OWN_PAIRS, "pix2pix_pairs", config.pix2pix_pairs,
                         "edges, masked, lowres, grey or noisy with a built-in dataset ('own' reads your own pairs: "
                         "choose the dataset 'folder')")
        if config.pix2pix_pairs == "grey":
            self.require(config.data_shape[-1] == 3, "pix2pix_pairs", config.pix2pix_pairs,
                         "edges, masked, lowres or noisy for grey images ('grey' colours grey versions of colour "
                         "images)")

    def input_channels(self, config: RunConfig) -> int:
        if config.pix2pix_pairs in (OWN_PAIRS, NOISY_PAIRS):
            return config.data_shape[-1]
        return image_pairs.input_channels(config.pix2pix_pairs, config.data_shape[-1])

    def expected_input(self, config: RunConfig) -> str:
        return PAIR_INPUTS[config.pix2pix_pairs]

    def translation_dataset(self, config: RunConfig, split: str, load_base: Callable[[], Dataset]) -> Dataset:
        if config.pix2pix_pairs == OWN_PAIRS:
            size, _, channels = config.data_shape
            collection = image_pairs.load_pair_collection(config.data_path, size, channels)
            if not collection.paired:
                raise ValueError(f"{collection.name} holds no pairs (no file name is in both A/ and B/); Pix2Pix "
                                 "learns from pairs: give A/ and B/ files the same names, or use side-by-side A|B "
                                 "images. Unpaired collections train with CycleGAN.")
            whole = data.Dataset(collection.name, collection.b, None, (), collection.skipped, inputs=collection.a,
                                 paired=True)
            return split_held_out(whole, split)
        targets, hold_out = base_split(config, split, load_base,
                                       lambda: data.load_images_or_points(config, "train"))
        seed = MASK_SEEDS["train" if hold_out else split]
        inputs = self.derived_inputs(config, targets.examples, seed, noised=split == "test")
        paired = dataclasses.replace(targets, inputs=inputs, paired=True, input_labels=targets.labels)
        return split_held_out(paired, split) if hold_out else paired

    def derived_inputs(self, config: RunConfig, targets: np.ndarray, seed: int, noised: bool) -> np.ndarray:
        """The inputs derived from `targets` by the run's kind of pairs. Noisy pairs are noised only where `noised`
        (the held-out part): the training step noises clean images afresh every time (Pix2PixTraining.step)."""
        if config.pix2pix_pairs != NOISY_PAIRS:
            return image_pairs.derive_inputs(config.pix2pix_pairs, targets, seed)
        if not noised:
            return targets
        return noisy_images(targets, config.pix2pix_noise, config.pix2pix_noise_level, seed)

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        return build_unet(self.input_shape(config), config.data_shape[-1], config.width, norm="batch")

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model:
        size, _, channels = config.data_shape
        return build_patch_discriminator(self.input_channels(config) + channels, size, config.width)

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        return Pix2PixTraining(config, self)

    def translation_groups(self, networks: Networks, inputs: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
        outputs = translate_images(networks.generator, inputs)
        return [np.stack(group) for group in zip(*(as_shown(inputs, targets), targets, outputs))]

    def charts(self, config: RunConfig) -> list[Chart]:
        l1 = Chart("L1 to the target", "mean |target - output| on [-1, 1]", (Series("L1", "l1_loss"),),
                   caption="Falls as outputs approach their targets.")
        if config.pix2pix_l1_only:
            return [l1]
        return [
            Chart("Adversarial losses", "loss", (Series("discriminator", "d_loss"),
                                                 Series("generator (adversarial part)", "g_adversarial_loss")),
                  caption="Normally the generator's adversarial loss rises while L1 falls; a discriminator loss "
                          "near 0 means the discriminator is winning outright."),
            l1,
            Chart("Discriminator outputs", "mean probability over patches",
                  (Series("D(real pair)", "d_real"), Series("D(made pair)", "d_fake")), y_range=(0.0, 1.0)),
        ]

    def views(self) -> tuple[View, ...]:
        views = [View("translations", "Held-out translations",
                      "Each group of three: input, real target, the model's output; pairs never trained on.",
                      "gallery", lambda run, step, seed: draw_translations(self, run, step, seed))]
        views.append(View("patch_map", "What the PatchGAN believes",
                          "The discriminator's verdict on each patch of held-out outputs: red judged real, blue "
                          "judged made.", "gallery", lambda run, step, seed: draw_patch_maps(self, run, step, seed)))
        return tuple(views)

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        from gan_core.nets import sampling

        inputs, chosen, held_out = held_out_inputs(run.config, sample_count, seed)
        outputs = translate_images(sampling.load_generator(run, step), inputs)
        targets = held_out.examples[chosen]
        labels = None if held_out.labels is None else held_out.labels[chosen]
        untouched = {}
        if run.config.pix2pix_pairs in DAMAGED_PAIRS:
            untouched["input_psnr"] = pair_measures(inputs, targets)["psnr"]
        if run.config.pix2pix_pairs == "grey":  # the grey image itself, in colour channels, is doing nothing
            untouched.update(input_psnr=pair_measures(as_shown(inputs, targets), targets)["psnr"],
                             colourfulness=metrics.colourfulness(outputs),
                             real_colourfulness=metrics.colourfulness(targets))
        return {**pair_measures(outputs, targets), **untouched, **class_preserved(run.config, outputs, labels)}

    def denoising(self, run: Run, step: int, level: float, count: int, seed: int) -> Denoising:
        """`count` held-out images (drawn with `seed`) noised at `level` with the run's kind of noise, and what the
        checkpoint at `step` makes of them: a run of noisy pairs tried at another level than it trained on."""
        from gan_core.nets import sampling

        if not self.removes_noise(run.config):
            raise ValueError(f"this run learns from {run.config.pix2pix_pairs} pairs; only a run of noisy pairs "
                             "removes noise")
        _, chosen, held_out = held_out_inputs(run.config, count, seed)
        clean = held_out.examples[chosen]
        noisy = noisy_images(clean, run.config.pix2pix_noise, level, seed)
        denoised = translate_images(sampling.load_generator(run, step), noisy)
        noisy_psnr, denoised_psnr = pair_measures(noisy, clean)["psnr"], pair_measures(denoised, clean)["psnr"]
        shown = min(count, VIEW_EXAMPLES)
        groups = [np.stack(group) for group in zip(noisy[:shown], denoised[:shown], clean[:shown])]
        caption = (f"Noisy | denoised | clean, noise level {level:g}. PSNR to the clean images over {count:,}: "
                   f"noisy {noisy_psnr:.1f} dB, denoised {denoised_psnr:.1f} dB.")
        return Denoising(grid_picture(groups, GRID_GROUPS_PER_ROW, caption), level, noisy_psnr, denoised_psnr)

    def removes_noise(self, config: RunConfig) -> bool:
        return config.pix2pix_pairs == NOISY_PAIRS


def as_shown(inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Inputs with the targets' channels, so a grey input sits beside a colour target in one grid."""
    return np.repeat(inputs, 3, axis=-1) if inputs.shape[-1] == 1 and targets.shape[-1] == 3 else inputs


class Pix2PixTraining(Training):
    """A U-Net generator and a PatchGAN discriminator on (input, image) pairs; no discriminator for L1 alone."""

    def __init__(self, config: RunConfig, variant: Pix2Pix) -> None:
        super().__init__(config, 0)
        self.generator = variant.build_generator(config, 0)
        # Dropout draws its masks from a seed state of its own; saved with the checkpoint, a resumed run draws
        # the masks the uninterrupted one would have.
        for index, state in enumerate(dropout_seed_states(self.generator)):
            self.state[f"generator_dropout_seed_{index}"] = state
        self.g_optimizer = self.adam("g_optimizer", config.g_learning_rate, config.g_beta_1, config.g_beta_2,
                                     self.generator.trainable_variables)
        self.discriminator = None
        if not config.pix2pix_l1_only:
            self.discriminator = variant.build_discriminator(config, 0)
            self.d_optimizer = self.adam("d_optimizer", config.d_learning_rate, config.d_beta_1, config.d_beta_2,
                                         self.discriminator.trainable_variables)
        self.networks = Networks(self.generator, self.discriminator)

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        import tensorflow as tf

        replicas, config = batch.replicas, self.config
        inputs, targets = batch.inputs(0), batch.real(0)
        if config.pix2pix_pairs == NOISY_PAIRS:
            shape = [config.batch_size, *config.data_shape]
            speckles = batch.noise(SPECKLE_DRAW, [*shape[:3], 1], uniform=True)
            inputs = add_noise(inputs, config.pix2pix_noise, config.pix2pix_noise_level,
                               batch.noise(GAUSSIAN_DRAW, shape), speckles)
        with tf.GradientTape(persistent=True) as tape:
            outputs = self.generator(inputs, training=True)
            l1 = mean_absolute_error(targets, outputs)
            real_logits = fake_logits = None
            if self.discriminator is not None:
                real_logits = self.discriminator(tf.concat([inputs, targets], axis=-1), training=True)
                fake_logits = self.discriminator(tf.concat([inputs, outputs], axis=-1), training=True)
                d_loss = pix2pix_discriminator_loss(real_logits, fake_logits)
                d_share = d_loss / replicas
            g_loss = pix2pix_generator_loss(fake_logits, l1, config.pix2pix_l1_weight)
            g_share = g_loss / replicas
        generator_variables = self.generator.trainable_variables
        self.g_optimizer.apply_gradients(zip(tape.gradient(g_share, generator_variables), generator_variables))
        metrics = {"g_loss": g_loss / replicas, "l1_loss": l1 / replicas}
        if self.discriminator is not None:
            discriminator_variables = self.discriminator.trainable_variables
            self.d_optimizer.apply_gradients(zip(tape.gradient(d_share, discriminator_variables),
                                                 discriminator_variables))
            metrics.update(d_loss=d_loss / replicas,
                           g_adversarial_loss=patch_cross_entropy(fake_logits, 1.0) / replicas,
                           d_real=tf.reduce_mean(tf.sigmoid(real_logits)) / replicas,
                           d_fake=tf.reduce_mean(tf.sigmoid(fake_logits)) / replicas)
        del tape
        return metrics


def dropout_seed_states(network: keras.Model) -> list:
    """The seed-state variables of a network's dropout layers, in layer order."""
    import keras

    return [layer.seed_generator.state for layer in network.layers if isinstance(layer, keras.layers.Dropout)]


# ---- pictures -------------------------------------------------------------------------------------------------


def draw_translations(variant: Pix2Pix, run: Run, step: int, seed: int) -> list[Picture]:
    from gan_core.nets import sampling

    inputs, chosen, held_out = held_out_inputs(run.config, VIEW_EXAMPLES, seed)
    targets = held_out.examples[chosen]
    groups = variant.translation_groups(Networks(sampling.load_generator(run, step)), inputs, targets)
    return [grid_picture(groups, GRID_GROUPS_PER_ROW,
                         "Input | real target | output, for held-out pairs drawn with this seed.")]


def draw_patch_maps(variant: Pix2Pix, run: Run, step: int, seed: int) -> list[Picture]:
    """Held-out outputs beside the discriminator's per-patch probability laid over them."""
    import tensorflow as tf

    from gan_core.nets import sampling

    if run.config.pix2pix_l1_only:
        raise ValueError("this run trains on L1 alone, without a discriminator, so it has no patch map to show")
    generator = variant.build_generator(run.config, 0)
    discriminator = variant.build_discriminator(run.config, 0)
    sampling.restore_network(run, step, generator=generator, discriminator=discriminator)
    inputs, _, _ = held_out_inputs(run.config, PATCH_EXAMPLES, seed)
    outputs = translate_images(generator, inputs)
    logits = discriminator(tf.concat([scale_images(inputs), scale_images(outputs)], axis=-1), training=False)
    probabilities = tf.sigmoid(logits).numpy()[..., 0]
    groups = [np.stack([np.repeat(output, 3, axis=-1) if output.shape[-1] == 1 else output,
                        overlay(output, probability)]) for output, probability in zip(outputs, probabilities)]
    return [grid_picture(groups, 4, "Pairs: a held-out output, and the discriminator's verdict on each of its "
                                    f"{probabilities.shape[1]}x{probabilities.shape[2]} patches over it.")]


registry.add(Pix2Pix())
