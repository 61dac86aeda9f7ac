"""Every variant's preset, started from the Train form in a real browser: it trains, and its own views appear.

Each preset is shortened to a few steps in the form (as a person would) so that the test stays quick; the Gallery
and Evaluate pages must then show every view the variant declares, and Monitor its charts. Pix2Pix is left to
tests/test_browser_translation.py, which trains it from the form on a person's own pairs and checks the same views.
Screenshots go to test-output/browser/variant-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gan_core.spec import registry
from gan_core.spec.config import preset
from support.browser import BROWSER_MARKS, after_its_rerun, assert_no_exception, choose, wait_for_app, wait_for_text
from support.datasets import requires_dataset
from support.variant_pages import check_monitor_charts, check_variant_views

pytestmark = BROWSER_MARKS

# The first preset of each variant: the others differ in their data and numbers, not in what the pages draw.
PRESETS = registry.presets()
FIRST_PRESETS = {values.get("variant", registry.DEFAULT_VARIANT): name for name, values in reversed(PRESETS.items())}
VARIANT_PRESETS = [name for variant_name, name in reversed(FIRST_PRESETS.items())
                   if variant_name not in (registry.DEFAULT_VARIANT, "pix2pix")]
# Enough for a checkpoint, a sample grid and metrics rows; starting the trainer costs far more than the steps.
STEPS = 5


@pytest.fixture(scope="module")
def page(browser):
    """One page for all the presets: none of them depends on cookies, and the dashboard's scripts, loaded by the first,
    stay in the context's cache for the others (each opens its pages afresh)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    # While the page reruns after a choice, the form drawn before it can still be on screen beside the new one.
    expect(field).to_have_count(1, timeout=60_000)
    field.fill(str(value))
    after_its_rerun(page, lambda: field.press("Enter"))  # Enter sends the form


@pytest.mark.parametrize("preset_name", VARIANT_PRESETS)
def test_a_variant_preset_trains_from_the_form_and_shows_its_views(app_url, page, preset_name):
    variant = registry.get(PRESETS[preset_name]["variant"])
    requires_dataset(PRESETS[preset_name]["dataset"])
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    choose(page, "Preset", preset_name)
    wait_for_text(page, variant.title)
    wait_for_text(page, f"{variant.title} settings" if variant.settings else variant.summary)
    set_number(page, "Steps", STEPS)
    # One time estimate, this preset's: while the page reruns, the previous preset's can still be on screen too.
    expect(page.get_by_text("per 1,000 steps")).to_have_count(1, timeout=60_000)
    assert_no_exception(page, f"train {preset_name}")
    page.get_by_role("button", name=re.compile("Start training")).click()

    page.wait_for_url(re.compile(r"/monitor\?run="), timeout=60_000)
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    page.get_by_text(f"reached step {STEPS}").wait_for(timeout=240_000)
    check_monitor_charts(page, variant, preset(preset_name), preset_name)
    check_variant_views(page, app_url, run_id, variant, preset_name)
