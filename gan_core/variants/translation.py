"""What the image-to-image variants (Pix2Pix, CycleGAN) share: their data, held-out pairs, sample grids, networks,
pictures and measures.

Their generator does not draw from noise: it translates an image of domain A (an input) into domain B. The run's
dataset therefore carries the inputs beside the examples (see data.Dataset): the examples are domain B, what the
outputs should look like, so the project's measures of generated against real images compare outputs with real
targets. "Sampling" such a run translates held-out inputs, drawn with the sampling seed.

Held-out examples are never trained on: a built-in set's test split when this machine has it, otherwise every
k-th item of the training split (image_pairs.held_out_indices), removed from training; the same for a person's own
collection.
"""

from __future__ import annotations

import abc
import functools
import io
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gan_core.inputs import data, image_collection, image_pairs, images
from gan_core.measuring import features
from gan_core.spec import registry
from gan_core.spec.config import RunConfig
from gan_core.variants.base import Networks, Picture, Variant

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.inputs.data import Dataset
    from gan_core.store.runs import Run

# Shared fields an image-to-image run does not read: no noise vector, no classes fed in, one fixed architecture
# and loss of its own, and samples from the generator itself (its batch statistics are part of it).
TRANSLATION_UNUSED_FIELDS = ("architecture", "conditional", "loss", "latent_dim", "n_critic", "gp_weight",
                             "g_ema_decay")
# Held-out examples the sample grid shows, two translations side by side per row.
GRID_GROUPS_PER_ROW = 2
# The PSNR an image identical to its target counts as (a difference of one grey level in every pixel scores 48 dB).
MAX_PSNR_DB = 100.0
# Held-out examples the pictures and measures take at once.
TRANSLATE_BATCH = 256


