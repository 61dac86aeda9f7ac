"""What a sweep is: a preset with a few settings varied, one budget per trial, one measure to rank by, and where its
trials train. `SweepPlan.check` refuses a bad plan with the part named, before any trial exists.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from gan_core.measuring import measures
from gan_core.spec import config as config_module
from gan_core.spec import registry, search
from gan_core.spec.config import RunConfig
from gan_core.spec.search import SearchSpace
from gan_core.sweeps import halving

RAY_ADDRESS_VARIABLE = "GAN_RAY_ADDRESS"
# Generated and real samples per measure: enough for a stable Fréchet distance on small sets, a few seconds each.
DEFAULT_SAMPLES = 1000
# Trials training at once on one machine: each takes a core or two and hundreds of MB.
MAX_SLOTS = 64
# How long the reachability check of a Ray address waits; a cluster on the network answers in milliseconds.
CONNECT_SECONDS = 3.0


@dataclass(frozen=True)
class SweepPlan:
    """A sweep as a person asked for it. `dimensions` are search-space lines (`width=32,64`, `g_learning_rate=1e-4:
    1e-2:log`); `budget_steps` or `budget_seconds` (one of them) is each trial's whole budget; `measure` ranks the
    trials; `rungs` > 1 turns on successive halving; `slots` is how many trials train at once on this machine;
    `ray_address` sends them to a Ray cluster instead, each asking for `cpus_per_trial` and `gpus_per_trial`."""

    name: str
    preset: str
    dimensions: tuple[str, ...]
    budget_steps: int | None = None
    budget_seconds: float | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    random_count: int = 0
    measure: str = "frechet_distance"
    rungs: int = 1
    slots: int = 1
    ray_address: str = ""
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    samples: int = 0
    seed: int = 0

    def base_config(self) -> RunConfig:
        """The configuration every trial starts from: the preset with the overrides, trained for the budget's steps
        (with a budget in seconds, the preset's own steps are the ceiling)."""
        steps = {"steps": self.budget_steps} if self.budget_steps else {}
        return config_module.preset(self.preset, **{**self.overrides, **steps})

    def space(self) -> SearchSpace:
        return search.build_space(self.base_config(), list(self.dimensions), self.random_count)

    def trials(self) -> list[tuple[RunConfig, dict[str, Any]]]:
        """Each trial's configuration, named after the sweep and what it varies, and the settings it varies."""
        base = self.base_config()
        return [(base.replace(name=f"{self.name} {number}: " + " ".join(f"{key}={value}" for key, value in
                                                                         settings.items()), **settings), settings)
                for number, settings in enumerate(search.trial_settings(self.space(), self.seed), start=1)]

    def rung_budgets(self) -> list[float]:
        """The budget each trial trains to at each rung: steps, or seconds of training."""
        if self.budget_steps:
            return [int(budget) for budget in halving.rung_budgets(self.budget_steps, self.rungs, whole=True)]
        return halving.rung_budgets(self.budget_seconds, self.rungs, whole=False)

    def better(self) -> str:
        """"lower" or "higher": which way the ranking measure is better."""
        return ranking_measures(self.base_config().variant)[self.measure]

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "dimensions": list(self.dimensions)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> SweepPlan:
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{**{key: value for key, value in values.items() if key in known},
                      "dimensions": tuple(values["dimensions"])})

    def check(self) -> None:
        """ValueError naming what is wrong: the name, the budget, the search space (an unknown setting, an empty grid,
        a value out of range), the measure, the rungs, the slots or the samples, or an unreachable Ray address."""
        if not self.name.strip():
            raise ValueError("a sweep needs a name")
        if (self.budget_steps is None) == (self.budget_seconds is None):
            raise ValueError("give each trial's budget as steps or as seconds (one of them)")
        if (self.budget_steps or 1) < 1 or (self.budget_seconds or 1) <= 0:
            raise ValueError("a trial's budget must be at least one step or above 0 seconds")
        space = self.space()
        check_measure(self.base_config(), self.measure)
        self.rung_budgets()
        if not 1 <= self.slots <= MAX_SLOTS:
            raise ValueError(f"slots={self.slots} is not allowed; trials that train at once on this machine must be "
                             f"from 1 to {MAX_SLOTS}")
        if self.samples < 0:
            raise ValueError(f"samples must be at least 1, not {self.samples}")
        if self.cpus_per_trial <= 0 or self.gpus_per_trial < 0:
            raise ValueError("each trial needs more than 0 CPUs and 0 or more GPUs")
        if search.trial_count(space) < 2 and self.rungs > 1:
            raise ValueError("successive halving needs at least two trials to choose between")
        if self.ray_address:
            check_ray_address(self.ray_address)


def ranking_measures(variant_name: str) -> dict[str, str]:
    """The measures a sweep of the variant can rank by, each with "lower" or "higher" for its better direction: the
    standard ones and the variant's own that have a direction (not "about 1")."""
    declared = [*measures.STANDARD, *registry.get(variant_name).measures]
    directions = {measure.name: measure.better.split()[0] for measure in declared if measure.better}
    return {name: better for name, better in directions.items() if better in ("lower", "higher")}


def check_measure(config: RunConfig, name: str) -> None:
    allowed = ranking_measures(config.variant)
    if name not in allowed:
        raise ValueError(f"measure {name!r} cannot rank a sweep of {config.variant!r}; choose one of "
                         f"{', '.join(allowed)}")


def check_ray_address(address: str) -> None:
    """ValueError unless something listens at `address` (host:port of a Ray head's GCS): Ray itself would retry
    for a minute before saying anything."""
    host, separator, port = address.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise ValueError(f"Ray address {address!r} must look like HOST:PORT, e.g. 192.168.1.10:6379")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_SECONDS):
            pass
    except OSError as error:
        raise ValueError(f"cannot reach the Ray cluster at {address} ({error.strerror or error}); start it with "
                         f"`ray start --head --port {port}` or check the address") from None


def ray_address_from_environment() -> str:
    return os.environ.get(RAY_ADDRESS_VARIABLE, "").strip()
