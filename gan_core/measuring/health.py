"""Reading a run's curves and samples for signs of trouble, and putting its numbers in a plottable form.

Everything here is a pure function of the metrics rows a run logged (dicts of step and METRIC_COLUMNS, as
`Run.metrics_since` returns them) and of arrays of samples, so the live view can call it every second and the
tests can feed it hand-made curves.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import numpy as np

from gan_core.spec.config import LOSSES, PROBABILITY_LOSSES
from gan_core.inputs.images import GRID_PADDING

# Below these discriminator losses the discriminator separates real from generated almost perfectly, which
# leaves the generator little to learn from. At the ideal balance the cross-entropy loss is 2 ln 2, about 1.39.
# WGAN-GP has no such floor (its critic loss is meant to be negative), so it is not checked.
D_LOSS_NEAR_ZERO = {"non_saturating": 0.05, "minimax": 0.05, "lsgan": 0.02, "hinge": 0.05}
# A mean "probability real" under this for generated samples means the discriminator rejects nearly all of them.
D_FAKE_PROBABILITY_FLOOR = 0.05
# The axis titles of a discriminator's output, as `discriminator_output_view` reads it.
PROBABILITY_LABEL = "probability real"
RAW_SCORE_LABEL = "raw score"
# Mean per-pixel standard deviation (0..255) across a sample grid's tiles; distinct digits give about 50.
IDENTICAL_PIXEL_STD = 6.0
# Spread (root of the summed per-axis variances) of generated 2-D points; the toy sets spread over units.
IDENTICAL_POINT_SPREAD = 0.05
DEFAULT_WINDOW_STEPS = 250
MIN_WINDOW_ROWS = 3


@dataclass(frozen=True)
class Finding:
    """One sign of trouble: a short kind ("non_finite", "discriminator_wins", ...) and a sentence for people."""

    kind: str
    message: str


def exponential_moving_average(values: Sequence[float], smoothing: float) -> np.ndarray:
    """Smooth a series the way TensorBoard does: an EMA whose start-up bias is divided out.

    `smoothing` is the weight of the past, from 0 (no smoothing) up to, not including, 1. Non-finite values are
    passed through unchanged and do not disturb the average, so a NaN stays visible in the chart.
    """
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing={smoothing!r} is not allowed; use a number from 0 up to (not including) 1")
    import scipy.signal  # where it is used: SciPy adds tens of MB to the light processes that import this module

    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    # The recursion average[n] = smoothing * average[n-1] + (1 - smoothing) * value[n], run by scipy in C over
    # the finite values only; dividing by 1 - smoothing**(n+1) removes the pull towards the initial zero.
    average = scipy.signal.lfilter([1 - smoothing], [1, -smoothing], values[finite])
    smoothed = values.copy()
    smoothed[finite] = average / (1 - smoothing ** np.arange(1, len(average) + 1))
    return smoothed


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """The logistic function, written so that large negative logits do not overflow."""
    logits = np.asarray(logits, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -logits))


def output_is_probability(loss: str) -> bool:
    """Whether a discriminator trained with `loss` is read as a probability of "real" (the sigmoid of its logit).

    True for the cross-entropy losses (config.PROBABILITY_LOSSES); WGAN-GP, hinge and LSGAN train a critic whose
    output is an unbounded score, read as it is. ValueError for a loss that does not exist, naming those that do.
    Every chart, view and check that reads a discriminator's output asks here.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss={loss!r} is not allowed; use one of {', '.join(LOSSES)}")
    return loss in PROBABILITY_LOSSES


def discriminator_output_view(values: Sequence[float], loss: str) -> tuple[np.ndarray, str]:
    """The discriminator's outputs as they are best read (float64), and the axis title that says what they are.

    A probability of "real" (the sigmoid of each logit) titled PROBABILITY_LABEL where `output_is_probability`,
    otherwise the raw values titled RAW_SCORE_LABEL.
    """
    values = np.asarray(values, dtype=np.float64)
    if output_is_probability(loss):
        return sigmoid(values), PROBABILITY_LABEL
    return values, RAW_SCORE_LABEL


