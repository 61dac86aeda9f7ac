"""The run configuration: one frozen dataclass, validated field by field, and named presets.

A run is reproducible from its `config.json`, so every choice that changes what is trained lives here.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits", "folder")
POINT_DATASETS = ("ring", "grid", "spiral", "moons")
DATASETS = IMAGE_DATASETS + POINT_DATASETS
ARCHITECTURES = ("mlp", "dcgan")
LOSSES = ("non_saturating", "minimax", "wgan_gp", "lsgan", "hinge")
# Losses whose discriminator output is a logit of "this is real" (a sigmoid gives its probability); the others train
# a critic whose output is an unbounded score.
PROBABILITY_LOSSES = ("non_saturating", "minimax")

# The shape each built-in image set has natively; a run may ask for another size and is resized.
NATIVE_IMAGE_SHAPES = {
    "mnist": (28, 28, 1),
    "fashion_mnist": (28, 28, 1),
    "cifar10": (32, 32, 3),
    "digits": (8, 8, 1),
}
# A person's images come in any size and mode; unless the run says otherwise they become 32x32 RGB.
FOLDER_IMAGE_SHAPE = (32, 32, 3)
# How people write the datasets' names.
DATASET_TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST", "digits": "Digits", "cifar10": "CIFAR-10",
                  "folder": "Own images", "ring": "Ring", "grid": "Grid", "spiral": "Spiral", "moons": "Moons"}


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run trains. Build with `RunConfig(...)`; invalid values raise ValueError."""

    name: str = ""  # a label for people; the run directory gets a unique id regardless
    dataset: str = "fashion_mnist"  # one of DATASETS
    data_path: str = ""  # folder or zip of images, only for dataset "folder"
    image_size: int = 0  # square side in pixels, 8..64 and a multiple of 4; 0 means the dataset's own size
    channels: int = 0  # 1 (grey) or 3 (RGB); 0 means the dataset's own (3 for a person's images)
    max_examples: int = 0  # use only the first N training examples; 0 means all of them
    architecture: str = "dcgan"  # "mlp" or "dcgan"; 2-D point sets need "mlp"
    conditional: bool = False  # feed the class label to both players; needs a labelled dataset
    width: int = 64  # base number of filters (dcgan) or units (mlp); both players scale from it
    loss: str = "non_saturating"  # one of LOSSES
    latent_dim: int = 100  # size of the generator's noise vector
    batch_size: int = 64
    g_learning_rate: float = 2e-4
    d_learning_rate: float = 2e-4
    g_beta_1: float = 0.5  # Adam's first-moment decay; 0.5 is the DCGAN paper's stabilising choice
    g_beta_2: float = 0.999
    d_beta_1: float = 0.5
    d_beta_2: float = 0.999
    # Samples can come from an exponential moving average of the generator's weights; 0 (off) samples the
    # generator itself. 0.999 smooths long runs; on short runs it lags behind the generator.
    g_ema_decay: float = 0.0
    n_critic: int = 1  # discriminator updates per generator update (5 is usual for WGAN-GP)
    gp_weight: float = 10.0  # gradient-penalty weight, used by "wgan_gp" only
    steps: int = 5000  # generator updates in total
    seed: int = 0
    sample_every: int = 200  # steps between fixed-noise sample grids
    checkpoint_every: int = 1000  # steps between checkpoints (one is also written at every stop)
    log_every: int = 10  # steps between rows written to metrics.sqlite
    sample_grid: int = 8  # the fixed-noise grid is sample_grid x sample_grid

    def __post_init__(self) -> None:
        validate(self)

    @property
    def is_points(self) -> bool:
        """True for the 2-D toy distributions, whose samples are points rather than images."""
        return self.dataset in POINT_DATASETS

    @property
    def data_shape(self) -> tuple[int, ...]:
        """Shape of one real example as the networks see it."""
        if self.is_points:
            return (2,)
        native_size, _, native_channels = NATIVE_IMAGE_SHAPES.get(self.dataset, FOLDER_IMAGE_SHAPE)
        return (self.image_size or native_size, self.image_size or native_size, self.channels or native_channels)

    def replace(self, **changes: Any) -> "RunConfig":
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RunConfig":
        """Build from a mapping, rejecting keys that are not fields and values of the wrong type."""
        unknown = sorted(set(values) - set(FIELD_TYPES))
        if unknown:
            raise ValueError(f"unknown config field(s) {', '.join(unknown)}; allowed: {', '.join(FIELD_TYPES)}")
        return cls(**{key: coerce_field(key, value) for key, value in values.items()})

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"config is not valid JSON: {error}") from None
        if not isinstance(values, dict):
            raise ValueError("config JSON must be an object of field: value pairs")
        return cls.from_dict(values)


