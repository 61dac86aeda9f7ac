"""The process that runs a sweep: each rung's trials trained and measured (on this machine's queue or on a Ray
cluster), the better half kept at each rung when halving, the ranking written to the sweep's state.

`start_sweep` launches it as `python -m gan_core.sweeps.driver SWEEP_DIR`, detached like a trainer, so a closed
browser tab never ends a sweep; the command line's `sweep` runs it in the foreground. Every stretch of a trial is
`python -m gan_core trial RUN ...`: it trains to the rung's budget from the run's last checkpoint, then measures the
checkpoint it ended on, so a stretch cut short (a node lost) is simply run again and resumes exactly.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from gan_core.store import runs
from gan_core.store.runs import Run
from gan_core.sweeps import halving, sweep_store
from gan_core.sweeps.sweep_store import Sweep, SweepState
from gan_core.workers import jobs

POLL_SECONDS = 0.5


def start_sweep(sweep: Sweep) -> int:
    """Launch the sweep's driver process; returns its pid."""
    command = [sys.executable, "-m", "gan_core.sweeps.driver", str(sweep.path.resolve())]
    pid = jobs.start_background_process(command, sweep.log_path)
    state = sweep.state
    if state.state == "queued":
        sweep_store.write_state(sweep, dataclasses.replace(state, pid=pid))
    return pid


def stop_sweep(sweep: Sweep) -> None:
    """Ask the driver to stop every trial (each checkpoints) and end; queued trials are cancelled."""
    state = sweep.state
    if not state.is_active:
        raise ValueError(f"sweep {sweep.sweep_id} is {state.state}, not running")
    sweep.stop_request_path.touch()
    sweep_store.write_state(sweep, dataclasses.replace(state, state="stopping", message="stop requested"))


def trial_command(sweep: Sweep, run: Run, budget: float, slots: int | None) -> list[str]:
    """The command of one stretch of a trial: train `run` to `budget` (steps or seconds), then measure it."""
    plan = sweep.plan
    until = ["--until-step", str(int(budget))] if plan.budget_steps else ["--until-seconds", f"{budget:.3f}"]
    # On this machine the trial waits in the queue; on a cluster this driver holds the run until Ray starts it.
    waiting = ["--slots", str(slots)] if slots else ["--held-by", str(os.getpid())]
    return [sys.executable, "-m", "gan_core", "trial", str(run.path.resolve()), *until,
            "--samples", str(sweep.samples), "--measure", plan.measure, "--seed", str(plan.seed), *waiting]


class LocalTrials:
    """Stretches of trials as processes on this machine, each waiting in the run store's queue for one of `slots`."""

    def __init__(self, slots: int) -> None:
        self.slots = slots

    def run(self, stretches: list[tuple[Run, list[str]]], stop_requested: Callable[[], bool]) -> dict[str, int]:
        """Start every stretch (a run and its command), wait for all to end (stopping them on a stop request);
        returns each run id's exit status (0: trained and measured)."""
        started = {}
        for run, command in stretches:
            with open(run.log_path, "ab") as log:
                started[run.run_id] = (run, subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, cwd=jobs.PROJECT_ROOT, env=jobs.engine_environment(),
                    start_new_session=True))
        stopping = False
        while any(process.poll() is None for _, process in started.values()):
            if not stopping and stop_requested():
                stopping = True
                for run, _ in started.values():
                    jobs.stop_if_active(run)
            time.sleep(POLL_SECONDS)
        return {run_id: process.returncode for run_id, (_, process) in started.items()}


def trials_backend(sweep: Sweep):
    plan = sweep.plan
    if plan.ray_address:
        from gan_core.sweeps import cluster  # Ray loads only for a sweep that asks for a cluster

        return cluster.RayTrials(plan)
    return LocalTrials(plan.slots)


def run_sweep(sweep: Sweep, on_report: Callable[[str], None] = lambda message: None) -> SweepState:
    """Run every rung of the sweep and return its final state (also written to state.json)."""
    plan = sweep.plan
    better = plan.better()
    trials = [run for run, _ in sweep.trials()]
    state = SweepState("running", "starting", os.getpid(), scores={run.run_id: [] for run in trials})
    backend = trials_backend(sweep)
    budgets = plan.rung_budgets()
    alive = trials
    for rung, budget in enumerate(budgets):
        state = report(sweep, dataclasses.replace(state, rung=rung, message=rung_message(plan, rung, budgets, alive)),
                       on_report)
        stretches = [(run, trial_command(sweep, run, budget, backend.slots)) for run in alive]
        exits = backend.run(stretches, sweep.stop_request_path.exists)
        if sweep.stop_request_path.exists():
            return report(sweep, dataclasses.replace(state, state="stopped", pid=None, message="stopped on request"),
                          on_report)
        rung_scores = measured_scores(sweep, alive, exits)
        for run_id, score in rung_scores.items():
            if score is not None:
                state.scores[run_id].append(score)
        alive = [run for run in alive if rung_scores.get(run.run_id) is not None]
        if rung < len(budgets) - 1:
            kept = halving.survivors({run.run_id: rung_scores[run.run_id] for run in alive}, better)
            for run in alive:
                if run.run_id not in kept:
                    halt(run, rung, len(budgets))
                    state.halted[run.run_id] = rung
            alive = [run for run in alive if run.run_id in kept]
    ranking = halving.ranking(state.scores, better)
    return report(sweep, dataclasses.replace(state, state="finished", pid=None, ranking=ranking,
                                             message=final_message(sweep, ranking, state.scores)), on_report)


def measured_scores(sweep: Sweep, alive: list[Run], exits: dict) -> dict[str, float | None]:
    """Each trial's score at the end of this rung; None for a trial whose stretch failed or gave no score."""
    plan = sweep.plan
    scores = {}
    for run in alive:
        found = sweep_store.trial_score(run, plan.measure, sweep.samples, plan.seed) if exits[run.run_id] == 0 else None
        scores[run.run_id] = found[1] if found else None
    return scores


def halt(run: Run, rung: int, rungs: int) -> None:
    """Mark a trial that successive halving stopped after `rung`; its checkpoints stay, and it can be resumed."""
    runs.write_status(run.path, "stopped", f"stopped by successive halving after rung {rung + 1} of {rungs}: its "
                                           f"measure was in the worse half", pid=None, step=run.status.step)


def rung_message(plan, rung: int, budgets: list[float], alive: list[Run]) -> str:
    unit = "steps" if plan.budget_steps else "seconds"
    return f"rung {rung + 1} of {len(budgets)}: {len(alive)} trial(s) train to {budgets[rung]:g} {unit}"


def final_message(sweep: Sweep, ranking: list[str], scores: dict) -> str:
    if not ranking or not scores[ranking[0]]:
        return "no trial could be measured; their logs say why"
    best = ranking[0]
    return f"best: {best} with {sweep.plan.measure} {scores[best][-1]:.4g}"


def report(sweep: Sweep, state: SweepState, on_report: Callable[[str], None]) -> SweepState:
    sweep_store.write_state(sweep, state)
    on_report(state.message)
    return state


def main(arguments: list[str] | None = None) -> int:
    path = Path((arguments if arguments is not None else sys.argv[1:])[0])
    sweep = sweep_store.open_sweep(path)
    try:
        run_sweep(sweep, on_report=lambda message: print(message, flush=True))
    except Exception as error:
        sweep_store.write_state(sweep, dataclasses.replace(sweep.state, state="failed", pid=None,
                                                           message=f"{type(error).__name__}: {error}"))
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
