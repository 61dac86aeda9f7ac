"""How lively the Playground is: snapshots per second while playing, and the time the ring of 8 takes to be covered.

Creates a "ring-playground" run in a fresh run store, starts its trainer the way the page does (gan_core.workers.jobs),
presses Play through the run store, and watches the snapshot file: how many distinct snapshots appear per second,
and how long after Play the modes-covered measure first says 8 of 8. Prints one JSON object with the date, the
machine's cores and load. Run it on an otherwise idle machine:

    python3 bench/bench_playground.py [--seconds 90] [--runs-dir DIR]

The browser's own rate (what a person sees) is measured by tests/test_browser_playground.py, which prints it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT  # noqa: F401  (puts the project on sys.path)
from gan_core.workers import jobs
from gan_core.lab import playground_store
from gan_core.store import runs
from gan_core.spec.config import preset
from gan_core.lab.playground_store import Command

STARTUP_SECONDS = 120  # importing TensorFlow and building the networks on a loaded machine
TRAJECTORY_SECONDS = 5  # how often the modes covered are recorded


def wait_for_snapshot(run: runs.Run, seconds: float) -> playground_store.Snapshot:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (snapshot := playground_store.read_snapshot(run)) is not None:
            return snapshot
        time.sleep(0.05)
    raise RuntimeError(f"no snapshot within {seconds} s; the trainer's log says:\n{run.tail_log(20)}")


def measure(runs_dir: Path, seconds: float) -> dict:
    # As many steps as the Playground page asks for: the preset alone stops after 6,000, within a demo's cap.
    run = runs.create_run(preset("ring-playground", steps=100_000), runs_dir)
    jobs.start_run(run)
    try:
        wait_for_snapshot(run, STARTUP_SECONDS)
        playground_store.send_command(run, Command("play"))
        started = time.monotonic()
        sequences, covered_after, last, trajectory = set(), None, None, []
        while time.monotonic() - started < seconds:
            snapshot = playground_store.read_snapshot(run)
            if snapshot is not None and snapshot.playing and snapshot.sequence != last:
                last = snapshot.sequence
                sequences.add((last, time.monotonic()))
                if covered_after is None and snapshot.modes_covered == snapshot.num_modes:
                    covered_after = time.monotonic() - started
                if len(trajectory) < (time.monotonic() - started) // TRAJECTORY_SECONDS + 1:
                    trajectory.append(f"{time.monotonic() - started:.0f} s: step {int(snapshot.step):,}, "
                                      f"{int(snapshot.modes_covered)} of {int(snapshot.num_modes)}, "
                                      f"JS {float(snapshot.js):.3f}")
            time.sleep(0.01)
        times = sorted(moment for _, moment in sequences)
        playing_seconds = times[-1] - times[0] if len(times) > 1 else float("nan")
        final = playground_store.read_snapshot(run)
        return {
            "snapshots_per_second": round((len(times) - 1) / playing_seconds, 2),
            "seconds_to_8_of_8_modes": None if covered_after is None else round(covered_after, 1),
            "steps_in_the_time": int(final.step),
            "steps_per_second": round(int(final.step) / seconds, 1),
            "modes_covered_at_end": f"{int(final.modes_covered)} of {int(final.num_modes)}",
            "every_5_seconds": trajectory,
        }
    finally:
        jobs.stop_run(run)
        deadline = time.monotonic() + 60
        while run.status.is_active and time.monotonic() < deadline:
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="how long to play")
    parser.add_argument("--runs-dir", type=Path, default=None, help="a run store to keep (default: a temporary one)")
    options = parser.parse_args()
    load_before = os.getloadavg()
    if options.runs_dir is not None:
        results = measure(options.runs_dir, options.seconds)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-playground-") as runs_dir:
            results = measure(Path(runs_dir), options.seconds)
    print(json.dumps({
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_cores": os.cpu_count(), "load_average_before": [round(value, 2) for value in load_before],
        "load_average_after": [round(value, 2) for value in os.getloadavg()], "preset": "ring-playground",
        **results,
    }, indent=2))


if __name__ == "__main__":
    main()
