"""Background trainer processes, started, stopped and killed for real."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gan_core.workers import feature_jobs, jobs, warm_start
from gan_core.spec.config import lower_learning_rates, preset
from gan_core.store.runs import create_run, write_status
from support.cached_classifiers import copy_of_the_digits_classifier
from support.processes import stat_fields

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


def test_a_started_run_trains_in_its_own_process_stops_gracefully_and_resumes_to_each_new_target(tmp_path):
    """Started, the run cannot be started twice; stopped, it checkpoints; trained more, its new target is known at
    once and reached; resumed from the command line after diverging, its learning rates are halved."""
    run = long_digits_run(tmp_path)
    pid = jobs.start_run(run)
    assert pid != os.getpid() and jobs.process_alive(pid)
    # While its trainer is on its way, the run can be neither started again nor resumed.
    try:
        with pytest.raises(ValueError, match="already"):
            jobs.start_run(run)
        with pytest.raises(ValueError, match="can be resumed once it has stopped"):
            jobs.resume_run(run)
    except BaseException:
        jobs.stop_run(run)
        wait_for(lambda: not run.status.is_active, 120, f"the run did not stop; log:\n{run.tail_log()}")
        raise
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
    assert run.status.target_step == stopped_step + 10, "the target is known as soon as the trainer is asked for"
    wait_for(lambda: run.status.state == "finished", 120, f"the resumed run did not finish; log:\n{run.tail_log()}")
    assert (run.status.step, run.status.target_step, run.progress_target()) == (stopped_step + 10,) * 3
    assert run.checkpoint_steps()[-1] == stopped_step + 10

    # The command line's resume of the run, diverged meanwhile, with its learning rates halved.
    rates = (run.config.g_learning_rate, run.config.d_learning_rate)
    write_status(run.path, "diverged", "losses or weights became non-finite", step=stopped_step + 10)
    resumed = subprocess.run([sys.executable, "-m", "gan_core", "resume", str(run.path), "--steps", "5",
                              "--lower-learning-rate"], capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert "learning rates halved" in resumed.stdout
    assert (run.config.g_learning_rate, run.config.d_learning_rate) == (rates[0] / 2, rates[1] / 2)
    final_step = stopped_step + 15
    assert (run.status.step, run.status.target_step) == (final_step, final_step)
    with pytest.raises(ValueError, match=f"already reached its {final_step:,} steps"):
        jobs.resume_run(run)


def process_state(pid):
    """The process's state letter ("Z" for a zombie), or None once the process is gone entirely."""
    fields = stat_fields(pid)
    return None if fields is None else fields[0]


def has_ended_unreaped(pid):
    """Whether our child `pid` has ended and waits to be reaped, asked without reaping it (WNOWAIT).

    /proc says "Z" a little earlier, as soon as the main thread is gone while the others are still being torn
    down; only once all are gone can the end be collected.
    """
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


@pytest.fixture
def fresh_processes():
    """No warm starter in this process during the test: the processes it starts are fresh, this process's own
    children, whose ends it must collect (a warm starter collects its children's itself)."""
    warm_start.end()
    yield
    jobs.warm_up()


def test_a_crash_in_the_trainer_is_recorded_as_failed_and_the_ended_trainer_is_reaped_on_a_refresh(tmp_path,
                                                                                                   fresh_processes):
    image_folder = tmp_path / "images"
    image_folder.mkdir()
    (image_folder / "notes.txt").write_text("no pictures here")
    run = create_run(preset("digits-mlp", dataset="folder", data_path=str(image_folder)), tmp_path / "runs")
    pid = jobs.start_run(run)
    # The trainer records its own failure and exits; nothing has collected its end yet, so it lingers as a zombie.
    wait_for(lambda: has_ended_unreaped(pid), 120, f"the trainer did not end; log:\n{run.tail_log()}")
    assert run.status.state == "failed" and process_state(pid) == "Z"
    assert "no usable images" in run.status.message.lower() or "image" in run.status.message
    jobs.refresh_status(run)
    assert process_state(pid) is None, "the finished trainer is still a zombie child after a refresh"


def test_a_feature_worker_that_ended_is_reaped_when_its_status_is_read(tmp_path, fresh_processes):
    # The classifier is in this cache already, so the worker loads it and ends: its end, not its training, is tested.
    copy_of_the_digits_classifier(tmp_path)
    pid = feature_jobs.start_preparation("digits", tmp_path)
    wait_for(lambda: has_ended_unreaped(pid), 240,
             f"the worker did not end; log:\n{feature_jobs.status_path('digits', tmp_path).with_suffix('.log')}")
    assert process_state(pid) == "Z"
    assert feature_jobs.preparation_status("digits", tmp_path).state == "done"
    assert process_state(pid) is None, "the finished worker is still a zombie child after its status was read"


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


# The page's side of Stop: it says where it runs (so that the trainer below can pause it), then asks for the stop.
PAGE_PRESSING_STOP = """
import os, sys
from pathlib import Path
from gan_core.workers import jobs
from gan_core.store import runs
Path(sys.argv[2]).write_text(str(os.getpid()))
jobs.stop_run(runs.open_run(sys.argv[1]))
"""

# A trainer at its step boundary that answers the request at once, while the page's process is paused right after
# making it: the moment a busy web server is descheduled. It says when it watches (the test starts the page only
# then). Its final status goes in a thread, so that a status lock held by the paused page cannot hold this process
# up for ever; the page is let go after a moment either way. A page that has already ended (a slow machine can
# deschedule this process instead) cannot be paused; the final status must still stand.
TRAINER_ANSWERING_AT_ONCE = """
import os, signal, sys, threading
from pathlib import Path
from gan_core.store.runs import write_status
run_path, page_pid_path, watching_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
watching_path.touch()
while not (run_path / "stop_requested").exists():
    pass
page_pid = int(page_pid_path.read_text())
try:
    os.kill(page_pid, signal.SIGSTOP)
    paused = True
except ProcessLookupError:
    paused = False
final = threading.Thread(target=write_status, args=(run_path, "stopped", "stopped on request at step 7"),
                         kwargs={"step": 7})
final.start()
final.join(timeout=1)
if paused:
    os.kill(page_pid, signal.SIGCONT)
final.join()
"""


