"""Background trainer processes, started, stopped and killed for real."""

import json
import os
import signal
import time

import pytest

from gan_core import jobs
from gan_core.config import preset
from gan_core.runs import create_run

pytestmark = pytest.mark.slow


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(message)


def long_digits_run(tmp_path):
    return create_run(preset("digits-mlp", steps=100_000, log_every=5, checkpoint_every=100_000), tmp_path)


def test_a_started_run_trains_in_its_own_process_and_stops_gracefully(tmp_path):
    run = long_digits_run(tmp_path)
    pid = jobs.start_run(run)
    assert pid != os.getpid() and jobs.process_alive(pid)
    wait_for(lambda: len(run.metrics_since()) >= 3, 120, f"no metrics appeared; log:\n{run.tail_log()}")
    assert run.status.state == "running" and run.status.pid == pid

    jobs.stop_run(run)
    assert run.status.state == "stopping"
    requested = time.monotonic()
    wait_for(lambda: run.status.state == "stopped", 30, f"the stop was not honoured; log:\n{run.tail_log()}")
    assert time.monotonic() - requested < 10, "a stop takes effect within seconds"
    stopped_step = run.status.step
    assert run.checkpoint_steps() == [stopped_step]
    wait_for(lambda: not jobs.process_alive(pid), 20, "the trainer process exited")

    with pytest.raises(ValueError, match="is stopped, not running"):
        jobs.stop_run(run)

    jobs.resume_run(run, extra_steps=10)
    wait_for(lambda: run.status.state == "finished", 120, f"the resumed run did not finish; log:\n{run.tail_log()}")
    assert run.status.step == stopped_step + 10
    assert run.checkpoint_steps()[-1] == stopped_step + 10


def test_a_dead_trainer_is_noticed_with_its_last_words(tmp_path):
    run = long_digits_run(tmp_path)
    pid = jobs.start_run(run)
    wait_for(lambda: run.status.state == "running", 120, f"the run never started; log:\n{run.tail_log()}")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not jobs.process_alive(pid), 20, "the killed process is gone")
    jobs.refresh_status(run)
    status = run.status
    assert status.state == "failed"
    assert f"pid {pid}" in status.message and "ended without finishing" in status.message
    assert jobs.refresh_all(tmp_path) == []


def test_a_run_cannot_be_started_twice_or_resumed_while_running(tmp_path):
    run = long_digits_run(tmp_path)
    jobs.start_run(run)
    try:
        with pytest.raises(ValueError, match="already"):
            jobs.start_run(run)
        with pytest.raises(ValueError, match="can be resumed once it has stopped"):
            jobs.resume_run(run)
    finally:
        jobs.stop_run(run)
        wait_for(lambda: not run.status.is_active, 120, f"the run did not stop; log:\n{run.tail_log()}")


def test_a_crash_in_the_trainer_is_recorded_as_failed(tmp_path):
    image_folder = tmp_path / "images"
    image_folder.mkdir()
    (image_folder / "notes.txt").write_text("no pictures here")
    run = create_run(preset("digits-mlp", dataset="folder", data_path=str(image_folder)), tmp_path / "runs")
    jobs.start_run(run)
    wait_for(lambda: run.status.state == "failed", 120, f"the failure was not recorded; log:\n{run.tail_log()}")
    assert "no usable images" in run.status.message.lower() or "image" in run.status.message


def test_an_active_run_that_no_process_took_on_is_marked_failed(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    jobs.refresh_status(run)
    assert run.status.state == "queued", "a fresh run is given time to start"
    status_path = run.path / "status.json"
    payload = json.loads(status_path.read_text())
    payload["updated"] = time.time() - jobs.NEVER_STARTED_SECONDS - 1
    status_path.write_text(json.dumps(payload))
    jobs.refresh_status(run)
    assert run.status.state == "failed" and "no trainer process" in run.status.message
