"""The Runs page's delete confirmation in a real browser: a tick belongs to the run it was given for.

A person ticks "Yes, delete A …", then picks run B in "Run to manage": B's box must read unticked and its Delete
button stay disabled, so that no click deletes a run nobody confirmed. B is deleted only after B's own tick, and A
survives. The runs are made directly in the store (stopped, with no checkpoint), since nothing here needs training.
"""

from __future__ import annotations

from playwright.sync_api import expect

from gan_core.store import runs
from gan_core.spec.config import preset
from support.browser import (BROWSER_MARKS, assert_no_exception, dashboard_server, screenshot, wait_for_app,
                             wait_for_text)
from support.waiting import wait_for
from views.common import run_title

pytestmark = BROWSER_MARKS


def stopped_run(runs_dir, name: str) -> runs.Run:
    run = runs.create_run(preset("digits-mlp", name=name), runs_dir)
    runs.write_status(run.path, "stopped", "stopped on request at step 0")
    return run


def confirmation(page, run: runs.Run):
    return page.get_by_role("checkbox", name=f"Yes, delete {run_title(run)} and all its files")


def test_a_delete_confirmation_never_carries_over_to_another_run(tmp_path, page):
    first = stopped_run(tmp_path, "Run A")
    second = stopped_run(tmp_path, "Run B")
    with dashboard_server(tmp_path) as url:
        page.goto(f"{url}/runs?run={first.run_id}")
        wait_for_app(page)
        delete = page.get_by_role("button", name="Delete run")
        confirmation(page, first).wait_for(timeout=60_000)
        assert delete.is_disabled()
        # Streamlit draws its checkbox over the input, so the label is what a person clicks.
        page.get_by_text(f"Yes, delete {run_title(first)}").click()
        expect(delete).to_be_enabled(timeout=30_000)
        assert confirmation(page, first).is_checked()

        page.locator('[data-testid="stSelectbox"]').filter(has_text="Run to manage").first.click()
        page.get_by_role("option").filter(has_text=second.run_id).first.click()
        confirmation(page, second).wait_for(timeout=60_000)
        wait_for_app(page)
        assert not confirmation(page, second).is_checked(), "the tick given for run A now confirms run B"
        assert delete.is_disabled(), "Delete is enabled for a run nobody confirmed"
        assert {run.run_id for run in runs.list_runs(tmp_path)} == {first.run_id, second.run_id}

        second_title = run_title(second)
        page.get_by_text(f"Yes, delete {second_title}").click()
        expect(delete).to_be_enabled(timeout=30_000)
        delete.click()
        assert wait_for(lambda: not second.path.exists(), 30), "run B was not deleted"
        wait_for_text(page, f"Deleted {second_title} and all its files.")
        assert [run.run_id for run in runs.list_runs(tmp_path)] == [first.run_id]
        # The page moved on to the remaining run, whose box is not ticked by the tick just used.
        confirmation(page, first).wait_for(timeout=60_000)
        assert not confirmation(page, first).is_checked()
        assert_no_exception(page, "runs after a delete")
        screenshot(page, "runs-after-delete")
