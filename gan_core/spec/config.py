"""The run configuration: one frozen dataclass, validated field by field, and named presets.

A run is reproducible from its `config.json`, so every choice that changes what is trained lives here.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from gan_core.spec import registry
from gan_core.spec.settings import Setting, SettingError, fail

IMAGE_DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits", "folder")
# "points" are a person's own 2-D points (drawn in the Playground, or a CSV of x,y), read from data_path.
TOY_DATASETS = ("ring", "grid", "spiral", "moons")
POINT_DATASETS = TOY_DATASETS + ("points",)
# The datasets read from a person's files at data_path.
OWN_DATASETS = ("folder", "points")
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
                  "folder": "Own images", "ring": "Ring", "grid": "Grid", "spiral": "Spiral", "moons": "Moons",
                  "points": "Own points"}


@dataclass(frozen=True)
class RunConfig:
    """Everything that decides what a run trains. Build with `RunConfig(...)`; invalid values raise ValueError.

    The fields below are shared by every variant. A variant's own settings (InfoGAN's code weights, say) live in
    `options`, are read as attributes (`config.info_lambda`) and are written flat beside the others in config.json.
    """

    name: str = ""  # a label for people; the run directory gets a unique id regardless
    dataset: str = "fashion_mnist"  # one of DATASETS
    data_path: str = ""  # folder or zip of images for dataset "folder"; a CSV of x,y for dataset "points"
    image_size: int = 0  # square side in pixels, 8..64 and a multiple of 4; 0 means the dataset's own size
    channels: int = 0  # 1 (grey) or 3 (RGB); 0 means the dataset's own (3 for a person's images)
    max_examples: int = 0  # use only the first N training examples; 0 means all of them
    labels_per_class: int = 0  # train on N examples of each class, drawn with the seed; 0 means all of them
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
    variant: str = registry.DEFAULT_VARIANT  # the kind of GAN: one of registry.names()
    # Trained step by step from the Playground page (play, pause, single updates), not straight to `steps`.
    playground: bool = False
    # The variant's own settings as sorted (name, value) pairs; a mapping is accepted and missing ones get defaults.
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.variant, str) and self.variant in registry.names():
            given = dict(self.options)
            own = {setting.name: setting for setting in registry.get(self.variant).settings}
            unknown = sorted(set(given) - set(own))
            if unknown:
                raise SettingError(unknown[0], unknown_fields_message(unknown, self.variant))
            filled = {name: given.get(name, setting.default) for name, setting in own.items()}
            object.__setattr__(self, "options", tuple(sorted(filled.items())))
        validate(self)

    def __getattr__(self, name: str) -> Any:
        # Called only for names that are not fields: a variant's own settings.
        options = self.__dict__.get("options", ())
        for option, value in options:
            if option == name:
                return value
        raise AttributeError(f"RunConfig has no field or {self.__dict__.get('variant')!r} setting named {name!r}")

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

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with some fields (shared or the variant's own) changed, validated again."""
        return RunConfig.from_dict({**self.to_dict(), **changes}, coerce=False)

    def to_dict(self) -> dict[str, Any]:
        """All the values, the variant's own settings flat beside the shared ones."""
        values = {name: getattr(self, name) for name in FIELD_TYPES}
        values.update(self.options)
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any], coerce: bool = True) -> RunConfig:
        """Build from flat field: value pairs, rejecting keys that are not settings and values of the wrong type.

        Values are converted from the text forms a command line gives unless `coerce` is False.
        """
        variant_name = values.get("variant", registry.DEFAULT_VARIANT)
        own = {setting.name: setting for setting in registry.get(str(variant_name)).settings}
        unknown = sorted(set(values) - set(FIELD_TYPES) - set(own))
        if unknown:
            raise SettingError(unknown[0], unknown_fields_message(unknown, variant_name))
        convert = (lambda name, value: setting_of(name).coerce(value)) if coerce else (lambda name, value: value)
        shared = {key: convert(key, value) for key, value in values.items() if key in FIELD_TYPES}
        options = {key: convert(key, value) for key, value in values.items() if key in own}
        return cls(**shared, options=tuple(sorted(options.items())))

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"config is not valid JSON: {error}") from None
        if not isinstance(values, dict):
            raise ValueError("config JSON must be an object of field: value pairs")
        return cls.from_dict(values)


# The shared fields and their types; `options` is how the variant's own settings are held, not a setting itself.
FIELD_TYPES: dict[str, type] = {
    field.name: {"str": str, "int": int, "float": float, "bool": bool}[field.type]
    for field in dataclasses.fields(RunConfig) if field.name != "options"
}


def _multiple_of_four_size(value: int) -> bool:
    return value == 0 or (8 <= value <= 64 and value % 4 == 0)


