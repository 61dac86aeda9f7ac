"""Sweeps: the trials of a sweep live, as a table sortable by any column and as parallel coordinates of their
settings against the measure, with the best trial and every trial's newest samples."""

import streamlit as st

from gan_core.sweeps import sweep_store
from views.common import SWEEPS_PAGE, TRAIN_PAGE, page_frame_ui, runs_dir
from views.sweep_views import (REFRESH_SECONDS, best_trial_ui, parallel_coordinates_figure, samples_row_ui,
                               sweep_header_ui, trial_states_ui, sweep_picker_ui, trial_rows, trials_table_ui)

page_frame_ui(SWEEPS_PAGE)
st.title("Sweeps")
sweeps = sweep_store.list_sweeps(runs_dir())
if not sweeps:
    st.info("There are no sweeps yet. On the Train page, list the settings to vary under **Sweep** and press "
            "**Start sweep**; or run `python -m gan_core sweep --preset digits-mlp --grid g_learning_rate=3e-4,1e-3 "
            "--steps 1000` in a terminal.")
    st.page_link(TRAIN_PAGE, label="Set up a sweep", icon=":material/model_training:")
    st.stop()

sweep = sweep_picker_ui(sweeps)


@st.fragment(run_every=REFRESH_SECONDS if sweep.state.is_active else None)
def sweep_live_ui() -> None:
    """Everything that changes while the sweep runs; redrawn every few seconds until it ends."""
    sweep_header_ui(sweep)
    rows = trial_rows(sweep)
    st.subheader("Trials")
    trial_states_ui(sweep, rows)
    trials_table_ui(sweep, rows)
    st.subheader("Settings against the measure")
    if any(row[sweep.plan.measure] is not None for row in rows):
        st.plotly_chart(parallel_coordinates_figure(sweep.plan, rows), key=f"sweep_parcoords_{sweep.sweep_id}")
    else:
        st.caption("The plot fills in as trials are measured, at the end of each rung.")
    st.subheader("Best trial")
    best_trial_ui(sweep)
    st.subheader("Newest samples")
    samples_row_ui(sweep)
    if not sweep.state.is_active and st.session_state.get(f"sweep_seen_active_{sweep.sweep_id}"):
        st.session_state.pop(f"sweep_seen_active_{sweep.sweep_id}")
        st.rerun()  # the page's refresh timer stops with the sweep
    if sweep.state.is_active:
        st.session_state[f"sweep_seen_active_{sweep.sweep_id}"] = True


sweep_live_ui()
