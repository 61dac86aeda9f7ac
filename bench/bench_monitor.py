"""Does watching a run slow it down? Training throughput with the Monitor page open against none open.

    python3 bench/bench_monitor.py [--preset fashion-dcgan] [--window 30] [--rounds 2]

One trainer process runs throughout. The script alternates windows with no page open (the baseline) and
windows with the Monitor page of that run open in headless chromium (Debian's, driven by Playwright), and
reads the trainer's own step counter from the run store to get images per second in each window. It prints a
table and the ratio monitor / baseline; the target is at least 0.90.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from project_paths import PROJECT_ROOT
from gan_core.workers import jobs
from gan_core.training import throughput
from gan_core.spec.config import preset
from gan_core.store.runs import create_run

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def images_per_second(run, seconds: float) -> float:
    """The trainer's throughput over the next `seconds`, from the steps it logged."""
    first = run.metrics_since(run.latest_step() - 1)[-1]
    time.sleep(seconds)
    last = run.metrics_since(first["step"])[-1]
    return ((last["step"] - first["step"]) * throughput.images_per_step(run.config)
            / (last["wall_time"] - first["wall_time"]))


def start_streamlit(runs_dir: str) -> tuple[subprocess.Popen, str]:
    """`streamlit run app.py` on a free loopback port over `runs_dir`; returns the process and its address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1"],
        cwd=PROJECT_ROOT, env={**os.environ, "GAN_RUNS_DIR": runs_dir},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("streamlit did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fashion-dcgan")
    parser.add_argument("--window", type=float, default=30, help="seconds per measuring window")
    parser.add_argument("--rounds", type=int, default=2, help="baseline + monitor window pairs")
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as runs_dir, sync_playwright() as playwright:
        run = create_run(preset(options.preset, steps=10_000_000, log_every=10, checkpoint_every=10_000_000), runs_dir)
        jobs.start_run(run)
        server, url = start_streamlit(runs_dir)
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            while len(run.metrics_since()) < 5:
                time.sleep(1)
            time.sleep(options.window / 3)  # let the trainer settle past tracing
            baseline, monitored = [], []
            for _ in range(options.rounds):
                baseline.append(images_per_second(run, options.window))
                page = browser.new_page()
                page.goto(f"{url}/monitor?run={run.run_id}")
                page.wait_for_selector('[data-testid="stPlotlyChart"]', timeout=120_000)
                monitored.append(images_per_second(run, options.window))
                page.close()
        finally:
            browser.close()
            jobs.stop_run(run)
            server.terminate()
    print(f"{'window':<10}{'no page (images/s)':>22}{'Monitor open (images/s)':>26}")
    for index, (alone, watched) in enumerate(zip(baseline, monitored), start=1):
        print(f"{index:<10}{alone:>22.0f}{watched:>26.0f}")
    ratio = sum(monitored) / sum(baseline)
    print(f"\nratio monitor / baseline: {ratio:.3f} (target: at least 0.90)")


if __name__ == "__main__":
    main()