def split_grid(picture: np.ndarray, columns: int, image_side: int) -> np.ndarray:
    """Cut a sample grid made by `images.image_grid` back into its tiles, (N, side*scale, side*scale, C).

    The grid's upscale factor is worked out from its width, so grids of any scale can be split.
    """
    if picture.ndim == 2:
        picture = picture[:, :, np.newaxis]
    unscaled_width = columns * (image_side + GRID_PADDING) + GRID_PADDING
    scale, remainder = divmod(picture.shape[1], unscaled_width)
    if scale < 1 or remainder:
        raise ValueError(f"a picture {picture.shape[1]} pixels wide is not a grid of {columns} columns of "
                         f"{image_side}-pixel images")
    tile, padding = image_side * scale, GRID_PADDING * scale
    rows = (picture.shape[0] - padding) // (tile + padding)
    tiles = []
    for row in range(rows):
        top = padding + row * (tile + padding)
        for column in range(columns):
            left = padding + column * (tile + padding)
            tiles.append(picture[top : top + tile, left : left + tile])
    return np.stack(tiles)


def sample_spread(samples: np.ndarray) -> float:
    """How different a batch of samples is from itself.

    For images (N, H, W, C) the mean over pixels of the standard deviation across samples, in pixel units;
    for 2-D points (N, 2) the root of the summed per-axis variances.
    """
    samples = np.asarray(samples, dtype=np.float64)
    if len(samples) < 2:
        raise ValueError(f"the spread of samples needs at least 2 of them, got {len(samples)}")
    if samples.ndim == 2:
        return float(np.sqrt(samples.var(axis=0).sum()))
    return float(samples.std(axis=0).mean())


def diagnose(
    rows: Sequence[dict[str, Any]],
    loss: str | None,
    state: str = "running",
    samples: np.ndarray | None = None,
    samples_step: int = 0,
    window_steps: int = DEFAULT_WINDOW_STEPS,
) -> list[Finding]:
    """Known failure patterns in a run's logged rows and (optionally) its fixed-noise samples at `samples_step`.

    Looks for: non-finite losses (or the "diverged" state); a discriminator loss near zero throughout the last
    `window_steps` steps; for the cross-entropy losses, generated samples rejected throughout that window while
    the generator's loss climbs; and samples that are nearly identical to each other. The window must be
    fully covered by logged rows, and samples are judged only from step `window_steps` on, because an untrained
    generator's outputs are all alike (a DCGAN's first grid has a spread of about 3) and a run that has only
    just started must not be flagged.

    `loss` None means the run's variant has no adversarial loss these patterns describe (a VAE, BEGAN's
    autoencoder); then only divergence and identical samples are looked for, in whichever losses it logs.
    """
    # Asked first, so that an unknown loss is refused whatever the rows hold.
    reads_probability = loss is not None and output_is_probability(loss)
    steps, d_loss, g_loss, d_fake = (_column(rows, name) for name in ("step", "d_loss", "g_loss", "d_fake"))
    finite, any_loss_logged = _finite_losses(d_loss, g_loss)
    findings = [_divergence(steps, finite, state)]
    window = _judged_window(steps, finite, window_steps) if any_loss_logged else None
    if window is not None:
        findings.append(_discriminator_winning(d_loss[window], loss, window_steps))
        if reads_probability:
            findings.append(_generator_failing(steps[window], g_loss[window], d_fake[window], window_steps))
    findings.append(_identical_samples(samples, samples_step, window_steps))
    return [finding for finding in findings if finding is not None]


def _finite_losses(d_loss: np.ndarray, g_loss: np.ndarray) -> tuple[np.ndarray, bool]:
    """Which rows have every logged loss finite, and whether the variant logs any of these losses at all.

    A loss the variant never logs is all NaN (NULL in the store); it says nothing about divergence, so it is left
    out, and with neither logged every row counts as finite.
    """
    logged = [values for values in (d_loss, g_loss) if np.isfinite(values).any()]
    if not logged:
        return np.ones(len(d_loss), bool), False
    return np.logical_and.reduce([np.isfinite(values) for values in logged], axis=0), True


