"""Does a GAN's generated data help a classifier with few labels? The augmentation studies, end to end.

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_augmentation.py [--datasets fashion_mnist mnist]
        [--labels-per-class 10 50 100] [--seeds 0 1 2] [--steps 2000]

Each dataset's study runs from the command line exactly as a person starts it (`python -m gan_core augment`): for
every budget and seed a conditional generator (the default recipe with DiffAugment) trains on that many labelled
examples of each class, then the same classifier trains for the same number of updates on the real examples alone,
on them plus generated ones, and on every real label, and is tested on the real test split. Printed: each
accuracy's mean over the seeds with its 95% interval, the verdict on the gain (paired by seed), and the study's
time, with the CPU. The baseline measured in the same run is the real-only classifier; the ceiling is all labels.
Whatever the result is, it goes into docs/benchmarks.md.
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
from gan_core.workflows import augmentation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["fashion_mnist", "mnist"],
                        choices=augmentation.LABELLED_DATASETS)
    parser.add_argument("--labels-per-class", nargs="+", default=list(augmentation.DEFAULT_BUDGETS))
    parser.add_argument("--seeds", nargs="+", default=list(augmentation.DEFAULT_SEEDS))
    parser.add_argument("--steps", default=str(augmentation.AugmentationPlan("mnist").generator_steps))
    options = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as runs_dir:
        for dataset in options.datasets:
            began = time.perf_counter()
            printed = gan_core("augment", "--dataset", dataset, "--labels-per-class",
                               *map(str, options.labels_per_class), "--seeds", *map(str, options.seeds),
                               "--steps", str(options.steps), "--runs-dir", runs_dir)
            seconds = time.perf_counter() - began
            study = augmentation.open_study(Path(printed.strip().splitlines()[-1]))
            plan = study.plan
            print(f"\n{dataset}: generators of {plan.generator_steps:,} steps, {plan.generated_per_class:,} generated "
                  f"examples of each class, classifiers of {plan.classifier_updates:,} updates, seeds "
                  f"{', '.join(map(str, plan.seeds))}; {seconds / 60:.1f} minutes in all")
            print(augmentation.summary_table(augmentation.summarise(study.trials())), flush=True)
    print(f"\n{started}, {cpu_name()}, {os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
