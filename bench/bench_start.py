"""How long a trainer waits before its first step: TensorFlow and Keras, their plain import against the command
line's (gan_core.nets.tensorflow_import.import_tensorflow_quietly, which leaves out the extras Keras imports for
notebooks, data frames and scikit-learn wrappers); and scikit-learn's digits, through scikit-learn against the
project's own read of the same file. Each in a fresh process, taking turns. Then a trainer's whole start: a digits
run of one step, from asking for its trainer to its status "finished", started as a fresh process against forked
by a warm starter (gan_core.workers.warm_start), as the dashboard starts it.

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
import tempfile
import time
from pathlib import Path

from bench_clicks import cpu_name
from project_paths import PROJECT_ROOT

from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.workers import jobs, warm_start

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


TRAINER_START = "A digits run of one step, from its trainer's start to its end"
FRESH, WARM = "a fresh process (baseline)", "forked by a warm starter"


def trainer_start_seconds(starter: warm_start.WarmStarter | None, runs_dir: Path) -> float:
    """From asking for a one-step digits run's trainer to its status "finished": fresh, as jobs starts one in a
    process without a starter of its own (this one), or warm, from `starter`."""
    run = create_run(preset("digits-mlp", steps=1, log_every=1), runs_dir)
    command = [sys.executable, "-m", "gan_core", "resume", str(run.path)]
    started = time.perf_counter()
    if starter is None:
        jobs.start_background_process(command, run.log_path)
    else:
        assert starter.start(command, run.log_path, jobs.engine_environment()), "the warm starter started nothing"
    while run.status.state != "finished":
        if run.status.state == "failed":
            raise RuntimeError(f"the trainer failed: {run.tail_log()}")
        time.sleep(0.01)
    return time.perf_counter() - started


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
    times[TRAINER_START] = {FRESH: [], WARM: []}
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    starter = warm_start.WarmStarter(PROJECT_ROOT, jobs.engine_environment())
    with tempfile.TemporaryDirectory() as runs_dir:
        for _ in range(options.rounds):
            for comparison, ways in COMPARISONS.items():
                for name, body in ways.items():
                    times[comparison][name].append(seconds(body))
            times[TRAINER_START][FRESH].append(trainer_start_seconds(None, Path(runs_dir)))
            while not (starter.is_ready() or starter.has_become_ready()):
                time.sleep(0.1)
            times[TRAINER_START][WARM].append(trainer_start_seconds(starter, Path(runs_dir)))
    starter.end()
    jobs.reap_finished_processes()
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_name()}, {os.cpu_count()} cores, load average at the end "
          f"{os.getloadavg()[0]:.1f}; {options.rounds} rounds, each import in a fresh process")
    for comparison, measures in times.items():
        print(f"\n{comparison}\n| way | median seconds | all rounds | against the baseline |\n|---|---|---|---|")
        baseline = statistics.median(next(iter(measures.values())))
        for name, measured in measures.items():
            print(f"| {name} | {statistics.median(measured):.2f} | {', '.join(f'{value:.2f}' for value in measured)} "
                  f"| {statistics.median(measured) / baseline:.3f} |")


if __name__ == "__main__":
    main()