LOSS_HELP = ("non_saturating: the usual GAN loss. minimax: the original game, weaker gradients early on. "
             "wgan_gp: Wasserstein loss with a gradient penalty, stable but slower (use n_critic 5). "
             "lsgan: least squares. hinge: the margin loss of many modern GANs.")
BETA_RULE = dict(check=lambda value: 0 <= value < 1, allowed="from 0 up to (not including) 1")
LEARNING_RATE_RULE = dict(check=lambda value: 0 < value <= 1,
                          allowed="greater than 0 and at most 1 (1e-4 to 1e-3 is typical)")
AT_LEAST_ONE_STEP = dict(minimum=1, allowed="at least 1 step")

# The shared fields' labels, help and allowed values: the only place they are written. Validation, the Train form
# and the command line's messages all read them from here.
SHARED_SETTINGS: dict[str, Setting] = {setting.name: setting for setting in (
    Setting("name", str, "Run name", "A label for people; the run's folder gets a unique id anyway."),
    Setting("dataset", str, "Dataset", "Built-in sets are read from this machine. The 2-D sets show what a GAN "
            "does most clearly.", choices=DATASETS),
    Setting("data_path", str, "Images", "A folder or .zip of images, for dataset 'folder'; a CSV file of x,y "
            "points for dataset 'points'."),
    Setting("image_size", int, "Image size (pixels)", "0 keeps the dataset's own size; otherwise a multiple of 4 "
            "from 8 to 64.", check=_multiple_of_four_size,
            allowed="0 (the dataset's own) or a multiple of 4 from 8 to 64 (28 and 32 are typical)", step=4),
    Setting("channels", int, "Channels", "0 keeps the dataset's own; 1 is grey, 3 is colour.", choices=(0, 1, 3),
            allowed="0 (the dataset's own), 1 (grey) or 3 (RGB)"),
    Setting("max_examples", int, "Use only the first N examples", "0 uses them all.", minimum=0,
            allowed="0 (all) or a positive count", step=100),
    Setting("labels_per_class", int, "Labelled examples per class", "0 uses them all; N trains on N examples of "
            "each class, drawn with the run's seed: a small labelled budget, as the augmentation workflow gives a "
            "conditional generator. Needs a labelled dataset.", minimum=0, allowed="0 (all) or a positive count",
            step=10),
    Setting("architecture", str, "Architecture", "mlp: dense layers, fast on small data and the only choice for "
            "2-D points. dcgan: convolutions, better images, slower.", choices=ARCHITECTURES),
    Setting("conditional", bool, "Conditional (one class per row)", "Feed the class label to both networks so you "
            "can ask for a class. Needs a labelled dataset."),
    Setting("width", int, "Width", "Base number of units or filters; both networks scale from it. On a CPU, "
            "halving it about doubles the images per second (the Fashion-MNIST DCGAN: 3,500 at 32, 1,600 at 64 on "
            "two cores), and in the first minutes the faster, narrower networks learn more.",
            minimum=4, maximum=1024, step=8),
    Setting("loss", str, "Loss", LOSS_HELP, choices=LOSSES),
    Setting("latent_dim", int, "Noise size (latent_dim)", "Length of the generator's random input vector. It "
            "costs next to nothing; on Fashion-MNIST 32 learned faster than the classic 100.",
            minimum=1, maximum=1024, step=1),
    Setting("batch_size", int, "Batch size", "Examples per update; 64 is the classic choice. On a CPU a smaller "
            "batch makes more updates per second (the Fashion-MNIST DCGAN at width 32 with alternating updates: about "
            "80 steps/s at 32, 55 at 64), each from fewer examples.",
            minimum=1, maximum=4096, step=8),
    Setting("g_learning_rate", float, "Generator learning rate", "Adam step size; 1e-4 to 1e-3 is typical.",
            step=1e-5, number_format="%.1e", **LEARNING_RATE_RULE),
    Setting("d_learning_rate", float, "Discriminator learning rate", "Lower it if the discriminator wins too "
            "easily.", step=1e-5, number_format="%.1e", **LEARNING_RATE_RULE),
    Setting("g_beta_1", float, "Generator Adam beta 1", "0.5 for DCGAN, 0 for WGAN-GP.", step=0.1,
            number_format="%.3f", **BETA_RULE),
    Setting("g_beta_2", float, "Generator Adam beta 2", "0.999 usually, 0.9 for WGAN-GP.", step=0.001,
            number_format="%.3f", **BETA_RULE),
    Setting("d_beta_1", float, "Discriminator Adam beta 1", "0.5 for DCGAN, 0 for WGAN-GP.", step=0.1,
            number_format="%.3f", **BETA_RULE),
    Setting("d_beta_2", float, "Discriminator Adam beta 2", "0.999 usually, 0.9 for WGAN-GP.", step=0.001,
            number_format="%.3f", **BETA_RULE),
    Setting("g_ema_decay", float, "Generator weight averaging (EMA decay)", "Samples come from a moving average of "
            "the generator's weights: 0 turns it off; 0.99 (about the last hundred steps) steadies a generator that "
            "learns fast, as fashion-dcgan's does; 0.999 smooths long runs. It costs one more copy of the generator "
            "and about 2% of the steps per second.", step=0.001, number_format="%.4f",
            check=lambda value: 0 <= value < 1, allowed="from 0 (off) up to (not including) 1"),
    Setting("n_critic", int, "Discriminator updates per step (n_critic)", "5 is usual for WGAN-GP, 1 otherwise. "
            "Each one more adds a discriminator update (on a new batch) to every step's time.",
            minimum=1, maximum=100, step=1),
    Setting("gp_weight", float, "Gradient penalty weight", "Used by the wgan_gp loss only; 10 is the paper's value.",
            minimum=0, maximum=1000, step=1.0),
    Setting("steps", int, "Steps", "Generator updates in total.", minimum=1, maximum=10_000_000,
            allowed="from 1 to 10,000,000", step=100),
    Setting("seed", int, "Seed", "The same seed and settings give the same run.",
            check=lambda value: 0 <= value < 2**31, allowed="from 0 to 2**31 - 1", step=1),
    Setting("sample_every", int, "Sample grid every (steps)", "How often the fixed-noise grid is saved.", step=50,
            **AT_LEAST_ONE_STEP),
    Setting("checkpoint_every", int, "Checkpoint every (steps)", "A checkpoint is also written whenever the run "
            "stops.", step=100, **AT_LEAST_ONE_STEP),
    Setting("log_every", int, "Log metrics every (steps)", "Rows of the live charts.", step=1, **AT_LEAST_ONE_STEP),
    Setting("sample_grid", int, "Sample grid side", "The fixed-noise grid is this many samples wide.",
            minimum=1, maximum=16, step=1),
    # Any registered variant's name; the registry checks it (see registry.get), since variants can be added.
    Setting("variant", str, "Variant", "The kind of GAN to train."),
    Setting("playground", bool, "Playground run", "Trained step by step from the Playground page: play, pause and "
            "single discriminator or generator updates, with live views of both networks on 2-D points."),
)}


