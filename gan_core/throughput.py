"""How fast a run trains: measured images per second, time left, and an estimate for a run not yet started.

An estimate comes from the store when it can: a finished or stopped run with the same networks (architecture,
data shape, width, and whether a gradient penalty is computed) was measured on this very machine. Otherwise a
model counts the multiply-accumulates of both networks per example and divides by a speed: the speed the runs
measured on this machine reached against the same count, or, with none measured yet, one measured once on a
two-core CPU, which is right to within a factor of about two. The Train form's estimate and Monitor's time left
come from here, so they agree. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from gan_core import variants
from gan_core.config import RunConfig
from gan_core.runs import Run

# Multiply-accumulates per second that a training step sustains per example, measured on a two-core CPU with
# TensorFlow 2.21: digits MLP about 5.7e9, 2-D ring MLP about 5.3e9, Fashion-MNIST DCGAN about 3.9e9.
ROUGH_MACS_PER_SECOND = 4.5e9
# The gradient penalty runs the critic forwards and backwards once more on interpolated examples.
GRADIENT_PENALTY_COST = 2.0
# Rows needed before a run's speed counts as measured; the first rows include compiling the step.
MIN_MEASURED_ROWS = 5
RECENT_ROWS = 20


@dataclass(frozen=True)
class Estimate:
    """Seconds per 1000 generator steps, and a sentence saying where the number comes from."""

    seconds_per_1000_steps: float
    source: str


def images_per_step(config: RunConfig) -> int:
    """Real examples a step sees (the unit of the logged images_per_second): for a GAN, batch_size * n_critic."""
    return variants.of(config).images_per_step(config)


def measured_images_per_second(rows: Sequence[dict[str, Any]]) -> float | None:
    """The median logged images/s, which shrugs off the slow first row of every (re)start; None if too few rows."""
    values = [row["images_per_second"] for row in rows if row.get("images_per_second") and math.isfinite(row["images_per_second"])]
    if len(values) < MIN_MEASURED_ROWS:
        return None
    return float(np.median(values))


def seconds_per_1000_steps(config: RunConfig, images_per_second: float) -> float:
    if not images_per_second > 0:
        raise ValueError(f"images_per_second={images_per_second!r} is not allowed; it must be greater than 0")
    return 1000 * images_per_step(config) / images_per_second


def seconds_left(config: RunConfig, rows: Sequence[dict[str, Any]], step: int, target_step: int,
                 history: Sequence[tuple[Run, RunConfig, float]] = ()) -> float:
    """Time to go from `step` to `target_step`: at the median speed of the last RECENT_ROWS rows once there are
    enough of them, else at the speed `estimate` expects for these networks (the Train form's figure).

    The median of the rows' own speeds, each measured over its own stretch of training, is untouched by the
    time a run spent stopped before a resume, and by the slow first row of every start.
    """
    speed = measured_images_per_second(rows[-RECENT_ROWS:])
    seconds_per_step = images_per_step(config) / speed if speed else \
        estimate(config, history).seconds_per_1000_steps / 1000
    return max(0, target_step - step) * seconds_per_step


def network_key(config: RunConfig) -> tuple:
    """What decides the cost per example: two runs with the same key train at about the same images/s."""
    return (config.variant, config.architecture, config.data_shape, config.width, config.loss == "wgan_gp")


def multiply_accumulates_per_example(config: RunConfig) -> int:
    """Multiply-accumulates of one forward pass of both networks for one example (biases and norms ignored).

    Follows the layer plan in models.py: MLPs of 2, 4 and 8 times `width` units for images and three layers of
    `width` for points; DCGANs of 4x4 stride-2 (transposed) convolutions doubling the filters from `width`.
    """
    latent, width = config.latent_dim, config.width
    if config.is_points:
        return (latent * width + 2 * width * width + width * 2) + (2 * width + 2 * width * width + width)
    side, _, channels = config.data_shape
    pixels = side * side * channels
    if config.architecture == "mlp":
        hidden = width * 2 * width * 4 + width * 4 * width * 8
        return (latent * width * 2 + hidden + width * 8 * pixels) + (pixels * width * 8 + hidden + width * 2)
    start_side, halvings = side, 0
    while start_side % 2 == 0 and start_side // 2 >= 4:
        start_side, halvings = start_side // 2, halvings + 1
    convolutions, filters_in, filters_out, map_side = 0, channels, width, side
    for _ in range(halvings):
        map_side //= 2
        convolutions += map_side * map_side * 16 * filters_in * filters_out
        filters_in, filters_out = filters_out, filters_out * 2
    dense = start_side * start_side * filters_in
    # The generator mirrors the discriminator's convolutions and projects the noise onto its start map.
    return 2 * convolutions + dense + latent * dense


def modelled_cost(config: RunConfig) -> float:
    """Multiply-accumulates a training step spends per example, as the model counts them."""
    return multiply_accumulates_per_example(config) * (GRADIENT_PENALTY_COST if config.loss == "wgan_gp" else 1.0)


def rough_images_per_second(config: RunConfig) -> float:
    return ROUGH_MACS_PER_SECOND / modelled_cost(config)


def machine_speed(history: Sequence[tuple[Run, RunConfig, float]]) -> float | None:
    """Multiply-accumulates per second that the measured runs reached on this machine by the model's count (their
    median), or None when nothing was measured."""
    speeds = [speed * modelled_cost(config) for _, config, speed in history]
    return float(np.median(speeds)) if speeds else None


def measured_history(runs: Iterable[Run]) -> list[tuple[Run, RunConfig, float]]:
    """(run, config, images/s) for every stopped or finished run with enough logged rows, newest first."""
    history = []
    for run in runs:
        if run.status.state not in ("stopped", "finished"):
            continue
        try:
            config = run.config
            # The latest rows are enough for a median, and reading only them keeps this quick for long runs.
            speed = measured_images_per_second(run.metrics_since(run.status.step - RECENT_ROWS * config.log_every))
        except (OSError, ValueError):
            continue  # A half-deleted or foreign directory says nothing about speed.
        if speed is not None:
            history.append((run, config, speed))
    return history


def estimate(config: RunConfig, history: Sequence[tuple[Run, RunConfig, float]] = ()) -> Estimate:
    """Seconds per 1000 steps for `config`: from the most similar measured run, else from the rough model.

    Among measured runs with the same network key, the one whose batch size is closest (by ratio) is used,
    since images/s changes little with batch size once batches are a few dozen examples.
    """
    similar = [entry for entry in history if network_key(entry[1]) == network_key(config)]
    if similar:
        run, measured_config, speed = min(similar, key=lambda entry: abs(math.log(entry[1].batch_size / config.batch_size)))
        name = measured_config.name or run.run_id
        return Estimate(
            seconds_per_1000_steps(config, speed),
            f"measured: run '{name}' ({run.run_id}) trained the same networks at {speed:,.0f} images/s "
            f"with batch size {measured_config.batch_size}",
        )
    speed = machine_speed(history)
    if speed is not None:
        return Estimate(
            seconds_per_1000_steps(config, speed / modelled_cost(config)),
            f"model: no finished run with these networks yet, so this counts the networks' arithmetic at the pace "
            f"{len(history)} measured run(s) reached on this machine; expect it to be off by up to a half",
        )
    return Estimate(
        seconds_per_1000_steps(config, rough_images_per_second(config)),
        "rough model: no finished run on this machine yet, so this counts the networks' arithmetic against a "
        "typical two-core CPU; expect it to be off by up to a factor of two",
    )
