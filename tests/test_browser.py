"""End to end in a real browser: `streamlit run app.py` driven by Playwright through Debian's chromium.

A new user's path: fill the Train form with a quick preset, start, watch the live chart change and samples
appear, reload and find the run still there, stop it, then open every other page. Screenshots of each page go
to test-output/browser/.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from support.browser import (BROWSER_MARKS, assert_no_exception, choose, dashboard_server, main_area,
                             screenshot, wait_for_app, wait_for_text)
from support.trained import trained_run

pytestmark = BROWSER_MARKS


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
    # One time estimate, the preset's: while the page reruns, the default preset's can still be on screen too.
    expect(page.get_by_text("per 1,000 steps")).to_have_count(1, timeout=60_000)
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
    run_id = trained_run(tmp_path, "digits-mlp", steps=20).run_id

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
