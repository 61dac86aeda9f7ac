"""Does DiffAugment help a GAN trained on few images? MNIST cut to 500 training digits, with and without it.

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_small_data.py [--seconds 300] [--examples 500]
                                                                      [--samples 2000] [--set NAME=VALUE ...]

The mnist-dcgan preset trains from the command line twice, one run after the other with nothing else training, on
the first 500 training digits (`--set max_examples=500`): once with `augment=none` (the baseline, measured by the
same run of this script) and once with `augment=diffaugment`, each for the same time. Each last checkpoint is then
judged on held-out test digits by `python -m gan_core evaluate`: the Fréchet distance in the MNIST classifier's
feature space, and the memorisation ratio (below 1: samples lie closer to the 500 training digits than unseen
digits do, i.e. the generator copies them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is on the import path: the command-line runner is bench_variants'.
from bench_variants import UNREACHABLE_STEPS, gan_core
from gan_core.store import runs

POLICIES = ("none", "diffaugment")


def train_and_evaluate(policy: str, seconds: float, examples: int, samples: int, runs_dir: Path,
                       settings: list[str]) -> dict:
    changes = [argument for pair in settings for argument in ("--set", pair)]
    output = gan_core("train", "--preset", "mnist-dcgan", "--max-seconds", str(seconds), "--runs-dir", str(runs_dir),
                      "--set", f"steps={UNREACHABLE_STEPS}", "--set", f"max_examples={examples}",
                      "--set", f"augment={policy}", *changes)
    run = runs.open_run(output.strip().splitlines()[-1])
    results = json.loads(gan_core("evaluate", str(run.path), "--n", str(samples)).strip().splitlines()[-1])
    return {**results, "steps": run.status.step, "seconds": run.status.trained_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300, help="training time of each run")
    parser.add_argument("--examples", type=int, default=500, help="training digits")
    parser.add_argument("--samples", type=int, default=2000, help="samples and held-out digits compared")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="a change to mnist-dcgan for both runs (repeatable)")
    options = parser.parse_args()

    gan_core("prepare-features", "mnist")
    started = time.strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as runs_dir:
        results = {policy: train_and_evaluate(policy, options.seconds, options.examples, options.samples,
                                              Path(runs_dir), options.settings) for policy in POLICIES}
    plain, augmented = results["none"], results["diffaugment"]
    changed = f" ({', '.join(options.settings)})" if options.settings else ""
    print(f"\nmnist-dcgan{changed} on {options.examples} training digits, {options.seconds:.0f} s each, "
          f"{options.samples:,} samples against as many held-out digits")
    print("| measure | augment=none | augment=diffaugment | ratio |")
    print("|---|---|---|---|")
    print(f"| steps trained | {plain['steps']:,} in {plain['seconds']:.0f} s | "
          f"{augmented['steps']:,} in {augmented['seconds']:.0f} s | |")
    for name, label in (("frechet_distance", "Fréchet distance (MNIST classifier)"),
                        ("memorisation_ratio", "memorisation ratio (below 1: copying)"),
                        ("classifier_score", "classifier score")):
        if plain.get(name) is not None and augmented.get(name) is not None:
            print(f"| {label} | {plain[name]:.3f} | {augmented[name]:.3f} | {augmented[name] / plain[name]:.3f} |")
    print(f"\n{started}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