class ImageTranslation(Variant):
    """A variant whose generator maps images of domain A to domain B: a base.Translator (subclasses say how they
    read their data, train and lay out their translations)."""

    draws_from_noise = False
    holds_out_own_images = True
    grid_caption = "Held-out translations"
    unused_fields = TRANSLATION_UNUSED_FIELDS
    progress_metrics: ClassVar[tuple[str, ...]] = ("d_loss", "g_loss")

    def check(self, config: RunConfig) -> None:
        self.require(not config.is_points, "dataset", config.dataset,
                     f"an image dataset (the {self.title} translates images)")
        self.require(config.g_ema_decay == 0, "g_ema_decay", config.g_ema_decay,
                     f"0: the {self.title} samples its generator itself")
        self.require(config.sample_grid % GRID_GROUPS_PER_ROW == 0, "sample_grid", config.sample_grid,
                     f"even: its grid shows {GRID_GROUPS_PER_ROW} held-out translations per row")

    # ---- data -------------------------------------------------------------------------------------------------

    def input_channels(self, config: RunConfig) -> int:
        """Channels of the images the generator translates."""
        return config.data_shape[-1]

    def input_shape(self, config: RunConfig) -> tuple[int, int, int]:
        size = config.data_shape[0]
        return size, size, self.input_channels(config)

    def expected_input(self, config: RunConfig) -> str:
        """What an image to translate should look like, for a person choosing one: "a white-on-black edge drawing".

        Any image is fitted to `input_shape`, but one of another kind (a colour photo for an edges model, say)
        gives a meaningless translation.
        """
        return "an image like the run's inputs"

    def load_dataset(self, config: RunConfig, split: str, load_base: Callable[[], Dataset]) -> Dataset:
        return self.translation_dataset(config, split, load_base)

    @abc.abstractmethod
    def translation_dataset(self, config: RunConfig, split: str, load_base: Callable[[], Dataset]) -> Dataset:
        """The examples (domain B) with their inputs (domain A) for `split`."""

    # ---- "latents": held-out inputs ----------------------------------------------------------------------------

    def draw_latents(self, config: RunConfig, count: int, seed: int) -> np.ndarray:
        """`count` held-out inputs drawn with `seed`, scaled to [-1, 1] as the generator takes them."""
        inputs, _, _ = held_out_inputs(config, count, seed)
        return scale_images(inputs)

    def fixed_inputs(self, config: RunConfig, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        # The sample grid is drawn by grid_tiles from held-out examples, not from fixed noise.
        return np.zeros((0, *self.input_shape(config)), np.float32), np.zeros(0, np.int32)

    def grid_tiles(self, config: RunConfig, networks: Networks) -> tuple[np.ndarray, int]:
        examples = grid_examples(config.to_json())
        groups = self.translation_groups(networks, examples.inputs, examples.examples)
        return arrange_groups(groups, GRID_GROUPS_PER_ROW)

    @abc.abstractmethod
    def translation_groups(self, networks: Networks, inputs: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
        """One group of tiles (uint8 NHWC, the same count each) per held-out example, in the grid's order."""

    # ---- a person's image ----------------------------------------------------------------------------------------

    def translate(self, run: Run, step: int, image_bytes: bytes) -> list[Picture]:
        """A person's image file fitted to the run's inputs, beside its translation by the checkpoint at `step`."""

        from gan_core.nets import sampling

        size, _, channels = self.input_shape(run.config)
        image = image_collection.decode_image(io.BytesIO(image_bytes), size, channels)
        generator = sampling.load_generator(run, step)
        output = translate_images(generator, image[np.newaxis])
        seen = f"{size}x{size}, {'grey' if channels == 1 else 'colour'}"
        return [Picture(display(image), f"Your image, as the model sees it ({seen})"),
                Picture(display(output[0]), "Translated")]


# ---------------------------------------------------------------------------------------------------------------
# Held-out examples.


def split_held_out(dataset: Dataset, split: str) -> Dataset:
    """The training part (split "train") or held-out part ("test") of a dataset without a test split."""

    example_train, example_held = image_pairs.held_out_indices(len(dataset.examples))
    if dataset.inputs is None or dataset.paired:
        return dataset.select(example_train if split == "train" else example_held)
    input_train, input_held = image_pairs.held_out_indices(len(dataset.inputs))
    if split == "train":
        return dataset.select(example_train, input_train)
    return dataset.select(example_held, input_held)


def base_split(config: RunConfig, split: str, load_base: Callable[[], Dataset],
               load_train: Callable[[], Dataset]) -> tuple[Dataset, bool]:
    """The run's dataset for `split`, and whether a held-out part must still be split off it.

    A built-in set whose test split is on this machine (or downloadable) gives it; one without (CIFAR-10's 200
    images here) and a person's collection hold out part of their training split instead.
    """

    if config.dataset == "folder" or data.find_builtin(config.dataset, "test") is None:
        return load_train(), True
    return load_base(), False


def held_out_inputs(config: RunConfig, count: int, seed: int) -> tuple[np.ndarray, np.ndarray, Dataset]:
    """`count` held-out inputs drawn with `seed` (repeating only when fewer are held out), their indices, and the
    held-out dataset they come from."""
    held_out = held_out_dataset(config.to_json())
    chosen = draw_indices(len(held_out.inputs), count, seed)
    return held_out.inputs[chosen], chosen, held_out


def draw_indices(available: int, count: int, seed: int) -> np.ndarray:
    """`count` indices below `available` in stored order, without repeats while there are enough."""
    if available < 1:
        raise ValueError("this run has no held-out examples to translate")
    random = np.random.default_rng(seed)
    if count <= available:
        return np.sort(random.choice(available, count, replace=False))
    return np.sort(random.choice(available, count, replace=True))


@functools.lru_cache(maxsize=4)
def held_out_dataset(config_json: str) -> Dataset:
    """The run's held-out examples and inputs (read once per process: the trainer draws its grid from them)."""

    return data.load_dataset(RunConfig.from_json(config_json), "test")


@functools.lru_cache(maxsize=4)
def grid_examples(config_json: str) -> Dataset:
    """The first sample_grid held-out examples (and inputs): the sample grid's fixed inputs."""

    count = RunConfig.from_json(config_json).sample_grid
    held_out = held_out_dataset(config_json)
    indices = np.arange(count) % len(held_out.examples)
    input_indices = np.arange(count) % len(held_out.inputs)
    return held_out.select(indices, input_indices)


# ---------------------------------------------------------------------------------------------------------------
# Images.


def scale_images(images: np.ndarray) -> np.ndarray:
    """uint8 pixels as the networks take them: float32 in [-1, 1]."""
    return images.astype(np.float32) / 127.5 - 1.0


def translate_images(network: keras.Model, images: np.ndarray, training: bool = False) -> np.ndarray:
    """uint8 NHWC images through a translating network, in batches; uint8 NHWC out."""

    outputs = [np.asarray(network(scale_images(images[start : start + TRANSLATE_BATCH]), training=training))
               for start in range(0, len(images), TRANSLATE_BATCH)]
    return data.to_uint8_images(np.concatenate(outputs))


def as_rgb(tiles: np.ndarray) -> np.ndarray:
    return np.repeat(tiles, 3, axis=-1) if tiles.shape[-1] == 1 else tiles


def arrange_groups(groups: list[np.ndarray], groups_per_row: int) -> tuple[np.ndarray, int]:
    """Tiles of equal-length groups laid out `groups_per_row` groups to a row; returns (tiles, columns).

    Grey and colour tiles (a grey input beside its colour target) are all shown in colour."""
    if any(group.shape[-1] == 3 for group in groups):
        groups = [as_rgb(group) for group in groups]
    rows = [np.concatenate(groups[start : start + groups_per_row]) for start in range(0, len(groups), groups_per_row)]
    return np.concatenate(rows), groups_per_row * len(groups[0])


def grid_picture(groups: list[np.ndarray], groups_per_row: int, caption: str) -> Picture:
    tiles, columns = arrange_groups(groups, groups_per_row)
    grid = images.image_grid(tiles, len(tiles) // columns, columns, scale=images.grid_scale(tiles.shape[1]))
    return Picture(display(grid), caption)


def display(image: np.ndarray) -> np.ndarray:
    """HW for a grey image, as Streamlit shows it; colour images unchanged."""
    return image[..., 0] if image.shape[-1] == 1 else image


def heatmap(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (H, W) as uint8 RGB: blue for 0 (judged fake), white for 0.5, red for 1 (judged real)."""
    values = np.clip(values, 0.0, 1.0)[..., np.newaxis]
    blue, white, red = np.array([40, 90, 220.0]), np.array([255, 255, 255.0]), np.array([220, 40, 40.0])
    low = white * (2 * values) + blue * (1 - 2 * values)
    high = red * (2 * values - 1) + white * (2 - 2 * values)
    return np.rint(np.where(values < 0.5, low, high)).astype(np.uint8)


def overlay(image: np.ndarray, values: np.ndarray, opacity: float = 0.55) -> np.ndarray:
    """A heatmap of `values` (any H', W' dividing the image's) laid over a uint8 image, enlarged to fit it."""
    height, width = image.shape[:2]
    enlarged = np.kron(values, np.ones((height // values.shape[0], width // values.shape[1])))
    blended = (1 - opacity) * as_rgb(image).astype(np.float32) + opacity * heatmap(enlarged)
    return np.rint(blended).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------------------
# Measures.


def mean_absolute_error(images: tf.Tensor, others: tf.Tensor) -> tf.Tensor:
    """The L1 loss term of both variants: mean |images - others| over every pixel of the batch."""
    import tensorflow as tf

    return tf.reduce_mean(tf.abs(images - others))


def mean_pixel_distance(images: np.ndarray, others: np.ndarray) -> float:
    """Mean absolute difference of two uint8 image sets, pixels scaled to [0, 1]: the measures' L1."""
    return float(np.mean(np.abs(images.astype(np.float32) - others.astype(np.float32))) / 255.0)


def pair_measures(outputs: np.ndarray, targets: np.ndarray, prefix: str = "") -> dict[str, float]:
    """Mean absolute error (pixels scaled to [0, 1]), PSNR (dB) and SSIM (TensorFlow's) of outputs to targets.

    An output identical to its target has an infinite PSNR; it counts as MAX_PSNR_DB, so that one grey photo among
    colour ones (whose grey input is then exactly right) does not make a whole set's mean infinite.
    """
    import tensorflow as tf

    produced, wanted = outputs.astype(np.float32) / 255.0, targets.astype(np.float32) / 255.0
    # SSIM's Gaussian window may be at most the image's side (11 at 28 px and more, as in its paper).
    filter_size = min(11, outputs.shape[1])
    return {
        f"{prefix}l1": mean_pixel_distance(outputs, targets),
        f"{prefix}psnr": float(np.mean(np.minimum(tf.image.psnr(produced, wanted, max_val=1.0), MAX_PSNR_DB))),
        f"{prefix}ssim": float(np.mean(tf.image.ssim(produced, wanted, max_val=1.0, filter_size=filter_size))),
    }


def class_preserved(config: RunConfig, outputs: np.ndarray, labels: np.ndarray | None,
                    judge: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, Any]:
    """The share of outputs the judged dataset's classifier gives the label of the image they were made from.

    `judge` turns outputs into what the classifier reads (inverting them back, say). Empty when the inputs have
    no classes or the judged dataset has no classifier here.
    """

    if labels is None:
        return {}
    dataset_name = registry.of(config).judged_dataset(config)
    if features.classifier_unavailable_reason(dataset_name) is not None:
        return {}
    classifier = features.classifier_extractor(dataset_name)
    probabilities = classifier.probabilities(judge(outputs) if judge else outputs)
    return {"class_preserved": float(np.mean(probabilities.argmax(axis=1) == labels))}


# ---------------------------------------------------------------------------------------------------------------
# Networks, sized for 28-32 px images on a CPU.


def normalisation(kind: str) -> keras.layers.Layer:
    """Batch norm (Pix2Pix) or instance norm (CycleGAN; Keras' GroupNormalization with one group per channel)."""
    import keras

    if kind == "batch":
        return keras.layers.BatchNormalization()
    if kind == "instance":
        return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
    raise ValueError(f"normalisation {kind!r} is not allowed; use 'batch' or 'instance'")


def downsamplings(image_size: int) -> int:
    """How many times a U-Net halves an image of this side: while the side stays even and at least 4 after."""
    count = 0
    while image_size % 2 == 0 and image_size // 2 >= 4 and count < 4:
        image_size //= 2
        count += 1
    return count


def build_unet(input_shape: tuple[int, int, int], output_channels: int, width: int, norm: str = "batch",
               dropout_blocks: int = 1, name: str = "generator") -> keras.Model:
    """Pix2Pix's U-Net: 4x4 stride-2 convolutions down, transposed ones up, each up level joined to the down level
    of the same size (the skips carry the input's detail straight to the output); dropout 0.5 in the first
    `dropout_blocks` up levels, as the paper's noise source; tanh images out."""
    import keras

    inputs = keras.Input(input_shape)
    levels = downsamplings(input_shape[0])
    x, skips = inputs, []
    for level in range(levels):
        x = keras.layers.Conv2D(width * 2**level, 4, strides=2, padding="same", use_bias=False)(x)
        if level > 0:
            x = normalisation(norm)(x)
        x = keras.layers.LeakyReLU(0.2)(x)
        skips.append(x)
    # The bottleneck sees the whole (small) image at once.
    x = keras.layers.Conv2D(width * 2**levels, 3, padding="same", use_bias=False)(x)
    x = normalisation(norm)(x)
    x = keras.layers.ReLU()(x)
    for level in reversed(range(levels)):
        x = keras.layers.Concatenate()([x, skips[level]])
        filters = width * 2 ** max(level - 1, 0)
        x = keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False)(x)
        x = normalisation(norm)(x)
        if levels - 1 - level < dropout_blocks:
            x = keras.layers.Dropout(0.5)(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Concatenate()([x, inputs])
    outputs = keras.layers.Conv2D(output_channels, 3, padding="same", activation="tanh")(x)
    return keras.Model(inputs, outputs, name=name)


def build_patch_discriminator(input_channels: int, image_size: int, width: int, norm: str = "batch",
                              name: str = "discriminator") -> keras.Model:
    """A PatchGAN: a map of real/fake logits, each judging one patch (about a third of a 28-32 px image)."""
    import keras

    inputs = keras.Input((image_size, image_size, input_channels))
    x = keras.layers.Conv2D(width, 4, strides=2, padding="same")(inputs)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Conv2D(width * 2, 4, strides=2, padding="same", use_bias=False)(x)
    x = normalisation(norm)(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    x = keras.layers.Conv2D(width * 4, 3, padding="same", use_bias=False)(x)
    x = normalisation(norm)(x)
    x = keras.layers.LeakyReLU(0.2)(x)
    outputs = keras.layers.Conv2D(1, 3, padding="same")(x)
    return keras.Model(inputs, outputs, name=name)
