"""Trials on a Ray cluster: each stretch of a trial is a Ray task asking for its CPUs (and GPUs), so Ray queues the
stretches and places them on whichever node has the room; a stretch whose node dies is run again elsewhere and
resumes from the run's last checkpoint, as a local resume does.

Every node must see the run store at the same path (a shared folder) and hold this project at the same path as
the driver. The metrics database of a trial trained by Ray uses SQLite's rollback journal: WAL needs memory shared
between the writer and the readers, which only one host has.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable

import ray

from gan_core.store import runs
from gan_core.store.runs import Run
from gan_core.sweeps.plan import SweepPlan
from gan_core.workers import jobs

# A stretch whose node is lost is run again up to this many times before its trial counts as failed.
RETRIES = 3
POLL_SECONDS = 0.5
# prctl's option that sends the child a signal when the process that started it dies (Linux).
PR_SET_PDEATHSIG = 1


def run_trial_command(command: list[str], environment: dict[str, str], log_path: str) -> int:
    """A Ray task's body: run one stretch of a trial as a process of its own on this node, its output appended to the
    run's log, and return its exit status.

    The process dies with the Ray worker that started it: a worker killed with its node must not leave a trainer
    writing to the run while Ray runs the stretch again elsewhere.
    """
    def die_with_parent() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    with open(log_path, "ab") as log:
        completed = subprocess.run(command, env={**os.environ, **environment}, cwd=jobs.PROJECT_ROOT, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent,
                                   check=False)
    return completed.returncode


class RayTrials:
    """Stretches of trials as Ray tasks on the cluster at the plan's address; Ray, not a local queue, decides when
    each starts."""

    slots = None

    def __init__(self, plan: SweepPlan) -> None:
        self.plan = plan
        environment = trial_environment()
        if not ray.is_initialized():
            ray.init(address=plan.ray_address, runtime_env={"env_vars": environment}, log_to_driver=False,
                     logging_level="WARNING", configure_logging=False)
        self.task = ray.remote(run_trial_command).options(
            num_cpus=plan.cpus_per_trial, num_gpus=plan.gpus_per_trial, max_retries=RETRIES, retry_exceptions=False)
        self.environment = environment

    def run(self, stretches: list[tuple[Run, list[str]]], stop_requested: Callable[[], bool]) -> dict[str, int]:
        """Submit every stretch (a run and its `trial` arguments), wait for all to end (stopping them on a stop
        request); returns each run id's exit status (0: trained and measured; -1: its task failed even after RETRIES
        tries)."""
        pending = {}
        for run, arguments in stretches:
            note_waiting(run, self.plan)
            command = [sys.executable, "-m", "gan_core", *arguments]
            pending[self.task.remote(command, self.environment, str(run.log_path.resolve()))] = run
        exits, stopping = {}, False
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            for reference in done:
                run = pending.pop(reference)
                exits[run.run_id] = exit_status(reference, run)
            if not stopping and stop_requested():
                stopping = True
                for run in pending.values():
                    jobs.stop_if_active(run)
        return exits


    def close(self) -> None:
        ray.shutdown()


def exit_status(reference, run: Run) -> int:
    """The stretch's exit status; -1 when its task failed for good, with Ray's reason at the end of the run's log."""
    try:
        return int(ray.get(reference))
    except ray.exceptions.RayError as error:
        with open(run.log_path, "a") as log:
            log.write(f"\nthe Ray task of this trial failed after {RETRIES} retries: {error}\n")
        with runs.status_lock(run.path) as status:
            if status.is_active:
                runs.replace_status(run.path, status, "failed", f"its Ray task failed after {RETRIES} retries; the "
                                    "end of its log says why", pid=None, step=status.step)
        return -1


def note_waiting(run: Run, plan: SweepPlan) -> None:
    """Say in the trial's status that it waits for room on the cluster; the driver's pid stands for it meanwhile."""
    resources = f"{plan.cpus_per_trial:g} free CPU(s)" + (f" and {plan.gpus_per_trial:g} GPU(s)"
                                                          if plan.gpus_per_trial else "")
    runs.write_status(run.path, "queued", f"waiting for a node of the Ray cluster with {resources}",
                      pid=os.getpid(), step=run.status.step)


def trial_environment() -> dict[str, str]:
    """What every trial's process needs on any node: this project on its path, the same data folder, and the
    rollback journal for its metrics."""
    passed = {name: os.environ[name] for name in ("GAN_DATA_DIR", "GAN_CACHE_DIR", "KERAS_HOME") if name in os.environ}
    return {**passed, "PYTHONPATH": str(jobs.PROJECT_ROOT), runs.JOURNAL_VARIABLE: "delete"}
