"""How fast a run trains: measured images per second, time left, and an estimate for a run not yet started.

An estimate comes from the store when it can: a finished or stopped run with the same networks (see network_key)
was measured on this very machine. Otherwise it starts
from what such networks cost elsewhere: the pace a preset with the same networks kept on the reference CPU
(measured by bench/bench_estimates.py), or for networks no preset has, a model counting their multiply-accumulates.
That figure is then scaled by this machine's pace against the same reference, learned from the runs it has measured.
The Train form's estimate and Monitor's time left come from here, so they agree. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from gan_core.spec import registry
from gan_core.spec.config import RunConfig, preset
from gan_core.store.runs import Run

# Multiply-accumulates per second (by multiply_accumulates_per_example's count) that the presets' training reached
# on REFERENCE_CPU, their median: from 1.5e8 (CycleGAN, four small networks) through 6e9 (digits MLP) to 2.4e10
# (WGAN-GP); used only for networks no preset has.
ROUGH_MACS_PER_SECOND = 6e9
# The gradient penalty runs the critic forwards and backwards once more on interpolated examples.
GRADIENT_PENALTY_COST = 2.0
# Images per second each preset trained at on REFERENCE_CPU, from the trainer reporting "running" to its last step
# (bench/bench_estimates.py, 2026-12-06, nothing else running; mnist2inverted-cyclegan's from its logged rows;
# mnist-acgan's, mnist-dcgan's, mnist-cgan's and fashion-wgan-gp's on 2026-12-08, after their networks were
# narrowed). A run of the same networks is expected to keep the same pace there whatever its batch size.
REFERENCE_CPU = "a 2-core AMD EPYC with AVX-512"
REFERENCE_IMAGES_PER_SECOND = {
    "fashion-dcgan": 2560, "mnist-dcgan": 2609, "mnist-cgan": 2268, "fashion-wgan-gp": 2260, "digits-mlp": 4218,
    "ring-mlp": 71369, "mnist-infogan": 820, "mnist-acgan": 2038, "mnist-began": 486, "fashion-vae": 1754,
    "fashion-vaegan": 1121, "fashion-edges2img": 671, "mnist-inpaint": 635, "fashion-superres": 640,
    "mnist2inverted-cyclegan": 139,
}
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
    return registry.of(config).images_per_step(config)


def measured_images_per_second(rows: Sequence[dict[str, Any]]) -> float | None:
    """The median logged images/s, which shrugs off the slow first row of every (re)start; None if too few rows."""
    values = [row["images_per_second"] for row in rows
              if row.get("images_per_second") and math.isfinite(row["images_per_second"])]
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


# The variant's own settings that change what a step computes: how the updates are ordered, the number format, and
# whether the batches are augmented.
COST_OPTIONS = ("updates", "precision", "augment")


def network_key(config: RunConfig) -> tuple:
    """What decides the cost per example: two runs with the same key train at about the same images/s.

    A conditional run feeds the labels through both networks (mnist-cgan trains about a fifth slower than
    mnist-dcgan), and the noise's size sets the generator's first layer."""
    options = dict(config.options)
    return (config.variant, config.architecture, config.data_shape, config.width, config.latent_dim,
            config.loss == "wgan_gp", config.conditional, *(options.get(name) for name in COST_OPTIONS))


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


@functools.cache
def reference_networks() -> dict[tuple, str]:
    """The network key of every preset whose pace on the reference CPU is known, and that preset's name; where
    presets share their networks (fashion-dcgan and mnist-dcgan), the first in REFERENCE_IMAGES_PER_SECOND."""
    names: dict[tuple, str] = {}
    for name in REFERENCE_IMAGES_PER_SECOND:
        if name in registry.presets():
            names.setdefault(network_key(preset(name)), name)
    return names


def reference_preset(config: RunConfig) -> str | None:
    """The preset with the same networks as `config` whose pace on the reference CPU is known, if there is one."""
    return reference_networks().get(network_key(config))


def reference_images_per_second(config: RunConfig) -> float:
    """Images/s `config` should train at on the reference CPU: its preset's measured pace, else the model's."""
    name = reference_preset(config)
    return REFERENCE_IMAGES_PER_SECOND[name] if name else rough_images_per_second(config)


def machine_pace(history: Sequence[tuple[Run, RunConfig, float]]) -> float | None:
    """How fast this machine trains against the reference CPU (2.0: twice as fast): the median, over the measured
    runs, of each run's images/s over what the reference expects for its networks; None when nothing was measured."""
    paces = [speed / reference_images_per_second(config) for _, config, speed in history]
    return float(np.median(paces)) if paces else None


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
    """Seconds per 1000 steps for `config`: from the most similar run measured here, else from the reference CPU's
    pace for these networks (a preset's, or the model's) times this machine's pace against that CPU.

    Among measured runs with the same network key, the one whose batch size is closest (by ratio) is used,
    since images/s changes little with batch size once batches are a few dozen examples.
    """
    similar = [entry for entry in history if network_key(entry[1]) == network_key(config)]
    if similar:
        run, measured_config, speed = min(similar,
                                          key=lambda entry: abs(math.log(entry[1].batch_size / config.batch_size)))
        name = measured_config.name or run.run_id
        return Estimate(
            seconds_per_1000_steps(config, speed),
            f"measured: run '{name}' ({run.run_id}) trained the same networks at {speed:,.0f} images/s "
            f"with batch size {measured_config.batch_size}",
        )
    name = reference_preset(config)
    kind = "reference" if name else "model"
    basis = (f"preset {name}, with the same networks, trains at {REFERENCE_IMAGES_PER_SECOND[name]:,.0f} images/s on "
             f"{REFERENCE_CPU}" if name else
             f"no preset has these networks, so this counts their arithmetic at the presets' median pace on "
             f"{REFERENCE_CPU} (networks of other shapes can be several times slower or faster)")
    pace = machine_pace(history)
    if pace is None:
        return Estimate(seconds_per_1000_steps(config, reference_images_per_second(config)),
                        f"{kind}: no run has finished on this machine yet; {basis} (other CPUs can be several times "
                        "slower or faster; once a run has finished, estimates follow this machine's pace)")
    return Estimate(seconds_per_1000_steps(config, pace * reference_images_per_second(config)),
                    f"{kind}: {basis}, and the {len(history)} run(s) measured on this machine trained at {pace:.2f} "
                    "times that CPU's pace")
