"""What a GAN variant is: the unit the engine is extended by.

A variant (the GANs of Goodfellow and Radford, InfoGAN, ACGAN, BEGAN, a VAE, ...) says what differs between
them; the trainer, the sampler and the pages keep what all of them share (the schedule, metrics store, sample
grids, checkpoints, stop, resume, divergence) and ask the run's variant for the rest. `Variant` is three groups of
declarations and hooks, one class each, so that a reader sees which part of the project reads which:

- `VariantSpec`, what it is: names, settings, presets, which combinations it refuses, its data. The Train form,
  the run configuration and the light pages read it, without TensorFlow.
- `VariantModel`, how it trains: its networks (`Networks`, saved under their checkpoint names), its `Training`
  (optimizers and step), how its generator inputs are drawn and its sample grid. The trainer and sampler call it.
- `VariantViews`, how it is shown: Monitor's charts, the pictures of Gallery and Evaluate, its own measures.

A new variant must declare `name`, `title` and `summary` and write `build_training`, `build_generator` and
`charts` (abstract below: a class missing one cannot be instantiated); every other hook has a default that suits a
GAN drawing from noise. Capabilities beyond that are protocols checked in one place: a variant that does not draw
from noise must be a `Translator` (see `translator`).

Pages import variants to read a run's settings, so a variant module imports TensorFlow only inside the functions
that build or run networks: listing runs must stay light.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast, runtime_checkable

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


@dataclass(eq=False)
class Networks(Mapping[str, "keras.Model"]):
    """The networks of one run: the generator, the discriminator if it has one, and the variant's others.

    As a mapping it gives every network under its checkpoint name ("generator", "discriminator", then the others'
    names: "encoder", "q_head", "generator_ba", ...), which tf.train.Checkpoint and sampling.restore_network take as
    keyword arguments: those names are what saved runs hold, so they never change.
    """

    generator: keras.Model  # the network samples come from (a VAE's decoder, a translator's A -> B)
    discriminator: keras.Model | None = None  # the one scoring examples, saved as "discriminator"
    others: dict[str, keras.Model] = dataclasses.field(default_factory=dict)  # by checkpoint name

    def by_checkpoint_name(self) -> dict[str, keras.Model]:
        """Every network under the name the checkpoint saves it as; an other named like a field is refused, since
        one of the two would silently go unsaved."""
        named = {"generator": self.generator}
        if self.discriminator is not None:
            named["discriminator"] = self.discriminator
        if taken := named.keys() & self.others.keys():
            raise ValueError(f"networks named {sorted(taken)} are fields of Networks; name the others otherwise")
        return {**named, **self.others}

    def with_generator(self, generator: keras.Model) -> Networks:
        """The same networks with another generator (the averaged one, which samples are drawn from)."""
        return dataclasses.replace(self, generator=generator)

    def __getitem__(self, name: str) -> keras.Model:
        return self.by_checkpoint_name()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_checkpoint_name())

    def __len__(self) -> int:
        return len(self.by_checkpoint_name())


class Training(abc.ABC):
    """A variant's networks, optimizers and step for one run, built inside the distribution strategy's scope.

    A subclass must set `networks` and write `step`. `networks`, `optimizers` and `state` are all saved in the
    checkpoint under their names.
    """

    def __init__(self, config: RunConfig, num_classes: int) -> None:
        self.config = config
        self.num_classes = num_classes
        self.networks: Networks
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

    @abc.abstractmethod
    def step(self, batch: Batch, step: tf.Tensor) -> dict[str, tf.Tensor]:
        """One training step of this replica; returns its share of each metric (summed over replicas)."""


# ---------------------------------------------------------------------------------------------------------------
# Capabilities: what some variants (or their Training) can do beyond the hooks every one has.


@runtime_checkable
class Translator(Protocol):
    """A variant whose generator translates images of domain A instead of drawing from noise (`draws_from_noise`
    False). Pages then leave out what only noise has (fresh samples, walks between latent points) and offer to
    translate a person's image with these (variants/translation.py's ImageTranslation has them)."""

    def input_shape(self, config: RunConfig) -> tuple[int, int, int]:
        """(size, size, channels) of the images the generator translates; any image is fitted to it."""

    def expected_input(self, config: RunConfig) -> str:
        """What an image to translate should look like, for a person choosing one."""

    def translate(self, run: Run, step: int, image_bytes: bytes) -> list[Picture]:
        """A person's image file beside its translation by the checkpoint at `step`; ValueError for a bad file."""


