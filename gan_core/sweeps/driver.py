"""The process that runs a sweep: each rung's trials trained and measured (on this machine's queue or on a Ray
cluster), the better half kept at each rung when halving, the ranking written to the sweep's state.

`start_sweep` launches it as `python -m gan_core.sweeps.driver SWEEP_DIR`, detached like a trainer, so a closed
browser tab never ends a sweep; the command line's `sweep` runs it in the foreground. Every stretch of a trial is
`python -m gan_core trial RUN ...`: it trains to the rung's budget from the run's last checkpoint, then measures the
checkpoint it ended on, so a stretch cut short (a node lost) is simply run again and resumes exactly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gan_core.store import runs
from gan_core.store.runs import Run
from gan_core.sweeps import halving, sweep_store
from gan_core.sweeps.sweep_store import Sweep, SweepState
from gan_core.workers import jobs, queue

POLL_SECONDS = 0.5


def start_sweep(sweep: Sweep) -> int:
    """Launch the sweep's driver process; returns its pid."""
    command = [sys.executable, "-m", "gan_core.sweeps.driver", str(sweep.path.resolve())]
    pid = jobs.start_background_process(command, sweep.log_path)
    with sweep_store.state_lock(sweep) as state:
        if state.state == "queued":  # until the driver reports for itself
            sweep_store.replace_state(sweep, dataclasses.replace(state, pid=pid))
    return pid


def refresh_sweep(sweep: Sweep) -> SweepState:
    """The sweep's state, marked failed first when it is active but its driver process has gone (killed, or the
    machine restarted): its trials stay as they are, each an ordinary run that can be resumed."""
    if not looks_abandoned(sweep.state):
        return sweep.state
    with sweep_store.state_lock(sweep) as state:
        if looks_abandoned(state):
            state = dataclasses.replace(state, state="failed", pid=None, message=f"its driver process (pid "
                                        f"{state.pid}) ended before the sweep finished; its log is {sweep.log_path}")
            sweep_store.replace_state(sweep, state)
    return state


def looks_abandoned(state: SweepState) -> bool:
    return state.is_active and bool(state.pid) and not jobs.process_alive(state.pid)


def stop_sweep(sweep: Sweep) -> None:
    """Ask the driver to stop every trial (each checkpoints) and end; queued trials are cancelled."""
    with sweep_store.state_lock(sweep) as state:
        if not state.is_active:
            raise ValueError(f"sweep {sweep.sweep_id} is {state.state}, not running")
        sweep.stop_request_path.touch()
        sweep_store.replace_state(sweep, dataclasses.replace(state, state="stopping", message="stop requested"))


def trial_arguments(sweep: Sweep, run: Run, budget: float, slots: int | None) -> list[str]:
    """The `trial` command's arguments for one stretch: train `run` to `budget` (steps or seconds), then measure it.
    This driver holds the run until a worker (or a node of a cluster) takes it; on this machine the stretch then waits
    in the run folder's queue for one of `slots` slots, beside any other run there."""
    plan = sweep.plan
    until = ["--until-step", str(int(budget))] if plan.budget_steps else ["--until-seconds", f"{budget:.3f}"]
    queued = ["--slots", str(slots)] if slots else []
    return ["trial", str(run.path.resolve()), *until, "--samples", str(sweep.samples), "--measure", plan.measure,
            "--seed", str(plan.seed), "--held-by", str(os.getpid()), *queued]


class TrialWorker:
    """A `python -m gan_core trial-worker` process: it loads TensorFlow once and trains the stretches it is sent one
    after another (a new process per stretch would spend about five seconds loading TensorFlow each time)."""

    def __init__(self, log_path: Path) -> None:
        read_end, write_end = os.pipe()
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gan_core", "trial-worker", "--reply-fd", str(write_end)],
                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_end,),
                cwd=jobs.PROJECT_ROOT, env=jobs.engine_environment(), start_new_session=True, text=True)
        os.close(write_end)
        self.replies = os.fdopen(read_end, "r")
        self.run: Run | None = None

    def send(self, run: Run, arguments: list[str]) -> None:
        self.run = run
        self.process.stdin.write(json.dumps(arguments) + "\n")
        self.process.stdin.flush()

    def answer(self) -> int:
        """The exit status of the stretch sent last (-1 when the worker died on it); call once `replies` is readable."""
        line = self.replies.readline()
        self.run = None
        return json.loads(line)["exit"] if line else -1

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        self.process.wait()
        self.replies.close()


