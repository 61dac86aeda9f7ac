"""End to end in a real browser: `streamlit run app.py` driven by Playwright through Debian's chromium.

A new user's path: fill the Train form with a quick preset, start, watch the live chart change and samples
appear, reload and find the run still there, stop it, then open every other page. Screenshots of each page go
to test-output/browser/.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = PROJECT_ROOT / "test-output" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
# Chromium as root in a container, with no network beyond this machine: no sandbox, no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install chromium"),
]


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
    environment = {**os.environ, "GAN_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(PROJECT_ROOT), **environment_variables}
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
        # Any trainer the test left behind is stopped the way the app would.
        from gan_core import jobs, runs

        for run in runs.list_runs(runs_dir):
            if run.status.is_active:
                jobs.stop_run(run)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with dashboard_server(tmp_path_factory.mktemp("browser-runs")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


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


def choose(page, label: str, option: str) -> None:
    """Pick the option of a Streamlit selectbox, labelled `label`, whose text contains `option`."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first.click()
    page.get_by_role("option").filter(has_text=option).first.click()
    wait_for_app(page)


def test_a_new_user_trains_watches_stops_and_browses(app_url, page):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_text("There are no runs yet").wait_for()
    assert_no_exception(page, "home")
    screenshot(page, "01-home-empty")

    page.goto(f"{app_url}/train")
    wait_for_app(page)
    choose(page, "Preset", "digits-mlp")
    assert_no_exception(page, "train")
    page.get_by_text("per 1,000 steps").wait_for()
    screenshot(page, "02-train")
    page.get_by_role("button", name=re.compile("Start training")).click()

    page.wait_for_url(re.compile(r"/monitor\?run="), timeout=60_000)
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    charts.first.wait_for(timeout=120_000)
    seen_states, deadline = set(), time.monotonic() + 120
    while len(seen_states) < 4 and time.monotonic() < deadline:
        seen_states.add(charts.first.inner_html())
        time.sleep(0.5)
    assert len(seen_states) >= 4, "the live chart changed at least three times"
    page.get_by_text("Fixed noise at step").first.wait_for(timeout=60_000)
    assert_no_exception(page, "monitor")
    screenshot(page, "03-monitor-live")

    page.reload()
    wait_for_app(page)
    wait_for_text(page, run_id)
    page.get_by_text("running").first.wait_for(timeout=30_000)
    main_area(page).get_by_role("button", name="Stop").click()
    page.get_by_text(re.compile(r"stopped on request at step \d+")).wait_for(timeout=60_000)
    assert_no_exception(page, "monitor after stop")
    screenshot(page, "04-monitor-stopped")

    for name in ("gallery", "compare", "runs"):
        page.goto(f"{app_url}/{name}?run={run_id}")
        wait_for_app(page)
        page.locator('[data-testid="stImage"], [data-testid="stPlotlyChart"]').first.wait_for(timeout=90_000)
        assert_no_exception(page, name)
        screenshot(page, f"05-{name}")

    page.goto(app_url)
    wait_for_app(page)
    wait_for_text(page, run_id)
    assert_no_exception(page, "home")
    screenshot(page, "06-home")


def test_a_fresh_servers_first_request_to_a_sub_page_shows_that_page(tmp_path, page):
    """A shared link often wakes a sleeping demo: its very first request is a sub-page with ?run=ID."""
    trained = subprocess.run(
        [sys.executable, "-m", "gan_core", "train", "--preset", "digits-mlp", "--steps", "20", "--runs-dir",
         str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr[-2000:]
    run_id = Path(trained.stdout.strip().splitlines()[-1]).name

    with dashboard_server(tmp_path) as url:
        page.goto(f"{url}/monitor?run={run_id}")
        wait_for_app(page)
        assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "Monitor"
        wait_for_text(page, run_id)
        page.get_by_text("finished").first.wait_for(timeout=30_000)
        sidebar = page.locator('[data-testid="stSidebar"]')
        links = sidebar.locator('[data-testid="stPageLink"]').all_inner_texts()
        titles = [text.strip().splitlines()[-1] for text in links][:8]  # the text after the icon's name
        assert titles == ["Runs overview", "Train", "Monitor", "Gallery", "Compare", "Evaluate", "Real or fake?",
                          "Runs"], links
        assert "common" not in sidebar.inner_text() and "charts" not in sidebar.inner_text()
        assert_no_exception(page, "monitor as the first request")
        screenshot(page, "07-first-request-monitor")

        sidebar.get_by_text("Gallery").click()
        page.wait_for_url(re.compile(r"/gallery"), timeout=30_000)
        wait_for_app(page)
        assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "Gallery"
        assert_no_exception(page, "gallery from the sidebar")