@dataclass(frozen=True)
class Denoising:
    """Held-out images noised at one level beside what a checkpoint makes of them, and how close each is to the
    clean images."""

    picture: Picture  # noisy | denoised | clean, for a few of them
    level: float
    noisy_psnr: float  # dB to the clean images: what doing nothing scores
    denoised_psnr: float


class Denoiser(Protocol):
    """A Translator that learnt to remove noise it added itself, and so can add it at any level (Pix2Pix on noisy
    pairs): the Gallery tries it at levels other than the one it trained on."""

    def denoising(self, run: Run, step: int, level: float, count: int, seed: int) -> Denoising:
        """`count` held-out images (drawn with `seed`) noised at `level`, denoised by the checkpoint at `step`."""


@runtime_checkable
class SinglePlayerUpdates(Protocol):
    """A Training whose players can be updated one at a time on given noise: the Playground's D step and G step."""

    discriminator: keras.Model
    g_loss_function: Callable[[tf.Tensor], tf.Tensor]

    def discriminator_update(self, batch: Batch, critic_iteration: int,
                             latent: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """One discriminator update; its metrics."""

    def generator_update(self, batch: Batch, labels: tf.Tensor,
                         latent: tf.Tensor | None = None) -> dict[str, tf.Tensor]:
        """One generator update against the current discriminator; its metrics."""


# ---------------------------------------------------------------------------------------------------------------
# The variant, in three groups.


class VariantSpec:
    """What a variant is: its names, settings and presets, the combinations it refuses, its data.

    Must declare: `name`, `title`, `summary`. Everything else has a default.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    summary: ClassVar[str]  # what it is and when to use it, for the Train form
    settings: ClassVar[tuple[Setting, ...]] = ()
    # Shared RunConfig fields that mean nothing for this variant; the form hides them.
    unused_fields: ClassVar[tuple[str, ...]] = ()
    presets: ClassVar[dict[str, dict[str, Any]]] = {}
    # True for variants that split a held-out part off a person's collection (and never train on it); the measures
    # then compare with that part instead of the collection itself.
    holds_out_own_images: ClassVar[bool] = False

    def has_setting(self, name: str) -> bool:
        """Whether `name` is one of this variant's own settings (so that a run of it records a value for it)."""
        return any(setting.name == name for setting in self.settings)

    def check(self, config: RunConfig) -> None:
        """Raise SettingError for a combination of settings this variant cannot train (`require` says why)."""

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

    def load_dataset(self, config: RunConfig, split: str, load_base: Callable[[], Dataset]) -> Dataset:
        """What a run of this variant trains on (split "train") or is judged against ("test").

        `load_base()` reads the run's dataset itself; image-to-image variants build their inputs from it, or read
        a person's collection of pairs their own way.
        """
        return load_base()

    def judged_dataset(self, config: RunConfig) -> str:
        """The dataset whose classifier judges this run's generated images (the run's own dataset by default)."""
        return config.dataset


class VariantModel(abc.ABC):
    """How a variant trains: its networks, its `Training`, its generator's inputs and its sample grid.

    Must write: `build_training`, `build_generator`.
    """

    # Seeds of noise draws within one step are step * SEED_STRIDE + offset; offsets stay below this.
    SEED_STRIDE: ClassVar[int] = 256
    # False for variants whose generator translates images instead of drawing from noise; such a variant must be a
    # Translator, which is checked when its class is defined.
    draws_from_noise: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.draws_from_noise and not issubclass(cls, Translator):
            raise TypeError(f"variant class {cls.__name__} does not draw from noise, so it must translate images: "
                            "give it translate(run, step, image_bytes), input_shape(config) and "
                            "expected_input(config) (see base.Translator)")

    @abc.abstractmethod
    def build_training(self, config: RunConfig, num_classes: int) -> Training:
        """The run's networks, optimizers and step, built inside the distribution strategy's scope."""

    @abc.abstractmethod
    def build_generator(self, config: RunConfig, num_classes: int) -> keras.Model:
        """The sampling network alone, with the generator's architecture (restored from "generator_ema")."""

    def build_discriminator(self, config: RunConfig, num_classes: int) -> keras.Model | None:
        """A network scoring examples as real (raw logits, batch x 1), or None when the variant has none."""
        return None

    def draw_latents(self, config: RunConfig, count: int, seed: int) -> np.ndarray:
        """`count` generator inputs drawn the way training draws them, as float32 (count, input length)."""
        return np.random.default_rng(seed).standard_normal((count, config.latent_dim)).astype(np.float32)

    def fixed_inputs(self, config: RunConfig, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        """The latents and labels behind every sample grid of a run: sample_grid rows, or one row per class."""
        columns = config.sample_grid
        rows = num_classes if num_classes else config.sample_grid
        latents = self.draw_latents(config, rows * columns, seed=fixed_seed(config))
        labels = np.repeat(np.arange(rows) % max(num_classes, 1), columns).astype(np.int32)
        return latents, labels

    def grid_tiles(self, config: RunConfig, networks: Networks) -> tuple[np.ndarray, int] | None:
        """The tiles (uint8 NHWC) and columns of the sample grid the trainer saves, drawn with `networks` (whose
        generator is the averaged one); None to draw the generator's samples from the fixed inputs."""
        return None


class VariantViews(abc.ABC):
    """How a variant is shown: Monitor's charts and the command line's progress, the extra pictures of Gallery and
    Evaluate, and the measures only it has.

    Must write: `charts`.
    """

    measures: ClassVar[tuple[Measure, ...]] = ()
    # The logged metrics the command line prints with each row, in this order (those a row has).
    progress_metrics: ClassVar[tuple[str, ...]] = ("d_loss", "g_loss")
    # What the sample grids the trainer saves show, as their captions name it.
    grid_caption: ClassVar[str] = "Fixed noise"

    @abc.abstractmethod
    def charts(self, config: RunConfig) -> list[Chart]:
        """Monitor's panels for this run's logged metrics."""

    def views(self) -> tuple[View, ...]:
        """Extra pictures of a checkpoint, for Gallery or Evaluate."""
        return ()

    def evaluate(self, run: Run, step: int, sample_count: int, seed: int) -> dict[str, Any]:
        """This variant's measures (named as in `measures`) for the checkpoint at `step`; {} when it has none."""
        return {}


class Variant(VariantSpec, VariantModel, VariantViews):
    """A kind of GAN: what it is, how it trains and how it is shown. Subclasses declare and write what differs
    from the defaults (see the three groups' docstrings for what each must)."""


def translator(variant: Variant) -> Translator | None:
    """The variant as a Translator when its generator translates images, None when it draws from noise.

    Pages ask this rather than a variant's class; VariantModel refused, when the class was defined, a variant that
    draws from no noise without being a Translator.
    """
    return None if variant.draws_from_noise else cast(Translator, variant)


def denoiser(variant: Variant, config: RunConfig) -> Denoiser | None:
    """The variant as a Denoiser when runs of `config` learn to remove noise, None otherwise."""
    removes_noise = getattr(variant, "removes_noise", None)
    return cast(Denoiser, variant) if removes_noise is not None and removes_noise(config) else None


def fixed_seed(config: RunConfig) -> list[int]:
    """The seed of a run's fixed sample inputs; a constant apart from the run's seed, so every grid uses them."""
    return [config.seed, 7919]
