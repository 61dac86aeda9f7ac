"""Playground: a tiny GAN on 2-D points, trained step by step, with what each network does drawn live."""

import streamlit as st

from gan_core.workers import jobs
from gan_core.lab import playground_store
from gan_core.store import runs
from views.common import PLAYGROUND_PAGE, page_frame_ui, run_picker_ui, runs_dir
from views.live_figure import live_figure_ui
from views.playground_views import (FIGURE_CONFIG, colour_key, controls_ui, new_run_ui, playground_figure,
                                    summary_text)

# The trainer writes up to ten snapshots a second while playing; reading at the same rate shows each one.
REFRESH_SECONDS = 0.1

page_frame_ui(PLAYGROUND_PAGE)
st.title("Playground")
st.markdown("A GAN on 2-D points, as in GAN Lab: the background is what the discriminator believes about every "
            "point of the plane, the purple mesh is how the generator maps a regular grid of noise, and each orange "
            "line shows where the generator's loss pushes a sample. Play, pause, or take one step at a time.")

playground_runs = [run for run in runs.list_runs(runs_dir()) if run.config.playground]
with st.expander("New Playground run", expanded=not playground_runs):
    created = new_run_ui(runs_dir())
    if created is not None:
        st.query_params["run"] = created.run_id
        st.rerun()
run = run_picker_ui(playground_runs, label="Playground run", key="playground_run")
if run is None:
    st.stop()
jobs.refresh_status(run)
was_active = run.status.is_active
# Outside the live view below: a view that redraws ten times a second must never redraw a button under a click.
controls_ui(run, run.status, playground_store.read_snapshot(run))


@st.fragment(run_every=REFRESH_SECONDS if was_active else None)
def live_view() -> None:
    jobs.refresh_status(run)
    status = run.status
    if was_active and not status.is_active:
        st.rerun()  # The whole page, so that polling stops.
    snapshot = playground_store.read_snapshot(run)
    if snapshot is None:
        st.info("The trainer is starting (loading TensorFlow takes a few seconds); the views appear once it runs.")
        return
    # Updated in place by Plotly.react: a figure drawn afresh each time could not keep up with ten snapshots a second.
    live_figure_ui(playground_figure(snapshot), key="playground_figure", config=FIGURE_CONFIG)
    st.caption(summary_text(snapshot))


live_view()
st.caption(colour_key(run.config.loss))
if not was_active:
    st.caption(f"This run is {run.status.state}: resume it to train on (it starts paused).")
