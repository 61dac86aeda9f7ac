"""Runs survive their trainer being killed: SIGKILL trials, half of them aimed at a checkpoint write
(bench/bench_sigkill.py, which runs ten and writes them in docs/benchmarks.md)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_sigkill import run_trials  # noqa: E402

pytestmark = pytest.mark.slow


def test_every_killed_trainer_resumes_cleanly_with_an_intact_metrics_store(tmp_path):
    # Four trials: two kills during a checkpoint write and two at random moments, each followed by a resume, then
    # the run finished and compared row for row with an uninterrupted one.
    trials, verdict = run_trials(trials=4, steps=200, work_dir=tmp_path, report=print)
    failed = [trial for trial in trials if not trial.ok]
    assert failed == [], f"trials that did not resume cleanly (logs in {tmp_path}): {failed}"
    assert any(trial.killed_during_checkpoint_write for trial in trials), "some kills hit a checkpoint write"
    assert verdict == "", verdict
