"""What a GAN variant is: the unit the engine is extended by.

A variant (the GANs of Goodfellow and Radford, InfoGAN, ACGAN, BEGAN, a VAE, ...) says what differs between
them: its settings, its networks and their checkpoint names, its training step and the metrics it logs, how its
latent inputs are drawn, the charts Monitor draws, the extra pictures Gallery and Evaluate show and the extra
measures Evaluate computes. The trainer, the sampler and the pages keep what all of them share (the schedule,
metrics store, sample grids, checkpoints, stop, resume, divergence) and ask the run's variant for the rest.

Pages import variants to read a run's settings, so a variant module imports TensorFlow only inside the functions
that build or run networks: listing runs must stay light.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from gan_core.measuring.measures import Measure
from gan_core.spec.settings import Setting, SettingError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from gan_core.spec.config import RunConfig
    from gan_core.inputs.data import Dataset
    from gan_core.store.runs import Run


@dataclass(frozen=True)
class Series:
    """One line of a chart: its legend label, the logged metric it draws and whether it is smoothed."""

    label: str
    metric: str
    smooth: bool = True
    transform: Callable[[np.ndarray], np.ndarray] | None = None  # e.g. a sigmoid, applied after smoothing


@dataclass(frozen=True)
class Chart:
    """One panel of Monitor's figure."""

    title: str
    y_label: str
    series: tuple[Series, ...]
    y_range: tuple[float, float] | None = None
    caption: str = ""


@dataclass(frozen=True)
class Picture:
    """An image a view shows (uint8 HWC, or HW for grey), with what it shows."""

    image: np.ndarray
    caption: str


@dataclass(frozen=True)
class View:
    """Extra pictures a page shows for runs of one variant.

    `draw(run, step, seed)` returns the pictures for the checkpoint at `step`; it may load networks, so pages call
    it on request and cache the result. `page` is "gallery" or "evaluate".
    """

    key: str
    title: str
    caption: str
    page: str
    draw: Callable[[Run, int, int], list[Picture]]


class Batch:
    """What one replica's training step gets: its slice of the real batch, labels and seeded noise.

    Every replica receives the whole global batch's indices and noise and takes its own slice, so the random draws
    do not depend on how many replicas there are. Losses a step minimises are divided by `replicas`, so that the
    gradients the optimizers sum over replicas equal those of the global batch.
    """

    def __init__(self, real: Callable[[int], tf.Tensor], labels: Callable[[int], tf.Tensor],
                 noise: Callable[..., tf.Tensor], replicas: int, size: int,
                 inputs: Callable[[int], tf.Tensor] | None = None) -> None:
        self.real = real  # real(i): the i-th discriminator iteration's real examples, scaled for the networks
        self.labels = labels  # labels(i): their class labels (zeros for unlabelled data)
        self.noise = noise  # noise(offset, shape, uniform=False): a seeded draw, distinct for each offset
        self.replicas = replicas
        self.size = size  # this replica's batch size
        # inputs(i): the images to translate, scaled like real(i) (the pairs of real(i) when the dataset is paired,
        # an independent draw otherwise); None unless the dataset has inputs (image-to-image variants).
        self.inputs = inputs


class Training:
    """A variant's networks, optimizers and step for one run, built inside the distribution strategy's scope.

    `networks` must hold the "generator", the network samples come from (a VAE's decoder); `networks`,
    `optimizers` and `state` are all saved in the checkpoint under their names.
    """

    def __init__(self, config: RunConfig, num_classes: int) -> None:
        self.config = config
        self.num_classes = num_classes
        self.networks: dict[str, keras.Model] = {}
        self.optimizers: dict[str, keras.optimizers.Optimizer] = {}
        self.state: dict[str, tf.Variable] = {}
        self.configured_learning_rates: dict[str, float] = {}

    def adam(self, name: str, learning_rate: float, beta_1: float, beta_2: float,
             variables: list) -> keras.optimizers.Optimizer:
        """An Adam optimizer saved as `name`, built now so that a checkpoint restores into its slots."""
        import keras

        optimizer = keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2)
        optimizer.build(variables)
        self.optimizers[name] = optimizer
        self.configured_learning_rates[name] = learning_rate
        return optimizer

    def apply_configured_learning_rates(self) -> None:
        """The config decides learning rates, not the checkpoint: a resume with lower rates must keep them."""
        for name, rate in self.configured_learning_rates.items():
            self.optimizers[name].learning_rate = rate

    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """One training step of this replica; returns its share of each metric (summed over replicas)."""
        raise NotImplementedError


