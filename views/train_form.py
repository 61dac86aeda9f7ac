"""The Train page's widgets: the set-up form's fields, the preset and dataset choices, and image uploads.

Every field of the form is a widget keyed `field_<config field>`, so presets and past runs fill the form by
writing those keys, and the page reads them back into a `RunConfig` (which does all the validation).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import streamlit as st

from gan_core import config as config_module
from gan_core import demo, demo_jobs, image_collection, images, uploads
from gan_core.config import FIELD_TYPES, RunConfig
from gan_core.demo import DemoLimits

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
}
LOSS_HELP = ("non_saturating: the usual GAN loss. minimax: the original game, weaker gradients early on. "
             "wgan_gp: Wasserstein loss with a gradient penalty, stable but slower (use n_critic 5). "
             "lsgan: least squares. hinge: the margin loss of many modern GANs.")

# (kind, label, help, step) for every field the form shows; kinds are int, float, choice, bool, text. The allowed
# ranges live in RunConfig's validation only: a browser-side min / max would clamp silently (the field turns red,
# Start does nothing), whereas the validation message says what is allowed, at the field and next to Start.
FIELDS: dict[str, tuple[str, str, str, Any]] = {
    "architecture": ("choice", "Architecture", "mlp: dense layers, fast on small data and the only choice for "
                     "2-D points. dcgan: convolutions, better images, slower.", None),
    "loss": ("choice", "Loss", LOSS_HELP, None),
    "conditional": ("bool", "Conditional (one class per row)", "Feed the class label to both networks so you "
                    "can ask for a class. Needs a labelled dataset.", None),
    "width": ("int", "Width", "Base number of units or filters; both networks scale from it.", 8),
    "latent_dim": ("int", "Noise size (latent_dim)", "Length of the generator's random input vector.", 1),
    "steps": ("int", "Steps", "Generator updates in total.", 100),
    "batch_size": ("int", "Batch size", "Examples per update; 64 is the classic choice.", 8),
    "g_learning_rate": ("float", "Generator learning rate", "Adam step size; 1e-4 to 1e-3 is typical.", 1e-5),
    "d_learning_rate": ("float", "Discriminator learning rate", "Lower it if the discriminator wins too easily.",
                        1e-5),
    "n_critic": ("int", "Discriminator updates per step (n_critic)", "5 is usual for WGAN-GP, 1 otherwise.", 1),
    "gp_weight": ("float", "Gradient penalty weight", "Used by the wgan_gp loss only; 10 is the paper's value.",
                  1.0),
    "name": ("text", "Run name", "A label for people; the run's folder gets a unique id anyway.", None),
    "image_size": ("int", "Image size (pixels)", "0 keeps the dataset's own size; otherwise a multiple of 4 "
                   "from 8 to 64.", 4),
    "channels": ("choice", "Channels", "0 keeps the dataset's own; 1 is grey, 3 is colour.", None),
    "max_examples": ("int", "Use only the first N examples", "0 uses them all.", 100),
    "seed": ("int", "Seed", "The same seed and settings give the same run.", 1),
    "g_beta_1": ("float", "Generator Adam beta 1", "0.5 for DCGAN, 0 for WGAN-GP.", 0.1),
    "g_beta_2": ("float", "Generator Adam beta 2", "0.999 usually, 0.9 for WGAN-GP.", 0.001),
    "d_beta_1": ("float", "Discriminator Adam beta 1", "0.5 for DCGAN, 0 for WGAN-GP.", 0.1),
    "d_beta_2": ("float", "Discriminator Adam beta 2", "0.999 usually, 0.9 for WGAN-GP.", 0.001),
    "g_ema_decay": ("float", "Generator weight averaging (EMA decay)", "Samples come from a moving average of "
                    "the generator's weights: 0 turns it off, 0.999 smooths long runs.", 0.001),
    "sample_every": ("int", "Sample grid every (steps)", "How often the fixed-noise grid is saved.", 50),
    "checkpoint_every": ("int", "Checkpoint every (steps)", "A checkpoint is also written whenever the run stops.",
                         100),
    "log_every": ("int", "Log metrics every (steps)", "Rows of the live charts.", 1),
    "sample_grid": ("int", "Sample grid side", "The fixed-noise grid is this many samples wide.", 1),
}
CHOICES = {"architecture": config_module.ARCHITECTURES, "loss": config_module.LOSSES, "channels": (0, 1, 3)}
# Enough digits that typical values show as they are (0.999, not 1.00).
NUMBER_FORMATS = {"g_learning_rate": "%.1e", "d_learning_rate": "%.1e", "g_beta_1": "%.3f", "g_beta_2": "%.3f",
                  "d_beta_1": "%.3f", "d_beta_2": "%.3f", "g_ema_decay": "%.4f"}
MAIN_FIELDS = ("architecture", "loss", "conditional", "width", "latent_dim")
TRAINING_FIELDS = ("steps", "batch_size", "g_learning_rate", "d_learning_rate", "n_critic", "gp_weight")
# The "More settings" fields, row by row.
MORE_FIELD_ROWS = (
    ("name", "seed", "max_examples"),
    ("image_size", "channels", "sample_grid"),
    ("sample_every", "checkpoint_every", "log_every"),
    ("g_beta_1", "g_beta_2", "d_beta_1", "d_beta_2"),
    ("g_ema_decay",),
)
UPLOAD_TYPES = ["zip"] + [suffix.lstrip(".") for suffix in image_collection.IMAGE_SUFFIXES]
PREVIEW_COUNT = image_collection.PREVIEW_IMAGES


def apply_values(values: dict[str, Any]) -> None:
    """Fill the form (and the dataset choice) from config values; fields not given get the RunConfig default.

    All the values are kept as well, so that a field the form does not show keeps the value it was given.
    """
    full = {**RunConfig().to_dict(), **values}
    st.session_state["train_values"] = full
    for name in (*FIELDS, "dataset"):
        st.session_state[f"field_{name}"] = FIELD_TYPES[name](full[name])
    st.session_state["train_data_path"] = full["data_path"]


def apply_chosen_preset() -> None:
    """Callback of the preset picker: the chosen preset fills the whole form, replacing a past run's settings."""
    if st.session_state["train_preset"] is not None:
        apply_values(config_module.PRESETS[st.session_state["train_preset"]])
        st.session_state.pop("train_started_from", None)


