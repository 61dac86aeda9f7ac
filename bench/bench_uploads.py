"""Hostile uploads: what handling every zip bomb, pixel bomb and broken file costs, against a zip of good images.

    python3 bench/bench_uploads.py

Each set runs in a fresh process (tests/hostile_uploads.py), which saves and reads every upload the way the Train
page and `--data` do, and reports each outcome and its peak memory (VmHWM). The baseline is the same process
handling one zip of eight good images. Prints a table of outcomes, both peaks, their ratio and the time taken;
the target is a peak under 1 GB with nothing written outside the upload folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from project_paths import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "tests" / "hostile_uploads.py"


def handle(*options: str) -> tuple[dict, float]:
    """The script's report for one set of uploads, and the seconds it took."""
    with tempfile.TemporaryDirectory() as work_dir:
        started = time.monotonic()
        finished = subprocess.run([sys.executable, str(SCRIPT), work_dir, *options], capture_output=True, text=True,
                                  check=True, cwd=PROJECT_ROOT)
        return json.loads(finished.stdout), time.monotonic() - started


def main() -> None:
    baseline, baseline_seconds = handle("--good-only")
    hostile, hostile_seconds = handle()
    print(f"\n{'upload':<18}outcome")
    for name, outcome in hostile["outcomes"].items():
        if "refused" in outcome:
            text = "refused: " + outcome["refused"]
        else:
            text = f"{outcome['images']} images used; skipped: " + (
                "; ".join(f"{file} ({reason})" for file, reason in outcome["skipped"]) or "none")
        print(f"{name:<18}{text[:150]}")
    megabytes = 2**20
    print(f"\n{'set':<34}{'peak memory (MB)':>18}{'seconds':>10}")
    print(f"{'one zip of 8 good images':<34}{baseline['peak_rss_bytes'] / megabytes:>18.0f}{baseline_seconds:>10.1f}")
    print(f"{'every hostile upload':<34}{hostile['peak_rss_bytes'] / megabytes:>18.0f}{hostile_seconds:>10.1f}")
    print(f"\nratio hostile / good: {hostile['peak_rss_bytes'] / baseline['peak_rss_bytes']:.2f} "
          f"(target: a peak under 1,024 MB); files written outside the upload folders: "
          f"{len(hostile['files_outside_uploads'])}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
