"""Do the time estimates hold? Each preset trained for about a minute, its time predicted before and during training.

For each preset, in a fresh run store, one after the other (so each later preset's estimate can lean on the runs
measured before it, as on a person's machine):

1. the Train form's estimate (gan_core.training.throughput.estimate, from the runs measured so far) gives the seconds
   per step, and the run is given as many steps as that predicts for `--seconds`;
2. the run trains from the command line's trainer (gan_core.workers.jobs); `--check-at` seconds after it reports
   running, Monitor's time left (gan_core.training.throughput.seconds_left on the rows logged so far) predicts its end;
3. the measured time runs from the moment the trainer reports running (TensorFlow loaded, data read) to the wall
   time of its last step.

Then the feature classifiers Evaluate needs (`--classifiers`), trained one after the other in a fresh cache, each
predicted from the ones trained before it (gan_core.measuring.features.expected_classifier_seconds).

Prints tables of predicted against measured seconds with their ratios (a prediction within 25% is marked ok), then
each preset's images/s over its measured time and each classifier's seconds: the reference figures gan_core keeps
for the CPU they were measured on (`throughput.REFERENCE_IMAGES_PER_SECOND`, `features.REFERENCE_CLASSIFIER_SECONDS`).
Run it on a quiet machine:

    python3 bench/bench_estimates.py [--seconds 60] [--check-at 20] [--presets fashion-dcgan digits-mlp ...]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT
from bench_clicks import cpu_name
from gan_core.spec import config as config_module
from gan_core.measuring import features
from gan_core.workers import jobs
from gan_core.spec import registry
from gan_core.store import runs
from gan_core.training import throughput

TOLERANCE = 0.25
STARTUP_SECONDS = 300  # loading TensorFlow and the data on a busy machine


def wait_until(condition, seconds: float, what: str) -> float:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return time.time()
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not happen within {seconds:.0f} s")


def measure(preset_name: str, runs_dir: Path, seconds: float, check_at: float) -> dict:
    """Predict, train and time one preset; the figures of one table row."""
    base = config_module.preset(preset_name)
    history = throughput.measured_history(runs.list_runs(runs_dir))
    estimate = throughput.estimate(base, history)
    seconds_per_step = estimate.seconds_per_1000_steps / 1000
    steps = max(base.log_every * 10, round(seconds / seconds_per_step / base.log_every) * base.log_every)
    config = base.replace(steps=steps, checkpoint_every=steps, sample_every=steps)
    run = runs.create_run(config, runs_dir)
    jobs.start_run(run)
    try:
        started = wait_until(lambda: run.status.state in ("running", "finished", "failed"), STARTUP_SECONDS,
                             f"{preset_name} starting")
        if run.status.state == "failed":
            raise RuntimeError(f"{preset_name} failed: {run.status.message}\n{run.tail_log(20)}")
        monitor_prediction = None
        while run.status.is_active:
            if monitor_prediction is None and time.time() - started >= check_at:
                status, rows = run.status, run.metrics_since(-1)
                left = throughput.seconds_left(config, rows, status.step, steps, history)
                monitor_prediction = time.time() - started + left
            time.sleep(0.2)
        if run.status.state != "finished":
            raise RuntimeError(f"{preset_name} ended {run.status.state}: {run.status.message}\n{run.tail_log(20)}")
        last = run.metrics_since(steps - 1)[-1]
        measured = last["wall_time"] - started
    finally:
        if run.status.is_active:
            jobs.stop_run(run)
    return {"preset": preset_name, "steps": steps, "source": estimate.source.split(":")[0],
            "form": seconds_per_step * steps, "monitor": monitor_prediction, "measured": measured,
            "images_per_second": steps * throughput.images_per_step(config) / measured}


def classifier_times(names: list[str], cache_dir: Path) -> list[dict]:
    """Train each dataset's feature classifier in a fresh cache, in order, each predicted from those before it."""
    rows = []
    for name in names:
        predicted = features.expected_classifier_seconds(name, cache_dir)
        source = "the ones before it"
        if predicted is None:
            predicted, source = features.REFERENCE_CLASSIFIER_SECONDS.get(name), "reference"
        command = [sys.executable, "-m", "gan_core", "prepare-features", name, "--cache-dir", str(cache_dir)]
        subprocess.run(command, cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=3600)
        [record] = [json.loads(path.read_text()) for path in (cache_dir / "classifiers").glob(f"{name}-*.json")]
        rows.append({"dataset": name, "predicted": predicted, "source": source,
                     "measured": record["training_seconds"]})
        print(f"{name} classifier: predicted {predicted or float('nan'):.0f} s, measured "
              f"{record['training_seconds']:.0f} s", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each preset should train (default 60)")
    parser.add_argument("--check-at", type=float, default=20.0,
                        help="seconds into training at which Monitor's time left is read (default 20)")
    # A Playground preset plays until paused: it has no last step to reach.
    timed = [name for name in registry.presets() if not config_module.preset(name).playground]
    parser.add_argument("--presets", nargs="+", default=timed,
                        choices=list(registry.presets()), metavar="PRESET",
                        help="the presets to measure, in order (default: all but the Playground's)")
    parser.add_argument("--classifiers", nargs="*", default=["mnist", "fashion_mnist"], metavar="DATASET",
                        help="feature classifiers to train, in order, each predicted from those before it "
                             "(default: mnist fashion_mnist)")
    arguments = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in arguments.presets:
            row = measure(name, Path(folder), arguments.seconds, arguments.check_at)
            rows.append(row)
            print(f"{name}: form {row['form']:.0f} s, monitor {row['monitor'] or float('nan'):.0f} s, "
                  f"measured {row['measured']:.0f} s", flush=True)
        classifier_rows = classifier_times(arguments.classifiers, Path(folder) / "cache")

    def verdict(predicted: float | None, measured: float) -> str:
        if predicted is None:
            return "—"
        ratio = predicted / measured
        return f"{predicted:.0f} s ({ratio:.2f}{', ok' if abs(ratio - 1) <= TOLERANCE else ''})"

    print(f"\n{datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_name()}, {os.cpu_count()} cores, load average "
          f"{' / '.join(f'{value:.1f}' for value in os.getloadavg())} at the end; --seconds {arguments.seconds:g} "
          f"--check-at {arguments.check_at:g}")
    print("| preset | steps | Train form's estimate (source) | Monitor's at "
          f"{arguments.check_at:g} s | measured | images/s to the last step |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['preset']} | {row['steps']:,} | {verdict(row['form'], row['measured'])} ({row['source']}) | "
              f"{verdict(row['monitor'], row['measured'])} | {row['measured']:.0f} s | "
              f"{row['images_per_second']:,.0f} |")
    if classifier_rows:
        print("\n| feature classifier | predicted (source) | measured training time |")
        print("|---|---|---|")
        for row in classifier_rows:
            print(f"| {row['dataset']} | {verdict(row['predicted'], row['measured'])} ({row['source']}) | "
                  f"{row['measured']:.0f} s |")
    # The figures gan_core/training/throughput.py and gan_core/measuring/features.py keep for the CPU this ran on.
    print("\nREFERENCE_IMAGES_PER_SECOND = {" + ", ".join(f'"{row["preset"]}": {row["images_per_second"]:.0f}'
                                                        for row in rows) + "}")
    print("REFERENCE_CLASSIFIER_SECONDS = {" + ", ".join(f'"{row["dataset"]}": {row["measured"]:.0f}'
                                                          for row in classifier_rows) + "}")
    for name, key in (("Train form's", "form"), ("Monitor's", "monitor")):
        within = [row for row in rows if row[key] is not None and abs(row[key] / row["measured"] - 1) <= TOLERANCE]
        print(f"{name} prediction within {TOLERANCE:.0%}: {len(within)} of {len(rows)} presets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
