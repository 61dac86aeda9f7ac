"""The Train page's widgets: the set-up form's fields, the preset and dataset choices, and image uploads.

Every field of the form is a widget keyed `field_<config field>`, so presets and past runs fill the form by
writing those keys, and the page reads them back into a `RunConfig` (which does all the validation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from gan_core.spec import config as config_module
from gan_core.inputs import data, image_collection, image_pairs, images
from gan_core.demo_mode import demo
from gan_core.spec import registry
from gan_core.store import uploads
from gan_core.spec.config import FIELD_TYPES, SHARED_SETTINGS, RunConfig
from gan_core.spec.settings import Setting
from gan_core.variants.base import Variant
from gan_core.demo_mode.demo import DemoLimits

FOLDER_LABEL = "your own images (upload)"
DATASET_DESCRIPTIONS = {
    "fashion_mnist": "Fashion-MNIST: 60,000 grey 28x28 clothes, 10 classes",
    "mnist": "MNIST: 60,000 grey 28x28 handwritten digits, 10 classes",
    "cifar10": "CIFAR-10: colour 32x32 photos, 10 classes",
    "digits": "digits: 1,500 grey 8x8 digits, 10 classes (trains in a minute)",
    "folder": FOLDER_LABEL,
    "ring": "ring: 2-D points from 8 Gaussians on a circle (trains in seconds)",
    "grid": "grid: 2-D points from 25 Gaussians on a grid",
    "spiral": "spiral: 2-D points along a spiral",
    "moons": "moons: 2-D points on two interleaved half circles",
    "points": "your own 2-D points (draw or upload them on the Playground page)",
}
# The shared fields the form shows, in three groups; labels, help and steps come from the settings themselves
# (config.SHARED_SETTINGS and each variant's own). The allowed ranges live in validation only: a browser-side min /
# max would clamp silently (the field turns red, Start does nothing), whereas the validation message says what is
# allowed, at the field and next to Start.
MAIN_FIELDS = ("architecture", "conditional", "width", "latent_dim")
TRAINING_FIELDS = ("steps", "batch_size", "g_learning_rate", "d_learning_rate", "n_critic", "gp_weight")
# The "More settings" fields, row by row.
MORE_FIELD_ROWS = (
    ("name", "seed", "max_examples", "labels_per_class"),
    ("image_size", "channels", "sample_grid"),
    ("sample_every", "checkpoint_every", "log_every"),
    ("g_beta_1", "g_beta_2", "d_beta_1", "d_beta_2"),
    ("g_ema_decay",),
)
# The loss is chosen outside the form, beside the variant, since the fields shown depend on it (gp_weight).
FORM_FIELDS = ("loss", *MAIN_FIELDS, *TRAINING_FIELDS, *(name for row in MORE_FIELD_ROWS for name in row))
UPLOAD_TYPES = ["zip"] + [suffix.lstrip(".") for suffix in image_collection.IMAGE_SUFFIXES]
PREVIEW_COUNT = image_collection.PREVIEW_IMAGES
REFUSAL_KEY = "train_upload_refusal"  # (the refused files' ids, why they were refused)
MISSING_DATA_ADVICE = ("Data marked \"not on this machine\" is downloaded when you start a run that needs it, if this "
                       "machine is online; offline, set the environment variable GAN_DATA_DIR to a folder holding it "
                       "before starting the app.")


def apply_values(values: dict[str, Any]) -> None:
    """Fill the form (and the dataset and variant choices) from config values; fields not given get their default.

    All the values are kept as well, so that a field the form does not show keeps the value it was given.
    """
    variant = registry.get(values.get("variant", registry.DEFAULT_VARIANT))
    full = {**RunConfig(variant=variant.name).to_dict(), **values}
    st.session_state["train_values"] = full
    for name in (*FORM_FIELDS, "dataset", "variant"):
        st.session_state[f"field_{name}"] = FIELD_TYPES[name](full[name])
    for setting in variant.settings:
        st.session_state[f"field_{setting.name}"] = setting.kind(full[setting.name])
    st.session_state["train_data_path"] = full["data_path"]


def apply_chosen_preset() -> None:
    """Callback of the preset picker: the chosen preset fills the whole form, replacing a past run's settings."""
    if st.session_state["train_preset"] is not None:
        apply_values(registry.presets()[st.session_state["train_preset"]])
        st.session_state.pop("train_started_from", None)


