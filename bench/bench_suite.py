"""How long the whole test suite takes, with the suite's one TensorFlow thread per process against TensorFlow's own
pools (one thread per core), in the same run of the machine.

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_suite.py [--rounds 1] [--workers 2]

Each measure runs the README's test command (`python3 -m pytest -n 2`) in a fresh clone of the project's last commit,
so that nothing cached by an earlier measure is reused, and takes the wall time and the machine's busy CPU seconds
(from /proc/stat, so the trainers, servers and browsers the tests start count too). The settings take turns round
after round. tests/conftest.py sets one thread unless the environment says otherwise; TensorFlow reads 0 as "choose
for this machine", which is the baseline here. Run it with nothing else on the machine: a measure takes about ten
minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_clicks import cpu_name
from project_paths import PROJECT_ROOT

SETTINGS = {
    "TensorFlow's own pools (baseline)": {"TF_NUM_INTRAOP_THREADS": "0", "TF_NUM_INTEROP_THREADS": "0"},
    "one thread per process (the suite's)": {},
}


def busy_seconds() -> float:
    """The machine's busy CPU seconds so far (user, nice, system, interrupts, steal) across all cores."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def measure(environment: dict[str, str], workers: int) -> tuple[float, float, str]:
    """Wall seconds, busy CPU seconds and pytest's summary line for one run of the suite in a fresh clone."""
    with tempfile.TemporaryDirectory() as folder:
        clone = Path(folder) / "project"
        subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(clone)], check=True)
        busy_before = busy_seconds()
        started = time.perf_counter()
        finished = subprocess.run([sys.executable, "-m", "pytest", "-n", str(workers), "-q", "-p", "no:cacheprovider"],
                                  cwd=clone, env={**os.environ, **environment}, capture_output=True, text=True)
        wall = time.perf_counter() - started
        busy_after = busy_seconds()
    summary = next((line.strip("= ") for line in reversed(finished.stdout.splitlines())
                    if re.search(r"\d+ (passed|failed)", line)), f"pytest exited with {finished.returncode}")
    summary = re.sub(r" in [0-9.]+s.*", "", summary)
    return wall, busy_after - busy_before, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    if "GAN_DATA_DIR" not in os.environ:
        print("note: GAN_DATA_DIR is not set; tests whose data is not on this machine are skipped", flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True).stdout.strip()
    started = time.strftime("%Y-%m-%d %H:%M")
    results: dict[str, list[tuple[float, float, str]]] = {name: [] for name in SETTINGS}
    for round_number in range(1, options.rounds + 1):
        for name, environment in SETTINGS.items():
            wall, busy, summary = measure(environment, options.workers)
            results[name].append((wall, busy, summary))
            print(f"round {round_number}, {name}: {wall:.0f} s, {busy:.0f} busy CPU seconds; {summary}", flush=True)

    print(f"\n{started}, commit {commit}, {cpu_name()}, {os.cpu_count()} cores, "
          f"`pytest -n {options.workers}`, load average at the end {os.getloadavg()[0]:.1f}")
    print("| setting | wall seconds | busy CPU seconds | tests | wall against the baseline |")
    print("|---|---|---|---|---|")
    baseline = sorted(wall for wall, _, _ in results[next(iter(SETTINGS))])
    for name, measures in results.items():
        walls = sorted(wall for wall, _, _ in measures)
        median = walls[len(walls) // 2]
        print(f"| {name} | {', '.join(f'{wall:.0f}' for wall, _, _ in measures)} | "
              f"{', '.join(f'{busy:.0f}' for _, busy, _ in measures)} | {measures[-1][2]} | "
              f"{median / baseline[len(baseline) // 2]:.3f} |")


if __name__ == "__main__":
    main()
