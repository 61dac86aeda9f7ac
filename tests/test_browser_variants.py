"""Every variant's preset, started from the Train form in a real browser: it trains, and its own views appear.

Each preset is shortened to a few steps in the form (as a person would) so that the test stays quick; the Gallery
and Evaluate pages must then show every view the variant declares, and Monitor its charts. Screenshots go to
test-output/browser/variant-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from gan_core.spec import registry
from gan_core.spec.config import preset
from support.browser import BROWSER_MARKS, assert_no_exception, choose, screenshot, wait_for_app, wait_for_text
from support.datasets import requires_dataset

pytestmark = BROWSER_MARKS

# The first preset of each variant: the others differ in their data and numbers, not in what the pages draw.
PRESETS = registry.presets()
FIRST_PRESETS = {values.get("variant", registry.DEFAULT_VARIANT): name for name, values in reversed(PRESETS.items())}
VARIANT_PRESETS = [name for variant_name, name in reversed(FIRST_PRESETS.items())
                   if variant_name != registry.DEFAULT_VARIANT]
STEPS = 40


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    # While the page reruns after a choice, the form drawn before it can still be on screen beside the new one.
    expect(field).to_have_count(1, timeout=60_000)
    field.fill(str(value))
    field.press("Enter")
    wait_for_app(page)


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
    for chart in variant.charts(preset(preset_name)):
        wait_for_text(page, chart.title)
    assert_no_exception(page, f"monitor {preset_name}")
    screenshot(page, f"variant-{preset_name}-monitor")

    for page_name in ("gallery", "evaluate"):
        page.goto(f"{app_url}/{page_name}?run={run_id}")
        wait_for_app(page)
        # The last heading each page draws, so that everything above it has been drawn too.
        last_heading = "Real against generated"
        if page_name == "gallery":
            last_heading = "Interpolation" if variant.draws_from_noise else "Translate your own image"
        page.get_by_text(last_heading, exact=True).first.wait_for(timeout=180_000)
        for view in variant.views():
            if view.page == page_name:
                page.get_by_text(view.title, exact=True).first.wait_for(timeout=180_000)
        wait_for_app(page)
        assert_no_exception(page, f"{page_name} {preset_name}")
        errors = page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, f"{page_name} of {preset_name} shows an error: {errors.first.inner_text()}"
        screenshot(page, f"variant-{preset_name}-{page_name}")
