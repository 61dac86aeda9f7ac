"""Demo mode in the pages (AppTest): the owner of a run gets its controls, another visitor reads why not, and the
caps are refused with their messages. Visitors are told apart by the owner token in their session.
"""

import shutil
from pathlib import Path

import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from gan_core.store import ownership, runs
from support.pages import widget_name
from support import trained
from views.common import PAGES, subject_key

PROJECT = Path(__file__).resolve().parents[1]
APP = PROJECT / "app.py"
OWNER_TOKEN = "owner-" + "a" * 40
OTHER_TOKEN = "other-" + "b" * 40
PAGE_TITLES = {Path(script).stem: title for script, title, _ in PAGES}


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished digits run with a checkpoint, owned by OWNER_TOKEN."""
    run = trained.trained_run(tmp_path_factory.mktemp("demo-runs"), "digits-mlp", steps=40)
    ownership.record_owner(run, ownership.OwnerRecord(ownership.owner_hash(OWNER_TOKEN)))
    run.add_judgement("fake:0:0", is_real=False, answered_real=True)
    return run


@pytest.fixture(autouse=True)
def demo_environment(monkeypatch):
    """Demo mode on, without a showcase (it would train in the background); error details restored afterwards."""
    monkeypatch.setenv("GAN_DASHBOARD_DEMO", "1")
    monkeypatch.setenv("GAN_DEMO_SHOWCASE_SECONDS", "0")
    yield
    streamlit_config.set_option("client.showErrorDetails", "full")
    streamlit_config.set_option("client.toolbarMode", "auto")


def open_page_as(page: str, token: str, run=None, timeout: float = 30, secrets: dict | None = None) -> AppTest:
    """`page` (with ?run=<id> when `run` is given) as the visitor holding `token` sees it when following a link to it:
    the page itself is the session's first script run, as in a browser, without drawing the overview first."""
    app = AppTest.from_file(str(APP), default_timeout=timeout)
    app.session_state["demo_owner_token"] = token
    for key, value in (secrets or {}).items():
        app.secrets[key] = value
    if run is not None:
        app.query_params["run"] = run.run_id
    app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, [error.value for error in app.exception]
    assert app.title and app.title[0].value == PAGE_TITLES[page], "the page the link names is the one drawn"
    return app


def button_keys(app: AppTest) -> set[str]:
    return {widget_name(button.key) for button in app.button}


def captions(app: AppTest) -> str:
    return "\n".join(caption.value for caption in app.caption)


def test_the_owner_may_train_more_up_to_the_demos_steps_and_another_visitor_reads_why_not(trained_run, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(trained_run.path.parent))
    monkeypatch.setenv("GAN_DEMO_MAX_STEPS", "1000")
    other = open_page_as("monitor", OTHER_TOKEN, trained_run)
    assert not button_keys(other) & {"monitor_train_more", "monitor_resume", "monitor_stop"}
    assert "Another visitor started this run" in captions(other)
    assert "You can control only the runs you started" in captions(other)
    # Uncaught errors reach visitors as a generic message only (the browser test sees one).
    assert streamlit_config.get_option("client.showErrorDetails") == "none"

    owner = open_page_as("monitor", OWNER_TOKEN, trained_run)
    assert "monitor_train_more" in button_keys(owner)
    # Train more stops at the demo's steps, with the reason, and starts nothing.
    owner.number_input(key=subject_key("monitor_extra_steps", trained_run)).set_value(5000)
    owner.button(key=subject_key("monitor_train_more", trained_run)).click().run()
    assert not owner.exception
    assert [error.value for error in owner.error] == [
        "a run may train at most 1,000 steps in this demo; this one is at step 40, so at most 960 more"]
    assert not trained_run.status.is_active


def test_only_the_owner_may_delete_a_run(trained_run, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(trained_run.path.parent))
    assert "runs_delete" in button_keys(open_page_as("runs", OWNER_TOKEN, trained_run))
    other = open_page_as("runs", OTHER_TOKEN, trained_run)
    assert "runs_delete" not in button_keys(other)
    assert not [box for box in other.checkbox if widget_name(box.key) == "runs_delete_confirm"]
    assert "Another visitor started this run" in captions(other)


def test_only_the_owner_may_reset_the_answers_of_the_human_test(trained_run, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(trained_run.path.parent))
    assert "human_reset" in button_keys(open_page_as("human_test", OWNER_TOKEN, trained_run, timeout=90))
    other = open_page_as("human_test", OTHER_TOKEN, trained_run, timeout=90)
    assert "human_reset" not in button_keys(other)
    assert "Another visitor started this run" in captions(other)