def start_from_run_values(run_id: str, values: dict[str, Any]) -> None:
    """Fill the form from a past run; the preset box then says so instead of naming a preset that no longer applies."""
    apply_values(values)
    st.session_state["train_started_from"] = run_id
    st.session_state["train_preset"] = None


def preset_picker_ui() -> None:
    if "field_steps" not in st.session_state:
        apply_values(registry.presets()[config_module.DEFAULT_PRESET])
        st.session_state["train_preset"] = config_module.DEFAULT_PRESET
    started_from = st.session_state.get("train_started_from")
    presets = registry.presets()
    missing = {name: data.datasets_not_here(config_module.preset(name)) for name in presets}
    st.selectbox("Preset", list(presets), key="train_preset", on_change=apply_chosen_preset,
                 persist_state="session",
                 placeholder=f"— from run {started_from} —" if started_from else "Choose a preset",
                 format_func=lambda name: f"{presets[name]['name']} ({name})"
                                          f"{not_here_note(missing[name])}",
                 help="Choosing a preset fills in the whole form; change anything afterwards.")
    if any(missing.values()):
        st.caption(MISSING_DATA_ADVICE)


def not_here_note(dataset_names: tuple[str, ...]) -> str:
    """A note like " — MNIST not on this machine" for built-in datasets a run would first download; "" for none."""
    if not dataset_names:
        return ""
    return f" — {' and '.join(config_module.DATASET_TITLES[name] for name in dataset_names)} not on this machine"


def dataset_picker_ui() -> str:
    setting = SHARED_SETTINGS["dataset"]
    missing = {name for name in setting.choices if name in data.BUILTIN_DATASETS and data.find_builtin(name) is None}
    dataset = st.selectbox(setting.label, setting.choices, key="field_dataset", persist_state="session",
                           format_func=lambda name: DATASET_DESCRIPTIONS[name] + not_here_note(
                               (name,) if name in missing else ()),
                           help=setting.help)
    if dataset in missing:
        st.caption(MISSING_DATA_ADVICE)
    return dataset


def variant_picker_ui() -> Variant:
    """The kind of GAN, with what it is; its own settings then appear in the form."""
    name = st.selectbox(SHARED_SETTINGS["variant"].label, registry.names(), key="field_variant",
                        format_func=lambda name: registry.get(name).title, persist_state="session",
                        help=SHARED_SETTINGS["variant"].help)
    variant = registry.get(name)
    st.caption(variant.summary)
    return variant


def loss_picker_ui(variant: Variant) -> dict[str, st.delta_generator.DeltaGenerator]:
    """The loss, unless the variant has none; outside the form, so that the fields it decides on show at once.
    Returns {"loss": the placeholder for its message}, or {}."""
    if "loss" in variant.unused_fields:
        return {}
    return {"loss": field_ui(SHARED_SETTINGS["loss"])}


def unused_form_fields(variant: Variant) -> tuple[str, ...]:
    """The shared fields the current choices leave unused (config.unused_fields), which the form hides."""
    return config_module.unused_fields({"variant": variant.name, "loss": st.session_state.get("field_loss"),
                                        "dataset": st.session_state.get("field_dataset")})


def field_ui(setting: Setting) -> st.delta_generator.DeltaGenerator:
    """One form field; returns the placeholder under it where a validation message goes."""
    key = f"field_{setting.name}"
    if key not in st.session_state:
        # A variant chosen after the form was filled: its own settings start at their defaults.
        st.session_state[key] = setting.default
    common = dict(key=key, help=setting.help, persist_state="session")
    if setting.widget == "choice":
        st.selectbox(setting.label, setting.choices, **common)
    elif setting.widget == "bool":
        st.checkbox(setting.label, **common)
    elif setting.widget == "text":
        st.text_input(setting.label, **common)
    else:
        st.number_input(setting.label, step=setting.step, format=setting.number_format, **common)
    return st.empty()


