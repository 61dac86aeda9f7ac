"""Warm starts (gan_core.workers.warm_start): a starter that has imported TensorFlow forks the engine's processes, which
run exactly as processes started fresh would, in sessions of their own that outlive the starter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.workers import jobs, warm_start
from support.processes import parent_of
from support.waiting import wait_for

pytestmark = pytest.mark.slow

LOSSES = ("d_loss", "g_loss")


@pytest.fixture
def starter():
    """A starter of the test's own (not the one this process keeps for its pages), ready to fork."""
    started = warm_start.WarmStarter(jobs.PROJECT_ROOT, jobs.engine_environment())
    try:
        assert wait_for(started.has_become_ready, 120), "the starter never said it was ready"
        yield started
    finally:
        if started.is_alive():
            started.end()


def text_of(log: Path) -> str:
    return log.read_text() if log.exists() else ""


def resume_command(run) -> list[str]:
    return [sys.executable, "-m", "gan_core", "resume", str(run.path)]


def test_a_run_started_warm_trains_exactly_as_one_started_fresh(tmp_path, starter):
    config = preset("digits-mlp", steps=30, log_every=5)
    fresh, warm = create_run(config, tmp_path / "fresh"), create_run(config, tmp_path / "warm")
    subprocess.run(resume_command(fresh), cwd=jobs.PROJECT_ROOT, env=jobs.engine_environment(), check=True,
                   capture_output=True, timeout=300)

    pid = starter.start(resume_command(warm), warm.log_path, jobs.engine_environment())
    assert pid and pid != starter.process.pid
    assert wait_for(lambda: warm.status.state == "finished", 120), warm.tail_log()
    assert wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 30), "an ended child is collected, never a zombie"

    rows = [[row[name] for name in ("step", *LOSSES)] for row in fresh.metrics_since()]
    assert len(rows) == 6
    assert [[row[name] for name in ("step", *LOSSES)] for row in warm.metrics_since()] == rows
    assert "finished: reached step 30" in warm.tail_log()


def test_a_warm_trainer_has_a_session_of_its_own_and_outlives_its_starter(tmp_path, starter):
    run = create_run(preset("digits-mlp", steps=100_000, log_every=5, checkpoint_every=100_000), tmp_path)
    pid = starter.start(resume_command(run), run.log_path, jobs.engine_environment())
    try:
        assert wait_for(lambda: run.status.state == "running" and run.status.pid == pid, 120), run.tail_log()
        assert os.getsid(pid) == pid and parent_of(pid) == starter.process.pid

        # The process that started the starter closes its end of the pipe, as it does when it ends.
        starter.process.stdin.close()
        assert starter.process.wait(timeout=60) == 0
        step = run.status.step
        assert jobs.process_alive(pid) and wait_for(lambda: run.status.step > step, 60), run.tail_log()
    finally:
        jobs.stop_if_active(run)
    assert wait_for(lambda: run.status.state == "stopped", 60), run.tail_log()


def test_a_bad_command_is_told_in_its_log_and_a_stuck_or_ended_starter_starts_nothing(tmp_path, starter):
    log = tmp_path / "missing.log"
    missing = tmp_path / "no-such-run"
    pid = starter.start([sys.executable, "-m", "gan_core", "resume", str(missing)], log, jobs.engine_environment())
    assert pid
    assert wait_for(lambda: "error:" in text_of(log), 60), text_of(log)
    assert str(missing) in log.read_text()

    starter.end()
    assert starter.start(resume_command(create_run(preset("digits-mlp"), tmp_path)), log,
                         jobs.engine_environment()) is None


def test_only_engine_modules_in_the_starters_environment_are_started_warm():
    environment, root = jobs.engine_environment(), jobs.PROJECT_ROOT
    command = [sys.executable, "-m", "gan_core", "list"]
    assert warm_start.is_engine_command(command, root, root)
    assert not warm_start.is_engine_command([sys.executable, "-m", "json.tool"], root, root)
    assert not warm_start.is_engine_command(["/bin/true"], root, root)
    assert not warm_start.is_engine_command(command, root.parent, root)

    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    started_in = warm_start.read_on_import(environment)
    # What the imports add, as the starter reports it once ready (the engine's quiet default log level, here).
    after_import = {**started_in, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def runs_as_fresh(**changes):
        return warm_start.runs_as_fresh({**environment, **changes}, started_in, after_import)

    assert runs_as_fresh()
    # A process that has made the same imports itself has their additions already.
    assert runs_as_fresh(TF_CPP_MIN_LOG_LEVEL="3")
    # The engine's settings are read afresh by the child, and scikit-learn's OpenMP settings by nothing it loaded;
    # TensorFlow's and OpenBLAS's were read by the starter's imports.
    assert runs_as_fresh(GAN_RUNS_DIR="elsewhere", KMP_INIT_AT_FORK="FALSE", ANY="thing")
    assert not runs_as_fresh(TF_CPP_MIN_LOG_LEVEL="0")
    assert not runs_as_fresh(OMP_NUM_THREADS="7")


def test_this_processes_starts_are_warm_and_read_the_engines_settings_of_the_moment(tmp_path, monkeypatch):
    """This process keeps a starter (tests/conftest.py; the server keeps one from its Train page). Variables that
    imports made here since (scikit-learn's, for Intel's OpenMP) do not turn its starts fresh, and a child reads the
    engine's settings as they are now: `list` finds the runs of GAN_RUNS_DIR, which the engine reads when imported."""
    jobs.warm_up()
    runs_dir = tmp_path / "runs"
    listed = create_run(preset("digits-mlp"), runs_dir)
    monkeypatch.setenv("KMP_DUPLICATE_LIB_OK", "True")
    monkeypatch.setenv("KMP_INIT_AT_FORK", "FALSE")
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs_dir))
    log = tmp_path / "list.log"
    pid = jobs.start_background_process([sys.executable, "-m", "gan_core", "list"], log)
    with pytest.raises(ChildProcessError):  # not this process's child, as a fresh one would be: the starter's
        os.waitpid(pid, os.WNOHANG)
    assert wait_for(lambda: listed.run_id in text_of(log), 60), text_of(log)
