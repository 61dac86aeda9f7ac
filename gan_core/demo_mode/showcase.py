"""The demo's showcase: small runs the demo trains by itself, so that its very first visitor sees a run learn.

On the first start of a demo whose store holds no finished run, the dashboard creates the first showcase run (so
the overview lists it, queued, from the very first page view) and launches this module as one detached process
(`python -m gan_core.demo_mode.showcase RUNS_DIR`). It trains digits-mlp, then fashion-dcgan for a few minutes, one
after the other so that they never compete for the CPU, each in its usual trainer process, and then prepares the feature
classifiers that the Evaluate page needs for them. The runs are owned by nobody, so no visitor can stop or delete
them.

Two files in the runs folder keep this going across server restarts and concurrent sessions:
- `.showcase-started`, the marker (created exclusively: the first start happens once), which also holds the
  showcase's log and a line for every launch and for the end;
- `.showcase.lock`, which the showcase process holds an flock on for its whole life. A server that finds the lock
  free and the showcase not done launches the process again, which carries on from the runs' own states: a run
  killed mid-way is resumed from its checkpoint through the usual resume path.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

from gan_core.demo_mode import demo, demo_classifiers
from gan_core.workers import feature_jobs, jobs
from gan_core.measuring import features
from gan_core.store import ownership, runs
from gan_core.spec.config import RunConfig, preset
from gan_core.demo_mode.demo import DemoLimits

MARKER_NAME = ".showcase-started"
LOCK_NAME = ".showcase.lock"
PRESETS = ("digits-mlp", "fashion-dcgan")
POLL_SECONDS = 2.0
# Lines the marker holds, besides the showcase's log. A launch that keeps failing is not retried for ever.
STARTED_NOTE = "showcase started"
RESUMED_NOTE = "showcase resumed"
DONE_NOTE = "showcase done"
NOT_NEEDED_NOTE = "no showcase needed"
MAX_LAUNCHES = 4
# Runs folders whose showcase is settled (done, not needed, or given up): later page views only look this up.
_settled: set[Path] = set()


def marker_path(runs_dir: Path) -> Path:
    return Path(runs_dir) / MARKER_NAME


def lock_path(runs_dir: Path) -> Path:
    return Path(runs_dir) / LOCK_NAME


def claim(runs_dir: Path, note: str = STARTED_NOTE) -> bool:
    """Create the marker file; True for the one caller that created it (O_EXCL makes this atomic)."""
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(marker_path(runs_dir), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as marker:
        marker.write(f"{note} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    return True


def add_note(runs_dir: Path, note: str) -> None:
    with open(marker_path(runs_dir), "a") as marker:
        marker.write(f"{note} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")


def marker_notes(runs_dir: Path) -> list[str]:
    """The marker's own lines (its log lines left out); [] when there is no marker."""
    try:
        lines = marker_path(runs_dir).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return []
    notes = (STARTED_NOTE, RESUMED_NOTE, DONE_NOTE, NOT_NEEDED_NOTE)
    return [line for line in lines if line.startswith(notes)]


def is_settled(notes: list[str]) -> bool:
    """Whether the marker says the showcase needs no more launches: done, not needed, or launched too often."""
    launches = sum(1 for note in notes if note.startswith((STARTED_NOTE, RESUMED_NOTE)))
    return any(note.startswith((DONE_NOTE, NOT_NEEDED_NOTE)) for note in notes) or launches >= MAX_LAUNCHES


def showcase_config(name: str, limits: DemoLimits) -> RunConfig:
    config = preset(name)
    return config.replace(steps=min(config.steps, limits.max_steps))


def time_budget(name: str, limits: DemoLimits) -> float:
    """Training seconds of a showcase run over all its resumes: digits-mlp finishes well within the demo's cap,
    the DCGAN stops with a checkpoint after showcase_seconds."""
    return limits.max_seconds if name == PRESETS[0] else limits.showcase_seconds


def showcase_run(runs_dir: Path, name: str) -> runs.Run | None:
    """The showcase's run of preset `name`, if it has been created (the newest, should there be several)."""
    wanted = preset(name).name
    for run in runs.list_runs(runs_dir):
        record = ownership.read_owner(run.path)
        if record is not None and record.showcase and run.config.name == wanted:
            return run
    return None


def create_showcase_run(runs_dir: Path, name: str, limits: DemoLimits) -> runs.Run:
    run = runs.create_run(showcase_config(name, limits), runs_dir)
    ownership.record_owner(run, ownership.OwnerRecord(owner_hash=None, showcase=True))
    return run


def is_complete(run: runs.Run, budget: float) -> bool:
    """Whether a showcase run needs no more training: finished, diverged (more would not help), or out of time."""
    jobs.refresh_status(run)
    status = run.status
    if status.state in ("finished", "diverged"):
        return True
    if status.is_active:
        return False
    return status.step >= run.progress_target(status) or status.trained_seconds >= budget - 1


