"""Starting the dashboard (`streamlit run app.py`) and driving it in Debian's chromium through Playwright: what the
browser tests, tests/conftest.py's `app_url`, `browser` and `page` fixtures, and the bench scripts share.
Screenshots go to test-output/browser/.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT_ROOT / "test-output" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium as root in a container, with no network beyond this machine: no sandbox, no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]

# A browser test is slow, needs a browser, and is skipped where Debian's chromium is missing. Each browser test
# module says so with `pytestmark = BROWSER_MARKS` (or a list adding to it).
BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"),
]


def browser_test(test):
    """BROWSER_MARKS on one test, in a module whose other tests run without a browser."""
    for mark in BROWSER_MARKS:
        test = mark(test)
    return test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path | None = None, timeout: float = 60) -> None:
    """Wait until the server at `url` answers its health check; `log_path`, if given, holds its output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError("streamlit exited early" + (f":\n{log_path.read_text()}" if log_path else ""))
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("streamlit did not become healthy")


def server_log_path(runs_dir: Path) -> Path:
    """Where `dashboard_server(runs_dir)` writes the server's output."""
    return runs_dir.parent / f"{runs_dir.name}-server.log"


@contextlib.contextmanager
def dashboard_server(runs_dir: Path, **environment_variables: str):
    """`streamlit run app.py` on a free port over `runs_dir`, with these extra environment variables; yields its
    address, then stops it and any run still training."""
    port = free_port()
    environment = {**os.environ, "GAN_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(PROJECT_ROOT),
                   **environment_variables}
    # The server's output goes to a file beside the run store, never to a pipe: a pipe nobody reads fills up
    # (64 KiB) and then blocks the server in the middle of a page. The file is there to read when a test fails.
    log_path = server_log_path(runs_dir)
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=PROJECT_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log_path)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        # Any sweep or trainer the test left behind is stopped the way the app would.
        from gan_core.workers import jobs
        from gan_core.store import runs
        from gan_core.sweeps import driver, sweep_store

        for sweep in sweep_store.list_sweeps(runs_dir):
            if sweep.state.is_active:
                driver.stop_sweep(sweep)
        for run in runs.list_runs(runs_dir):
            if run.status.is_active:
                jobs.stop_run(run)



def wait_for_app(page) -> None:
    """Wait until the page's title is drawn and Streamlit has finished running the page's script."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )


def main_area(page):
    """The page's main area: while a script runs, the header's status widget has a Stop button of its own."""
    return page.locator('[data-testid="stMain"]')


def wait_for_text(page, text: str, timeout: float = 30_000) -> None:
    """Wait until the page shows `text` anywhere, including as a selectbox's chosen value (an input's value)."""
    page.wait_for_function(
        """text => document.body.innerText.includes(text)
            || [...document.querySelectorAll('input')].some(input => input.value.includes(text))""",
        arg=text,
        timeout=timeout,
    )


def assert_no_exception(page, name: str) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"{name} shows an exception: {exceptions.first.inner_text()}"


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


# Counts the script runs the page starts from now on: Streamlit marks its app element "running" during each.
COUNT_SCRIPT_RUNS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    window.scriptRunsSeen = 0;
    new MutationObserver(() => {
        if (app.getAttribute('data-test-script-state') === 'running') window.scriptRunsSeen += 1;
    }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
RUN_SEEN_AND_ENDED = """() => window.scriptRunsSeen > 0
    && document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state') !== 'running'"""


def after_its_rerun(page, action) -> None:
    """Do `action` (a choice that reruns the page's script) and wait until that run has ended.

    For a moment after a choice the page still says it is not running: the run it asked for has not begun. A wait
    for "not running" alone can end in that moment, and the next step then meets the page mid-run.
    """
    page.evaluate(COUNT_SCRIPT_RUNS)
    action()
    page.wait_for_function(RUN_SEEN_AND_ENDED, timeout=60_000)
    wait_for_app(page)


def choose(page, label: str, option: str) -> None:
    """Pick the option of a Streamlit selectbox, labelled `label`, whose text contains `option`, and wait for the
    page's rerun."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    after_its_rerun(page, page.get_by_role("option").filter(has_text=option).first.click)
