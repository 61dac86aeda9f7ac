"""How long a trainer waits before its first step: TensorFlow and Keras, their plain import against the command
line's (gan_core.nets.tensorflow_import.import_tensorflow_quietly, which leaves out the extras Keras imports for
notebooks, data frames and scikit-learn wrappers); and scikit-learn's digits, through scikit-learn against the
project's own read of the same file. Each in a fresh process, taking turns.

    python3 bench/bench_start.py [--rounds 7]

Run it with nothing else on the machine.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys

from bench_clicks import cpu_name
from project_paths import PROJECT_ROOT

TIMED = "import time; started = time.perf_counter(); {body}; print(time.perf_counter() - started)"
# What is timed, and its baseline first.
COMPARISONS = {
    "TensorFlow and Keras": {
        "import tensorflow, keras (baseline)": "import tensorflow, keras",
        "import_tensorflow_quietly()":
            ("import gan_core.__main__; from gan_core.nets.tensorflow_import import import_tensorflow_quietly; "
             "import_tensorflow_quietly()"),
    },
    "scikit-learn's digits": {
        "sklearn.datasets.load_digits() (baseline)": "import sklearn.datasets; sklearn.datasets.load_digits()",
        "data.load_builtin('digits', 'train')":
            "from gan_core.inputs import data; data.load_builtin('digits', 'train')",
    },
}


def seconds(body: str) -> float:
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(PROJECT_ROOT)}
    printed = subprocess.run([sys.executable, "-c", TIMED.format(body=body)], env=environment, cwd=PROJECT_ROOT,
                             capture_output=True, text=True, check=True).stdout
    return float(printed.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    times = {comparison: {name: [] for name in ways} for comparison, ways in COMPARISONS.items()}
    for _ in range(options.rounds):
        for comparison, ways in COMPARISONS.items():
            for name, body in ways.items():
                times[comparison][name].append(seconds(body))
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_name()}, {os.cpu_count()} cores, load average at the end "
          f"{os.getloadavg()[0]:.1f}; {options.rounds} rounds, each in a fresh process")
    for comparison, measures in times.items():
        print(f"\n{comparison}\n| way | median seconds | all rounds | against the baseline |\n|---|---|---|---|")
        baseline = statistics.median(next(iter(measures.values())))
        for name, measured in measures.items():
            print(f"| {name} | {statistics.median(measured):.2f} | {', '.join(f'{value:.2f}' for value in measured)} "
                  f"| {statistics.median(measured) / baseline:.3f} |")

if __name__ == "__main__":
    main()