def ensure_started(runs_dir: Path, limits: DemoLimits) -> bool:
    """Launch the showcase process on the demo's first start, or again when it was stopped before it was done (a
    server or machine restart killed it); True when this call did.

    The first decision is taken once, by whoever creates the marker: a store that already holds a finished run needs
    no showcase, and the marker then records that. The lock is held from the check to the launch and then passed
    on to the showcase process, so two sessions never launch two.
    """
    runs_dir = Path(runs_dir)
    if limits.showcase_seconds <= 0 or runs_dir.resolve() in _settled:
        return False
    runs_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_path(runs_dir), "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # the showcase process is at work, or another session is launching it
        if not marker_path(runs_dir).exists():
            if any(run.status.state == "finished" for run in runs.list_runs(runs_dir)):
                claim(runs_dir, note=f"{NOT_NEEDED_NOTE}: a run had already finished")
                _settled.add(runs_dir.resolve())
                return False
            claim(runs_dir)
        elif is_settled(marker_notes(runs_dir)):
            _settled.add(runs_dir.resolve())
            return False
        else:
            add_note(runs_dir, f"{RESUMED_NOTE}: the showcase process had stopped before it was done")
        # The first run exists before the process starts, so the page being drawn already lists it.
        if showcase_run(runs_dir, PRESETS[0]) is None:
            create_showcase_run(runs_dir, PRESETS[0], limits)
        launch(runs_dir, lock)
    return True


def launch(runs_dir: Path, lock) -> int:
    """Start the showcase process, handing it the open (and locked) lock file; returns its pid."""
    with open(marker_path(runs_dir), "a") as log:
        # An flock belongs to the open file, which the child inherits: it holds the lock until it ends.
        process = subprocess.Popen([sys.executable, "-m", "gan_core.demo_mode.showcase", str(runs_dir.resolve())],
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=jobs.PROJECT_ROOT, env=jobs.engine_environment(), start_new_session=True,
                                   pass_fds=(lock.fileno(),))
    lock.seek(0)
    lock.truncate()
    lock.write(f"{process.pid}\n")
    lock.flush()
    return process.pid


def showcase_pid(runs_dir: Path) -> int | None:
    """The pid of the last showcase process launched (it may have ended since)."""
    try:
        return int(lock_path(runs_dir).read_text().strip())
    except (OSError, ValueError):
        return None


def in_progress(runs_dir: Path) -> bool:
    """Whether the showcase process is at work now (it holds the lock)."""
    if not lock_path(runs_dir).exists():
        return False
    with open(lock_path(runs_dir), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(lock, fcntl.LOCK_UN)
        return False


def train_showcase(runs_dir: Path, limits: DemoLimits) -> list[runs.Run]:
    """Train the showcase runs one after the other, each carried on from its state, then prepare their feature
    classifiers; returns the runs once the last has stopped."""
    made = []
    for name in PRESETS:
        run = showcase_run(runs_dir, name) or create_showcase_run(runs_dir, name, limits)
        budget = time_budget(name, limits)
        if not is_complete(run, budget):
            train_until_stopped(run, budget)
        print(f"{run.run_id}: {run.status.state}: {run.status.message}", flush=True)
        made.append(run)
    prepare_classifiers([run.config for run in made])
    add_note(runs_dir, DONE_NOTE)
    return made


def train_until_stopped(run: runs.Run, budget: float) -> None:
    """Start (or resume) the run's trainer unless one is at work already, then wait until it stops."""
    status = run.status
    if not (status.is_active and jobs.process_alive(status.pid)):
        seconds_left = budget - status.trained_seconds
        # A run that never had a trainer is started; one that stopped or was killed goes through the usual resume.
        if status.state == "queued":
            jobs.start_run(run, max_seconds=seconds_left)
        else:
            jobs.resume_run(run, max_seconds=seconds_left)
    while True:
        jobs.refresh_status(run)
        if not run.status.is_active:
            return
        time.sleep(POLL_SECONDS)


def prepare_classifiers(configs: list[RunConfig]) -> None:
    """Train the feature classifiers that evaluating these runs needs, one at a time, each in its worker process,
    so that no visitor has to start one for the showcase's runs."""
    for config in configs:
        try:
            dataset = features.classifier_pending(config)
        except ValueError as error:  # the data cannot be read here; the Evaluate page says so to visitors
            print(f"no feature classifier for {config.dataset}: {error}", flush=True)
            continue
        if dataset is None:
            continue
        feature_jobs.start_preparation(dataset)
        demo_classifiers.record_owner(dataset, None)  # nobody's: no visitor's cap counts it
        while feature_jobs.preparation_status(dataset).is_active:
            time.sleep(POLL_SECONDS)
        print(f"{dataset} feature classifier: {feature_jobs.preparation_status(dataset).state}", flush=True)


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gan_core.demo_mode.showcase", description=__doc__.splitlines()[0])
    parser.add_argument("runs_dir", type=Path)
    options = parser.parse_args(arguments)
    jobs.warm_up()  # its trainers and workers, one after the other, skip TensorFlow's import (workers.warm_start)
    train_showcase(options.runs_dir, demo.limits_from_environment(os.environ))


if __name__ == "__main__":
    main()
