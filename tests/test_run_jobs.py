"""Heavy work in a worker process, as a demo does it: measuring checkpoints (the results go to the run store) and
drawing the timeline GIF; the workers count against the trainer caps, and the demo's Evaluate page starts one
instead of computing in the web server."""

import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from gan_core.demo_mode import demo_jobs
from gan_core.measuring import evaluation
from gan_core.store import ownership, runs
from gan_core.workers import run_jobs
from gan_core.demo_mode.demo import DemoLimits
from support.pages import open_page
from support.trained import trained_run
from support.waiting import wait_for

PROJECT = Path(__file__).resolve().parents[1]
VISITOR_A = ownership.owner_hash("a" * 43)
VISITOR_B = ownership.owner_hash("b" * 43)
VISITOR_TOKEN = "visitor-" + "c" * 40


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    """A ring-mlp run of 40 steps with its checkpoint (2-D points: no classifier)."""
    return trained_run(tmp_path_factory.mktemp("run-job-runs"), "ring-mlp", steps=40)


def finished(run: runs.Run, kind: str = "evaluation") -> bool:
    return not run_jobs.job_status(run, kind).is_active


@contextmanager
def writes_held(run: runs.Run) -> Iterator[None]:
    """Hold the write lock of the run's metrics store: other writers wait (up to the store's 10 s busy timeout),
    readers do not."""
    connection = sqlite3.connect(run.path / "metrics.sqlite", timeout=10, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield
    finally:
        connection.rollback()
        connection.close()


def worker_log(run: runs.Run, kind: str = "evaluation") -> str:
    return run_jobs.job_path(run, kind).with_suffix(".log").read_text()


@pytest.mark.slow
def test_a_worker_that_died_is_reported_as_failed(ring_run, tmp_path):
    copy = runs.Run(tmp_path / ring_run.run_id)
    copy.path.mkdir()
    finished_process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                                      text=True, check=True)
    run_jobs.write_job(copy, "evaluation", run_jobs.RunJob("working", (40,), 0, "measuring step 40",
                                                           int(finished_process.stdout)))
    job = run_jobs.job_status(copy, "evaluation")
    assert job.state == "failed" and "ended unexpectedly" in job.message


@pytest.mark.slow
def test_the_demos_evaluate_page_measures_in_a_worker_that_counts_against_the_caps_and_fills_the_run_store(
        ring_run, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(ring_run.path.parent))
    monkeypatch.setenv("GAN_DASHBOARD_DEMO", "1")
    monkeypatch.setenv("GAN_DEMO_SHOWCASE_SECONDS", "0")
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    visitor = ownership.owner_hash(VISITOR_TOKEN)
    try:
        # The page starts the measuring in a worker process rather than computing in the web server.
        app = open_page("evaluate", ring_run, timeout=60, session_state={"demo_owner_token": VISITOR_TOKEN})
        app.selectbox(key=next(box.key for box in app.selectbox if box.key.startswith("evaluate_sample_count")))\
            .set_value(500).run()
        compute = next(button for button in app.button if "evaluate_compute" in button.key)
        # The worker is kept at work until the checks below are done: it cannot store its results while this
        # connection holds the run store's write lock (readers, the page among them, go on). A warm worker can
        # finish measuring a ring before the page's rerun after the click has ended (seen once in a full run).
        with writes_held(ring_run):
            compute.click().run()
            assert not app.exception, [error.value for error in app.exception]
            job = run_jobs.job_status(ring_run, "evaluation")
            assert job.is_active and job.steps == (40,) and job.owner_hash == visitor

            # While it works, the worker takes its visitor's trainer slot, and the run takes no second worker.
            assert demo_jobs.active_owners(ring_run.path.parent) == [visitor]
            with pytest.raises(ValueError, match="at most 1 run"):
                demo_jobs.start_owned_run_job(ring_run, "timeline_gif", [0, 40], VISITOR_B,
                                              DemoLimits(max_trainers=1))
            with pytest.raises(ValueError, match="being worked on already"):
                run_jobs.start_job(ring_run, "evaluation", [40], options=run_jobs.evaluation_options(100, 0))

        assert wait_for(lambda: finished(ring_run), 180), worker_log(ring_run)
        job = run_jobs.job_status(ring_run, "evaluation")
        assert (job.state, job.done, job.message) == ("done", 1, "measured 1 checkpoint(s)")
        assert evaluation.stored_evaluation(ring_run, 40)["sample_count"] == 500
        # Real against real at that count, which the page shows beside the results, is measured by the worker too.
        assert list((tmp_path / "cache" / "reference").glob("ring-*-500-*.json"))
        assert demo_jobs.active_owners(ring_run.path.parent) == [], "a finished worker takes no slot"
    finally:
        streamlit_config.set_option("client.showErrorDetails", "full")
        streamlit_config.set_option("client.toolbarMode", "auto")


@pytest.mark.slow
def test_a_worker_draws_the_timeline_gif_beside_the_run(ring_run):
    from PIL import Image

    steps = ring_run.sample_steps()
    run_jobs.start_job(ring_run, "timeline_gif", steps, VISITOR_A)
    assert wait_for(lambda: finished(ring_run, "timeline_gif"), 120), worker_log(ring_run, "timeline_gif")
    job = run_jobs.job_status(ring_run, "timeline_gif")
    assert (job.state, job.steps, job.done) == ("done", tuple(steps), len(steps))
    with Image.open(run_jobs.timeline_gif_path(ring_run)) as picture:
        assert picture.format == "GIF" and picture.n_frames == len(steps)
