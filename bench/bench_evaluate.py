"""Time a full evaluation: 10,000 generated vs 10,000 real Fashion-MNIST images, the classifier already cached.

Run from the project root:  python bench/bench_evaluate.py [--run-dir RUN_DIR] [--n 10000]
Without --run-dir a short Fashion-MNIST run is trained first (not timed). The evaluation runs in a fresh
Python process, as `python -m gan_core evaluate RUN_DIR --n N` would (imports, loading the classifier and
the generator included), with a seed not used before so nothing comes from the run store's cache. As a
baseline, this process times the features alone for the same number of images: the work no evaluation avoids.
The target is under 60 s on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from project_paths import PROJECT_ROOT
from gan_core.inputs import data
from gan_core.measuring import evaluation, features
from gan_core.spec.config import preset
from gan_core.store.runs import create_run, open_run

TARGET_SECONDS = 60.0
EVALUATE_SCRIPT = """
import json, sys
from gan_core.measuring import evaluation
from gan_core.store.runs import open_run
results = evaluation.evaluate_run(open_run(sys.argv[1]), int(sys.argv[2]), seed=int(sys.argv[3]))
print(json.dumps(results))
"""


def trained_run(runs_dir: Path, steps: int):
    from gan_core.training.trainer import Trainer

    run = create_run(preset("fashion-dcgan", steps=steps, max_examples=5000), runs_dir)
    Trainer(run).train()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", help="an existing Fashion-MNIST run (default: train a short one)")
    parser.add_argument("--n", type=int, default=10_000, help="generated and real images each")
    parser.add_argument("--train-steps", type=int, default=100, help="steps of the run trained when no --run-dir")
    arguments = parser.parse_args()

    started = time.perf_counter()
    extractor = features.classifier_extractor("fashion_mnist")  # trains it once if the cache is empty
    print(f"classifier ready in {time.perf_counter() - started:.1f} s "
          f"(test accuracy {extractor.test_accuracy:.4f}, cache {features.default_cache_dir()})")

    with tempfile.TemporaryDirectory() as scratch:
        if arguments.run_dir:
            run = open_run(arguments.run_dir)
        else:
            started = time.perf_counter()
            run = trained_run(Path(scratch), arguments.train_steps)
            print(f"trained a {arguments.train_steps}-step Fashion-MNIST run in {time.perf_counter() - started:.0f} s")
        if run.config.dataset != "fashion_mnist":
            raise SystemExit(f"{run.path} is a {run.config.dataset} run; this benchmark needs a Fashion-MNIST one")
        used_seeds = {row["results"].get("seed") for row in run.evaluations()}
        seed = max((seed for seed in used_seeds if isinstance(seed, int)), default=0) + 1

        environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
        started = time.perf_counter()
        finished = subprocess.run([sys.executable, "-c", EVALUATE_SCRIPT, str(run.path), str(arguments.n), str(seed)],
                                  capture_output=True, text=True, env=environment)
        end_to_end = time.perf_counter() - started
        if finished.returncode != 0:
            raise SystemExit(f"the evaluation failed:\n{finished.stderr[-3000:]}")
        results = json.loads(finished.stdout.strip().splitlines()[-1])

        started = time.perf_counter()
        assert evaluation.evaluate_run(run, arguments.n, seed=seed) == results
        cached_seconds = time.perf_counter() - started

    # Baseline: features (and probabilities) of as many real images as the evaluation embeds on both sides.
    images = data.load_builtin("fashion_mnist", "train").examples[: 2 * arguments.n]
    extractor.features_and_probabilities(images[:100])  # the first call builds Keras' prediction function
    started = time.perf_counter()
    extractor.features_and_probabilities(images)
    features_alone = time.perf_counter() - started

    print(f"\n{arguments.n:,} generated vs {arguments.n:,} real Fashion-MNIST images, {results['feature_label']} "
          f"features, step {results['step']}\n")
    phases = {key.removeprefix("seconds_"): value for key, value in results.items() if key.startswith("seconds_")}
    print(f"{'phase':<28}{'seconds':>10}{'share':>9}")
    for phase, seconds in phases.items():
        print(f"{phase:<28}{seconds:>10.2f}{seconds / results['seconds']:>9.0%}")
    print(f"{'evaluate_run in total':<28}{results['seconds']:>10.2f}")
    print(f"{'process, imports and loading':<28}{end_to_end - results['seconds']:>10.2f}")
    print(f"{'end to end (fresh process)':<28}{end_to_end:>10.2f}")
    print(f"{'cached: evaluated again':<28}{cached_seconds:>10.2f}")
    print(f"\nbaseline, features alone for {len(images):,} images: {features_alone:.2f} s; "
          f"end to end is {end_to_end / features_alone:.1f}x that")
    print(f"(the features phase also embeds up to {arguments.n:,} training images for the memorisation check)")
    print(f"\nFD {results['frechet_distance']:.3f}  KID {results['kid_mean']:.5f}  "
          f"precision {results['precision']:.3f}  recall {results['recall']:.3f}  "
          f"memorisation ratio {results['memorisation_ratio']:.3f}")
    verdict = "within" if end_to_end < TARGET_SECONDS else "OVER"
    print(f"{verdict} the {TARGET_SECONDS:.0f} s target (load average now {np.round(os.getloadavg(), 1).tolist()})")


if __name__ == "__main__":
    main()
