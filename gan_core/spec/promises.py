"""What a preset promises: a measure it reaches by a step count, which does not depend on the machine, and how long
those steps took on a named CPU, which does.

A promise holds for every seed it was tried with. `bench/bench_presets.py` trains each preset to its promised step
for several seeds and checks every measure here against the evaluation's results; the README's preset table and the
Train form state the same promises, the form with this machine's estimate beside the measured time.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """One measure of the evaluation's results against a bound: `measure relation bound` (times `factor`), where
    the bound is a number or another measure of the same results (e.g. what no translation at all scores)."""
    measure: str
    relation: str  # ">=" or "<="
    bound: float | str
    factor: float = 1.0

    def __post_init__(self):
        if self.relation not in (">=", "<="):
            raise ValueError(f"a promise's relation is '>=' or '<=', not {self.relation!r}")

    def bound_in(self, results: dict) -> float:
        return (results[self.bound] if isinstance(self.bound, str) else self.bound) * self.factor

    def kept_by(self, results: dict) -> bool:
        compare = operator.ge if self.relation == ">=" else operator.le
        return compare(results[self.measure], self.bound_in(results))

    def describe(self) -> str:
        bound = f"{self.factor:g} x {self.bound}" if isinstance(self.bound, str) else f"{self.bound:g}"
        return f"{self.measure} {self.relation} {bound}"


@dataclass(frozen=True)
class Promise:
    steps: int  # the step count the promise names
    bounds: tuple[Bound, ...]  # every one holds at that step
    claim: str  # the promise in words, for people: what the samples show by then
    seeds: str  # the seeds it was tried with, e.g. "0-4"
    measured: str  # how long the steps took, where and when: "25-29 s on a 2-core AMD EPYC with AVX-512 (2026-12-07)"

    def sentence(self) -> str:
        return (f"{self.claim} by step {self.steps:,}, for every seed tried ({self.seeds}); its {self.steps:,} steps "
                f"took {self.measured}")


EPYC_AVX512 = "a 2-core AMD EPYC with AVX-512"

# Only promises that bench/bench_presets.py has checked for every seed named; docs/benchmarks.md holds its tables.
PROMISES = {
    "ring-mlp": Promise(
        3000, (Bound("modes_covered", ">=", 8), Bound("high_quality_share", ">=", 0.5)),
        "all 8 modes, with over half of the points within three standard deviations of one", "0-4",
        f"25-29 s on {EPYC_AVX512} (2026-12-07)"),
    "mnist-acgan": Promise(
        3000, (Bound("requested_class_accuracy", ">=", 0.97),),
        "the asked-for digit in at least 97% of samples (as the feature classifier reads them)", "0-2",
        f"94-99 s on {EPYC_AVX512} (2026-12-08)"),
    "mnist2inverted-cyclegan": Promise(
        4000, (Bound("translation_l1", "<=", "identity_mapping_l1", 0.1),),
        "never shown a pair, within a tenth of no translation's distance from the right answer", "0-2",
        f"8 minutes on {EPYC_AVX512} with nothing else running (2026-12-07)"),
}


def promise_of(preset_name: str) -> Promise | None:
    """The promise of the preset called `preset_name`, if it makes one."""
    return PROMISES.get(preset_name)
