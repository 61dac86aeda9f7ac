"""How long does preparing a dataset's feature classifier take, and does the classifier rank runs as the previous one?

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_classifier.py [--datasets digits mnist fashion_mnist]
        [--samples 2000] [--skip-ranking]

Preparation: each dataset's classifier is prepared in a fresh process with an empty cache, as the Evaluate page's
worker does it (`python -m gan_core prepare-features`: TensorFlow's import, the data, the training, the test
accuracy, the file written), by today's recipe (features.CLASSIFIER_RECIPE) and by the previous one (PREVIOUS_RECIPE,
twice the filters, batch 128), one after the other in the same run. The goal is under 30 s on two cores.

Ranking: a Fréchet distance is only worth its feature space if it orders runs as people would. A few short runs per
dataset are trained with a checkpoint every few hundred steps (from barely trained to good); every checkpoint's
samples are measured against held-out images in both classifiers' spaces, and the Spearman rank correlation of the
two lists of distances is printed per dataset (goal: at least 0.95).
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gan_core.inputs import data  # noqa: E402
from gan_core.measuring import evaluation, features, metrics  # noqa: E402
from gan_core.spec.config import preset  # noqa: E402
from gan_core.store.runs import create_run  # noqa: E402

# The classifier's recipe until 2026-12-07 (trained then by Keras from numpy arrays, here from the same pipeline).
PREVIOUS_RECIPE = {"filters": (32, 64), "feature_units": 128, "dropout": 0.3, "epochs": 3, "min_updates": 1000,
                   "batch_size": 128, "learning_rate": 2e-3, "seed": 0}
GOAL_SECONDS = 30.0
GOAL_SPEARMAN = 0.95
PREPARE_SCRIPT = """
import json, sys
from gan_core.inputs import data
from gan_core.measuring import features
name, cache_dir, recipe = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
recipe["filters"] = tuple(recipe["filters"])
extractor = features.load_or_train_classifier(data.load_builtin(name, "train"), lambda: data.load_builtin(name, "test"),
                                              cache_dir, recipe=recipe)
print(extractor.test_accuracy)
"""
# (preset, steps, checkpoint every, settings): runs from barely trained to good, whose checkpoints are ranked.
RANKED_RUNS = {
    "mnist": [("mnist-dcgan", 1500, 250, {"width": 32}), ("mnist-acgan", 1000, 250, {})],
    "fashion_mnist": [("fashion-dcgan", 3000, 500, {}), ("fashion-vae", 1500, 500, {})],
    "digits": [("digits-mlp", 1500, 250, {})],
}


def prepare_in_fresh_process(name: str, recipe: dict) -> tuple[float, float]:
    """Seconds and test accuracy of preparing `name`'s classifier by `recipe` in a new process, with an empty cache."""
    with tempfile.TemporaryDirectory() as cache_dir:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", PREPARE_SCRIPT, name, cache_dir, json.dumps(recipe)],
                                capture_output=True, text=True, cwd=PROJECT_ROOT)
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"preparing the {name} classifier failed:\n{result.stderr[-3000:]}")
    return seconds, float(result.stdout.strip().splitlines()[-1])


def checkpoint_distances(name: str, extractors: list[features.FeatureExtractor], sample_count: int,
                         runs_dir: Path) -> list[list[float]]:
    """For each extractor, the FD of every checkpoint of the dataset's ranked runs to held-out images."""
    from gan_core.nets import sampling
    from gan_core.training.trainer import Trainer

    distances: list[list[float]] = [[] for _ in extractors]
    for preset_name, steps, every, settings in RANKED_RUNS[name]:
        run = create_run(preset(preset_name, steps=steps, checkpoint_every=every, **settings), runs_dir)
        Trainer(run).train()
        count = min(sample_count, evaluation.largest_sample_count(run.config))  # digits holds out 297 images
        real, _ = evaluation.held_out_examples(run.config, count, seed=0)
        real_features = [extractor.features(real) for extractor in extractors]
        for step in run.checkpoint_steps():
            generated = sampling.sample(run, count, seed=1, step=step)
            for column, extractor in enumerate(extractors):
                distances[column].append(metrics.frechet_distance(real_features[column], extractor.features(generated)))
            print(f"  {preset_name:<14} step {step:5,}  FD " + "  ".join(f"{column[-1]:8.2f}" for column in distances),
                  flush=True)
    return distances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(RANKED_RUNS), choices=list(RANKED_RUNS))
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--skip-ranking", action="store_true")
    options = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")

    print("| dataset | recipe | preparation (s) | test accuracy |")
    print("|---|---|---|---|")
    rows = []
    for name in options.datasets:
        for label, recipe in (("previous", PREVIOUS_RECIPE), ("today", features.CLASSIFIER_RECIPE)):
            seconds, accuracy = prepare_in_fresh_process(name, recipe)
            rows.append((name, label, seconds))
            print(f"| {name} | {label} | {seconds:.1f} | {accuracy:.4f} |", flush=True)
    today = [seconds for _, label, seconds in rows if label == "today"]
    print(f"slowest preparation today: {max(today):.1f} s (goal under {GOAL_SECONDS:.0f} s: "
          f"{'met' if max(today) < GOAL_SECONDS else 'NOT met'})")

    if not options.skip_ranking:
        from scipy.stats import spearmanr

        print("\nFD of every checkpoint in the previous and today's classifier space:")
        correlations = {}
        with tempfile.TemporaryDirectory() as scratch:
            for name in options.datasets:
                train, test = data.load_builtin(name, "train"), data.load_builtin(name, "test")
                extractors = [features.load_or_train_classifier(train, test, Path(scratch) / "cache", recipe=recipe)
                              for recipe in (PREVIOUS_RECIPE, features.CLASSIFIER_RECIPE)]
                previous, current = checkpoint_distances(name, extractors, options.samples, Path(scratch) / "runs")
                correlations[name] = (spearmanr(previous, current).statistic, len(previous))
        print("\n| dataset | checkpoints | Spearman rank correlation |")
        print("|---|---|---|")
        for name, (correlation, count) in correlations.items():
            print(f"| {name} | {count} | {correlation:.3f} |")
        lowest = min(correlation for correlation, _ in correlations.values())
        verdict = "met" if lowest >= GOAL_SPEARMAN else "NOT met"
        print(f"lowest: {lowest:.3f} (goal at least {GOAL_SPEARMAN}: {verdict})")
    print(f"\n{started}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
