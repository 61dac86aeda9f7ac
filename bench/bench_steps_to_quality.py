"""How good are the default preset's samples after a given number of steps, as shipped and with a change?

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_steps_to_quality.py --set NAME=VALUE [--set ...]
        [--at 3400 3550 3700 3850 4000 4150] [--samples 2000] [--batch-statistics]

bench/bench_time_to_quality.py measures after so many seconds, which is what a person waits for, but the steps a
machine makes in a minute vary from run to run and with its load, and a GAN's samples swing from one step to the
next: two runs of the same settings can differ by a unit of FD at 60 s. This one trains the default preset (as
shipped, the baseline) and the preset with the `--set` changes, one after the other in the same run, and takes the
Fréchet distance of each at the same step counts, in the same space as bench_time_to_quality.py. A run with
nothing else on the machine repeats its figures; several marks close together show the swings and their mean.
With --batch-statistics it also prints the FD of the same generator sampled with its batch-norm layers using the
statistics of each batch of 500 instead of their moving averages (which an averaged generator averages too).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT  # noqa: F401  (puts the project on sys.path)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench_time_to_quality import MEASURE_SEED, Judge, batch_statistics_distance, parse_settings  # noqa: E402
from gan_core.nets import sampling  # noqa: E402
from gan_core.spec.config import DEFAULT_PRESET, RunConfig, preset  # noqa: E402
from gan_core.store.runs import create_run  # noqa: E402
from gan_core.training.trainer import Trainer  # noqa: E402


def distances_at_steps(config: RunConfig, marks: list[int], judge: Judge, runs_dir: Path,
                       batch_statistics: bool) -> list[float]:
    """FD of the run's sampling generator (its weight average, if it keeps one) at each step count."""
    run = create_run(config.replace(steps=max(marks)), runs_dir)
    trainer = Trainer(run)
    latents = sampling.latent_vectors(config, judge.count, MEASURE_SEED)
    distances = []
    for mark in marks:
        trainer.train(target_step=mark)
        distances.append(judge.frechet_distance(sampling.generate(trainer.generator_ema, latents)))
        line = f"  step {mark:6,}  FD {distances[-1]:8.2f}"
        if batch_statistics:
            distance = batch_statistics_distance(trainer.generator_ema, latents, judge, batch_size=500)
            line += f"  (batch statistics: FD {distance:.2f})"
        print(line, flush=True)
    return distances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--at", type=int, nargs="+", default=[3400, 3550, 3700, 3850, 4000, 4150],
                        help="step counts at which to measure")
    parser.add_argument("--set", dest="settings", action="append", required=True,
                        help="a setting of the default preset to change, NAME=VALUE (repeatable)")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--batch-statistics", action="store_true",
                        help="also measure samples drawn with each batch's own statistics in batch norm")
    options = parser.parse_args()
    marks = sorted(options.at)
    shipped = preset(DEFAULT_PRESET)
    changed = RunConfig.from_dict({**shipped.to_dict(), **parse_settings(options.settings)})
    judge = Judge(shipped, options.samples)
    started = time.strftime("%Y-%m-%d %H:%M")
    columns = {}
    with tempfile.TemporaryDirectory() as runs_dir:
        for label, config in (("as shipped", shipped), (", ".join(options.settings), changed)):
            print(f"{DEFAULT_PRESET} {label}:", flush=True)
            columns[label] = distances_at_steps(config, marks, judge, Path(runs_dir), options.batch_statistics)

    (baseline_label, baseline), (changed_label, change) = columns.items()
    print(f"\nFashion-MNIST, FD of {options.samples:,} samples to as many held-out images; {DEFAULT_PRESET}")
    print(f"| steps | {baseline_label} | {changed_label} | ratio |")
    print("|---|---|---|---|")
    for mark, before, after in zip(marks, baseline, change):
        print(f"| {mark:,} | {before:.2f} | {after:.2f} | {after / before:.3f} |")
    mean_before, mean_after = sum(baseline) / len(marks), sum(change) / len(marks)
    print(f"| mean | {mean_before:.2f} | {mean_after:.2f} | {mean_after / mean_before:.3f} |")
    print(f"\n{started}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
