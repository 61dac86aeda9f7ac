"""The memory a demo link needs: the Streamlit server's and each trainer's resident memory, with one and two runs.

Starts `streamlit run app.py` in demo mode (no showcase) on a free port with an empty run store, opens the pages a
visitor opens in Debian's chromium, trains digits-mlp, then fashion-dcgan beside it, and prints each process's
resident set (VmRSS) and peak (VmHWM) from /proc, with the load average. Run it on an otherwise idle machine:

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_demo_memory.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT
from gan_core.workers import jobs
from gan_core.store import runs
from gan_core.spec.config import preset
from support.browser import CHROMIUM, CHROMIUM_ARGS, free_port, wait_for_app, wait_until_healthy


def memory_megabytes(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process, in MB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def report(label: str, processes: dict[str, int]) -> None:
    parts = []
    total = 0.0
    for name, pid in processes.items():
        now, peak = memory_megabytes(pid)
        total += now
        parts.append(f"{name} {now:,.0f} MB (peak {peak:,.0f})")
    print(f"| {label} | {' · '.join(parts)} | {total:,.0f} MB | {os.getloadavg()[0]:.2f} |", flush=True)


def wait_for_metrics(run: runs.Run, rows: int, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while len(run.metrics_since()) < rows and time.monotonic() < deadline:
        time.sleep(1)


def main() -> None:
    from playwright.sync_api import sync_playwright

    runs_dir = Path(tempfile.mkdtemp(prefix="demo-memory-"))
    port = free_port()
    environment = {**os.environ, "GAN_RUNS_DIR": str(runs_dir), "GAN_DASHBOARD_DEMO": "1",
                   "GAN_DEMO_SHOWCASE_SECONDS": "0", "PYTHONPATH": str(PROJECT_ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.headless", "true"], cwd=PROJECT_ROOT, env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    started: list[runs.Run] = []
    try:
        wait_until_healthy(url, server)
        print(f"{time.strftime('%Y-%m-%d %H:%M')} UTC, {os.cpu_count()} cores\n")
        print("| moment | resident memory (VmRSS) | total | load average (1 min) |\n|---|---|---|---|")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(url)
            wait_for_app(page)
            report("server, overview open", {"server": server.pid})

            os.environ["GAN_RUNS_DIR"] = str(runs_dir)
            digits = runs.create_run(preset("digits-mlp", steps=100_000, checkpoint_every=500), runs_dir)
            started.append(digits)
            jobs.start_run(digits)
            wait_for_metrics(digits, 50)
            page.goto(f"{url}/monitor?run={digits.run_id}")
            wait_for_app(page)
            time.sleep(10)
            report("one run training (digits-mlp), Monitor open", {"server": server.pid,
                                                                     "digits-mlp": digits.status.pid})

            fashion = runs.create_run(preset("fashion-dcgan", steps=100_000), runs_dir)
            started.append(fashion)
            jobs.start_run(fashion)
            wait_for_metrics(fashion, 20)
            time.sleep(20)
            report("two runs training, Monitor open", {"server": server.pid, "digits-mlp": digits.status.pid,
                                                        "fashion-dcgan": fashion.status.pid})

            page.goto(f"{url}/gallery?run={digits.run_id}")
            wait_for_app(page)
            page.locator('[data-testid="stImage"]').nth(1).wait_for(timeout=120_000)
            report("two runs training, Gallery open (TensorFlow in the server)",
                   {"server": server.pid, "digits-mlp": digits.status.pid, "fashion-dcgan": fashion.status.pid})
            browser.close()
    finally:
        for run in started:
            if run.status.is_active:
                jobs.stop_run(run)
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