class Variant:
    """A kind of GAN. Subclasses set the class attributes and override what differs from the plain GAN."""

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]  # what it is and when to use it, for the Train form
    settings: ClassVar[tuple[Setting, ...]] = ()
    # Shared RunConfig fields that mean nothing for this variant; the form hides them.
    unused_fields: ClassVar[tuple[str, ...]] = ()
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    measures: ClassVar[tuple[Measure, ...]] = ()
    # The logged metrics the command line prints with each row, in this order (those a row has).
    progress_metrics: ClassVar[tuple[str, ...]] = ("d_loss", "g_loss")
    # What the sample grids the trainer saves show, as their captions name it.
    grid_caption: ClassVar[str] = "Fixed noise"
    # Seeds of noise draws within one step are step * SEED_STRIDE + offset; offsets stay below this.
    SEED_STRIDE: ClassVar[int] = 256

    # ---- settings ---------------------------------------------------------------------------------------------

    def has_setting(self, name: str) -> bool:
        """Whether `name` is one of this variant's own settings (so that a run of it records a value for it)."""
        return any(setting.name == name for setting in self.settings)

    def check(self, config: RunConfig) -> None:
        """Raise SettingError for a combination of settings this variant cannot train."""

    def require(self, condition: bool, field_name: str, value: Any, allowed: str) -> None:
        if not condition:
            raise SettingError(field_name, f"{field_name}={value!r} is not allowed for the {self.title}; "
                                           f"{field_name} must be {allowed}")

    def uses_labels(self, config: RunConfig) -> bool:
        """Whether the generator is fed class labels (then runs need a labelled dataset)."""
        return False

    def adversarial_loss(self, config: RunConfig) -> str | None:
        """The `loss` setting the run trains with, or None when the variant does not use it (a VAE, BEGAN)."""
        return None if "loss" in self.unused_fields else config.loss

    def images_per_step(self, config: RunConfig) -> int:
        """Real examples seen per step, the unit of the logged images_per_second."""
        return config.batch_size

    # ---- data -------------------------------------------------------------------------------------------------

    # True for variants that split a held-out part off a person's collection (and never train on it); the measures
    # then compare with that part instead of the collection itself.
    holds_out_own_images: ClassVar[bool] = False

    def load_dataset(self, config: RunConfig, split: str, load_base: Callable[[], Dataset]) -> Dataset:
        """What a run of this variant trains on (split "train") or is judged against ("test").

        `load_base()` reads the run's dataset itself; image-to-image variants build their inputs from it, or read
        a person's collection of pairs their own way.
        """
        return load_base()

    def judged_dataset(self, config: RunConfig) -> str:
        """The dataset whose classifier judges this run's generated images (the run's own dataset by default)."""
        return config.dataset

    # ---- latent inputs ----------------------------------------------------------------------------------------

    # False for variants whose generator translates images instead of drawing from noise: pages then leave out
    # what only noise has (fresh samples from new noise, walks between latent points) and offer to translate a
    # person's image instead, so such a variant must also have `translate(run, step, image_bytes)` returning
    # pictures (variants/translation.py's ImageTranslation has it); registry.add checks that it does.
    draws_from_noise: ClassVar[bool] = True

    def latent_size(self, config: RunConfig) -> int:
        """Length of the generator's input vector (noise, plus any codes)."""
        return config.latent_dim

    def draw_latents(self, config: RunConfig, count: int, seed: int) -> np.ndarray:
        """`count` generator inputs drawn the way training draws them, as float32 (count, latent_size)."""
        return np.random.default_rng(seed).standard_normal((count, config.latent_dim)).astype(np.float32)

    def fixed_inputs(self, config: RunConfig, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        """The latents and labels behind every sample grid of a run: sample_grid rows, or one row per class."""
        columns = config.sample_grid
        rows = num_classes if num_classes else config.sample_grid
        latents = self.draw_latents(config, rows * columns, seed=fixed_seed(config))
        labels = np.repeat(np.arange(rows) % max(num_classes, 1), columns).astype(np.int32)
        return latents, labels

    def grid_tiles(self, config: RunConfig, networks: dict[str, keras.Model]) -> tuple[np.ndarray, int] | None:
        """The tiles (uint8 NHWC) and columns of the sample grid the trainer saves, drawn with `networks` (the
        averaged generator as "generator"); None to draw the generator's samples from the fixed inputs."""
        return None

    # ---- networks ---------------------------------------------------------------------------------------------

    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        raise NotImplementedError

    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        """The sampling network alone, with the generator's architecture (restored from "generator_ema")."""
        raise NotImplementedError

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model | None:
        """A network scoring examples as real (raw logits, batch x 1), or None when the variant has none."""
        return None

    # ---- what pages show --------------------------------------------------------------------------------------

    def charts(self, config: RunConfig) -> list[Chart]:
        """Monitor's panels for this run's logged metrics."""
        return []

    def views(self) -> tuple[View, ...]:
        return ()

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        """This variant's measures (named as in `measures`) for the checkpoint at `step`; {} when it has none."""
        return {}


def fixed_seed(config: RunConfig) -> list[int]:
    """The seed of a run's fixed sample inputs; a constant apart from the run's seed, so every grid uses them."""
    return [config.seed, 7919]
