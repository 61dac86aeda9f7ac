"""Heavy work a demo's page hands to a worker process (gan_core.workers.run_jobs): the start, under the trainer caps,
and the worker's progress, redrawn every second until it has finished.

A public demo's web server serves every visitor at once, so it never measures checkpoints (sampling generators,
training the Classification Accuracy Score's classifiers) or draws the timeline GIF itself: a worker does, and the
page shows the result from the run directory once it is there.
"""

from __future__ import annotations

import streamlit as st

from gan_core.workers import run_jobs
from gan_core.store.runs import Run
from views.demo_views import demo_mode, start_run_job_as_visitor, status_text

POLL_SECONDS = 1.0


def in_worker() -> bool:
    """Whether pages hand heavy work to a worker process (in a demo) rather than doing it in the web server."""
    return demo_mode()


def job_at_work(run: Run, kind: str) -> bool:
    return in_worker() and run_jobs.job_status(run, kind).is_active


def start_job_ui(run: Run, kind: str, steps: list[int], options: tuple[str, ...] = ()) -> None:
    """Start the worker, or say why the demo refuses (its trainer caps)."""
    try:
        start_run_job_as_visitor(run, kind, steps, options)
    except ValueError as error:
        st.error(str(error))
        return
    st.rerun()


def last_failure_ui(run: Run, kind: str) -> None:
    """What went wrong the last time a worker did this kind of work on the run, if it failed."""
    job = run_jobs.job_status(run, kind)
    if in_worker() and job.state == "failed":
        st.error(f"The last worker {run_jobs.KINDS[kind]} for this run failed: {status_text(job.message)}")


@st.fragment(run_every=POLL_SECONDS)
def job_progress_ui(run: Run, kind: str) -> None:
    """The worker's progress; the whole page is drawn again once it has finished, with the result."""
    job = run_jobs.job_status(run, kind)
    if not job.is_active:
        st.rerun()
    doing = "starting (loading its libraries)…" if job.state == "starting" else f"{job.message}…"
    st.progress(job.done / max(len(job.steps), 1),
                text=f"In a worker process, {run_jobs.KINDS[kind]}: {job.done} of {len(job.steps)} done; {doing}")