def form_fields_ui(variant: Variant) -> dict[str, st.delta_generator.DeltaGenerator]:
    """The form's fields for `variant`, in groups; returns field name -> placeholder for its message.

    Shared fields the current choices leave unused are left out; the variant's own settings get a group of their
    own.
    """
    unused = unused_form_fields(variant)

    def shown(names: tuple[str, ...]) -> list[Setting]:
        return [SHARED_SETTINGS[name] for name in names if name not in unused]

    placeholders = {}
    networks, training = st.columns(2)
    with networks:
        st.subheader("Networks")
        placeholders.update({setting.name: field_ui(setting) for setting in shown(MAIN_FIELDS)})
    with training:
        st.subheader("Training")
        placeholders.update({setting.name: field_ui(setting) for setting in shown(TRAINING_FIELDS)})
    if variant.settings:
        st.subheader(f"{variant.title} settings")
        for row_start in range(0, len(variant.settings), 3):
            row = variant.settings[row_start : row_start + 3]
            for column, setting in zip(st.columns(3), row):
                with column:
                    placeholders[setting.name] = field_ui(setting)
    with st.expander("More settings: name, image size, seed, Adam betas, logging"):
        for row in MORE_FIELD_ROWS:
            row_settings = shown(row)
            for column, setting in zip(st.columns(len(row)), row_settings):
                with column:
                    placeholders[setting.name] = field_ui(setting)
    return placeholders


def form_values() -> dict[str, Any]:
    """The form's current values as RunConfig fields: the shared ones and the chosen variant's own.

    The run's name follows its data: a preset's or past run's name is replaced by one describing the run once the
    data differs from theirs (a name the person typed is kept).
    """
    template = st.session_state.get("train_values", {})
    variant = registry.get(st.session_state["field_variant"])
    own = [setting.name for setting in variant.settings]
    # Another variant's settings, kept from a preset or past run, do not apply to this one.
    values = {name: value for name, value in template.items() if name in FIELD_TYPES or name in own}
    values.update({name: st.session_state[f"field_{name}"] for name in (*FORM_FIELDS, "dataset", "variant")})
    # The form hides the fields the choices leave unused, so they take their defaults: a value kept from another
    # preset (the default preset's weight averaging, say) is not one the person chose, and this variant may refuse it.
    defaults = RunConfig(variant=variant.name).to_dict()
    values.update({name: defaults[name] for name in unused_form_fields(variant)})
    values.update({name: st.session_state.get(f"field_{name}", setting.default)
                   for name, setting in zip(own, variant.settings)})
    values["data_path"] = st.session_state.get("train_data_path", "") if values["dataset"] == "folder" else ""
    values["name"] = config_module.name_following_data(values, template)
    return values


@st.cache_data(max_entries=8, show_spinner="Reading your images…")
def collection_preview(data_path: str, image_size: int, channels: int) -> image_collection.ImageCollection:
    """The first images as training will see them, and a count of the rest (which are not decoded here)."""
    return image_collection.preview_image_collection(data_path, image_size, channels, PREVIEW_COUNT)


def suggest_augmentation(data_path: str, image_count: int) -> None:
    """Once per new collection, set the Augmentation field to what suits its size (DiffAugment when small)."""
    from gan_core.nets import augment

    if st.session_state.get("augmentation_suggested_for") != data_path:
        st.session_state["augmentation_suggested_for"] = data_path
        st.session_state["field_augment"] = augment.suggested_policy(image_count)


