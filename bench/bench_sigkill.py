"""Do runs survive their trainer being killed? SIGKILL trials on one digits-mlp run, then a check against a
run that was never interrupted.

    python3 bench/bench_sigkill.py [--trials 10] [--steps 500]

One run trains with a checkpoint every 5 steps and a metrics row every step. Each trial lets a trainer process
start (or resume) and kill -9's it: even trials the moment a checkpoint write is seen in progress (TensorFlow
writes into a `ckpt-N_temp` folder first), odd trials at a random moment. After each kill the metrics store must
pass SQLite's `PRAGMA integrity_check` and hold every step from 1 on without a gap, and the next process must
resume from the newest readable checkpoint. After the last trial a resume must reach the target step, and its
metrics must equal, row for row, those of the same config trained without interruption (training is a pure
function of the seed and the step). Prints one line per trial and a summary; exits 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from project_paths import PROJECT_ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gan_core.store.runs import Run, open_run, read_status  # noqa: E402

TRAIN_SETTINGS = ["--preset", "digits-mlp", "--set", "checkpoint_every=5", "--set", "log_every=1",
                  "--set", "sample_every=100000", "--set", "max_examples=512"]
STARTUP_TIMEOUT = 120


@dataclass
class Trial:
    number: int
    aimed_at_checkpoint_write: bool
    killed_during_checkpoint_write: bool = False
    killed_at_step: int = 0
    resumed_from: int | None = None
    expected_resume_step: int = 0  # the newest checkpoint whose write completed before the kill
    integrity: str = ""
    continuous: bool = False
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and self.integrity == "ok" and self.continuous and self.resumed_from is not None


def gan_core_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "gan_core", *arguments]


def start(command: list[str], log_path: Path) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)


def wait_until_training(run_dir: Path, process: subprocess.Popen) -> int:
    """Wait until `process` has restored its checkpoint and reports "running"; returns the step it started from."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        status = read_status(run_dir)
        if status.state == "running" and status.pid == process.pid:
            return status.step
        if process.poll() is not None:
            raise RuntimeError(f"the trainer exited with status {process.returncode} before training")
        time.sleep(0.05)
    raise RuntimeError("the trainer did not start training in time")


def checkpoint_write_in_progress(run_dir: Path) -> bool:
    return any(entry.name.endswith("_temp") for entry in (run_dir / "checkpoints").iterdir())


def wait_for_step(run_dir: Path, process: subprocess.Popen, step: int) -> None:
    """Wait until the trainer has logged `step` (its first steps also trace the compiled step, which takes a while)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while read_status(run_dir).step < step and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)


def kill(process: subprocess.Popen, run_dir: Path, start_step: int, aim_at_checkpoint_write: bool) -> bool:
    """SIGKILL the trainer some steps after it started, during a checkpoint write when asked (and one is seen
    within 20 s) or at a random moment; True if it was killed mid-write."""
    wait_for_step(run_dir, process, start_step + random.randint(1, 20))
    if aim_at_checkpoint_write:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not checkpoint_write_in_progress(run_dir):
            time.sleep(0.001)
    else:
        time.sleep(random.uniform(0.0, 0.5))
    os.kill(process.pid, signal.SIGKILL)
    during_write = checkpoint_write_in_progress(run_dir)
    process.wait()
    return during_write


def metrics_health(run: Run) -> tuple[str, list[int]]:
    """SQLite's own integrity verdict on the metrics store, and the logged steps."""
    connection = sqlite3.connect(run.database_path)
    try:
        verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
        steps = [row[0] for row in connection.execute("SELECT step FROM metrics ORDER BY step")]
    finally:
        connection.close()
    return verdict, steps


def metric_rows(run: Run) -> list[tuple]:
    return [(row["step"], row["d_loss"], row["g_loss"], row["d_grad_norm"], row["g_grad_norm"])
            for row in run.metrics_since()]