FIELD_TYPES: dict[str, type] = {field.name: field.type for field in dataclasses.fields(RunConfig)}
FIELD_TYPES = {name: {"str": str, "int": int, "float": float, "bool": bool}[kind] for name, kind in FIELD_TYPES.items()}


def coerce_field(name: str, value: Any) -> Any:
    """Convert `value` to the type of field `name`, accepting the text forms a command line gives.

    Only lossless conversions are made: "3" becomes 3, but 3.5 is not silently truncated to an int.
    """
    if name not in FIELD_TYPES:
        raise ValueError(f"unknown config field {name!r}; allowed: {', '.join(FIELD_TYPES)}")
    kind = FIELD_TYPES[name]
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "on"):
            return True
        if text in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{name}={value!r} is not a boolean; use true or false")
    if kind is int:
        if isinstance(value, bool):
            raise ValueError(f"{name}={value!r} must be a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(f"{name}={value!r} must be a whole number") from None
    if kind is float:
        if isinstance(value, bool):
            raise ValueError(f"{name}={value!r} must be a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}={value!r} must be a number") from None
    if not isinstance(value, str):
        raise ValueError(f"{name}={value!r} must be text")
    return value


def _require(condition: bool, field: str, value: Any, allowed: str) -> None:
    if not condition:
        raise ValueError(f"{field}={value!r} is not allowed; {field} must be {allowed}")


def _require_type(config: RunConfig, name: str) -> None:
    value = getattr(config, name)
    kind = FIELD_TYPES[name]
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    described = {float: "a finite number", int: "a whole number", bool: "true or false", str: "text"}[kind]
    _require(ok, name, value, described)


def validate(config: RunConfig) -> None:
    """Raise ValueError naming the first field whose value is not allowed, and what is allowed."""
    for name in FIELD_TYPES:
        _require_type(config, name)
    _require(config.dataset in DATASETS, "dataset", config.dataset, f"one of {', '.join(DATASETS)}")
    _require(config.architecture in ARCHITECTURES, "architecture", config.architecture, f"one of {', '.join(ARCHITECTURES)}")
    _require(config.loss in LOSSES, "loss", config.loss, f"one of {', '.join(LOSSES)}")
    if config.dataset == "folder":
        _require(bool(config.data_path.strip()), "data_path", config.data_path, "a folder or .zip of images when dataset is 'folder'")
    else:
        _require(config.data_path == "", "data_path", config.data_path, "empty unless dataset is 'folder'")
    _require(config.image_size == 0 or (8 <= config.image_size <= 64 and config.image_size % 4 == 0), "image_size",
             config.image_size, "0 (the dataset's own) or a multiple of 4 from 8 to 64 (28 and 32 are typical)")
    _require(config.channels in (0, 1, 3), "channels", config.channels, "0 (the dataset's own), 1 (grey) or 3 (RGB)")
    _require(config.max_examples >= 0, "max_examples", config.max_examples, "0 (all) or a positive count")
    if config.is_points:
        _require(config.architecture == "mlp", "architecture", config.architecture, "'mlp' for the 2-D point sets")
        _require(not config.conditional, "conditional", config.conditional, "false for the 2-D point sets (they have no labels)")
    _require(4 <= config.width <= 1024, "width", config.width, "from 4 to 1024")
    _require(1 <= config.latent_dim <= 1024, "latent_dim", config.latent_dim, "from 1 to 1024")
    _require(1 <= config.batch_size <= 4096, "batch_size", config.batch_size, "from 1 to 4096")
    for name in ("g_learning_rate", "d_learning_rate"):
        value = getattr(config, name)
        _require(0 < value <= 1, name, value, "greater than 0 and at most 1 (1e-4 to 1e-3 is typical)")
    for name in ("g_beta_1", "g_beta_2", "d_beta_1", "d_beta_2"):
        value = getattr(config, name)
        _require(0 <= value < 1, name, value, "from 0 up to (not including) 1")
    _require(0 <= config.g_ema_decay < 1, "g_ema_decay", config.g_ema_decay, "from 0 (off) up to (not including) 1")
    _require(1 <= config.n_critic <= 100, "n_critic", config.n_critic, "from 1 to 100")
    _require(0 <= config.gp_weight <= 1000, "gp_weight", config.gp_weight, "from 0 to 1000")
    _require(1 <= config.steps <= 10_000_000, "steps", config.steps, "from 1 to 10,000,000")
    _require(0 <= config.seed < 2**31, "seed", config.seed, "from 0 to 2**31 - 1")
    for name in ("sample_every", "checkpoint_every", "log_every"):
        value = getattr(config, name)
        _require(value >= 1, name, value, "at least 1 step")
    _require(1 <= config.sample_grid <= 16, "sample_grid", config.sample_grid, "from 1 to 16")


# Presets that train well on a two-core CPU. Each lists only what differs from the RunConfig defaults,
# which are the classic DCGAN recipe (Adam 2e-4, beta_1 0.5, 4x4 kernels, batch 64).
PRESETS: dict[str, dict[str, Any]] = {
    "fashion-dcgan": dict(name="Fashion-MNIST DCGAN", dataset="fashion_mnist", steps=6000),
    "mnist-dcgan": dict(name="MNIST DCGAN", dataset="mnist", steps=5000),
    "mnist-cgan": dict(name="MNIST conditional DCGAN", dataset="mnist", conditional=True, steps=5000),
    "fashion-wgan-gp": dict(
        name="Fashion-MNIST WGAN-GP", dataset="fashion_mnist", loss="wgan_gp", n_critic=5,
        g_learning_rate=1e-4, d_learning_rate=1e-4, g_beta_1=0.0, g_beta_2=0.9, d_beta_1=0.0, d_beta_2=0.9,
        steps=4000,
    ),
    "digits-mlp": dict(
        name="Digits MLP GAN", dataset="digits", architecture="mlp", width=128, latent_dim=32,
        batch_size=64, g_learning_rate=1e-3, d_learning_rate=1e-3, steps=3000, sample_every=100,
        checkpoint_every=500,
    ),
    "ring-mlp": dict(
        name="Ring of 8 Gaussians", dataset="ring", architecture="mlp", width=128, latent_dim=16, batch_size=256,
        g_learning_rate=1e-3, d_learning_rate=1e-3, steps=2000, sample_every=100, checkpoint_every=500,
    ),
}
DEFAULT_PRESET = "fashion-dcgan"


def descriptive_name(values: dict[str, Any]) -> str:
    """A run name saying what it trains, from its dataset, architecture and loss: "CIFAR-10 DCGAN, hinge loss"."""
    data_path = str(values.get("data_path", ""))
    # A zip keeps the person's file name; an uploaded folder's name is only an id, so it is not shown.
    data = data_path.replace("\\", "/").rsplit("/", 1)[-1] if data_path.lower().endswith(".zip") \
        else DATASET_TITLES.get(values["dataset"], values["dataset"])
    conditional = " conditional" if values.get("conditional") else ""
    loss = values.get("loss", "non_saturating")
    loss_part = "" if loss == "non_saturating" else f", {loss} loss"
    return f"{data}{conditional} {str(values.get('architecture', 'dcgan')).upper()}{loss_part}"


def name_following_data(values: dict[str, Any], template: dict[str, Any]) -> str:
    """The name for a run set up from `template` (a preset's or a past run's values) and changed to `values`.

    A name the person typed is kept. The template's own name ("Fashion-MNIST DCGAN") is kept only while the run
    trains on the template's data; once the data differs, or when there is no name, the name describes the run.
    """
    name = str(values.get("name", "")).strip()
    same_data = (values.get("dataset"), values.get("data_path", "")) == (template.get("dataset"),
                                                                       template.get("data_path", ""))
    if name and (name != template.get("name") or same_data):
        return name
    return descriptive_name(values)


def preset(preset_name: str, /, **overrides: Any) -> RunConfig:
    """The named preset as a RunConfig, with `overrides` applied (validated like any other value)."""
    if preset_name not in PRESETS:
        raise ValueError(f"preset {preset_name!r} does not exist; choose one of {', '.join(PRESETS)}")
    values = {**PRESETS[preset_name], **{key: coerce_field(key, value) for key, value in overrides.items()}}
    return RunConfig(**values)


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse one `key=value` from the command line into a field name and a typed value."""
    key, separator, value = text.partition("=")
    key = key.strip()
    if not separator or not key:
        raise ValueError(f"--set {text!r} must look like key=value, e.g. --set batch_size=128")
    return key, coerce_field(key, value)


def lower_learning_rates(config: RunConfig) -> dict[str, float]:
    """The config change suggested for resuming a run that diverged: both learning rates halved.

    Returned as field: value pairs, so a page or the command line can show it before applying it.
    """
    return {"g_learning_rate": config.g_learning_rate / 2, "d_learning_rate": config.d_learning_rate / 2}
