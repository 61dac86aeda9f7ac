"""A sweep started from the Train form in a real browser: two digits-mlp trials halved at rungs, one slot, so that one
waits in the queue while the other trains; the Sweeps page shows each trial queued, training and done, then fills its
parallel-coordinates plot, its table and its best trial, and the ranking is the trials' own measures."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from gan_core.store import runs
from gan_core.sweeps import halving, sweep_store
from support.browser import (BROWSER_MARKS, assert_no_exception, choose, dashboard_server, main_area, screenshot,
                             wait_for_app)
from support.cached_classifiers import copy_of_the_digits_classifier
from support.started_trainers import held_still

pytestmark = BROWSER_MARKS


def test_a_halved_sweep_from_the_train_form_shows_its_trials_queued_training_and_done(tmp_path, page):
    cache = tmp_path / "cache"
    copy_of_the_digits_classifier(cache)
    runs_dir = tmp_path / "runs"
    with dashboard_server(runs_dir, GAN_CACHE_DIR=str(cache)) as url:
        page.goto(f"{url}/train")
        wait_for_app(page)
        choose(page, "Preset", "digits-mlp")
        expect(page.get_by_text("per 1,000 steps")).to_have_count(1, timeout=60_000)
        page.get_by_label("Steps", exact=True).fill("80")
        page.get_by_text("Sweep: train several runs").click()
        # The box is ticked while no text field has the focus: a field commits its text when it loses the focus,
        # redrawing the form, and a click landing during that redraw would be lost. Streamlit draws its checkbox
        # over the input, so the label is what a person clicks.
        halving_box = page.get_by_role("checkbox", name="Successive halving")
        page.get_by_text("Successive halving").click()
        expect(halving_box).to_be_checked(timeout=30_000)
        page.get_by_role("textbox", name="Settings to vary, one per line").fill("g_learning_rate=1e-4,1e-3")
        page.get_by_role("spinbutton", name="Trials at once").fill("1")
        expect(halving_box).to_be_checked()
        page.get_by_role("button", name=re.compile("Start sweep")).click()

        page.wait_for_url(re.compile(r"/sweeps\?sweep="), timeout=60_000)
        main = main_area(page)
        trials = main.locator('[data-testid="stMarkdownContainer"] ol li')
        expect(trials).to_have_count(2, timeout=60_000)
        # One slot: while one trial trains, the other waits with its place in the queue. A stretch of 20 steps trains
        # for about two seconds, so the trial that trains is held still while the page is read.
        with held_still(*runs.list_runs(runs_dir)):
            expect(trials.filter(has_text="running")).to_have_count(1, timeout=60_000)
            expect(trials.filter(has_text=re.compile(r"queued.*place 1 of 1"))).to_have_count(1, timeout=60_000)
            screenshot(page, "sweep-1-queued-and-training")
        best = re.compile(r"best: g_learning_rate=\S+ \(\S+\) with frechet_distance")
        main.get_by_text(best).wait_for(timeout=240_000)
        expect(trials.filter(has_text="finished")).to_have_count(1)
        expect(trials.filter(has_text="stopped")).to_have_count(1)

        plot = main.locator('[data-testid="stPlotlyChart"]')
        expect(plot).to_contain_text("g_learning_rate", timeout=30_000)
        expect(main.locator('[data-testid="stDataFrame"]')).to_have_count(1)
        main.get_by_text("Best so far:").wait_for()
        expect(main.get_by_role("link", name=re.compile("Open .* in Monitor"))).to_have_count(1)
        assert_no_exception(page, "sweeps")
        screenshot(page, "sweep-2-done")

    sweep = sweep_store.list_sweeps(runs_dir)[0]
    state = sweep.state
    trials = {run.run_id: run for run, _ in sweep.trials()}
    assert sorted(len(scores) for scores in state.scores.values()) == [1, 3]  # rungs at 20, 40 and 80 steps
    assert sorted(run.status.step for run in trials.values()) == [20, 80]
    for run_id, rung in state.halted.items():
        assert f"stopped by successive halving after rung {rung + 1} of 3" in trials[run_id].status.message
    own = {run_id: [entry["results"]["frechet_distance"] for entry in run.evaluations()]
           for run_id, run in trials.items()}
    assert own == state.scores
    assert state.ranking == halving.ranking(own, "lower")
