"""What does a sweep cost, and does successive halving find the best settings for less?

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_sweep.py [--steps 1000] [--samples 297]

Eight digits-mlp trials (two generator learning rates x two widths x two batch sizes), each with the same budget in
steps, run four ways through `python -m gan_core sweep`, each in a fresh run folder:

- all at once: every trial trains from the start (slots = 8), as runs started by hand do;
- the queue, one slot: one trial at a time;
- the queue, two slots: two at a time;
- successive halving on two slots: rungs at 1/8, 1/4, 1/2 and all of the budget, the worse half stopped at each.

The table gives each way's wall time (from the command's start to its ranking), its ratio to all at once (the
baseline, measured in the same run), and the best Fréchet distance (digits classifier) it found. The last lines
check the goals: the queue finishes no later than all at once, and halving finds a trial within 10% of the full
grid's best in at most 60% of its time (the full grid on the same two slots). The digits classifier is trained
first, untimed, so that no way pays for it.
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

GRID = ("g_learning_rate=3e-4,1e-3", "width=32,128", "batch_size=32,64")
# Rungs at 1/8, 1/4, 1/2 and all of the budget.
HALVING_RUNGS = 4
# (label, --slots, --halving)
WAYS = (
    ("all at once (baseline)", 8, False),
    ("queue, 1 slot", 1, False),
    ("queue, 2 slots", 2, False),
    ("successive halving, 2 slots", 2, True),
)


def run_sweep(steps: int, samples: int, slots: int, halving: bool) -> tuple[float, float, list[float]]:
    """(wall seconds, best score, every trial's last score) of one sweep in a fresh run folder."""
    with tempfile.TemporaryDirectory() as runs_dir:
        command = [sys.executable, "-m", "gan_core", "sweep", "--preset", "digits-mlp", "--steps", str(steps),
                   "--samples", str(samples), "--slots", str(slots), "--runs-dir", runs_dir,
                   *(option for line in GRID for option in ("--grid", line))]
        command += ["--halving", str(HALVING_RUNGS)] if halving else []
        started = time.perf_counter()
        result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"the sweep failed:\n{result.stdout}\n{result.stderr}")
        state_path = next(Path(runs_dir, "sweeps").iterdir()) / "state.json"
        state = json.loads(state_path.read_text())
    best = state["scores"][state["ranking"][0]][-1]
    return seconds, best, [scores[-1] for scores in state["scores"].values() if scores]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="each trial's budget in steps")
    parser.add_argument("--samples", type=int, default=297, help="samples per side of each measure")
    options = parser.parse_args()
    subprocess.run([sys.executable, "-m", "gan_core", "prepare-features", "digits"], cwd=PROJECT_ROOT, check=True,
                   capture_output=True)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; 8 digits-mlp trials of "
          f"{options.steps} steps; FD on {options.samples} samples per side")
    results = {}
    for label, slots, halving in WAYS:
        results[label] = run_sweep(options.steps, options.samples, slots, halving)
        print(f"  done: {label}", flush=True)
    baseline = results[WAYS[0][0]][0]
    print(f"\n{'way':<32} {'wall s':>8} {'ratio':>7} {'best FD':>9}")
    for label, (seconds, best, _) in results.items():
        print(f"{label:<32} {seconds:>8.1f} {seconds / baseline:>7.2f} {best:>9.3f}")
    queue_seconds = min(results["queue, 1 slot"][0], results["queue, 2 slots"][0])
    grid_seconds, grid_best, _ = results["queue, 2 slots"]
    halving_seconds, halving_best, _ = results["successive halving, 2 slots"]
    print(f"\nthe queue's faster way finishes in {queue_seconds / baseline:.2f} of all at once's time "
          f"({'goal met' if queue_seconds <= baseline else 'goal missed'}: at most 1)")
    met = halving_best <= 1.1 * grid_best and halving_seconds <= 0.6 * grid_seconds
    print(f"halving's best is {halving_best / grid_best:.2f} of the full grid's best FD in "
          f"{halving_seconds / grid_seconds:.2f} of its time ({'goal met' if met else 'goal missed'}: within 1.10 in "
          f"at most 0.60)")


if __name__ == "__main__":
    main()
