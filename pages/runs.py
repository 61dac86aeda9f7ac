"""Runs: overlay the curves of several runs, and manage one run: reuse its settings, export it, delete it."""

import streamlit as st

from gan_core.workers import jobs
from gan_core.store import runs
from views.common import RUNS_PAGE, TRAIN_PAGE, no_runs_ui, page_frame_ui, run_picker_ui, runs_dir, state_badge
from views.demo_views import status_text
from views.runs_views import deleted_note_ui, delete_ui, export_ui, overlay_ui

page_frame_ui(RUNS_PAGE)
st.title("Runs")
deleted_note_ui()
all_runs = runs.list_runs(runs_dir())
if not all_runs:
    no_runs_ui("list")
    st.stop()

st.header("Training curves")
overlay_ui(all_runs)

st.header("Manage a run")
run = run_picker_ui(all_runs, label="Run to manage")
jobs.refresh_status(run)
st.markdown(f"{state_badge(run.status.state)} {status_text(run.status.message)}")
with st.expander("Its settings (config.json)"):
    st.code(run.config.to_json(), language="json")

if st.button("Use as the starting point of a new run", key="runs_start_from", icon=":material/content_copy:",
             help="Opens the Train page with this run's settings filled in."):
    st.switch_page(TRAIN_PAGE, query_params={"from_run": run.run_id})

st.subheader("Export the generator")
export_ui(run)

st.subheader("Delete")
delete_ui(run)
