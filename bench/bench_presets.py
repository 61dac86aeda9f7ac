"""Does each preset keep the promise its README line makes, for every seed, at the step count the promise names?

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_presets.py [--presets ring-mlp ...] [--seeds 0 1 2]
        [--samples 2000] [--set NAME=VALUE ...] [--steps N]

A promise is stated by a step count, which does not depend on the machine: "all 8 modes and most samples near one by
step 3,000". Each preset is trained from the command line exactly as a person starts it (`python -m gan_core train
--preset NAME --set seed=S`), one seed after another, to the promised step; its last checkpoint is then measured by
the same evaluation as the Evaluate page (2,000 samples against as many held-out images), and every promised
measure is printed per seed with its verdict. The seconds each run took are printed beside, with the CPU: they are
what the README quotes as this machine's time, and they vary with the machine, the promise does not.

With --set (and --steps), the presets are trained with those settings changed instead: a recipe as it was, or a
candidate, measured against the same promises in the same run of the machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT  # noqa: F401  (puts the project on sys.path)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench_clicks import cpu_name  # noqa: E402
from bench_variants import gan_core  # noqa: E402
from gan_core.measuring import evaluation  # noqa: E402
from gan_core.spec.promises import PROMISES, Bound, Promise  # noqa: E402
from gan_core.store.runs import open_run  # noqa: E402


# Promises still being tried, by the same rules, before they are made in gan_core/spec/promises.py.
CANDIDATES = {
    "mnist-infogan": Promise(6000, (Bound("categorical_code_purity", ">=", 0.8),), "", "", ""),
}
PRESET_PROMISES = {**PROMISES, **CANDIDATES}


def train(preset_name: str, steps: int, seed: int, runs_dir: Path, settings: list[str]) -> tuple[Path, float]:
    """The run folder and the seconds `python -m gan_core train` took, TensorFlow's start included."""
    changes = [argument for setting in settings for argument in ("--set", setting)]
    started = time.perf_counter()
    printed = gan_core("train", "--preset", preset_name, "--steps", str(steps), "--set", f"seed={seed}",
                       "--runs-dir", str(runs_dir), *changes)
    return Path(printed.strip().splitlines()[-1]), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESET_PROMISES), choices=list(PRESET_PROMISES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="train with this setting changed (repeatable)")
    parser.add_argument("--steps", type=int, help="train to this step instead of the promise's")
    options = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")
    rows, broken = [], 0
    with tempfile.TemporaryDirectory() as runs_dir:
        for preset_name in options.presets:
            promise = PRESET_PROMISES[preset_name]
            steps = options.steps or promise.steps
            for seed in options.seeds:
                run_path, seconds = train(preset_name, steps, seed, Path(runs_dir), options.settings)
                results = evaluation.evaluate_run(open_run(run_path), options.samples)
                for bound in promise.bounds:
                    kept = bound.kept_by(results)
                    broken += not kept
                    rows.append((preset_name, seed, steps, seconds, bound, results[bound.measure],
                                 bound.bound_in(results), kept))
                    print(f"  {preset_name} seed {seed}: {bound.measure} {results[bound.measure]:.4g} "
                          f"({'kept' if kept else 'BROKEN'}), {seconds:.0f} s", flush=True)

    changed = f"; changed: {' '.join(options.settings)}" if options.settings else ""
    print(f"\n{started}, {cpu_name()}, {os.cpu_count()} cores, load average at the "
          f"end {os.getloadavg()[0]:.1f}; {options.samples:,} samples per side{changed}")
    print("| preset | seed | steps | seconds | promise | measured | bound | kept |")
    print("|---|---|---|---|---|---|---|---|")
    for preset_name, seed, steps, seconds, bound, value, limit, kept in rows:
        print(f"| {preset_name} | {seed} | {steps:,} | {seconds:.0f} | {bound.describe()} | {value:.4g} | "
              f"{limit:.4g} | {'yes' if kept else 'NO'} |")
    print(f"\n{len(rows) - broken} of {len(rows)} promises kept")


if __name__ == "__main__":
    main()
