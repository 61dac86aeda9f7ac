"""The memory the dashboard needs: the web server page by page, and one trainer process for each preset.

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_memory.py [--steps 20] [--presets NAME ...]

1. The server: `streamlit run app.py` over the run store the trainers below wrote, each page opened in Debian's
   chromium one after the other; after each, the server's resident memory (VmRSS), its peak (VmHWM) and whether
   TensorFlow is loaded in it (its shared library mapped). Pages that only read the run store must not load it.
2. The trainers: `python -m gan_core train --preset P --steps N` for each preset, alone, with its peak resident
   memory, beside the baseline measured in the same run: a Python process that only imports TensorFlow and Keras.
   The ratio says what a preset's data and networks add to what TensorFlow costs anyway.

Run it on an otherwise idle machine (the numbers are memory, not time, but a busy machine swaps).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT
from bench_demo_memory import memory_megabytes
from gan_core.spec import registry
from support.browser import CHROMIUM, CHROMIUM_ARGS, free_port, wait_for_app, wait_until_healthy

PAGES = ("", "runs", "monitor", "gallery", "compare", "evaluate", "human_test", "train")


def tensorflow_loaded(pid: int) -> bool:
    """Whether TensorFlow's shared library is mapped into the process."""
    with open(f"/proc/{pid}/maps") as maps:
        return any("libtensorflow" in line for line in maps)


def peak_of_command(command: list[str], environment: dict[str, str]) -> tuple[float, int]:
    """Run `command` to its end, sampling its peak resident memory; (peak MB, exit code)."""
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    peak = 0.0
    while process.poll() is None:
        try:
            peak = max(peak, memory_megabytes(process.pid)[1])
        except (FileNotFoundError, KeyError, ProcessLookupError):
            break
        time.sleep(0.2)
    return peak, process.wait()


def server_rows(environment: dict[str, str], run_id: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1", "--server.headless", "true"], cwd=PROJECT_ROOT,
                              env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        wait_until_healthy(url, server)
        now, peak = memory_megabytes(server.pid)
        rows.append(f"| (started, no page open) | {now:,.0f} | {peak:,.0f} | {tensorflow_loaded(server.pid)} |")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            for name in PAGES:
                page.goto(f"{url}/{name}?run={run_id}" if name else url)
                wait_for_app(page)
                time.sleep(2)  # fragments and images finish loading
                now, peak = memory_megabytes(server.pid)
                rows.append(f"| /{name} | {now:,.0f} | {peak:,.0f} | {tensorflow_loaded(server.pid)} |")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="steps each preset's trainer runs")
    parser.add_argument("--presets", nargs="+", default=list(registry.presets()), choices=list(registry.presets()))
    options = parser.parse_args()
    runs_dir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    environment = {**os.environ, "GAN_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(PROJECT_ROOT),
                   "TF_CPP_MIN_LOG_LEVEL": "3"}

    baseline, _ = peak_of_command([sys.executable, "-c", "import tensorflow, keras"], environment)
    print(f"\nTrainer processes: peak resident memory of `python -m gan_core train --preset P --steps {options.steps}`")
    print("| preset | peak MB | against importing TensorFlow and Keras alone |")
    print("|---|---|---|")
    print(f"| (import tensorflow, keras) | {baseline:,.0f} | 1.00 |")
    for name in options.presets:
        command = [sys.executable, "-m", "gan_core", "train", "--preset", name, "--steps", str(options.steps),
                   "--runs-dir", str(runs_dir)]
        peak, code = peak_of_command(command, environment)
        note = "" if code == 0 else f" (exit code {code})"
        print(f"| {name}{note} | {peak:,.0f} | {peak / baseline:.2f} |", flush=True)

    from gan_core.store import runs

    chosen = runs.list_runs(runs_dir)[0]
    print(f"\nThe web server (`streamlit run app.py`) after opening each page in turn, with the run of "
          f"{chosen.config.name} chosen")
    print("| page | resident MB | peak MB | TensorFlow loaded |")
    print("|---|---|---|---|")
    for row in server_rows(environment, chosen.run_id):
        print(row, flush=True)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
