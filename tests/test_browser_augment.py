"""The augmentation workflow in a real browser: a study set up in the Augment page's form runs in a process of its
own, the page follows it live, and ends with the accuracies, the verdict and the generated set to download.
Screenshots go to test-output/browser/augment-*.png."""

from __future__ import annotations

from playwright.sync_api import expect

from gan_core.workflows import augmentation
from support.browser import (BROWSER_MARKS, assert_no_exception, dashboard_server, screenshot, wait_for_app,
                             wait_for_text)

pytestmark = BROWSER_MARKS


def fill(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    expect(field).to_have_value(str(value))


def test_a_study_started_in_the_browser_runs_and_shows_its_verdict_and_download(tmp_path, page):
    with dashboard_server(tmp_path) as url:
        page.goto(f"{url}/augment")
        wait_for_app(page)
        wait_for_text(page, "No study yet")
        # Widgets inside a form do not rerun the page: typed keys filter a box's list and Enter picks the option.
        dataset = page.locator('[data-testid="stSelectbox"]').filter(has_text="Dataset").locator("input")
        dataset.press_sequentially("8x8")
        expect(page.locator('[role="option"][data-focused="true"]')).to_have_text("scikit-learn's 8x8 digits")
        dataset.press("Enter")
        budgets = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Labels per class")
        budget_input = budgets.locator("input")
        for _ in augmentation.DEFAULT_BUDGETS:  # Backspace in an empty box removes its last choice
            budget_input.press("Backspace")
        budget_input.press_sequentially("5")
        page.get_by_role("option", name="5", exact=True).click()
        page.keyboard.press("Escape")
        expect(budgets).to_contain_text("5")
        expect(budgets).not_to_contain_text("100")
        fill(page, "Seeds", 1)
        fill(page, "Generator steps", 30)
        fill(page, "Generated per class", 20)
        fill(page, "Classifier updates", 40)
        screenshot(page, "augment-01-form")
        page.get_by_role("button", name="Start study").click()

        wait_for_text(page, "Finished: 1 trial in", timeout=240_000)
        wait_for_text(page, "one seed cannot tell; run more seeds")
        expect(page.get_by_role("button", name="Download the generated set (zip, a folder per class)")).to_have_count(1)
        assert_no_exception(page, "augment")
        screenshot(page, "augment-02-finished")
    [study] = augmentation.list_studies(tmp_path)
    assert study.plan.dataset == "digits" and study.plan.budgets == (5,) and study.plan.seeds == (0,)
    assert study.status.state == "finished" and len(study.trials()) == 1
