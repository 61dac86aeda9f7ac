"""A sweep started from the Train form in a real browser: two digits-mlp trials on one slot, so that the second waits
in the queue while the first trains; the Sweeps page shows each trial queued, training and done, then fills its
parallel-coordinates plot, its table and its best trial."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from support.browser import (BROWSER_MARKS, assert_no_exception, choose, dashboard_server, main_area, screenshot,
                             wait_for_app)
from support.cached_classifiers import copy_of_the_digits_classifier

pytestmark = BROWSER_MARKS


def test_a_sweep_from_the_train_form_shows_its_trials_queued_training_and_done(tmp_path, page):
    cache = tmp_path / "cache"
    copy_of_the_digits_classifier(cache)
    runs_dir = tmp_path / "runs"
    with dashboard_server(runs_dir, GAN_CACHE_DIR=str(cache)) as url:
        page.goto(f"{url}/train")
        wait_for_app(page)
        choose(page, "Preset", "digits-mlp")
        expect(page.get_by_text("per 1,000 steps")).to_have_count(1, timeout=60_000)
        page.get_by_label("Steps", exact=True).fill("100")
        page.get_by_text("Sweep: train several runs").click()
        page.get_by_role("textbox", name="Settings to vary, one per line").fill("g_learning_rate=3e-4,1e-3")
        page.get_by_role("spinbutton", name="Trials at once").fill("1")
        page.get_by_role("button", name=re.compile("Start sweep")).click()

        page.wait_for_url(re.compile(r"/sweeps\?sweep="), timeout=60_000)
        main = main_area(page)
        trials = main.locator('[data-testid="stMarkdownContainer"] ol li')
        expect(trials).to_have_count(2, timeout=60_000)
        # One slot: while the first trial trains, the second waits with its place in the queue.
        expect(trials.filter(has_text="running")).to_have_count(1, timeout=120_000)
        expect(trials.filter(has_text=re.compile(r"queued.*1 of 1"))).to_have_count(1, timeout=30_000)
        screenshot(page, "sweep-1-queued-and-training")
        expect(trials.filter(has_text="finished")).to_have_count(2, timeout=240_000)
        main.get_by_text(re.compile(r"best: \S+ with frechet_distance")).wait_for(timeout=60_000)

        plot = main.locator('[data-testid="stPlotlyChart"]')
        expect(plot).to_contain_text("g_learning_rate", timeout=30_000)
        expect(main.locator('[data-testid="stDataFrame"]')).to_have_count(1)
        main.get_by_text("Best so far:").wait_for()
        expect(main.get_by_role("link", name=re.compile("Open .* in Monitor"))).to_have_count(1)
        assert_no_exception(page, "sweeps")
        screenshot(page, "sweep-2-done")
