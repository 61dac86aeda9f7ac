"""The Monitor page in a real browser: a tab left open on a stopped run goes live when the run is resumed elsewhere.

AppTest runs a page once per call and never fires a fragment's timer, so only a browser shows this.
"""

from __future__ import annotations

from gan_core.spec.config import preset
from gan_core.store.runs import create_run, write_status
from support.browser import BROWSER_MARKS, dashboard_server, wait_for_app, wait_for_text

pytestmark = BROWSER_MARKS


def test_a_monitor_tab_on_a_stopped_run_notices_a_resume_started_elsewhere(tmp_path, page):
    run = create_run(preset("digits-mlp", steps=2000), tmp_path)
    write_status(run.path, "stopped", "stopped on request at step 0")
    with dashboard_server(tmp_path) as url:
        page.goto(f"{url}/monitor?run={run.run_id}")
        wait_for_app(page)
        wait_for_text(page, "stopped on request at step 0")
        page.locator("button").filter(has_text="Resume").first.wait_for(timeout=10_000)
        assert page.locator("button").filter(has_text="Stop").count() == 0

        # What another tab's Resume or `python -m gan_core resume` writes first; the tab must notice by itself.
        write_status(run.path, "queued", "resuming from the command line", target_step=2500)
        wait_for_text(page, "resuming from the command line", timeout=15_000)
        page.locator("button").filter(has_text="Stop").first.wait_for(timeout=10_000)
        wait_for_text(page, "step 0 of 2,500")