def start_from_run_values(run_id: str, values: dict[str, Any]) -> None:
    """Fill the form from a past run; the preset box then says so instead of naming a preset that no longer applies."""
    apply_values(values)
    st.session_state["train_started_from"] = run_id
    st.session_state["train_preset"] = None


def preset_picker_ui() -> None:
    if "field_steps" not in st.session_state:
        apply_values(config_module.PRESETS[config_module.DEFAULT_PRESET])
        st.session_state["train_preset"] = config_module.DEFAULT_PRESET
    started_from = st.session_state.get("train_started_from")
    st.selectbox("Preset", list(config_module.PRESETS), key="train_preset", on_change=apply_chosen_preset,
                 persist_state="session",
                 placeholder=f"— from run {started_from} —" if started_from else "Choose a preset",
                 format_func=lambda name: f"{config_module.PRESETS[name]['name']} ({name})",
                 help="Choosing a preset fills in the whole form; change anything afterwards.")


def dataset_picker_ui() -> str:
    return st.selectbox("Dataset", config_module.DATASETS, key="field_dataset", format_func=DATASET_DESCRIPTIONS.get,
                        persist_state="session", help="Built-in sets are read from this machine. The 2-D sets "
                        "show what a GAN does most clearly.")


def field_ui(name: str) -> st.delta_generator.DeltaGenerator:
    """One form field; returns the placeholder under it where a validation message goes."""
    kind, label, help_text, step = FIELDS[name]
    key = f"field_{name}"
    if kind == "choice":
        st.selectbox(label, CHOICES[name], key=key, help=help_text, persist_state="session")
    elif kind == "bool":
        st.checkbox(label, key=key, help=help_text, persist_state="session")
    elif kind == "text":
        st.text_input(label, key=key, help=help_text, persist_state="session")
    else:
        st.number_input(label, step=step, key=key, help=help_text, format=NUMBER_FORMATS.get(name),
                        persist_state="session")
    return st.empty()


