"""Where the test suite's CPU goes: busy CPU seconds by kind of process over one run of the README's test command.

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_suite_processes.py [--workers 2] [tests ...]

The suite runs (`python3 -m pytest -n 2`, or only the given test files) in a fresh clone of the project's last commit
with a marker in its environment, which the processes it starts inherit, while this script reads the CPU time of
every process bearing the marker, or descended from one that does (the browser gives its own children an
environment of its own), from /proc twice a second. Each is counted from its first reading to its last,
under its kind: the test processes themselves, the trainers and workers they start (`python -m gan_core COMMAND`),
the dashboard servers, the browser, Playwright's driver, Ray. The machine's busy CPU seconds (from /proc/stat) are
the whole; the last row is what no reading caught (a process shorter than half a second, the last half second of
each) and any other work on the machine. Run it with nothing else on the machine: it takes as long as the suite.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench_clicks import cpu_name
from bench_suite import busy_seconds
from project_paths import PROJECT_ROOT

from support.processes import command_line, stat_fields

READING_SECONDS = 0.5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def kind_of(arguments: list[str]) -> str:
    """The kind of process a command line names."""
    line = " ".join(arguments)
    if "chromium" in line:
        return "browser (chromium)"
    if "playwright" in line:
        return "Playwright's driver"
    if "streamlit" in line:
        return "dashboard servers (streamlit)"
    if "gan_core.workers.warm_starter" in arguments:
        return "warm starters and the processes they forked"
    if "gan_core" in arguments and arguments.index("gan_core") + 1 < len(arguments):
        return f"python -m gan_core {arguments[arguments.index('gan_core') + 1]}"
    if "gan_core.demo_mode.showcase" in arguments:
        return "the demo's showcase"
    if "pytest" in line or "exec(eval(sys.stdin" in line:  # the latter: a pytest-xdist worker
        return "test processes (pytest)"
    if arguments and (arguments[0].startswith("ray::") or any("/ray/" in argument for argument in arguments)):
        return "Ray"  # its workers name themselves ray::..., its other programs live in the ray package
    return "other processes the suite started"


def has_marker(pid: str, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False  # ended meanwhile


class ProcessSampler(threading.Thread):
    """Reads the CPU time of every process bearing `marker`, or descended from one that does, until stopped;
    `by_kind()` sums them by kind."""

    def __init__(self, marker: str) -> None:
        super().__init__(daemon=True)
        self.marker = marker.encode()
        self.ours: dict[tuple[str, str], bool] = {}  # (pid, start time): whether the suite started it
        self.readings: dict[tuple[str, str], tuple[str, float]] = {}  # the same: its kind and CPU seconds, last read
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(READING_SECONDS):
            self.read()

    def read(self) -> None:
        """One reading of every process of the suite's. The kind is read each time, since a process seen between its
        fork and its exec still shows its parent's command line, and kept once the process has ended (a zombie's
        command line is empty)."""
        for pid in os.listdir("/proc"):
            if pid.isdigit() and (stat := stat_fields(pid)) and self.started_by_the_suite(pid, stat):
                key, arguments = (pid, stat[19]), command_line(pid)
                kind = kind_of(arguments) if arguments else self.readings.get(key, ("other processes the suite "
                                                                                    "started", 0.0))[0]
                self.readings[key] = (kind, (int(stat[11]) + int(stat[12])) / CLOCK_TICKS)

    def started_by_the_suite(self, pid: str, stat: list[str]) -> bool:
        """Whether the process bears the marker or descends from one that does; decided once per process."""
        key = (pid, stat[19])
        if key not in self.ours:
            parent = stat[1]
            parent_stat = stat_fields(parent) if parent not in ("0", "1") else None
            self.ours[key] = has_marker(pid, self.marker) or bool(
                parent_stat and self.started_by_the_suite(parent, parent_stat))
        return self.ours[key]

    def by_kind(self) -> Counter:
        totals: Counter = Counter()
        for kind, seconds in self.readings.values():
            totals[kind] += seconds
        return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("tests", nargs="*", help="test files to run instead of the whole suite")
    options = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                            text=True).stdout.strip()
    started = time.strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as folder:
        clone = Path(folder) / "project"
        subprocess.run(["git", "clone", "-q", str(PROJECT_ROOT), str(clone)], check=True)
        marker = f"GAN_SUITE_MEASURED={os.getpid()}"
        sampler = ProcessSampler(marker)
        busy_before, wall_before = busy_seconds(), time.perf_counter()
        sampler.start()
        finished = subprocess.run([sys.executable, "-m", "pytest", "-n", str(options.workers), "-q", "-rfE", "-p",
                                   "no:cacheprovider", *options.tests], cwd=clone, capture_output=True, text=True,
                                  env={**os.environ, marker.split("=")[0]: marker.split("=")[1]})
        sampler.stopping.set()
        sampler.join()
        wall, busy = time.perf_counter() - wall_before, busy_seconds() - busy_before
    summary = next((line.strip("= ") for line in reversed(finished.stdout.splitlines())
                    if " passed" in line or " failed" in line), f"pytest exited with {finished.returncode}")

    totals = sampler.by_kind()
    print(f"\n{started}, commit {commit}, {cpu_name()}, {os.cpu_count()} cores, `pytest -n {options.workers}"
          f"{' ' + ' '.join(options.tests) if options.tests else ''}`: {summary}; {wall:.0f} s wall, "
          f"{busy:.0f} busy CPU seconds; load average at the end {os.getloadavg()[0]:.1f}")
    print("| kind of process | busy CPU seconds | share of the busy seconds |")
    print("|---|---|---|")
    for kind, seconds in totals.most_common():
        print(f"| {kind} | {seconds:.0f} | {seconds / busy:.3f} |")
    rest = busy - sum(totals.values())
    print(f"| not caught by a reading, and other work on the machine | {rest:.0f} | {rest / busy:.3f} |")
    failures = [line for line in finished.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    if failures:
        print("\nNot passed (the figures above include them):", *failures, sep="\n")


if __name__ == "__main__":
    main()
