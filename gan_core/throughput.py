"""How fast a run trains: measured images per second, time left, and an estimate for a run not yet started.

An estimate comes from the store when it can: a finished or stopped run with the same networks (architecture,
data shape, width, and whether a gradient penalty is computed) was measured on this very machine. Otherwise a
rough model counts the multiply-accumulates of both networks per example and divides by a speed measured once
on a two-core CPU, which is right to within a factor of about two. Nothing here imports TensorFlow.
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


def seconds_left(rows: Sequence[dict[str, Any]], target_step: int) -> float | None:
    """Time to reach `target_step` at the pace of the last RECENT_ROWS rows (None until two rows exist)."""
    recent = [row for row in rows[-RECENT_ROWS:] if row.get("wall_time") is not None]
    if len(recent) < 2 or recent[-1]["step"] <= recent[0]["step"]:
        return None
    seconds_per_step = (recent[-1]["wall_time"] - recent[0]["wall_time"]) / (recent[-1]["step"] - recent[0]["step"])
    return max(0.0, (target_step - recent[-1]["step"]) * seconds_per_step)


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


def rough_images_per_second(config: RunConfig) -> float:
    cost = multiply_accumulates_per_example(config) * (GRADIENT_PENALTY_COST if config.loss == "wgan_gp" else 1.0)
    return ROUGH_MACS_PER_SECOND / cost


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
    return Estimate(
        seconds_per_1000_steps(config, rough_images_per_second(config)),
        "rough model: no finished run with these networks yet, so this counts the networks' arithmetic "
        "against a typical two-core CPU; expect it to be off by up to a factor of two",
    )