def upload_ui(runs_dir: Path, limits: DemoLimits | None = None) -> image_collection.ImageCollection | None:
    """The uploader for a person's images, and a preview of what will be trained on; `limits` caps sizes (demo)."""
    files = st.file_uploader("Your images: one .zip, or many image files", type=UPLOAD_TYPES,
                             accept_multiple_files=True, key="train_upload",
                             max_upload_size=limits.max_upload_file_megabytes if limits else None,
                             help="For classes, upload a zip with one sub-folder per class. Images are "
                             "centre-cropped and resized to the image size below (32x32 colour unless you change it).")
    try:
        if files:
            st.session_state["train_data_path"] = store_upload(files, runs_dir, limits)
        else:
            st.session_state.pop(REFUSAL_KEY, None)
        data_path = st.session_state.get("train_data_path", "")
        if not data_path:
            return None
        if not Path(data_path).exists():
            # Filled in from a past run, or uploaded long ago, and removed since (no run used it any more).
            st.session_state["train_data_path"] = ""
            st.warning("The images are no longer on this server (an upload is removed with the last run that uses "
                       f"it, and {uploads.UNUSED_UPLOAD_GRACE_SECONDS // 60} minutes after it was uploaded when no "
                       "run uses it); upload them again.")
            return None
        # The preview uses the form's last submitted image size, as training will.
        image_size = st.session_state["field_image_size"] or config_module.FOLDER_IMAGE_SHAPE[0]
        channels = st.session_state["field_channels"] or config_module.FOLDER_IMAGE_SHAPE[2]
        preview = collection_preview(data_path, image_size, channels)
    except ValueError as error:
        st.error(str(error))
        return None
    classes = f"{len(preview.class_names):,} classes: {', '.join(preview.class_names)}" if preview.class_names \
        else "no classes (put images in one sub-folder per class to get them)"
    if preview.class_names == image_pairs.DOMAIN_FOLDERS:
        classes = ("folders A/ and B/: inputs and targets for the image-to-image variants (Pix2Pix pairs files with "
                   "the same name); other variants read them as two classes")
    shown = len(preview.images)
    count = f"{shown:,} usable images" if preview.image_count == shown else \
        f"{preview.image_count:,} image files (the first {shown} shown; the rest are checked when training starts)"
    st.success(f"{count} in `{preview.name}`; {classes}.")
    suggest_augmentation(data_path, preview.image_count)
    tiles = images.image_grid(preview.images, 2, PREVIEW_COUNT // 2, scale=images.grid_scale(image_size, 64))
    st.image(tiles, caption="The first images, as the networks will see them", output_format="PNG")
    if preview.skipped:
        with st.expander(f"{len(preview.skipped):,} file(s) skipped"):
            st.table({"file": [name for name, _ in preview.skipped], "why": [reason for _, reason in preview.skipped]})
    return preview


def store_upload(files: list, runs_dir: Path, limits: DemoLimits | None) -> str:
    """Store the uploaded files (checked first: a refused upload keeps nothing) and return the path to train on.

    A refusal is remembered for these very files, so that the page's reruns neither write them again nor lose the
    reason, which Start repeats (see `upload_refusal`).
    """
    identity = [file.file_id for file in files]
    refused = st.session_state.get(REFUSAL_KEY)
    if refused is not None and refused[0] == identity:
        raise ValueError(refused[1])
    try:
        if limits is not None:
            demo.check_upload_sizes({file.name: file.size for file in files}, limits,
                                    stored_bytes=uploads.bytes_in_use(runs_dir))
        stored = image_collection.store_usable_upload([(file.name, file.getvalue()) for file in files], runs_dir)
    except ValueError as error:
        # Nothing of these files is stored, so the form must not keep training on an earlier upload.
        st.session_state["train_data_path"] = ""
        st.session_state[REFUSAL_KEY] = (identity, str(error))
        raise
    st.session_state.pop(REFUSAL_KEY, None)
    return str(stored)


def upload_refusal() -> str:
    """Why the files in the uploader were refused, or "" when they were not (or there are none)."""
    refused = st.session_state.get(REFUSAL_KEY)
    return refused[1] if refused else ""

