"""The Monitor page's pieces: Stop / Resume controls, the progress line, the metric charts and the latest grid."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import streamlit as st

from gan_core.measuring import health
from gan_core.workers import jobs, queue
from gan_core.spec import registry
from gan_core.store import runs
from gan_core.training import throughput
from gan_core.spec.config import lower_learning_rates
from gan_core.variants.base import Series
from gan_core.store.runs import Run, Status
from views.charts import Panel, panels_figure
from views.common import act_on_run, click_token, duration_text, refusal_ui, state_badge, subject_key
from views.demo_views import may_control_ui, resume_run_as_visitor, status_text


# A Monitor tab on a stopped run checks this often whether someone resumed it elsewhere (another tab, the CLI).
IDLE_REFRESH_SECONDS = 4.0
# How long the store's measured speeds (the estimate before a run has measured its own) are reused.
HISTORY_SECONDS = 30.0


def controls_ui(run: Run, status: Status) -> None:
    """Stop for an active run; Resume (or Train more, once the run reached its steps) for a stopped one, and for
    a diverged one a resume with lower learning rates first. In demo mode only the run's owner gets them.

    Drawn outside the page's self-refreshing view, so that a redraw never swallows a click. Each button acts in its
    callback, before the page reruns, and the page then shows what was done (or why it was refused). Keys carry the
    run, so a click meant for one run can never reach another.
    """
    if not may_control_ui(run):
        return
    config = run.config
    if status.is_active:
        stopping = status.state == "stopping"
        st.button("Stopping…" if stopping else "Stop", key=subject_key("monitor_stop", run),
                  icon=":material/stop_circle:", disabled=stopping, on_click=act_on_run,
                  args=(run, jobs.stop_run, click_token("stop")),
                  help="The trainer writes a checkpoint and exits at its next step; a run waiting in the queue is "
                       "cancelled.")
    elif status.state == "diverged":
        changes = lower_learning_rates(config)
        st.button("Resume with learning rates halved", key=subject_key("monitor_resume_lower", run),
                  icon=":material/play_circle:", type="primary", on_click=act_on_run,
                  args=(run, resume_run_as_visitor, click_token("resume")), kwargs={"config_changes": changes},
                  help=f"Continue from the last good checkpoint with g_learning_rate {changes['g_learning_rate']:g} "
                       f"and d_learning_rate {changes['d_learning_rate']:g}.")
    elif status.step < run.progress_target(status):
        st.button("Resume", key=subject_key("monitor_resume", run), icon=":material/play_circle:", type="primary",
                  on_click=act_on_run, args=(run, resume_run_as_visitor, click_token("resume")),
                  help="Continue from the latest checkpoint up to the run's total steps.")
    else:
        extra, button = st.columns([2, 1], vertical_alignment="bottom")
        extra_key = subject_key("monitor_extra_steps", run)
        extra.number_input("Extra steps", min_value=1, max_value=1_000_000, value=max(config.steps // 2, 1),
                           step=100, key=extra_key)
        token = click_token("train_more")
        button.button("Train more", key=subject_key("monitor_train_more", run), icon=":material/play_circle:",
                      on_click=lambda: act_on_run(run, resume_run_as_visitor, token,
                                                  extra_steps=int(st.session_state[extra_key])))
    refusal_ui(run)


def status_ui(run: Run, status: Status, rows: list[dict[str, Any]]) -> None:
    """The run's state with its message, and a progress bar with speed and time left."""
    total = run.progress_target(status)
    st.markdown(f"**Status:** {state_badge(status.state)} {status_text(status.message)}")
    speed = rows[-1]["images_per_second"] if rows else None
    parts = [f"step {status.step:,} of {total:,}"]
    parts += [f"{speed:,.0f} images/s"] if speed else []
    parts += [time_left_text(run, status, rows, total)] if status.is_active else []
    st.progress(min(status.step / total, 1.0), text=" · ".join(parts))


def time_left_text(run: Run, status: Status, rows: list[dict[str, Any]], total: int) -> str:
    """"about 4 min left", from the same model as the Train form's estimate; while the trainer starts (it loads
    TensorFlow and compiles its step first), only that."""
    place = queue.position(run) if status.state == "queued" else None
    if place:
        return f"waiting in the queue for a free trainer slot (place {place[0]} of {place[1]})"
    if status.state == "queued" or not rows:
        return "the trainer is starting"
    left = throughput.seconds_left(run.config, rows, status.step, total, measured_history(str(run.path.parent)))
    return "finishing" if left < 1 else f"about {duration_text(left)} left"


@st.cache_data(ttl=HISTORY_SECONDS, show_spinner=False)
def measured_history(runs_folder: str) -> list:
    """The speeds the store's stopped and finished runs reached, read at most every HISTORY_SECONDS: the live view
    asks every second, and reading every run's metrics that often would cost the server more than it tells."""
    return throughput.measured_history(runs.list_runs(runs_folder))


@st.fragment(run_every=IDLE_REFRESH_SECONDS)
def resume_watch_ui(run: Run) -> None:
    """Rerun the page when a stopped run becomes active, so that the live view starts; one status read a poll."""
    if run.status.is_active:
        st.rerun()


def latest_grid_ui(run: Run, step: int | None) -> None:
    """The fixed-noise grid saved at `step` (the latest one), or a note that none exists yet."""
    if step is not None:
        st.image(str(run.sample_path(step)), caption=f"{registry.of(run.config).grid_caption} at step {step:,}",
                 output_format="PNG")
    else:
        st.caption("The first sample grid appears when the trainer has started.")


def charts_ui(run: Run, rows: list[dict[str, Any]]) -> None:
    """The panels the run's variant charts (for a GAN: losses, discriminator output, gradient norms), in one figure."""
    if not rows:
        st.info("No metrics logged yet: the trainer is starting (loading TensorFlow takes a few seconds)."
                if run.status.is_active else "This run logged no metrics.")
        return
    smoothing = st.slider("Smoothing", 0.0, 0.99, 0.6, step=0.01, key="monitor_smoothing",
                          help="An exponential moving average, as in TensorBoard: 0 shows the raw values.")
    steps = [row["step"] for row in rows]

    def line(series: Series) -> tuple[list[int], np.ndarray]:
        values = np.array([row.get(series.metric) for row in rows], dtype=np.float64)  # None becomes NaN
        values = health.exponential_moving_average(values, smoothing) if series.smooth else values
        return steps, series.transform(values) if series.transform else values

    charts = registry.of(run.config).charts(run.config)
    panels = [Panel(chart.title, chart.y_label, {series.label: line(series) for series in chart.series}, chart.y_range)
              for chart in charts]
    st.plotly_chart(panels_figure(panels), key="monitor_chart")
    for chart in charts:
        if chart.caption:
            st.caption(chart.caption)


def throttled_rows(run: Run, rows: list[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """The rows as they stood at most `seconds` ago, so that the figure changes only that often.

    The browser skips redrawing an unchanged figure, and redrawing is most of what the live view costs. Rows only
    ever grow at the end (a rewritten log is read afresh and may be shorter), so remembering a count is enough.
    """
    held = st.session_state.get("monitor_chart_rows")
    now = time.monotonic()
    if held is None or held[0] != str(run.path) or now - held[1] >= seconds or held[2] > len(rows):
        held = st.session_state["monitor_chart_rows"] = (str(run.path), now, len(rows))
    return rows[: held[2]]


def findings_ui(findings: list[health.Finding]) -> None:
    for finding in findings:
        st.warning(finding.message, icon=":material/warning:")
