"""Evaluate: how close a checkpoint's samples come to real data, measured, charted over training and shown."""

import streamlit as st

from gan_core.store import runs
from views.common import (EVALUATE_PAGE, checkpoint_picker_ui, generator_ready_ui, no_runs_ui, page_frame_ui,
                          run_picker_ui, runs_dir)
from views.evaluate_data import feature_space
from views.evaluate_details import details_ui
from views.evaluate_views import metrics_ui, no_feature_space_ui, sample_count_ui, training_ui
from views.feature_preparation import feature_space_ready_ui
from views.variant_views import variant_views_ui

page_frame_ui(EVALUATE_PAGE)
st.title("Evaluate")
run = run_picker_ui(runs.list_runs(runs_dir()))
if run is None:
    no_runs_ui("evaluate")
    st.stop()
checkpoint_column, count_column = st.columns(2)
with checkpoint_column:
    step = checkpoint_picker_ui(run, key="evaluate_checkpoint")
if step is None:
    st.stop()
with count_column:
    sample_count = sample_count_ui(run.config)

st.header("Metrics")
# A feature classifier not trained yet is offered, never trained on page open; the views below use pixels until then.
extractor, reason = feature_space(run.config) if feature_space_ready_ui(run) else (None, "")
if extractor is None:
    if reason:
        no_feature_space_ui(reason)
else:
    reference = metrics_ui(run, step, sample_count, extractor)
    st.header("Over training")
    training_ui(run, sample_count, extractor, reference)

st.header("Real against generated")
if generator_ready_ui(run, step):
    details_ui(run, step, sample_count, extractor)
    variant_views_ui(run, step, "evaluate")
