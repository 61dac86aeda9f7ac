"""Time the feature-space metrics on 10,000 real vs 10,000 generated 128-d features.

Run from the project root:  python bench/bench_metrics.py [--rows 10000] [--width 128]
The `prdc` package's compute_prdc runs on the same input as a baseline; its answers are compared too.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

import numpy as np

from project_paths import PROJECT_ROOT  # noqa: F401  (puts the project on sys.path)
from gan_core.measuring import metrics


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows in each of the two feature sets")
    parser.add_argument("--width", type=int, default=128, help="feature dimension")
    arguments = parser.parse_args()

    # float32 like a network's activations; the generated set is slightly shifted and widened.
    rng = np.random.default_rng(0)
    real = rng.normal(size=(arguments.rows, arguments.width)).astype(np.float32)
    fake = (rng.normal(size=(arguments.rows, arguments.width)) * 1.1 + 0.05).astype(np.float32)
    print(f"{arguments.rows:,} real vs {arguments.rows:,} generated rows of {arguments.width}-d features\n")

    rows = []
    seconds, value = timed(metrics.frechet_distance, real, fake)
    rows.append(("frechet_distance", seconds, f"{value:.4f}"))
    seconds, (mean, std) = timed(metrics.kernel_distance, real, fake)
    rows.append(("kernel_distance (100 x 1000)", seconds, f"{mean:.5f} +- {std:.5f}"))
    prdc_seconds, ours = timed(metrics.prdc, real, fake, nearest_k=5)
    rows.append(("prdc (k=5)", prdc_seconds, " ".join(f"{key}={value:.4f}" for key, value in ours.items())))

    import prdc as prdc_package  # only the baseline needs it

    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the set sizes
        package_seconds, theirs = timed(prdc_package.compute_prdc, real, fake, nearest_k=5)
    rows.append(("prdc package compute_prdc", package_seconds, " ".join(f"{k}={v:.4f}" for k, v in theirs.items())))

    print(f"{'measure':<30} {'seconds':>8}  result")
    for name, seconds, result in rows:
        print(f"{name:<30} {seconds:8.2f}  {result}")
    largest_gap = max(abs(ours[key] - float(theirs[key])) for key in ours)
    print(f"\nprdc package time / ours: {package_seconds / prdc_seconds:.2f}x")
    print(f"largest difference between the two prdc results: {largest_gap:.2e}")


if __name__ == "__main__":
    main()
