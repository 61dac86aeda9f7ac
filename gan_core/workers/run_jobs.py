"""Heavy work a page asks for on one run, done by a worker process, with its progress in a small file in the run
directory.

Measuring a checkpoint samples the generator, runs the feature classifier over both sides and, for labelled variants,
trains the Classification Accuracy Score's small classifiers; drawing the timeline GIF decodes and quantises every
sample grid. That is seconds to minutes of CPU (and, for measuring, TensorFlow's memory) that a web server shared by a
demo's visitors must not spend. So a demo's pages start `python -m gan_core.workers.run_jobs KIND RUN_DIR --steps
A,B,...` and poll `<run>/<kind>_job.json`; the worker leaves its result in the run directory (evaluations in the run
store, as `evaluation.evaluate_run` always does; the GIF as `timeline.gif`). One job of each kind at a time per run.
Nothing here imports TensorFlow.
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

from gan_core.measuring import evaluation
from gan_core.inputs import images
from gan_core.store import runs
from gan_core.store.files import write_text_atomically
from gan_core.workers.jobs import process_alive, start_background_process
from gan_core.store.runs import Run

# Each kind of job, with what its worker does, as the progress says it.
KINDS = {"evaluation": "measuring", "timeline_gif": "drawing the timeline GIF"}
STATES = ("none", "starting", "working", "done", "failed")
TIMELINE_GIF = "timeline.gif"


@dataclass(frozen=True)
class RunJob:
    """What the worker last reported: its state (one of STATES), the steps it works on and how many are done, a
    message, its pid, and the owner hash of the demo visitor who started it (None: nobody's)."""

    state: str
    steps: tuple[int, ...] = ()
    done: int = 0
    message: str = ""
    pid: int | None = None
    owner_hash: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ("starting", "working")


def job_path(run: Run, kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"job kind {kind!r} is not one of {', '.join(KINDS)}")
    return run.path / f"{kind}_job.json"


def job_status(run: Run, kind: str) -> RunJob:
    """The run's last job of this kind; an active one whose process has gone is reported as failed."""
    path = job_path(run, kind)
    try:
        report = json.loads(path.read_text())
        job = RunJob(report["state"], tuple(report["steps"]), int(report["done"]), report["message"], report["pid"],
                     report.get("owner_hash"))
    except FileNotFoundError:
        return RunJob("none")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return RunJob("failed", message=f"the job's progress file is unreadable ({error})")
    if job.is_active and job.pid is not None and not process_alive(job.pid):
        return RunJob("failed", job.steps, job.done, "the worker process ended unexpectedly; its output is in "
                      f"{path.with_suffix('.log')}", job.pid, job.owner_hash)
    return job


def write_job(run: Run, kind: str, job: RunJob) -> None:
    write_text_atomically(job_path(run, kind), json.dumps({
        "state": job.state, "steps": list(job.steps), "done": job.done, "message": job.message, "pid": job.pid,
        "owner_hash": job.owner_hash, "updated": time.time()}))


def start_job(run: Run, kind: str, steps: list[int], owner_hash: str | None = None,
              options: tuple[str, ...] = ()) -> int:
    """Start the worker doing `kind` for `steps` of `run` (with the command-line `options` of that kind); returns its
    pid. ValueError while another job of that kind is at work on the run."""
    if not steps:
        raise ValueError("no step to work on: give at least one")
    current = job_status(run, kind)
    if current.is_active:
        raise ValueError(f"run {run.run_id} is being worked on already ({KINDS[kind]}: {current.done} of "
                         f"{len(current.steps)} done); wait until that has finished")
    command = [sys.executable, "-m", "gan_core.workers.run_jobs", kind, str(run.path.resolve()),
               "--steps", ",".join(str(step) for step in steps), *options]
    starting = RunJob("starting", tuple(steps), 0, "the worker process is starting", None, owner_hash)
    write_job(run, kind, starting)  # before the worker exists, so that it finds its owner in it
    try:
        pid = start_background_process(command, job_path(run, kind).with_suffix(".log"))
    except OSError as error:
        write_job(run, kind, dataclasses.replace(starting, state="failed",
                                                 message=f"the worker could not start: {error}"))
        raise ValueError(f"cannot start a worker for run {run.run_id}: {error}") from error
    # The worker reports "working" itself once its imports are done; until then the pid says who is on its way.
    if job_status(run, kind).state == "starting":
        write_job(run, kind, dataclasses.replace(starting, pid=pid))
    return pid


def evaluation_options(sample_count: int, seed: int) -> tuple[str, ...]:
    """The options of an evaluation job: `sample_count` samples per side, drawn with this seed."""
    return "--n", str(sample_count), "--seed", str(seed)


def active_job_owners(runs_dir: Path | str) -> list[str | None]:
    """The owner hash (None: nobody's) of every job at work now, of any kind, over every run of the store."""
    found = (job_status(run, kind) for run in runs.list_runs(runs_dir) for kind in KINDS
             if job_path(run, kind).exists())
    return [job.owner_hash for job in found if job.is_active]


def timeline_gif_path(run: Run) -> Path:
    return run.path / TIMELINE_GIF


def measure(run: Run, steps: list[int], sample_count: int, seed: int) -> None:
    """The evaluation worker's body: measure each checkpoint in turn (the results go to the run store), then real
    against real at this count (kept in the feature cache), which the page shows beside them."""
    report = progress_reporter(run, "evaluation", steps)
    for done, step in enumerate(steps):
        report("working", done, f"measuring step {step:,}")
        try:
            evaluation.evaluate_run(run, sample_count, step=step, seed=seed)
        except ValueError as error:
            report("failed", done, f"step {step:,} could not be measured: {error}")
            raise
    report("working", len(steps), "measuring real against real")
    try:
        evaluation.reference_scores(run.config, sample_count, seed=seed)
    except ValueError as error:
        report("failed", len(steps), f"real against real could not be measured: {error}")
        raise
    report("done", len(steps), f"measured {len(steps)} checkpoint(s)")


def draw_timeline_gif(run: Run, steps: list[int]) -> None:
    """The GIF worker's body: the sample grids of `steps`, in order, as a looping GIF beside them."""
    report = progress_reporter(run, "timeline_gif", steps)
    report("working", 0, f"drawing {len(steps)} frames")
    try:
        picture = images.gif_bytes([run.sample_path(step) for step in steps])
    except (OSError, ValueError) as error:
        report("failed", 0, f"the GIF could not be drawn: {error}")
        raise ValueError(f"the GIF could not be drawn: {error}") from error
    temporary = timeline_gif_path(run).with_name(f".{TIMELINE_GIF}.{os.getpid()}")
    temporary.write_bytes(picture)
    os.replace(temporary, timeline_gif_path(run))
    report("done", len(steps), f"drew {len(steps)} frames")


def progress_reporter(run: Run, kind: str, steps: list[int]):
    """A function writing this worker's progress: report(state, done, message)."""
    owner_hash = job_status(run, kind).owner_hash  # the starter wrote it in the first report

    def report(state: str, done: int, message: str) -> None:
        write_job(run, kind, RunJob(state, tuple(steps), done, message, os.getpid(), owner_hash))

    return report


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gan_core.workers.run_jobs", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=tuple(KINDS))
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--steps", required=True, help="the steps to work on, separated by commas")
    parser.add_argument("--n", type=int, help="evaluation: generated and real samples per side")
    parser.add_argument("--seed", type=int, default=0, help="evaluation: the seed of noise and real draws")
    options = parser.parse_args(arguments)
    run = runs.open_run(options.run_dir)
    steps = [int(step) for step in options.steps.split(",")]
    if options.kind == "evaluation":
        if options.n is None:
            parser.error("an evaluation needs --n")
        measure(run, steps, options.n, options.seed)
    else:
        draw_timeline_gif(run, steps)


if __name__ == "__main__":
    main()
