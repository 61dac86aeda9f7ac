"""Monitor: one run's live curves, progress, latest samples and warnings, with Stop and Resume."""

import streamlit as st

from gan_core.measuring import health
from gan_core.workers import jobs
from gan_core.spec import registry
from gan_core.store import runs
from views.common import MONITOR_PAGE, no_runs_ui, page_frame_ui, read_metrics, run_picker_ui, runs_dir, samples_at
from views.demo_views import demo_mode
from views.monitor_views import (charts_ui, controls_ui, findings_ui, latest_grid_ui, resume_watch_ui, status_ui,
                                 throttled_rows)

# While the run is active the page polls the run store every second. Redrawing the curves costs the browser
# about a fifth of a CPU second, on the machine that trains, so their data is refreshed every few seconds.
REFRESH_SECONDS = 1.0
CHART_REFRESH_SECONDS = 3.0

page_frame_ui(MONITOR_PAGE)
st.title("Monitor")
run = run_picker_ui(runs.list_runs(runs_dir()))
if run is None:
    no_runs_ui("monitor")
    st.stop()
jobs.refresh_status(run)
was_active = run.status.is_active
# Outside the live view below: a view that redraws every second must never redraw a button under a click.
controls_ui(run, run.status)


@st.fragment(run_every=REFRESH_SECONDS if was_active else None)
def live_view() -> None:
    jobs.refresh_status(run)
    status = run.status
    if was_active and not status.is_active:
        st.rerun()  # The whole page, so that polling stops and the controls match the new state.
    rows = read_metrics(run)
    sample_step = max(run.sample_steps(), default=None)
    samples = samples_at(run, sample_step) if sample_step is not None else None
    progress_column, grid_column = st.columns([3, 2])
    with progress_column:
        status_ui(run, status, rows)
        loss = registry.of(run.config).adversarial_loss(run.config)
        findings_ui(health.diagnose(rows, loss, status.state, samples, sample_step or 0))
    with grid_column:
        latest_grid_ui(run, sample_step)
    charts_ui(run, throttled_rows(run, rows, CHART_REFRESH_SECONDS) if status.is_active else rows)


live_view()
if not was_active:
    resume_watch_ui(run)  # Another tab or the command line may resume the run; the page then goes live.
if run.status.state in ("failed", "diverged") and demo_mode():
    st.caption("The trainer's log stays on the server: a public demo shows no tracebacks.")
elif run.status.state in ("failed", "diverged"):
    with st.expander("The end of the trainer's log", expanded=True):
        st.code(run.tail_log(30) or "the log is empty", language=None)
