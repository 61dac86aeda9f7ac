"""Measuring checkpoints in a worker process, as a demo's Evaluate page does: the start (under the trainer caps)
and the worker's progress, redrawn every second until it has finished.

A public demo's web server serves every visitor at once, so it never samples generators or trains the
Classification Accuracy Score's classifiers itself: gan_core.evaluation_jobs does, in a process of its own, and the
page shows the results from the run store once they are there.
"""

from __future__ import annotations

import streamlit as st

from gan_core import evaluation_jobs
from gan_core.runs import Run
from views.demo_views import demo_mode, start_evaluation_as_visitor, status_text

POLL_SECONDS = 1.0


def in_worker() -> bool:
    """Whether this page measures in a worker process (in a demo) rather than in the web server."""
    return demo_mode()


def being_measured(run: Run) -> bool:
    return in_worker() and evaluation_jobs.job_status(run).is_active


def start_measuring_ui(run: Run, steps: list[int], sample_count: int, seed: int) -> None:
    """Start the worker for these checkpoints, or say why the demo refuses (its trainer caps)."""
    try:
        start_evaluation_as_visitor(run, steps, sample_count, seed)
    except ValueError as error:
        st.error(str(error))
        return
    st.rerun()


def last_failure_ui(run: Run) -> None:
    """What went wrong the last time a worker measured this run, if it failed."""
    job = evaluation_jobs.job_status(run)
    if in_worker() and job.state == "failed":
        st.error(f"The last measuring of this run failed: {status_text(job.message)}")


@st.fragment(run_every=POLL_SECONDS)
def measuring_progress_ui(run: Run) -> None:
    """The worker's progress; the whole page is drawn again once it has finished, with the results."""
    job = evaluation_jobs.job_status(run)
    if not job.is_active:
        st.rerun()
    doing = "starting (loading TensorFlow)…" if job.state == "starting" else f"{job.message}…"
    st.progress(job.done / max(len(job.steps), 1), text=f"Measuring in a worker process: {job.done} of "
                                                         f"{len(job.steps)} checkpoint(s) done; {doing}")
