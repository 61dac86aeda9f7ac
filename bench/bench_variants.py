"""What each GAN variant's preset reaches in a fixed training time on this machine.

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_variants.py [--seconds 300] [--infogan-seconds 600]
                                                                    [--presets mnist-acgan ...] [--samples 2000]

Each preset trains from the command line, exactly as a person would start it (`python -m gan_core train --preset P
--max-seconds S`), in a fresh process with nothing else training, then `python -m gan_core evaluate` measures its last
checkpoint in the dataset classifier's feature space. The table prints, for each preset, the measure its variant is
judged by, beside the baseline that the same run of this script measured or that the paper reports:

- mnist-infogan: categorical-code purity (the paper reaches about 0.95) and Q's accuracy on real test digits;
- mnist-acgan: the classifier's accuracy on the requested classes, and the Classification Accuracy Score of a
  classifier trained on generated digits beside one trained on as many real ones;
- mnist-began: M_global at the first logged step and at the end (the ratio shows it fell), and the share of
  samples the MNIST classifier puts in each digit (recognisable, varied digits spread over all ten);
- fashion-vae and fashion-vaegan: Fréchet distance of prior samples, and their ratio; with --whole-time both train
  for the same time (each preset otherwise stops at its own step count, which the VAE reaches sooner);
- any other preset (`--presets mnist-cgan ...`): its Fréchet distance, and a conditional one's requested-class
  accuracy.

The presets' datasets need their classifiers (`python -m gan_core prepare-features --dataset mnist`, ...); this script
prepares them when missing, before any timing starts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT
from gan_core.spec import config
from gan_core.store import runs

# A step count no run reaches in the time given, so that the time limit alone ends it.
UNREACHABLE_STEPS = 10_000_000
DEFAULT_PRESETS = ("mnist-infogan", "mnist-acgan", "mnist-began", "fashion-vae", "fashion-vaegan")


def gan_core(*arguments: str) -> str:
    """Run `python -m gan_core ...` and return what it printed; a failure stops the benchmark with its output."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-m", "gan_core", *arguments], cwd=PROJECT_ROOT, env=environment,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"python -m gan_core {' '.join(arguments)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def train(preset: str, seconds: float, runs_dir: Path, whole_time: bool) -> runs.Run:
    """Train a preset for `seconds` at most; with `whole_time`, for all of them (its step count no longer stops it)."""
    steps = ["--set", f"steps={UNREACHABLE_STEPS}"] if whole_time else []
    output = gan_core("train", "--preset", preset, "--max-seconds", str(seconds), "--runs-dir", str(runs_dir), *steps)
    return runs.open_run(output.strip().splitlines()[-1])


def evaluate(run: runs.Run, samples: int) -> dict:
    return json.loads(gan_core("evaluate", str(run.path), "--n", str(samples)).strip().splitlines()[-1])


def first_and_last(run: runs.Run, metric: str) -> tuple[float, float]:
    values = [row[metric] for row in run.metrics_since() if row.get(metric) is not None]
    return values[0], values[-1]


def describe(preset: str, run: runs.Run, results: dict) -> list[tuple[str, str, str]]:
    """(measure, value, baseline) rows for one preset."""
    status = run.status
    rows = [("steps trained", f"{status.step:,}", f"{status.trained_seconds:.0f} s"),
            ("Fréchet distance", f"{results['frechet_distance']:.3g}", "")]
    if preset == "mnist-infogan":
        rows += [("categorical-code purity", f"{results['categorical_code_purity']:.3f}", "paper about 0.95; goal 0.8"),
                 ("Q accuracy on real test digits", f"{results['q_accuracy']:.3f}", "paper 0.95")]
    if "requested_class_accuracy" in results:  # the conditional GANs: ACGAN, a conditional DCGAN
        goal = "goal 0.97 within 2 minutes" if preset == "mnist-acgan" else ""
        rows.append(("requested-class accuracy", f"{results['requested_class_accuracy']:.3f}", goal))
    if "classification_accuracy_score" in results and "class_diversity_ratio" in results:
        generated, real = results["classification_accuracy_score"], results["classification_accuracy_score_real"]
        rows += [("CAS, trained on generated", f"{generated:.3f}",
                  f"trained on as many real: {real:.3f} (ratio {generated / real:.3f})"),
                 ("within-class diversity / real", f"{results['class_diversity_ratio']:.3f}", "1 = as varied as real")]
    if preset == "mnist-began":
        first, last = first_and_last(run, "m_global")
        histogram = results["generated_class_histogram"]
        rows += [("M_global first -> last", f"{first:.4f} -> {last:.4f}", f"ratio {last / first:.3f}"),
                 ("classes the MNIST classifier sees", " ".join(f"{share:.2f}" for share in histogram),
                  f"largest share {max(histogram):.2f}; classifier score {results['classifier_score']:.2f} of 10")]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=list(DEFAULT_PRESETS))
    parser.add_argument("--seconds", type=float, default=300.0, help="training time of each preset")
    parser.add_argument("--infogan-seconds", type=float, default=600.0, help="training time of mnist-infogan")
    parser.add_argument("--samples", type=int, default=2000, help="generated and real samples per evaluation")
    parser.add_argument("--whole-time", action="store_true",
                        help="train every preset for the whole time, past its own step count (for equal-time "
                             "comparisons such as fashion-vae against fashion-vaegan)")
    options = parser.parse_args()

    for dataset in sorted({config.preset(name).dataset for name in options.presets}):
        gan_core("prepare-features", dataset)
    table, frechet = [], {}
    with tempfile.TemporaryDirectory() as runs_dir:
        for preset in options.presets:
            seconds = options.infogan_seconds if preset == "mnist-infogan" else options.seconds
            started = time.monotonic()
            run = train(preset, seconds, Path(runs_dir), options.whole_time)
            results = evaluate(run, options.samples)
            frechet[preset] = results["frechet_distance"]
            table += [(preset, *row) for row in describe(preset, run, results)]
            print(f"{preset}: done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    if "fashion-vae" in frechet and "fashion-vaegan" in frechet:
        ratio = frechet["fashion-vaegan"] / frechet["fashion-vae"]
        table.append(("fashion-vaegan / fashion-vae", "Fréchet distance ratio", f"{ratio:.3f}",
                      "below 1: VAE-GAN's prior samples are closer to real"))

    limit = "for the whole time" if options.whole_time else "at most (a preset stops at its own step count)"
    print(f"\nGAN variants, {options.seconds:g} s each {limit} (mnist-infogan {options.infogan_seconds:g} s), "
          f"{options.samples:,} samples per side; {os.cpu_count()} cores, "
          f"{platform.processor() or platform.machine()}, load average {os.getloadavg()[0]:.1f} at the end\n")
    widths = [max(len(row[column]) for row in table) for column in range(4)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
