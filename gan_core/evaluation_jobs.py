"""Measuring checkpoints in a worker process, with its progress in a small file in the run directory.

Measuring one checkpoint samples the generator, runs the feature classifier over both sides and, for labelled
variants, trains the Classification Accuracy Score's small classifiers: seconds to minutes of CPU (and TensorFlow's
memory) that a web server shared by a demo's visitors must not spend. So a demo's Evaluate page starts
`python -m gan_core.evaluation_jobs RUN_DIR --n N --seed S --steps A,B,...` and polls `<run>/evaluation_job.json`;
the worker stores each result through `evaluation.evaluate_run`, as always, and the page shows it from the store.
One job at a time per run. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gan_core import runs
from gan_core.files import write_text_atomically
from gan_core.jobs import process_alive, start_background_process
from gan_core.runs import Run

JOB_FILE = "evaluation_job.json"
LOG_FILE = "evaluation_job.log"
STATES = ("none", "starting", "measuring", "done", "failed")


@dataclass(frozen=True)
class EvaluationJob:
    """What the worker last reported: its state (one of STATES), the steps it measures and how many are done, a
    message, its pid, and the owner hash of the demo visitor who started it (None: nobody's)."""

    state: str
    steps: tuple[int, ...] = ()
    done: int = 0
    message: str = ""
    pid: int | None = None
    owner_hash: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ("starting", "measuring")


def job_status(run: Run) -> EvaluationJob:
    """The run's last evaluation job; an active one whose process has gone is reported as failed."""
    try:
        report = json.loads((run.path / JOB_FILE).read_text())
        job = EvaluationJob(report["state"], tuple(report["steps"]), int(report["done"]), report["message"],
                            report["pid"], report.get("owner_hash"))
    except FileNotFoundError:
        return EvaluationJob("none")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return EvaluationJob("failed", message=f"the job's progress file is unreadable ({error})")
    if job.is_active and job.pid is not None and not process_alive(job.pid):
        return EvaluationJob("failed", job.steps, job.done, "the worker process ended unexpectedly; its output is in "
                             f"{run.path / LOG_FILE}", job.pid, job.owner_hash)
    return job


def write_job(run: Run, job: EvaluationJob) -> None:
    write_text_atomically(run.path / JOB_FILE, json.dumps({
        "state": job.state, "steps": list(job.steps), "done": job.done, "message": job.message, "pid": job.pid,
        "owner_hash": job.owner_hash, "updated": time.time()}))


def start_evaluation(run: Run, steps: list[int], sample_count: int, seed: int, owner_hash: str | None = None) -> int:
    """Start the worker that measures `steps` of `run`; returns its pid. ValueError while another job measures it."""
    if not steps:
        raise ValueError("no checkpoint to measure: give at least one step")
    current = job_status(run)
    if current.is_active:
        raise ValueError(f"run {run.run_id} is being measured already ({current.done} of {len(current.steps)} "
                         "checkpoints done); wait until that has finished")
    command = [sys.executable, "-m", "gan_core.evaluation_jobs", str(run.path.resolve()), "--n", str(sample_count),
               "--seed", str(seed), "--steps", ",".join(str(step) for step in steps)]
    starting = EvaluationJob("starting", tuple(steps), 0, "the worker process is starting", None, owner_hash)
    write_job(run, starting)  # before the worker exists, so that it finds its owner in it
    try:
        pid = start_background_process(command, run.path / LOG_FILE)
    except OSError as error:
        write_job(run, dataclasses.replace(starting, state="failed", message=f"the worker could not start: {error}"))
        raise ValueError(f"cannot start measuring run {run.run_id}: {error}") from error
    # The worker reports "measuring" itself once its imports are done; until then the pid says who is on its way.
    if job_status(run).state == "starting":
        write_job(run, dataclasses.replace(starting, pid=pid))
    return pid


def active_job_owners(runs_dir: Path | str) -> list[str | None]:
    """The owner hash (None: nobody's) of every evaluation job at work now, over every run of the store."""
    jobs = (job_status(run) for run in runs.list_runs(runs_dir) if (run.path / JOB_FILE).exists())
    return [job.owner_hash for job in jobs if job.is_active]


def measure(run: Run, steps: list[int], sample_count: int, seed: int) -> None:
    """The worker's body: measure each checkpoint in turn, reporting progress; the results go to the run store."""
    from gan_core import evaluation  # Imported here: the web server imports this module only to start and watch jobs.

    owner_hash = job_status(run).owner_hash  # the starter wrote it in the first report
    for done, step in enumerate(steps):
        write_job(run, EvaluationJob("measuring", tuple(steps), done, f"measuring step {step:,}", os.getpid(),
                                     owner_hash))
        try:
            evaluation.evaluate_run(run, sample_count, step=step, seed=seed)
        except ValueError as error:
            write_job(run, EvaluationJob("failed", tuple(steps), done, f"step {step:,} could not be measured: {error}",
                                         os.getpid(), owner_hash))
            raise
    write_job(run, EvaluationJob("done", tuple(steps), len(steps), f"measured {len(steps)} checkpoint(s)",
                                 os.getpid(), owner_hash))


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gan_core.evaluation_jobs", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--n", type=int, required=True, help="generated and real samples per side")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", required=True, help="the checkpoint steps to measure, separated by commas")
    options = parser.parse_args(arguments)
    measure(runs.open_run(options.run_dir), [int(step) for step in options.steps.split(",")], options.n,
            options.seed)


if __name__ == "__main__":
    main()
