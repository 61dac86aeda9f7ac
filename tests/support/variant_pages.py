"""What a variant's run shows in a real browser: its Monitor charts, and every view it declares on Gallery and
Evaluate, drawn without an exception or an error. The browser tests that train a variant from the Train form
(tests/test_browser_variants.py, tests/test_browser_translation.py) check their runs with this."""

from __future__ import annotations

from gan_core.spec.config import RunConfig
from gan_core.variants.base import Variant
from support.browser import assert_no_exception, screenshot, wait_for_app, wait_for_text


def check_monitor_charts(page, variant: Variant, config: RunConfig, name: str) -> None:
    """On a Monitor page already open: every chart the variant declares for `config` is there."""
    for chart in variant.charts(config):
        wait_for_text(page, chart.title)
    assert_no_exception(page, f"monitor {name}")
    screenshot(page, f"variant-{name}-monitor")


def check_variant_views(page, app_url: str, run_id: str, variant: Variant, name: str,
                        page_names: tuple[str, ...] = ("gallery", "evaluate")) -> None:
    """Open the run's Gallery and Evaluate pages (or those of `page_names`) and wait for every view of the
    variant's, then for no error; the last page stays open."""
    for page_name in page_names:
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
        assert_no_exception(page, f"{page_name} {name}")
        errors = page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, f"{page_name} of {name} shows an error: {errors.first.inner_text()}"
        screenshot(page, f"variant-{name}-{page_name}")
