"""A sweep on disk: `<runs>/sweeps/<id>/sweep.json` (the plan and its trials, written once) and `state.json` (what
its driver last reported). Its trials are ordinary runs beside the others in `<runs>`: Monitor, Gallery, Evaluate,
resume and export work on them as on any run.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import secrets
import time
from dataclasses import dataclass, field
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gan_core.measuring import evaluation
from gan_core.store import runs
from gan_core.store.files import exclusive_lock, write_text_atomically
from gan_core.store.runs import Run
from gan_core.sweeps.plan import DEFAULT_SAMPLES, SweepPlan

SWEEPS_FOLDER = "sweeps"
STATES = ("queued", "running", "stopping", "stopped", "finished", "failed")
ACTIVE_STATES = ("queued", "running", "stopping")


@dataclass(frozen=True)
class SweepState:
    """The driver's report: its state (one of STATES), a message, its pid, the rung it is at (0-based), each trial's
    score at each rung it reached, the rung each halved trial stopped at, and the ranking so far (run ids)."""

    state: str
    message: str = ""
    pid: int | None = None
    rung: int = 0
    scores: dict[str, list[float | None]] = field(default_factory=dict)
    halted: dict[str, int] = field(default_factory=dict)
    ranking: list[str] = field(default_factory=list)
    updated: float = 0.0

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True)
class Sweep:
    path: Path

    @property
    def sweep_id(self) -> str:
        return self.path.name

    @property
    def runs_dir(self) -> Path:
        return self.path.parent.parent

    @functools.cached_property
    def record(self) -> dict[str, Any]:
        """sweep.json: written once, when the sweep is made, so read once."""
        return json.loads((self.path / "sweep.json").read_text())

    @functools.cached_property
    def plan(self) -> SweepPlan:
        return SweepPlan.from_dict(self.record["plan"])

    @property
    def samples(self) -> int:
        """Samples per side of every measure of this sweep (the plan's, or the one chosen when it was made)."""
        return int(self.record["samples"])

    def trials(self) -> list[tuple[Run, dict[str, Any]]]:
        """Each trial's run and the settings it varies, in the sweep's order; a trial whose run was deleted is left
        out."""
        found = []
        for trial in self.record["trials"]:
            path = self.runs_dir / trial["run_id"]
            if path.is_dir():
                found.append((Run(path), trial["settings"]))
        return found

    @property
    def state(self) -> SweepState:
        try:
            values = json.loads((self.path / "state.json").read_text())
            return SweepState(**{key: values[key] for key in values if key in SweepState.__dataclass_fields__})
        except (OSError, ValueError, TypeError) as error:
            return SweepState("failed", f"state.json is missing or unreadable ({error})")

    @property
    def stop_request_path(self) -> Path:
        return self.path / "stop_requested"

    @property
    def log_path(self) -> Path:
        return self.path / "sweep.log"


@contextmanager
def state_lock(sweep: Sweep) -> Iterator[SweepState]:
    """Hold the sweep's state lock and yield its state as it stands; a writer that decides from what it read (a stop
    request, the driver's pid) holds it from the read to the write, so that the driver's own report is never
    overwritten with an older state."""
    with exclusive_lock(sweep.path / "state.lock"):
        yield sweep.state


def write_state(sweep: Sweep, state: SweepState) -> None:
    with exclusive_lock(sweep.path / "state.lock"):
        replace_state(sweep, state)


def replace_state(sweep: Sweep, state: SweepState) -> None:
    """`write_state` for a caller inside `state_lock(sweep)`."""
    if state.state not in STATES:
        raise ValueError(f"sweep state {state.state!r} is not one of {', '.join(STATES)}")
    payload = {**dataclasses.asdict(state), "updated": time.time()}
    write_text_atomically(sweep.path / "state.json", json.dumps(payload))


def create_sweep(plan: SweepPlan, runs_dir: Path | str) -> Sweep:
    """Check the plan, then make the sweep's folder and one queued run per trial; ValueError (and nothing made) for a
    bad plan."""
    plan.check()
    trials = plan.trials()
    base = plan.base_config()
    largest = evaluation.largest_sample_count(base)
    samples = plan.samples or min(DEFAULT_SAMPLES, largest)
    if samples > largest:
        raise ValueError(f"samples={samples} is more than the {largest} held-out examples of {base.dataset}; use at "
                         f"most that many")
    folder = Path(runs_dir) / SWEEPS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{slug(plan.name)}-{secrets.token_hex(2)}"
    path.mkdir()
    made = [{"run_id": runs.create_run(config, runs_dir).run_id, "settings": settings} for config, settings in trials]
    record = {"plan": plan.to_dict(), "samples": samples, "trials": made, "created": time.time()}
    write_text_atomically(path / "sweep.json", json.dumps(record, indent=2))
    sweep = Sweep(path)
    write_state(sweep, SweepState("queued", "waiting for its driver to start", scores={
        trial["run_id"]: [] for trial in made}))
    return sweep


def slug(name: str) -> str:
    return "".join(character if character.isalnum() else "-" for character in name.lower()).strip("-")[:32] or "sweep"


def open_sweep(path: Path | str) -> Sweep:
    path = Path(path)
    if not (path / "sweep.json").is_file():
        raise ValueError(f"{path} is not a sweep folder (it has no sweep.json)")
    return Sweep(path)


def list_sweeps(runs_dir: Path | str) -> list[Sweep]:
    """Every sweep of the run store, newest first."""
    folder = Path(runs_dir) / SWEEPS_FOLDER
    if not folder.is_dir():
        return []
    found = [Sweep(path) for path in folder.iterdir() if (path / "sweep.json").is_file()]
    return sorted(found, key=lambda sweep: sweep.sweep_id, reverse=True)


def trial_score(run: Run, measure: str, samples: int, seed: int) -> tuple[int, float | None] | None:
    """(step, score) of the trial's newest stored measure at the sweep's sample count and seed; None before any."""
    stored = [entry for entry in run.evaluations()
              if entry["results"].get("sample_count") == samples and entry["results"].get("seed") == seed]
    if not stored:
        return None
    newest = max(stored, key=lambda entry: entry["step"])
    score = newest["results"].get(measure)
    return newest["step"], (float(score) if isinstance(score, (int, float)) else None)
