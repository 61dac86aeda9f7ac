"""Demo mode in a real browser, with two visitors (two browser contexts, so two cookie jars) on one demo server.

Visitor A starts a run; visitor B opens its Monitor, Runs and Real-or-fake pages and finds none of its controls,
only the note saying why, and no page that shows where the server keeps its files; both hit the trainer caps with
their messages; A's reload keeps A in control; and an uncaught error shows the generic message, not a traceback.
A fresh demo shows its showcase from its first page view, and a classifier worker counts against the caps.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from gan_core.store import ownership, runs
from gan_core.workers import jobs
from support.browser import (BROWSER_MARKS, SCREENSHOTS, assert_no_exception, choose, dashboard_server,
                             server_log_path, wait_for_app)
from support.showcase import stop_showcase
from support.started_trainers import held_still
from support.waiting import wait_for
from views.common import HOME_PAGE, HUMAN_TEST_PAGE, MONITOR_PAGE, PAGES, RUNS_PAGE, TRAIN_PAGE

pytestmark = BROWSER_MARKS

CONTROL_NAMES = re.compile(r"^(Stop|Resume|Train more|Delete run|Reset answers|Forget them)$")
NOT_YOURS = "Another visitor started this run"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """A demo server allowing one trainer in all (so one per visitor), with no showcase and a classifier cache of its
    own; yields (url, runs dir, classifier cache)."""
    runs_dir, cache_dir = tmp_path_factory.mktemp("demo-browser-runs"), tmp_path_factory.mktemp("demo-browser-cache")
    # A run long enough to be still training until its owner stops it, whatever the machine's speed.
    with dashboard_server(runs_dir, GAN_DASHBOARD_DEMO="1", GAN_DEMO_SHOWCASE_SECONDS="0", GAN_DEMO_MAX_TRAINERS="1",
                          GAN_DEMO_MAX_TRAINERS_PER_OWNER="1", GAN_DEMO_MAX_SECONDS="300",
                          GAN_DEMO_MAX_STEPS="20000", GAN_CACHE_DIR=str(cache_dir)) as url:
        yield url, runs_dir, cache_dir


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def main_area(page):
    """The page's main area: the header's status widget has a Stop button of its own (for the script) while the
    script runs."""
    return page.locator('[data-testid="stMain"]')


def controls(page) -> list[str]:
    """The names of the run controls the page offers (buttons and pop-overs alike).

    Only the page's main area counts: the header's status widget has a Stop button of its own (for the script).
    """
    buttons = main_area(page).get_by_role("button")
    return [name.strip() for name in buttons.all_inner_texts() if CONTROL_NAMES.match(name.strip())]


def page_address(url: str, script: str, run_id: str) -> str:
    return f"{url}/{'' if script == HOME_PAGE else Path(script).stem}?run={run_id}"


def assert_no_server_path(page, *folders) -> None:
    content = page.content()
    for folder in folders:
        assert str(folder) not in content, f"a demo never shows where the server keeps its files ({folder})"


def start_digits_run(page, url: str) -> None:
    open_page(page, f"{url}/train")
    choose(page, "Preset", "digits-mlp")
    # The preset fills the form in a rerun, which may still be on its way: its estimate says when it is done.
    expect(page.get_by_text("for all 3,000 steps")).to_have_count(1, timeout=60_000)
    page.get_by_label("Steps", exact=True).fill("20000")
    page.get_by_role("button", name=re.compile("Start training")).click()
    # The answer (a Monitor page or a cap's message) comes after the script's rerun; on 2 cores shared with a
    # trainer still loading TensorFlow, that rerun can take longer than a fixed wait for the message.
    wait_for_app(page)


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"demo-{name}.png"), full_page=True)


def wait_for_refusal(page, text: str, runs_dir: Path, name: str) -> None:
    """Wait until the page says `text`; when it does not, keep a screenshot and say what the page, the store and the
    server showed instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.get_by_text(text).wait_for(timeout=60_000)
    except PlaywrightTimeout:
        raise AssertionError(what_was_shown_instead(page, f"no {text!r} after 60 s", runs_dir, name)) from None


