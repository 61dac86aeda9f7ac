"""Gallery: the fixed-noise timeline, fresh samples, walks through the noise space, and 2-D scatter plots."""

import streamlit as st

from gan_core.spec import registry
from gan_core.store import runs
from gan_core.variants.base import denoiser, translator
from views.common import (GALLERY_PAGE, checkpoint_picker_ui, generator_ready_ui, no_runs_ui, page_frame_ui,
                          run_picker_ui, runs_dir)
from views.gallery_views import fresh_samples_ui, interpolation_ui, scatter_ui, timeline_ui
from views.translation_views import noise_level_ui, own_image_translation_ui
from views.variant_views import variant_views_ui

page_frame_ui(GALLERY_PAGE)
st.title("Gallery")
run = run_picker_ui(runs.list_runs(runs_dir()))
if run is None:
    no_runs_ui("show")
    st.stop()

st.header("Timeline")
timeline_ui(run)

translating = translator(registry.of(run.config))
if translating is None:
    st.header("Fresh samples")
    st.caption("Drawn from a saved checkpoint with new noise. Loading a checkpoint takes a few seconds the first time.")
else:
    st.header("Translations")
    st.caption("Held-out inputs, never trained on, translated by a saved checkpoint; or an image of your own.")
step = checkpoint_picker_ui(run, key="gallery_checkpoint")
if step is None or not generator_ready_ui(run, step):
    st.stop()
if run.config.is_points:
    scatter_ui(run, step)
    st.stop()
if translating is None:
    fresh_samples_ui(run, step)
    st.header("Interpolation")
    interpolation_ui(run, step)

variant_views_ui(run, step, "gallery", seed=st.session_state.get("gallery_seed", 0))
denoising = denoiser(registry.of(run.config), run.config)
if denoising is not None:
    noise_level_ui(run, step, denoising)
if translating is not None:
    own_image_translation_ui(run, step, translating)
