"""Successive halving (Jamieson & Talwalkar 2016) as pure functions: the rungs of a budget, who goes on after a
rung, and the final ranking.

Every trial trains to the first rung; at each rung the better half (rounded up) goes on to the next, and the others
stop there with their checkpoints kept. With rungs at a quarter, a half and all of the budget, eight trials cost
8/4 + 4/4 + 2/2 = 4 budgets instead of 8. GANs are ranked on a quality measure of a checkpoint, never on losses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

# Each rung keeps 1/ETA of the trials that reached it and doubles the budget (rungs at budget * ETA**-k).
ETA = 2
# Rungs unless a person asks for others: a quarter, a half and all of the budget.
DEFAULT_RUNGS = 3


def rung_fractions(rungs: int) -> list[float]:
    """The share of the budget at each rung, last = 1: rungs=3 gives [0.25, 0.5, 1.0]."""
    if rungs < 1:
        raise ValueError(f"successive halving needs at least 1 rung, not {rungs}")
    return [ETA ** -(rungs - 1 - index) for index in range(rungs)]


def rung_budgets(budget: float, rungs: int, whole: bool) -> list[float]:
    """The budget at each rung (whole numbers for steps), each at least one unit and larger than the one before."""
    budgets: list[float] = []
    for fraction in rung_fractions(rungs):
        share = max(round(budget * fraction), 1) if whole else budget * fraction
        if budgets and share <= budgets[-1]:
            raise ValueError(f"a budget of {budget:g} is too small for {rungs} rungs; give a larger budget or fewer "
                             f"rungs")
        budgets.append(share)
    return budgets


def is_better(score: float, other: float, better: str) -> bool:
    return score < other if better == "lower" else score > other


def sort_key(score: float | None, better: str) -> float:
    """A key that sorts the better scores first and missing ones last."""
    if score is None or not math.isfinite(score):
        return math.inf
    return score if better == "lower" else -score


def survivors(scores: Mapping[str, float | None], better: str) -> list[str]:
    """The trials that go on after a rung: the better half (rounded up) of those measured; ties keep the given order."""
    measured = [trial for trial, score in scores.items() if sort_key(score, better) != math.inf]
    ranked = sorted(measured, key=lambda trial: sort_key(scores[trial], better))
    return ranked[:math.ceil(len(scores) / ETA)]


def ranking(scores: Mapping[str, Sequence[float | None]], better: str) -> list[str]:
    """Every trial, best first: those that reached a later rung before the others, then by their score at the last
    rung they reached; trials never measured come last. `scores` holds each trial's score at each rung it reached."""
    def key(trial: str) -> tuple[int, float]:
        reached = scores[trial]
        return -len(reached), sort_key(reached[-1] if reached else None, better)

    return sorted(scores, key=key)