def setting_of(name: str) -> Setting:
    """The setting called `name`, shared or any variant's own; SettingError listing the known ones otherwise."""
    if name in SHARED_SETTINGS:
        return SHARED_SETTINGS[name]
    for variant in registry.all_variants():
        for setting in variant.settings:
            if setting.name == name:
                return setting
    raise SettingError(name, f"unknown config field {name!r}; allowed: {', '.join(all_setting_names())}")


def all_setting_names() -> list[str]:
    own = [setting.name for variant in registry.all_variants() for setting in variant.settings]
    return [*FIELD_TYPES, *own]


def unknown_fields_message(unknown: list[str], variant_name: str) -> str:
    """Which fields are unknown and what is allowed; a setting of another variant is named as such."""
    owners = {setting.name: variant.name for variant in registry.all_variants()
              for setting in variant.settings}
    elsewhere = [f"{name} (a setting of variant {owners[name]!r})" for name in unknown if name in owners]
    if elsewhere:
        return (f"{', '.join(elsewhere)} cannot be used with variant {variant_name!r}; set variant="
                f"{owners[unknown[0]] if unknown[0] in owners else '...'} or remove it")
    allowed = [*FIELD_TYPES, *(setting.name for setting in registry.get(str(variant_name)).settings)]
    return f"unknown config field(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"


def coerce_field(name: str, value: Any) -> Any:
    """Convert `value` to the type of setting `name`, accepting the text forms a command line gives."""
    return setting_of(name).coerce(value)


# The losses that read gp_weight: variants/gan.py adds a gradient penalty for wgan_gp only.
GRADIENT_PENALTY_LOSSES = ("wgan_gp",)


def unused_fields(values: dict[str, Any]) -> tuple[str, ...]:
    """The shared fields that the other settings in `values` leave unused: the variant's own `unused_fields`,
    gp_weight for a loss without a gradient penalty, and image_size and channels for 2-D points.

    The Train form hides these and gives them their defaults, so a run never records a value nobody chose. n_critic
    is not among them: every loss of the plain GAN makes that many discriminator updates per step.
    """
    variant = registry.get(values.get("variant", registry.DEFAULT_VARIANT))
    unused = list(variant.unused_fields)
    if "loss" in unused or values.get("loss") not in GRADIENT_PENALTY_LOSSES:
        unused.append("gp_weight")
    if values.get("dataset") in POINT_DATASETS:
        unused += ["image_size", "channels"]
    return tuple(dict.fromkeys(unused))


