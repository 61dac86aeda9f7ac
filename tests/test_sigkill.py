"""Runs survive their trainer being killed: ten SIGKILL trials, some during a checkpoint write
(bench/bench_sigkill.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_sigkill import run_trials  # noqa: E402

pytestmark = pytest.mark.slow


def test_ten_of_ten_killed_trainers_resume_cleanly_with_an_intact_metrics_store(tmp_path):
    trials, verdict = run_trials(trials=10, steps=500, work_dir=tmp_path, report=print)
    failed = [trial for trial in trials if not trial.ok]
    assert failed == [], f"trials that did not resume cleanly (logs in {tmp_path}): {failed}"
    assert any(trial.killed_during_checkpoint_write for trial in trials), "some kills hit a checkpoint write"
    assert verdict == "", verdict
