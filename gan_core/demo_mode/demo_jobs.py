"""Starting and resuming trainers under the demo's caps, for a visitor identified by the hash of their token.

The caps themselves are pure checks in `demo`; this module gathers what they need from the run store, applies
them in order (the run's size, the trainer slots, the room on disk) and only then creates or starts anything, so a
refused start leaves no run behind. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from gan_core.demo_mode import demo, demo_classifiers
from gan_core.workers import feature_jobs, jobs, run_jobs
from gan_core.store import ownership, runs
from gan_core.store.files import exclusive_lock
from gan_core.spec.config import RunConfig
from gan_core.demo_mode.demo import DemoLimits
from gan_core.store.runs import Run

START_LOCK_NAME = ".demo-start.lock"


def active_owners(runs_dir: Path) -> list[str | None]:
    """The owner hash of every run training now, and of every feature-classifier, evaluation or GIF worker at work,
    which takes a CPU as a trainer does (None for nobody's: the showcase's, runs made outside the demo)."""
    trainers = [(record.owner_hash if (record := ownership.read_owner(run.path)) else None)
                for run in jobs.refresh_all(runs_dir)]
    return trainers + demo_classifiers.active_worker_owners() + run_jobs.active_job_owners(runs_dir)


def stored_runs(runs_dir: Path) -> list[demo.StoredRun]:
    stored = []
    for run in runs.list_runs(runs_dir):
        record = ownership.read_owner(run.path)
        try:
            created = (run.path / "config.json").stat().st_mtime  # written once, when the run was created
        except FileNotFoundError:
            continue  # deleted meanwhile
        stored.append(demo.StoredRun(run.run_id, created, run.status.is_active,
                                     is_visitor_run=record is not None and not record.showcase))
    return stored


@contextlib.contextmanager
def starting_lock(runs_dir: Path) -> Iterator[None]:
    """Hold the store's start lock: two visitors pressing Start at once must not both fit under one free slot.

    flock locks belong to an open file, so the lock also separates the web server's session threads.
    """
    with exclusive_lock(Path(runs_dir) / START_LOCK_NAME, create_parent=True):
        yield


def start_owned_run(config: RunConfig, runs_dir: Path, owner_hash: str, limits: DemoLimits) -> Run:
    """Check every cap, prune old runs to make room, then create the run, record its owner and start it."""
    demo.check_config(config, limits)
    with starting_lock(runs_dir):
        demo.check_trainer_slots(active_owners(runs_dir), owner_hash, limits)
        for run_id in demo.runs_to_prune(stored_runs(runs_dir), limits):
            prune(Path(runs_dir) / run_id)
        run = runs.create_run(config, runs_dir)
        ownership.record_owner(run, ownership.OwnerRecord(owner_hash))
        jobs.start_run(run, max_seconds=limits.max_seconds)
    return run


def resume_owned_run(run: Run, owner_hash: str, limits: DemoLimits, extra_steps: int | None = None,
                     config_changes: dict[str, Any] | None = None) -> int:
    """Resume (or train more) a visitor's own run within the steps, time and trainer caps; returns the trainer's pid.

    `config_changes` are passed on to `jobs.resume_run` (lower learning rates for a diverged run)."""
    if not ownership.may_control(ownership.read_owner(run.path), owner_hash, demo=True):
        raise ValueError(f"run {run.run_id} belongs to someone else; only its owner can resume it")
    status = run.status
    if extra_steps is not None:
        demo.check_extra_steps(status.step, extra_steps, limits)
    seconds_left = demo.seconds_left(status.trained_seconds, limits)
    with starting_lock(run.path.parent):
        demo.check_trainer_slots(active_owners(run.path.parent), owner_hash, limits)
        return jobs.resume_run(run, extra_steps=extra_steps, max_seconds=seconds_left, config_changes=config_changes)


def start_owned_preparation(dataset_name: str, runs_dir: Path, owner_hash: str, limits: DemoLimits) -> int:
    """Start the worker that trains `dataset_name`'s feature classifier for a visitor, under the trainer caps;
    returns its pid. A worker already at it is joined, which costs nothing."""
    with starting_lock(runs_dir):
        current = feature_jobs.preparation_status(dataset_name)
        if current.is_active and current.pid is not None:
            return current.pid
        demo.check_trainer_slots(active_owners(runs_dir), owner_hash, limits)
        pid = feature_jobs.start_preparation(dataset_name)
        demo_classifiers.record_owner(dataset_name, owner_hash)
    return pid


def start_owned_run_job(run: Run, kind: str, steps: list[int], owner_hash: str, limits: DemoLimits,
                        options: tuple[str, ...] = ()) -> int:
    """Start a worker doing `kind` (run_jobs.KINDS) on `steps` of `run` for a visitor, under the trainer caps;
    returns its pid."""
    with starting_lock(run.path.parent):
        demo.check_trainer_slots(active_owners(run.path.parent), owner_hash, limits)
        return run_jobs.start_job(run, kind, steps, owner_hash, options)


def prune(run_path: Path) -> None:
    """Delete a run to make room; one that started training meanwhile is left alone."""
    try:
        runs.delete_run(runs.open_run(run_path))
    except (ValueError, FileNotFoundError):
        pass