def run_trials(trials: int, steps: int, work_dir: Path, report=print) -> tuple[list[Trial], str]:
    """Run the trials in `work_dir`; returns them and a verdict on the final resume ("" when it is sound)."""
    runs_dir = work_dir / "runs"
    reference_dir = work_dir / "reference"
    log_path = work_dir / "trials.log"
    reference = start(gan_core_command("train", *TRAIN_SETTINGS, "--steps", str(steps),
                                       "--runs-dir", str(reference_dir)),
                      work_dir / "reference.log")
    process = start(gan_core_command("train", *TRAIN_SETTINGS, "--steps", str(steps), "--runs-dir", str(runs_dir)),
                    log_path)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not (runs_dir.is_dir() and any(runs_dir.iterdir())):
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the first trainer did not create its run; see {log_path}")
        time.sleep(0.05)
    run_dir = next(runs_dir.iterdir())
    run = open_run(run_dir)
    results = []
    for number in range(1, trials + 1):
        trial = Trial(number, aimed_at_checkpoint_write=number % 2 == 0)
        try:
            trial.resumed_from = wait_until_training(run_dir, process)
            if number > 1 and trial.resumed_from != results[-1].expected_resume_step:
                trial.problem = (f"resumed from step {trial.resumed_from}, not the newest readable checkpoint "
                                 f"{results[-1].expected_resume_step}")
            trial.killed_during_checkpoint_write = kill(process, run_dir, trial.resumed_from,
                                                          trial.aimed_at_checkpoint_write)
            trial.killed_at_step = read_status(run_dir).step
            trial.integrity, logged_steps = metrics_health(run)
            trial.continuous = logged_steps == list(range(1, len(logged_steps) + 1))
        except RuntimeError as error:
            trial.problem = str(error)
        trial.expected_resume_step = max(run.checkpoint_steps(), default=0)
        results.append(trial)
        moment = "during a checkpoint write" if trial.killed_during_checkpoint_write else "between checkpoint writes"
        report(f"trial {number:2d}: killed at step {trial.killed_at_step:4d} "
               f"{moment:<26}"
               f" resumed from {trial.resumed_from}, integrity {trial.integrity or '-'}, "
               f"metrics {'continuous' if trial.continuous else 'NOT continuous'}"
               f"{'  PROBLEM: ' + trial.problem if trial.problem else ''}")
        process = start(gan_core_command("resume", str(run_dir)), log_path)

    verdict = ""
    final_start = wait_until_training(run_dir, process)
    if final_start != results[-1].expected_resume_step:
        verdict = f"the final resume started from step {final_start}, not {results[-1].expected_resume_step}"
    if process.wait(timeout=600) != 0 or reference.wait(timeout=600) != 0:
        verdict = verdict or f"a trainer failed; see {log_path} and {work_dir / 'reference.log'}"
    status = read_status(run_dir)
    integrity, logged_steps = metrics_health(run)
    if not verdict and (status.state, status.step) != ("finished", steps):
        verdict = f"the final resume ended {status.state} at step {status.step}, not finished at {steps}"
    if not verdict and (integrity != "ok" or logged_steps != list(range(1, steps + 1))):
        verdict = f"the final metrics store is damaged or has gaps (integrity {integrity})"
    if not verdict and metric_rows(run) != metric_rows(open_run(next(reference_dir.iterdir()))):
        verdict = "the interrupted run's metrics differ from the uninterrupted run's"
    return results, verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--keep", help="a folder to keep the runs in (default: a temporary one)")
    options = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as temporary:
        work_dir = Path(options.keep or temporary)
        work_dir.mkdir(parents=True, exist_ok=True)
        trials, verdict = run_trials(options.trials, options.steps, work_dir)
    clean = sum(trial.ok for trial in trials)
    during_write = sum(trial.killed_during_checkpoint_write for trial in trials)
    print(f"{clean} of {len(trials)} SIGKILL trials resumed cleanly ({during_write} killed during a checkpoint write); "
          f"final resume: {verdict or f'reached step {options.steps}, metrics identical to an uninterrupted run'}; "
          f"{time.monotonic() - started:.0f} s")
    return 0 if clean == len(trials) and not verdict else 1


if __name__ == "__main__":
    sys.exit(main())