class LocalTrials:
    """Stretches of trials on this machine: `slots` trial workers, each stretch also waiting in the run folder's queue,
    so that a sweep and the runs started by hand share the machine's slots."""

    def __init__(self, slots: int, log_path: Path) -> None:
        self.slots = slots
        self.log_path = log_path
        self.workers: list[TrialWorker] = []

    def run(self, stretches: list[tuple[Run, list[str]]], stop_requested: Callable[[], bool]) -> dict[str, int]:
        """Train every stretch (a run and its `trial` arguments), `slots` at a time, first come first; returns each run
        id's exit status (0: trained and measured; -1: its worker died). A stop request stops the ones training and
        cancels the others."""
        waiting, exits, stopping = list(stretches), {}, False
        while waiting or any(worker.run for worker in self.workers):
            if not stopping and stop_requested():
                stopping = True
                cancel(waiting, exits)
                for worker in self.workers:
                    if worker.run is not None:
                        jobs.stop_if_active(worker.run)
            note_places(waiting, self.slots)
            for worker in self.idle_workers(len(waiting)):
                worker.send(*waiting.pop(0))
            for worker in self.answered_workers():
                run = worker.run
                exits[run.run_id] = worker.answer()
        return exits

    def idle_workers(self, wanted: int) -> list[TrialWorker]:
        """Idle workers for up to `wanted` stretches, started as needed up to `slots`; dead ones are replaced."""
        self.workers = [worker for worker in self.workers if worker.process.poll() is None or worker.run]
        while len(self.workers) < min(self.slots, wanted + sum(1 for worker in self.workers if worker.run)):
            self.workers.append(TrialWorker(self.log_path))
        return [worker for worker in self.workers if worker.run is None][:wanted]

    def answered_workers(self) -> list[TrialWorker]:
        busy = [worker for worker in self.workers if worker.run is not None]
        if not busy:
            return []
        readable, _, _ = select.select([worker.replies for worker in busy], [], [], POLL_SECONDS)
        return [worker for worker in busy if worker.replies in readable]

    def close(self) -> None:
        for worker in self.workers:
            worker.close()


def note_places(waiting: list[tuple[Run, list[str]]], slots: int) -> None:
    """Each waiting stretch's place in the sweep's line, in its run's status; this driver holds the run meanwhile."""
    for place, (run, _) in enumerate(waiting, start=1):
        message = queue.waiting_message(place, len(waiting), slots)
        if run.status.message != message:
            runs.write_status(run.path, "queued", message, pid=os.getpid(), step=run.status.step)


def cancel(waiting: list[tuple[Run, list[str]]], exits: dict[str, int]) -> None:
    for run, _ in waiting:
        runs.write_status(run.path, "stopped", "cancelled with its sweep before it trained this stretch", pid=None,
                          step=run.status.step)
        exits[run.run_id] = 1
    waiting.clear()


def trials_backend(sweep: Sweep):
    plan = sweep.plan
    if plan.ray_address:
        from gan_core.sweeps import cluster  # Ray loads only for a sweep that asks for a cluster

        return cluster.RayTrials(plan)
    return LocalTrials(plan.slots, sweep.log_path)


def run_sweep(sweep: Sweep, on_report: Callable[[str], None] = lambda message: None) -> SweepState:
    """Run every rung of the sweep and return its final state (also written to state.json)."""
    trials = [run for run, _ in sweep.trials()]
    state = SweepState("running", "starting", os.getpid(), scores={run.run_id: [] for run in trials})
    backend = trials_backend(sweep)
    try:
        state = run_rungs(sweep, backend, trials, state, on_report)
    finally:
        backend.close()
    if sweep.stop_request_path.exists():
        return report(sweep, dataclasses.replace(state, state="stopped", pid=None, message="stopped on request"),
                      on_report)
    ranking = halving.ranking(state.scores, sweep.plan.better())
    return report(sweep, dataclasses.replace(state, state="finished", pid=None, ranking=ranking,
                                             message=final_message(sweep, ranking, state.scores)), on_report)


def run_rungs(sweep: Sweep, backend, alive: list[Run], state: SweepState, on_report) -> SweepState:
    """Each rung in turn: its stretches trained and measured, then (before the last) the worse half halted."""
    budgets = sweep.plan.rung_budgets()
    for rung, budget in enumerate(budgets):
        state = report(sweep, dataclasses.replace(state, rung=rung, message=rung_message(sweep.plan, rung, budgets,
                                                                                         alive)), on_report)
        exits = backend.run([(run, trial_arguments(sweep, run, budget, backend.slots)) for run in alive],
                            sweep.stop_request_path.exists)
        if sweep.stop_request_path.exists():
            return state
        rung_scores = measured_scores(sweep, alive, exits)
        for run_id, score in rung_scores.items():
            if score is not None:
                state.scores[run_id].append(score)
        alive = [run for run in alive if rung_scores.get(run.run_id) is not None]
        if rung < len(budgets) - 1:
            kept = halving.survivors({run.run_id: rung_scores[run.run_id] for run in alive}, sweep.plan.better())
            for run in alive:
                if run.run_id not in kept:
                    halt(run, rung, len(budgets))
                    state.halted[run.run_id] = rung
            alive = [run for run in alive if run.run_id in kept]
    return state


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
    settings = next(trial["settings"] for trial in sweep.record["trials"] if trial["run_id"] == best)
    varied = " ".join(f"{name}={value}" for name, value in settings.items())
    return f"best: {varied} ({best}) with {sweep.plan.measure} {scores[best][-1]:.4g}"


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