def _require(condition: bool, field: str, value: Any, allowed: str) -> None:
    if not condition:
        fail(field, value, allowed)


def validate(config: RunConfig) -> None:
    """Raise SettingError (a ValueError) naming the first field whose value is not allowed, and what is allowed."""
    for name in FIELD_TYPES:
        SHARED_SETTINGS[name].validate(getattr(config, name))
    variant = registry.get(config.variant)
    for setting in variant.settings:
        setting.validate(getattr(config, setting.name))
    if config.dataset == "folder":
        _require(bool(config.data_path.strip()), "data_path", config.data_path,
                 "a folder or .zip of images when dataset is 'folder'")
    elif config.dataset == "points":
        _require(bool(config.data_path.strip()), "data_path", config.data_path,
                 "a CSV file of x,y points when dataset is 'points' (draw or upload them on the Playground page)")
    else:
        _require(config.data_path == "", "data_path", config.data_path,
                 f"empty unless dataset is one of {', '.join(OWN_DATASETS)}")
    if config.is_points:
        _require(config.architecture == "mlp", "architecture", config.architecture, "'mlp' for the 2-D point sets")
        _require(not config.conditional, "conditional", config.conditional,
                 "false for the 2-D point sets (they have no labels)")
    if config.playground:
        _require(config.is_points, "dataset", config.dataset,
                 f"one of the 2-D point sets ({', '.join(POINT_DATASETS)}) for a Playground run")
        _require(config.variant == registry.DEFAULT_VARIANT, "variant", config.variant,
                 f"{registry.DEFAULT_VARIANT!r} for a Playground run (it trains one generator against one "
                 "discriminator)")
    variant.check(config)


DEFAULT_PRESET = "fashion-dcgan"


def settings_in_words(values: dict[str, Any]) -> dict[str, str]:
    """What a run trains, in the config's own words, by field: its dataset, its variant, and those of its
    architecture, loss and conditioning that the variant reads (conditioning only when it is on).

    The one home of how a run is described: the command line, the overview's cards, the run chooser and the run's
    default name all start from it, so none shows a setting the variant ignores. A GAN gives {"dataset": "mnist",
    "variant": "gan", "architecture": "dcgan", "loss": "hinge"}; a VAE, which has no adversarial loss, {"dataset":
    "mnist", "variant": "vae", "architecture": "dcgan"}; Pix2Pix, whose U-Net is fixed, {"dataset": "mnist",
    "variant": "pix2pix"}.
    """
    variant_name = str(values.get("variant", registry.DEFAULT_VARIANT))
    # A variant that is not registered (a test's own, since removed) is described with every field.
    unused = unused_fields(values) if variant_name in registry.names() else ()
    words = {"dataset": str(values["dataset"]), "variant": variant_name}
    for name in ("architecture", "loss"):
        if name not in unused:
            words[name] = str(values.get(name, getattr(RunConfig, name)))
    if values.get("conditional") and "conditional" not in unused:
        words["conditional"] = "conditional"
    return words


def descriptive_name(values: dict[str, Any]) -> str:
    """A run name saying what it trains, from settings_in_words: "CIFAR-10 DCGAN, hinge loss", "MNIST VAE"."""
    data_path = str(values.get("data_path", ""))
    # A zip keeps the person's file name; an uploaded folder's name is only an id, so it is not shown.
    data = data_path.replace("\\", "/").rsplit("/", 1)[-1] if data_path.lower().endswith(".zip") \
        else DATASET_TITLES.get(values["dataset"], values["dataset"])
    words = settings_in_words(values)
    conditional = " conditional" if "conditional" in words else ""
    # The plain GAN is known by its architecture ("DCGAN"); any other variant by its title, after its architecture
    # when that is not the usual one ("MNIST MLP VAE"), and alone when its architecture is fixed (Pix2Pix's U-Net).
    variant_name, architecture = words["variant"], words.get("architecture", RunConfig.architecture)
    title = registry.get(variant_name).title if variant_name in registry.names() else variant_name
    if variant_name == registry.DEFAULT_VARIANT:
        model = architecture.upper()
    elif architecture == RunConfig.architecture:
        model = title
    else:
        model = f"{architecture.upper()} {title}"
    loss = words.get("loss", RunConfig.loss)
    loss_part = "" if loss == RunConfig.loss else f", {loss} loss"
    return f"{data}{conditional} {model}{loss_part}"


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
    presets = registry.presets()
    if preset_name not in presets:
        raise ValueError(f"preset {preset_name!r} does not exist; choose one of {', '.join(presets)}")
    return RunConfig.from_dict({**presets[preset_name], **overrides})


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