def wait_for_monitor(page, runs_dir: Path) -> str:
    """Wait until Start has opened Monitor on the new run and return its id; when it has not, say what the page,
    the store and the server showed instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_url(re.compile(r"/monitor\?run="), timeout=120_000)
    except PlaywrightTimeout:
        raise AssertionError(what_was_shown_instead(page, "no Monitor page after 120 s", runs_dir, "start")) from None
    return re.search(r"run=([^&]+)", page.url).group(1)


def what_was_shown_instead(page, missing: str, runs_dir: Path, name: str) -> str:
    """A screenshot kept as failed-NAME, and what the page, the store and the server's log hold."""
    screenshot(page, f"failed-{name}")
    stored = [(run.run_id, run.status.state, run.status.message) for run in runs.list_runs(runs_dir)]
    server_log = server_log_path(runs_dir).read_text()[-3000:]
    return (f"{missing} at {page.url}\npage: {main_area(page).inner_text()[:3000]}\nruns: {stored}\n"
            f"server log (end): {server_log}")


def test_a_second_visitor_reaches_no_control_of_the_first_visitors_run_and_the_caps_hold(demo_server, browser):
    """Besides the controls and the caps: no page of the demo, opened by B on A's run, shows an error or where the
    server keeps its files."""
    url, runs_dir, cache_dir = demo_server
    visitor_a = browser.new_context(viewport={"width": 1400, "height": 1000})
    visitor_b = browser.new_context(viewport={"width": 1400, "height": 1000})
    page_a, page_b = visitor_a.new_page(), visitor_b.new_page()
    checked_pages = set()  # the pages B has opened on A's run and found without a server path

    def no_server_path_on(page, script: str) -> None:
        assert_no_server_path(page, runs_dir, cache_dir)
        checked_pages.add(script)

    try:
        start_digits_run(page_a, url)
        run_id = wait_for_monitor(page_a, runs_dir)
        main_area(page_a).get_by_role("button", name="Stop").wait_for(timeout=60_000)
        assert "run=" in page_a.url and "owner" not in page_a.url, "the address carries the run, never its owner"

        # While the caps and B's pages are checked, A's trainer is held still: alive, so its run is active and
        # holds the one trainer slot, but not training, so that the pages get the CPU.
        run = runs.open_run(runs_dir / run_id)
        with held_still(run):
            # A second run of A's own: the per-visitor cap, with its message, and no run created.
            start_digits_run(page_a, url)
            wait_for_refusal(page_a, "you already have 1 run(s) training", runs_dir, "owner-cap")
            screenshot(page_a, "01-owner-cap")

            # B's own run: the demo's total cap (one trainer), with its message.
            start_digits_run(page_b, url)
            wait_for_refusal(page_b, "this demo trains at most 1 run(s) at once", runs_dir, "total-cap")
            assert [each.run_id for each in runs.list_runs(runs_dir)] == [run_id]
            assert_no_exception(page_b, "Train")
            no_server_path_on(page_b, TRAIN_PAGE)
            screenshot(page_b, "03-total-cap")

            # B, with a link to A's run: every page shows the run, none offers its controls.
            open_page(page_b, page_address(url, RUNS_PAGE, run_id))
            page_b.get_by_text(NOT_YOURS).wait_for(timeout=30_000)
            assert controls(page_b) == [] and page_b.get_by_text("Yes, delete").count() == 0
            assert_no_exception(page_b, "Runs")
            no_server_path_on(page_b, RUNS_PAGE)
            open_page(page_b, page_address(url, MONITOR_PAGE, run_id))
            page_b.get_by_text(NOT_YOURS).wait_for(timeout=30_000)
            page_b.get_by_text("running").first.wait_for(timeout=30_000)
            assert controls(page_b) == []
            assert_no_exception(page_b, "Monitor")
            no_server_path_on(page_b, MONITOR_PAGE)
            screenshot(page_b, "02-monitor-not-yours")

        # A reloads: the browser's cookie keeps A the owner, and A stops the run.
        page_a.goto(f"{url}/monitor?run={run_id}")
        wait_for_app(page_a)
        page_a.reload()
        wait_for_app(page_a)
        main_area(page_a).get_by_role("button", name="Stop").click(timeout=60_000)
        assert wait_for(lambda: run.stop_request_path.exists() or not run.status.is_active, 30), "the click was lost"
        # The trainer stops at its next step boundary; wait on the run's own state, then on the page that reads it.
        deadline = time.monotonic() + 180
        while run.status.state != "stopped" and time.monotonic() < deadline:
            time.sleep(1)
        assert run.status.message.startswith("stopped on request at step"), run.status
        wait_for_app(page_a)
        page_a.get_by_text(re.compile(r"stopped on request at step \d+")).wait_for(timeout=60_000)
        main_area(page_a).get_by_role("button", name="Resume").wait_for(timeout=60_000)

        # The stopped trainer left a checkpoint: B's Real-or-fake page on it offers no control either.
        assert run.checkpoint_steps(), "a run stopped on request keeps a checkpoint"
        open_page(page_b, page_address(url, HUMAN_TEST_PAGE, run_id))
        page_b.get_by_text(NOT_YOURS).wait_for(timeout=120_000)
        assert controls(page_b) == []
        assert_no_exception(page_b, "real or fake")
        no_server_path_on(page_b, HUMAN_TEST_PAGE)
        screenshot(page_b, "04-human-test-not-yours")
        # Nor does any other page show an error or where the server keeps its files (the classifier's cache
        # included: Evaluate offers to train one, as this demo has none yet).
        for script, title, _ in PAGES:
            if script not in checked_pages and script != HOME_PAGE:
                open_page(page_b, page_address(url, script, run_id))
                assert_no_exception(page_b, title)
                no_server_path_on(page_b, script)

        # A damaged database (the right header, then garbage): the run is listed, its metrics cannot be read. The
        # overview shows its card as damaged and every other card as usual.
        broken = runs_dir / "00000000-000000-broken"
        broken.mkdir()
        (broken / "config.json").write_text(run.config.to_json())
        (broken / "metrics.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
        open_page(page_b, url)
        page_b.locator(f'[class*="st-key-run_card_{broken.name}"]').get_by_text("damaged").wait_for(timeout=30_000)
        page_b.locator(f'[class*="st-key-run_card_{run_id}"]').get_by_text("step").first.wait_for(timeout=30_000)
        assert_no_exception(page_b, "the overview with a damaged run")
        no_server_path_on(page_b, HOME_PAGE)
        screenshot(page_b, "05-damaged-card")
        assert checked_pages == {script for script, _, _ in PAGES}, "every page of the dashboard was opened"

        # An uncaught error shows the generic message only: the Monitor page's read of that run's metrics is one.
        open_page(page_b, f"{url}/monitor?run={broken.name}")
        exception = page_b.locator('[data-testid="stException"]')
        exception.first.wait_for(timeout=30_000)
        shown = exception.first.inner_text()
        assert "This app has encountered an error" in shown
        assert "Traceback" not in shown and "JSON" not in shown
        assert_no_server_path(page_b, runs_dir, cache_dir)
        screenshot(page_b, "06-error-without-details")
    finally:
        visitor_a.close()
        visitor_b.close()


@pytest.fixture
def fresh_demo(tmp_path):
    """A fresh demo (an empty store) whose showcase starts with the first page view, allowing one trainer in all, so
    that the showcase's holds the only slot; yields (url, runs dir, classifier cache)."""
    runs_dir, cache_dir = tmp_path / "runs", tmp_path / "cache"
    # The demo's step cap holds both showcase runs to 600 steps: the digits run finishes after a fifth of its
    # preset's 3,000 (past its first checkpoint, at 500), and the Fashion-MNIST DCGAN's trainer then holds the slot
    # through its start and 600 slower steps (with 15 minutes' budget), while the test needs it only for one click on
    # a page it opened meanwhile. The test ends it. (That the DCGAN trains once the digits run has finished, and to
    # the cap: tests/test_demo.py.)
    with dashboard_server(runs_dir, GAN_DASHBOARD_DEMO="1", GAN_DEMO_MAX_TRAINERS="1", GAN_DEMO_MAX_STEPS="600",
                          GAN_DEMO_SHOWCASE_SECONDS="900", GAN_CACHE_DIR=str(cache_dir)) as url:
        try:
            yield url, runs_dir, cache_dir
        finally:
            stop_showcase(runs_dir, cache_dir)


def showcase_run_of(runs_dir, dataset: str):
    return next((run for run in runs.list_runs(runs_dir) if run.config.dataset == dataset), None)


def fashion_holds_the_slot(fashion) -> bool:
    """Whether the DCGAN's trainer is at work (starting or training), so that it takes the demo's one slot."""
    return fashion.status.is_active and jobs.process_alive(fashion.status.pid)


def test_a_fresh_demo_shows_its_showcase_from_the_first_page_view_and_offers_no_uncapped_job(fresh_demo, browser):
    url, runs_dir, cache_dir = fresh_demo
    visitor_a = browser.new_context(viewport={"width": 1400, "height": 1000})
    visitor_b = browser.new_context(viewport={"width": 1400, "height": 1000})
    page_a, page_b = visitor_a.new_page(), visitor_b.new_page()
    try:
        # The demo's very first page view: the showcase's run is on the overview at once, queued or running.
        open_page(page_a, url)
        cards = page_a.locator('[class*="st-key-run_card_"]')
        assert cards.count() == 1 and page_a.get_by_text("There are no runs yet").count() == 0
        first_card = cards.first.inner_text()
        assert "Digits MLP GAN" in first_card and "showcase" in first_card, first_card
        assert re.search(r"\b(queued|running)\b", first_card), first_card
        assert_no_server_path(page_a, runs_dir, cache_dir)
        # Live, without a reload: its first sample grid within 30 s.
        cards.first.locator("img").wait_for(timeout=30_000)
        screenshot(page_a, "07-fresh-demo-showcase")

        # The digits run finishes (at the demo's step cap), then the DCGAN's trainer starts.
        digits = showcase_run_of(runs_dir, "digits")
        assert wait_for(lambda: digits.status.state == "finished", 300), digits.status
        assert digits.status.step == 600, digits.status

        # While the DCGAN's trainer starts: a second visitor's Evaluate on the showcase's run, where the showcase
        # prepares the classifier, nobody else.
        open_page(page_b, f"{url}/evaluate?run={digits.run_id}")
        page_b.get_by_text(re.compile("showcase trains the .* classifier itself")).wait_for(timeout=120_000)
        assert page_b.get_by_role("button", name=re.compile("Train the feature classifier")).count() == 0
        assert_no_server_path(page_b, runs_dir, cache_dir)
        assert_no_exception(page_b, "Evaluate")
        # On a run that is not the showcase's, the classifier is offered...
        copied = runs_dir / "00000000-000000-copied"
        shutil.copytree(digits.path, copied, ignore=shutil.ignore_patterns("owner.json"))
        open_page(page_b, f"{url}/evaluate?run={copied.name}")
        offer = page_b.get_by_role("button", name=re.compile("Train the feature classifier"))
        offer.wait_for(timeout=120_000)

        # ...and, while the DCGAN's trainer holds the demo's only trainer slot, its worker counts against the caps.
        assert wait_for(lambda: (fashion := showcase_run_of(runs_dir, "fashion_mnist")) is not None
                        and fashion_holds_the_slot(fashion), 240), runs.list_runs(runs_dir)
        fashion = showcase_run_of(runs_dir, "fashion_mnist")
        assert ownership.read_owner(fashion.path).showcase, "the slot is the showcase's"
        wait_for_app(page_b)
        assert fashion_holds_the_slot(fashion), f"the showcase no longer holds the slot: {fashion.status}"
        offer.click(timeout=120_000)
        wait_for_refusal(page_b, "this demo trains at most 1 run(s) at once", runs_dir, "total-cap")
        assert not (cache_dir / "classifiers" / "digits.preparing.json").exists(), "no uncapped job started"
        assert_no_server_path(page_b, runs_dir, cache_dir)
        screenshot(page_b, "08-classifier-capped")
    finally:
        visitor_a.close()
        visitor_b.close()
