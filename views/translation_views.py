"""What the Gallery adds for image-to-image runs: a person's own image, translated by a saved checkpoint."""

from __future__ import annotations

import streamlit as st

from gan_core import image_collection, runs, variants
from gan_core.runs import Run
from gan_core.variants.base import Picture

IMAGE_TYPES = [suffix.lstrip(".") for suffix in image_collection.IMAGE_SUFFIXES]
MAX_IMAGE_MEGABYTES = max(1, image_collection.MAX_IMAGE_FILE_BYTES // 2**20)


@st.cache_data(max_entries=8, show_spinner="Translating…")
def translated(run_path: str, step: int, image_bytes: bytes) -> list[Picture]:
    run = runs.open_run(run_path)
    return variants.of(run.config).translate(run, step, image_bytes)


def own_image_translation_ui(run: Run, step: int) -> None:
    """An upload box for one image, shown as the model sees it beside what the checkpoint makes of it."""
    st.subheader("Translate your own image")
    size = run.config.data_shape[0]
    file = st.file_uploader(
        "An image to translate", type=IMAGE_TYPES, key="gallery_translate_upload",
        max_upload_size=MAX_IMAGE_MEGABYTES,
        help=f"Centre-cropped and resized to {size}x{size} like the run's inputs; it is not stored.")
    if file is None:
        return
    try:
        pictures = translated(str(run.path), step, file.getvalue())
    except ValueError as error:
        st.error(f"{file.name} cannot be translated: {error}")
        return
    for column, picture in zip(st.columns(len(pictures)), pictures):
        column.image(picture.image, caption=picture.caption, output_format="PNG", width=4 * size)
