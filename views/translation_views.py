"""What the Gallery adds for image-to-image runs: a person's own image, translated by a saved checkpoint, and for a
denoiser, held-out images at any noise level."""

from __future__ import annotations

import streamlit as st

from gan_core.inputs import image_collection
from gan_core.store import runs
from gan_core.store.runs import Run
from gan_core.variants.base import Denoiser, Denoising, Picture, Translator

IMAGE_TYPES = [suffix.lstrip(".") for suffix in image_collection.IMAGE_SUFFIXES]
MAX_IMAGE_MEGABYTES = max(1, image_collection.MAX_IMAGE_FILE_BYTES // 2**20)
# Held-out images a noise level is measured on: enough for a steady PSNR, few enough for a slider.
DENOISING_EXAMPLES = 256


@st.cache_data(max_entries=8, show_spinner="Translating…")
def translated(_translating: Translator, run_path: str, step: int, image_bytes: bytes) -> list[Picture]:
    """The translation of a person's image; cached by run, step and image (the run decides its translator, so the
    translator, whose name starts with _, is not part of the key)."""
    return _translating.translate(runs.open_run(run_path), step, image_bytes)


def own_image_translation_ui(run: Run, step: int, translating: Translator) -> None:
    """An upload box for one image, saying what kind of image the run translates, and the image as the model sees it
    beside what the checkpoint makes of it."""
    st.subheader("Translate your own image")
    size, _, channels = translating.input_shape(run.config)
    expected = translating.expected_input(run.config)
    st.caption(f"This run translates {expected}. Upload such an image: any image is centre-cropped, resized to "
               f"{size}x{size}{' and turned grey' if channels == 1 else ''} like the run's inputs, but one of another "
               "kind (a photo for an edge drawing, say) gives a meaningless result.")
    file = st.file_uploader(
        f"An image to translate: {expected}", type=IMAGE_TYPES, key="gallery_translate_upload",
        max_upload_size=MAX_IMAGE_MEGABYTES, help="It is not stored.")
    if file is None:
        return
    try:
        pictures = translated(translating, str(run.path), step, file.getvalue())
    except ValueError as error:
        st.error(f"{file.name} cannot be translated: {error}")
        return
    for column, picture in zip(st.columns(len(pictures)), pictures):
        column.image(picture.image, caption=picture.caption, output_format="PNG", width=4 * size)


@st.cache_data(max_entries=16, show_spinner="Denoising…")
def denoised(_denoising: Denoiser, run_path: str, step: int, level: float) -> Denoising:
    """Held-out images at one noise level, denoised by one checkpoint; cached by run, step and level."""
    return _denoising.denoising(runs.open_run(run_path), step, level, DENOISING_EXAMPLES, seed=0)


def noise_level_ui(run: Run, step: int, denoising: Denoiser) -> None:
    """A slider for the noise level, and held-out images at that level beside the checkpoint's clean-up, with the
    PSNR of both: a denoiser tried on less or more noise than it learnt on."""
    st.subheader("Other noise levels")
    trained_level = float(run.config.pix2pix_noise_level)
    st.caption(f"This run learnt to remove {run.config.pix2pix_noise.replace('_', '-')} noise at level "
               f"{trained_level:g}. Try it on less or more: the PSNR beside the noisy images' is what it gains.")
    level = st.slider("Noise level", 0.05, 1.0, value=trained_level, step=0.05, key="gallery_noise_level")
    result = denoised(denoising, str(run.path), step, level)
    st.metric("PSNR gained over the noisy images", f"{result.denoised_psnr - result.noisy_psnr:+.1f} dB",
              help=f"Denoised {result.denoised_psnr:.1f} dB against noisy {result.noisy_psnr:.1f} dB, over "
                   f"{DENOISING_EXAMPLES} held-out images.")
    st.image(result.picture.image, caption=result.picture.caption, output_format="PNG")