def _divergence(steps: np.ndarray, finite: np.ndarray, state: str) -> Finding | None:
    """The losses became NaN or infinite, or the trainer already called the run diverged (its rows may not show it)."""
    if finite.all() and state != "diverged":
        return None
    where = f" at step {int(steps[~finite][0])}" if not finite.all() else ""
    return Finding("non_finite", f"The losses became NaN or infinite{where}: training diverged. "
                   "Resume from an earlier checkpoint with lower learning rates, or try another loss.")


def _judged_window(steps: np.ndarray, finite: np.ndarray, window_steps: int) -> np.ndarray | None:
    """Which rows fall in the last `window_steps` steps, when the long patterns may be judged from them; else None.

    They may only when the logged rows reach back over the whole window, at least MIN_WINDOW_ROWS of them lie in
    it and all of those are finite: a run that has only just started must not be flagged, and a diverged one is
    already reported as such.
    """
    if not len(steps):
        return None
    window = steps > steps[-1] - window_steps
    if steps[-1] - steps[0] >= window_steps and window.sum() >= MIN_WINDOW_ROWS and finite[window].all():
        return window
    return None


def _discriminator_winning(d_loss: np.ndarray, loss: str | None, window_steps: int) -> Finding | None:
    """The discriminator's loss stayed near zero over the whole window (`d_loss` holds the window's rows).

    Only the losses with a known floor (D_LOSS_NEAR_ZERO) are judged: WGAN-GP's critic loss is meant to go negative.
    """
    if loss in D_LOSS_NEAR_ZERO and np.all(d_loss < D_LOSS_NEAR_ZERO[loss]):
        return Finding("discriminator_wins", f"The discriminator loss has stayed below {D_LOSS_NEAR_ZERO[loss]} for "
                       f"the last {window_steps} steps: it tells real from generated almost perfectly, so the "
                       "generator gets little to learn from. Try a lower discriminator learning rate or the WGAN-GP "
                       "loss.")
    return None


def _generator_failing(steps: np.ndarray, g_loss: np.ndarray, d_fake: np.ndarray,
                       window_steps: int) -> Finding | None:
    """Generated samples rejected throughout the window while the generator's loss climbs (the window's rows).

    For the cross-entropy losses only, whose discriminator output reads as a probability of "real": the caller
    asks `output_is_probability` first.
    """
    climbing = np.polyfit(steps, g_loss, 1)[0] > 0 and g_loss[-1] > g_loss[0]
    if np.all(sigmoid(d_fake) < D_FAKE_PROBABILITY_FLOOR) and climbing:
        return Finding("generator_failing", f"For the last {window_steps} steps the discriminator has rejected "
                       "nearly every generated sample while the generator's loss keeps climbing: the generator is "
                       "failing, which often ends in collapse.")
    return None


def _identical_samples(samples: np.ndarray | None, samples_step: int, window_steps: int) -> Finding | None:
    """The fixed-noise samples are nearly identical to each other: the generator has collapsed to one output.

    Judged only from step `window_steps` on, because an untrained generator's outputs are all alike too.
    """
    if samples is None or len(samples) < 2 or samples_step < window_steps:
        return None
    spread = sample_spread(samples)
    limit = IDENTICAL_POINT_SPREAD if np.asarray(samples).ndim == 2 else IDENTICAL_PIXEL_STD
    if spread < limit:
        return Finding("identical_samples", f"The latest fixed-noise samples are nearly identical (spread "
                       f"{spread:.3g}): the generator has collapsed to one output. Resuming rarely recovers; start "
                       "again with another loss or lower learning rates.")
    return None


def _column(rows: Sequence[dict[str, Any]], name: str) -> np.ndarray:
    """One logged value of every row as floats; a missing value (None) becomes NaN."""
    return np.array([row.get(name) for row in rows], dtype=np.float64)