def test_demo_mode_can_be_switched_on_by_the_secrets(trained_run, monkeypatch):
    monkeypatch.delenv("GAN_DASHBOARD_DEMO")
    monkeypatch.setenv("GAN_RUNS_DIR", str(trained_run.path.parent))
    assert "runs_delete" in button_keys(open_page_as("runs", OTHER_TOKEN, trained_run))  # not a demo: anyone may
    other = open_page_as("runs", OTHER_TOKEN, trained_run, secrets={"demo": True})
    assert "runs_delete" not in button_keys(other)


def test_no_secrets_file_means_no_demo_unless_the_environment_asks(tmp_path, monkeypatch):
    from views.demo_views import demo_mode

    monkeypatch.chdir(tmp_path)  # Streamlit looks for .streamlit/secrets.toml here and in the home folder
    monkeypatch.delenv("GAN_DASHBOARD_DEMO")
    assert demo_mode() is False
    monkeypatch.setenv("GAN_DASHBOARD_DEMO", "1")
    assert demo_mode() is True


def test_uploads_are_refused_above_the_demos_sizes_before_anything_is_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("GAN_DEMO_MAX_UPLOAD_FILE_MEGABYTES", "1")
    monkeypatch.setenv("GAN_DEMO_MAX_UPLOAD_TOTAL_MEGABYTES", "2")
    megabyte = 1024 * 1024
    app = open_page_as("train", OWNER_TOKEN)
    app.selectbox(key="field_dataset").set_value("folder").run()
    app.file_uploader(key="train_upload").set_value(("big.png", bytes(megabyte * 3 // 2), "image/png")).run()
    assert not app.exception
    assert any("big.png is 1.5 MB; this demo takes files of at most 1 MB each" in error.value for error in app.error)
    app.file_uploader(key="train_upload").set_value(
        [(f"part{index}.png", bytes(megabyte * 9 // 10), "image/png") for index in range(3)]).run()
    assert any("add up to 2.7 MB; this demo takes at most 2 MB in one upload" in error.value for error in app.error)
    assert not (tmp_path / "uploads").exists()


def test_a_failed_run_shows_visitors_no_log_lines_or_server_paths(trained_run, tmp_path, monkeypatch):
    import shutil

    copy = runs.open_run(shutil.copytree(trained_run.path, tmp_path / trained_run.run_id))
    runs.write_status(copy.path, "failed", f"the trainer process (pid 1) ended without finishing. Last log lines:\n"
                      f'  File "{copy.path}/secret.py", line 1', step=40)
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    for page in ("monitor", "runs"):
        app = open_page_as(page, OWNER_TOKEN, copy)
        shown = "\n".join(element.value for element in [*app.markdown, *app.caption, *app.code])
        assert "ended without finishing" in shown
        assert str(tmp_path) not in shown and "secret.py" not in shown


def test_the_timeline_gif_is_drawn_by_a_worker_and_keeps_to_the_demos_frames(trained_run, tmp_path, monkeypatch):
    from gan_core.workers import run_jobs
    from support.waiting import wait_for

    copy = runs.open_run(shutil.copytree(trained_run.path, tmp_path / trained_run.run_id))
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("GAN_DEMO_MAX_GIF_FRAMES", "1")
    steps = copy.sample_steps()
    assert len(steps) >= 2
    app = open_page_as("gallery", OTHER_TOKEN, copy, timeout=90)
    limit = f"1 of {len(steps)} frames, the demo's limit"
    assert not app.get("download_button") or "Download the timeline" not in \
        " ".join(button.proto.label for button in app.get("download_button")), "nothing drawn in the web server"
    make = next(button for button in app.button if "gallery_make_timeline_gif" in button.key)
    assert make.label == f"Make the timeline's animation ({limit})"
    make.click().run()
    assert not app.exception
    job = run_jobs.job_status(copy, "timeline_gif")
    assert job.steps == (steps[-1],) and job.owner_hash == ownership.owner_hash(OTHER_TOKEN)
    assert wait_for(lambda: not run_jobs.job_status(copy, "timeline_gif").is_active, 60)
    app.run()
    labels = [button.proto.label for button in app.get("download_button")]
    assert f"Download the timeline as a GIF ({limit})" in labels
