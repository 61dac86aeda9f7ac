"""Runs survive their trainer being killed: SIGKILL at two chosen moments, seen through the run's files, each
followed by a resume, then the run finished and compared row for row with one that was never interrupted.
(bench/bench_sigkill.py runs ten trials at random moments, half aimed at a checkpoint write, and writes them in
docs/benchmarks.md; the test reuses its pieces.)"""

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_sigkill import (STARTUP_TIMEOUT, TRAIN_SETTINGS, Trial, checkpoint_write_in_progress,  # noqa: E402
                           gan_core_command, metric_rows, metrics_health, start, wait_until_training)

from gan_core.store.runs import open_run, read_status  # noqa: E402

pytestmark = pytest.mark.slow

STEPS = 40  # a checkpoint every 5 steps (TRAIN_SETTINGS)


def wait_for_logged_step(run_dir: Path, process, step: int) -> None:
    """Wait until the trainer's status (written after each metrics row) says `step` is done."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while read_status(run_dir).step < step:
        assert process.poll() is None, f"the trainer exited with status {process.returncode} before step {step}"
        assert time.monotonic() < deadline, f"the trainer did not reach step {step} in time"
        time.sleep(0.001)


def wait_for_new_run(runs_dir: Path, process) -> Path:
    """The folder of the run the first trainer creates."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not (runs_dir.is_dir() and any(runs_dir.iterdir())):
        assert process.poll() is None, f"the first trainer exited with status {process.returncode}"
        assert time.monotonic() < deadline, "the first trainer did not create its run in time"
        time.sleep(0.05)
    return next(runs_dir.iterdir())


def wait_for_checkpoint_write(run_dir: Path, process) -> None:
    """Wait until TensorFlow is writing a checkpoint (into a `ckpt-N_temp` folder)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not checkpoint_write_in_progress(run_dir):
        assert process.poll() is None, f"the trainer exited with status {process.returncode} before a checkpoint"
        assert time.monotonic() < deadline, "the trainer wrote no checkpoint in time"
        time.sleep(0.001)


def kill_and_check(trial: Trial, process, run_dir: Path) -> None:
    """SIGKILL the trainer now, then record what it left: a write in progress, the step, the metrics store's
    integrity and whether it holds every step from 1 on, and the checkpoint the next resume must start from."""
    os.kill(process.pid, signal.SIGKILL)
    trial.killed_during_checkpoint_write = checkpoint_write_in_progress(run_dir)
    process.wait()
    run = open_run(run_dir)
    trial.killed_at_step = read_status(run_dir).step
    trial.integrity, logged_steps = metrics_health(run)
    trial.continuous = logged_steps == list(range(1, len(logged_steps) + 1))
    trial.expected_resume_step = max(run.checkpoint_steps(), default=0)
    print(trial)


def test_every_killed_trainer_resumes_cleanly_with_an_intact_metrics_store(tmp_path):
    # The uninterrupted run trains beside the first trainer.
    reference = start(gan_core_command("train", *TRAIN_SETTINGS, "--steps", str(STEPS),
                                       "--runs-dir", str(tmp_path / "reference")), tmp_path / "reference.log")
    log_path, runs_dir = tmp_path / "trials.log", tmp_path / "runs"
    process = start(gan_core_command("train", *TRAIN_SETTINGS, "--steps", str(STEPS), "--runs-dir", str(runs_dir)),
                    log_path)
    try:
        run_dir = wait_for_new_run(runs_dir, process)

        # Killed at its first metrics row, before any checkpoint: the next trainer starts the run afresh.
        first = Trial(1, aimed_at_checkpoint_write=False)
        first.resumed_from = wait_until_training(run_dir, process)
        wait_for_logged_step(run_dir, process, 1)
        kill_and_check(first, process, run_dir)
        assert first.ok, first

        # Killed while it writes a checkpoint after a complete one (the first is written before step 6 is logged):
        # the next trainer resumes from the complete one, past the half-written folder, and logs the steps after it
        # again.
        process = start(gan_core_command("resume", str(run_dir)), log_path)
        second = Trial(2, aimed_at_checkpoint_write=True)
        second.resumed_from = wait_until_training(run_dir, process)
        assert second.resumed_from == first.expected_resume_step, (second, first)
        wait_for_logged_step(run_dir, process, second.resumed_from + 6)
        wait_for_checkpoint_write(run_dir, process)
        kill_and_check(second, process, run_dir)
        assert second.ok and second.killed_during_checkpoint_write, second
        assert 0 < second.expected_resume_step < second.killed_at_step, "rows were logged after the last checkpoint"

        # The last resume finishes the run, rewriting the checkpoint that was cut short.
        process = start(gan_core_command("resume", str(run_dir)), log_path)
        assert wait_until_training(run_dir, process) == second.expected_resume_step
        assert process.wait(timeout=600) == 0, f"the last resume failed; see {log_path}"
        assert reference.wait(timeout=600) == 0, f"the uninterrupted run failed; see {tmp_path / 'reference.log'}"
    finally:
        for each in (process, reference):
            if each.poll() is None:
                each.kill()
                each.wait()
    run = open_run(run_dir)
    assert (run.status.state, run.status.step) == ("finished", STEPS), run.status
    assert metrics_health(run) == ("ok", list(range(1, STEPS + 1))), "the final metrics store is damaged or has gaps"
    assert run.checkpoint_steps()[-1] == STEPS
    assert metric_rows(run) == metric_rows(open_run(next((tmp_path / "reference").iterdir()))), \
        "the interrupted run's metrics differ from the uninterrupted run's"