def form_fields_ui() -> dict[str, st.delta_generator.DeltaGenerator]:
    """All of the form's fields in three groups; returns field name -> placeholder for its message."""
    placeholders = {}
    networks, training = st.columns(2)
    with networks:
        st.subheader("Networks")
        placeholders.update({name: field_ui(name) for name in MAIN_FIELDS})
    with training:
        st.subheader("Training")
        placeholders.update({name: field_ui(name) for name in TRAINING_FIELDS})
    with st.expander("More settings: name, image size, seed, Adam betas, logging"):
        for row in MORE_FIELD_ROWS:
            for column, name in zip(st.columns(len(row)), row):
                with column:
                    placeholders[name] = field_ui(name)
    return placeholders


def form_values() -> dict[str, Any]:
    """The form's current values as RunConfig fields.

    The run's name follows its data: a preset's or past run's name is replaced by one describing the run once the
    data differs from theirs (a name the person typed is kept).
    """
    template = st.session_state.get("train_values", {})
    values = dict(template)
    values.update({name: st.session_state[f"field_{name}"] for name in (*FIELDS, "dataset")})
    values["data_path"] = st.session_state.get("train_data_path", "") if values["dataset"] == "folder" else ""
    values["name"] = config_module.name_following_data(values, template)
    return values


def field_at_fault(message: str) -> str:
    """The config field a validation message is about: messages start with `field=value`."""
    match = re.match(r"(\w+)=", message)
    return match.group(1) if match else ""


@st.cache_data(max_entries=8, show_spinner="Reading your images…")
def collection_preview(data_path: str, image_size: int, channels: int) -> image_collection.ImageCollection:
    """The first images as training will see them, and a count of the rest (which are not decoded here)."""
    return image_collection.preview_image_collection(data_path, image_size, channels, PREVIEW_COUNT)


def upload_ui(uploads_dir: Path, limits: DemoLimits | None = None) -> image_collection.ImageCollection | None:
    """The uploader for a person's images, and a preview of what will be trained on; `limits` caps sizes (demo)."""
    files = st.file_uploader("Your images: one .zip, or many image files", type=UPLOAD_TYPES,
                             accept_multiple_files=True, key="train_upload",
                             max_upload_size=limits.max_upload_file_megabytes if limits else None,
                             help="For classes, upload a zip with one sub-folder per class. Images are "
                             "centre-cropped and resized to the image size below (32x32 colour unless you change it).")
    try:
        if files and limits is not None:
            demo.check_upload_sizes({file.name: file.size for file in files}, limits,
                                    stored_bytes=demo_jobs.stored_bytes(uploads_dir))
        if files:
            saved = uploads.save_upload([(file.name, file.getvalue()) for file in files], uploads_dir)
            st.session_state["train_data_path"] = str(saved)
        data_path = st.session_state.get("train_data_path", "")
        if not data_path:
            return None
        if not Path(data_path).exists():
            # Filled in from a past run whose upload was removed with the last run that used it.
            st.session_state["train_data_path"] = ""
            st.warning("The images that run trained on are no longer on this server (an upload is removed with "
                       "the last run that uses it); upload them again.")
            return None
        # The preview uses the form's last submitted image size, as training will.
        image_size = st.session_state["field_image_size"] or config_module.FOLDER_IMAGE_SHAPE[0]
        channels = st.session_state["field_channels"] or config_module.FOLDER_IMAGE_SHAPE[2]
        preview = collection_preview(data_path, image_size, channels)
    except ValueError as error:
        st.error(str(error))
        return None
    classes = f"{len(preview.class_names)} classes: {', '.join(preview.class_names)}" if preview.class_names \
        else "no classes (put images in one sub-folder per class to get them)"
    shown = len(preview.images)
    count = f"{shown:,} usable images" if preview.image_count == shown else \
        f"{preview.image_count:,} image files (the first {shown} shown; the rest are checked when training starts)"
    st.success(f"{count} in `{preview.name}`; {classes}.")
    tiles = images.image_grid(preview.images, 2, PREVIEW_COUNT // 2, scale=images.grid_scale(image_size, 64))
    st.image(tiles, caption="The first images, as the networks will see them", output_format="PNG")
    if preview.skipped:
        with st.expander(f"{len(preview.skipped)} file(s) skipped"):
            st.table({"file": [name for name, _ in preview.skipped], "why": [reason for _, reason in preview.skipped]})
    return preview

