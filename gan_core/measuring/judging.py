"""The human real-or-fake test (HYPE-infinity style): which image to show next, and what the answers say.

A person sees one image at a time, drawn from a pool of real and a pool of generated images of one checkpoint,
and answers "real" or "generated". Each answer is kept in the run store under an image key that names the
checkpoint, the pool and the position in it, so the answers for one checkpoint can be told from the others'
and every judged image can be shown again. The score is the share of wrong answers: 50% means people cannot
tell the generator's images from real ones, 0% that they always can.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from gan_core.measuring import metrics

IMAGE_KEY = re.compile(r"^step-(\d+)/(real|generated)/(\d+)$")


def image_key(step: int, is_real: bool, index: int) -> str:
    """The key an answer is stored under: "step-<checkpoint>/<real|generated>/<position in the pool>"."""
    if step < 0 or index < 0:
        raise ValueError(f"step and index must be at least 0, got step {step} and index {index}")
    return f"step-{step}/{'real' if is_real else 'generated'}/{index}"


def parse_image_key(key: str) -> tuple[int, bool, int]:
    """(step, is_real, index) from an image key; ValueError for a key `image_key` did not make."""
    match = IMAGE_KEY.match(key)
    if match is None:
        raise ValueError(f"image key {key!r} is not of the form 'step-<step>/<real|generated>/<index>'")
    return int(match.group(1)), match.group(2) == "real", int(match.group(3))


def question_order(seed: int, pool_size: int) -> list[tuple[bool, int]]:
    """Every (is_real, index) of a real and a generated pool of `pool_size` each, shuffled by `seed`.

    Each image is shown once per pass, and over a pass exactly half of the questions are real, so a person
    who always answers the same way scores 50%, as one who guesses does.
    """
    if pool_size < 1:
        raise ValueError(f"the pools need at least one image each, got pool_size={pool_size}")
    questions = [(is_real, index) for is_real in (True, False) for index in range(pool_size)]
    order = np.random.default_rng(seed).permutation(len(questions))
    return [questions[position] for position in order]


def checkpoint_judgements(judgements: Sequence[dict[str, Any]], step: int) -> list[dict[str, Any]]:
    """The answers given about the images of the checkpoint at `step` (others' keys are skipped)."""
    return [judgement for judgement in judgements
            if IMAGE_KEY.match(judgement["image_key"]) and parse_image_key(judgement["image_key"])[0] == step]


def judgement_summary(judgements: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The human error rate with its 95% interval, and the error on each kind of image; None without answers.

    Keys: error_rate, low, high, count (see metrics.human_error_rate), generated_count and generated_error
    (share of generated images taken for real, HYPE's "fake error"), real_count and real_error (share of real
    images taken for generated); an error is None when no image of its kind was judged.
    """
    if not judgements:
        return None
    is_real = np.array([judgement["is_real"] for judgement in judgements], dtype=bool)
    correct = is_real == np.array([judgement["answered_real"] for judgement in judgements], dtype=bool)
    summary = metrics.human_error_rate(correct)
    for kind, members in (("real", is_real), ("generated", ~is_real)):
        summary[f"{kind}_count"] = int(members.sum())
        summary[f"{kind}_error"] = float(np.mean(~correct[members])) if members.any() else None
    return summary