def test_a_trainer_that_stops_at_once_keeps_its_final_status_over_the_pages_stopping(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    page_pid_path, watching_path = tmp_path / "page.pid", tmp_path / "trainer.watching"
    environment = {**os.environ, "PYTHONPATH": str(jobs.PROJECT_ROOT)}
    trainer = subprocess.Popen([sys.executable, "-c", TRAINER_ANSWERING_AT_ONCE, str(run.path), str(page_pid_path),
                                str(watching_path)], env=environment)
    write_status(run.path, "running", "", pid=trainer.pid, step=7)
    wait_for(watching_path.exists, 60, "the trainer never started watching for the stop request")
    page = subprocess.run([sys.executable, "-c", PAGE_PRESSING_STOP, str(run.path), str(page_pid_path)],
                          env=environment, capture_output=True, text=True, timeout=60)
    assert trainer.wait(timeout=60) == 0 and page.returncode == 0, page.stderr
    assert (run.status.state, run.status.message) == ("stopped", "stopped on request at step 7"), (
        "the page's 'stopping' was written over the trainer's final status, so the run would be marked failed")


def test_two_tabs_resuming_a_diverged_run_at_once_start_one_trainer_whose_death_is_noticed_with_its_last_words(
        tmp_path):
    run = long_digits_run(tmp_path)
    write_status(run.path, "diverged", "losses or weights became non-finite at step 7", step=7)
    rates = (run.config.g_learning_rate, run.config.d_learning_rate)
    # Each tab's Resume button carries the lower learning rates its page suggested for the diverged run.
    suggestion = lower_learning_rates(run.config)
    pressers = 4
    everyone_ready = threading.Barrier(pressers)

    def press_resume():
        everyone_ready.wait()
        return jobs.resume_run(run, config_changes=suggestion)

    with ThreadPoolExecutor(max_workers=pressers) as pool:
        outcomes = [pool.submit(press_resume) for _ in range(pressers)]
        started = [outcome.result() for outcome in outcomes if outcome.exception() is None]
        refused = [outcome.exception() for outcome in outcomes if outcome.exception() is not None]
    try:
        assert len(started) == 1, f"exactly one trainer starts, not {started}"
        assert all(isinstance(error, ValueError) for error in refused) and len(refused) == pressers - 1
        assert all("is queued; it can be resumed once it has stopped" in str(error) for error in refused), refused
        assert run.status.pid == started[0] and run.status.target_step == run.config.steps
        # The trainer asked for no extra steps, so it trains towards the run's own; the lower rates are saved first.
        assert (run.config.g_learning_rate, run.config.d_learning_rate) == (rates[0] / 2, rates[1] / 2)

        # The one trainer, killed once it trains, is noticed as dead with its last words.
        pid = started[0]
        wait_for(lambda: run.status.state == "running", 120, f"the run never started; log:\n{run.tail_log()}")
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not jobs.process_alive(pid), 20, "the killed process is gone")
        jobs.refresh_status(run)
        status = run.status
        assert status.state == "failed"
        assert f"pid {pid}" in status.message and "ended without finishing" in status.message
        assert jobs.refresh_all(tmp_path) == []
    finally:
        for trainer_pid in started:
            if jobs.process_alive(trainer_pid):
                os.kill(trainer_pid, signal.SIGKILL)


def test_resuming_on_a_full_disk_is_refused_with_the_reason(small_disk):
    disk = small_disk("1m")
    run = create_run(preset("digits-mlp"), disk)
    write_status(run.path, "stopped", "stopped on request at step 0")
    with open(disk / "filler", "wb", buffering=0) as filler, pytest.raises(OSError):
        while True:
            filler.write(b"\0" * 4096)
    with pytest.raises(ValueError, match=f"cannot save the config of run {run.run_id} in {run.path}: the disk is full"):
        jobs.resume_run(run, config_changes=lower_learning_rates(run.config))
    with pytest.raises(ValueError, match=f"cannot start run {run.run_id} in {run.path}: the disk is full"):
        jobs.resume_run(run)
    assert run.status.state == "stopped" and json.loads((run.path / "config.json").read_text())
    assert sorted(entry.name for entry in run.path.iterdir()
                  if entry.name.startswith(".")) == [], "no stray temporary files"


def test_a_run_training_on_another_machine_is_judged_by_its_reports_not_by_a_pid_here(tmp_path):
    """A run store shared by a cluster: the pid in the status is another machine's, which this one cannot look up."""
    run = create_run(preset("digits-mlp"), tmp_path)
    status_path = run.path / "status.json"

    def trained_elsewhere(seconds_ago: float) -> None:
        payload = json.loads(status_path.read_text())
        payload.update(state="running", pid=2**22 + 1, step=40, host="another-machine",
                       updated=time.time() - seconds_ago)
        status_path.write_text(json.dumps(payload))

    trained_elsewhere(5)
    jobs.refresh_status(run)
    assert run.status.state == "running"
    trained_elsewhere(jobs.REMOTE_SILENCE_SECONDS + 60)
    jobs.refresh_status(run)
    assert run.status.state == "failed"
    assert "the trainer on another-machine" in run.status.message and "has not reported for 11 min" in \
        run.status.message
    write_status(run.path, "queued", "here", pid=os.getpid())
    assert run.status.host == socket.gethostname()
