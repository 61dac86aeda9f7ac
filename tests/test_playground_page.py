"""The Playground page, run by Streamlit's AppTest against a fresh run store: set up runs (a preset set, drawn
points), drive the real trainer process with its controls, and refuse bad settings with the reason."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gan_core.lab import playground_store
from gan_core.inputs import point_sets
from gan_core.store import uploads
from gan_core.store.runs import list_runs
from support.pages import PROJECT, open_page, texts
from support.started_trainers import end_trainer
from support.waiting import wait_for
from views.common import subject_key

pytestmark = pytest.mark.slow


def test_create_a_ring_run_and_step_the_discriminator_from_the_page(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("playground")
    assert "There are no" not in texts(app)
    app.selectbox(key="playground_loss").set_value("hinge")
    app.number_input(key="playground_n_critic").set_value(2)
    app.button(key="playground_create").click().run(timeout=60)
    assert not app.exception, [error.value for error in app.exception]
    [run] = list_runs(tmp_path)
    try:
        config = run.config
        assert (config.playground, config.dataset, config.loss, config.n_critic, config.latent_dim) == \
            (True, "ring", "hinge", 2, 2)
        assert app.selectbox(key="playground_run").value == run.run_id
        assert wait_for(lambda: playground_store.read_snapshot(run) is not None, 180), run.tail_log()
        app.run()
        assert "modes covered: " in texts(app) and "paused" in texts(app)
        # The figure is drawn by the page's own component (views/live_figure.py), which AppTest keeps as its arguments.
        [component] = app.get("component_instance")
        figure = json.loads(component.proto.json_args)["figure"]
        assert [trace["name"] for trace in figure["data"]] == \
            ["discriminator", "manifold", "real", "gradient", "generated", "discriminator loss", "generator loss",
             "KL", "JS"]
        assert figure["layout"]["uirevision"] == "playground"
        assert "the discriminator's score (the hinge loss has no probability" in texts(app)
        app.button(key=subject_key("playground_step_d", run)).click().run()
        assert wait_for(lambda: playground_store.read_snapshot(run).d_updates == 1, 60)
        snapshot = playground_store.read_snapshot(run)
        assert (snapshot.step, snapshot.loss) == (0, "hinge")
        app.run()
        assert "1 D updates" in texts(app)
        app.button(key=subject_key("playground_stop", run)).click().run()
        assert wait_for(lambda: run.status.state == "stopped", 120), run.status
        app.run()
        assert app.button(key=subject_key("playground_resume", run))
    finally:
        end_trainer(run)


def test_drawn_points_become_the_run_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    drawn = [[0.0, 1.0], [1.5, -2.0], [-3.0, 0.5]]
    app = open_page("playground", session_state={"playground_drawn": drawn})
    app.radio(key="playground_dataset").set_value("points").run()
    assert "3 points ready." in texts(app)
    app.button(key="playground_create").click().run(timeout=60)
    assert not app.exception, [error.value for error in app.exception]
    [run] = list_runs(tmp_path)
    try:
        assert run.config.dataset == "points"
        np.testing.assert_allclose(point_sets.read_points_file(run.config.data_path), drawn)
    finally:
        end_trainer(run)


def test_own_points_without_points_and_bad_settings_start_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("playground")
    app.radio(key="playground_dataset").set_value("points").run()
    app.button(key="playground_create").click().run()
    assert "draw at least two points on the canvas, or upload a CSV of x,y" in "\n".join(e.value for e in app.error)
    app.radio(key="playground_dataset").set_value("spiral").run()
    app.number_input(key="playground_n_critic").set_value(0)
    app.button(key="playground_create").click().run()
    assert "n_critic=0 is not allowed" in "\n".join(e.value for e in app.error)
    assert list_runs(tmp_path) == []


def test_playground_page_leaves_tensorflow_unloaded(tmp_path):
    script = """
import sys
from streamlit.testing.v1 import AppTest
app = AppTest.from_file("app.py", default_timeout=60).run()
app.switch_page("pages/playground.py").run()
assert not app.exception, [error.value for error in app.exception]
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""
    environment = {**os.environ, "GAN_RUNS_DIR": str(tmp_path), "PYTHONPATH": str(PROJECT)}
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT, env=environment, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_in_a_demo_only_the_owner_controls_a_playground_run_and_new_runs_keep_the_caps(tmp_path, monkeypatch):
    from streamlit import config as streamlit_config

    from gan_core.store import ownership
    from gan_core.spec.config import preset
    from gan_core.store.runs import create_run, write_status

    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv("GAN_DASHBOARD_DEMO", "1")
    monkeypatch.setenv("GAN_DEMO_SHOWCASE_SECONDS", "0")
    owner_token, other_token = "owner-" + "a" * 40, "other-" + "b" * 40
    try:
        stopped = create_run(preset("ring-playground"), tmp_path)
        write_status(stopped.path, "stopped", "stopped on request at step 0")
        ownership.record_owner(stopped, ownership.OwnerRecord(ownership.owner_hash(owner_token)))

        other = open_page("playground", stopped, session_state={"demo_owner_token": other_token})
        assert subject_key("playground_resume", stopped) not in {button.key for button in other.button}
        assert "Another visitor started this run" in texts(other)
        owner = open_page("playground", stopped, session_state={"demo_owner_token": owner_token})
        assert subject_key("playground_resume", stopped) in {button.key for button in owner.button}

        owner.button(key="playground_create").click().run(timeout=60)
        assert not owner.exception, [error.value for error in owner.exception]
        [created] = [run for run in list_runs(tmp_path) if run.run_id != stopped.run_id]
        try:
            from gan_core.demo_mode import demo

            assert created.config.steps == demo.DemoLimits().max_steps
            assert ownership.read_owner(created.path).owner_hash == ownership.owner_hash(owner_token)
        finally:
            end_trainer(created)
    finally:
        streamlit_config.set_option("client.showErrorDetails", "full")
        streamlit_config.set_option("client.toolbarMode", "auto")


def click_canvas(app, x: float, y: float) -> None:
    """Click the drawing canvas's marker at (x, y). AppTest cannot click a Plotly chart, so the selection such a click
    makes is sent with the next run, as the browser sends it (the chart's id follows its figure: it is found afresh)."""
    [canvas] = [chart for chart in app.get("plotly_chart") if chart.key == "playground_canvas"]
    states = app._tree.get_widget_states()
    selection = {"selection": {"points": [{"x": x, "y": y}], "point_indices": [0], "box": [], "lasso": []}}
    states.widgets.add(id=canvas.proto.id, string_value=json.dumps(selection))
    app._run(states)
    assert not app.exception, [error.value for error in app.exception]


def stored_files(runs_dir) -> list:
    folder = uploads.uploads_dir_of(runs_dir)
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def test_refused_uploads_and_canvas_clicks_leave_only_the_file_the_created_run_uses(tmp_path, monkeypatch):
    from hostile_uploads import good_pngs
    from support.archives import zip_of

    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("train")
    app.selectbox(key="field_dataset").set_value("folder").run()
    for name, content in (("notes.zip", b"words, not images\n"), ("empty.zip", zip_of([])),
                          ("three.zip", zip_of(good_pngs(3)))):
        app.file_uploader(key="train_upload").set_value((name, content, "application/zip")).run()
        assert any(error.value.startswith(name) for error in app.error), [error.value for error in app.error]
    assert stored_files(tmp_path) == [], "a refused upload keeps nothing"

    app.switch_page("pages/playground.py").run()
    app.radio(key="playground_dataset").set_value("points").run()
    clicks = [[round(-3.0 + 0.6 * index, 3), round(2.0 - 0.4 * index, 3)] for index in range(12)]
    for x, y in clicks:
        click_canvas(app, x, y)
    assert app.session_state["playground_drawn"] == clicks and "12 points ready." in texts(app)
    assert stored_files(tmp_path) == [], "a drawing is stored when a run is created, not on every click"
    n_critic = app.number_input(key="playground_n_critic").value
    app.number_input(key="playground_n_critic").set_value(0)
    app.button(key="playground_create").click().run()
    assert "n_critic=0 is not allowed" in "\n".join(error.value for error in app.error)
    assert stored_files(tmp_path) == [] and list_runs(tmp_path) == [], "refused settings store no points"

    app.number_input(key="playground_n_critic").set_value(n_critic)
    app.button(key="playground_create").click().run(timeout=60)
    assert not app.exception, [error.value for error in app.exception]
    [run] = list_runs(tmp_path)
    try:
        data_path = Path(run.config.data_path)
        assert stored_files(tmp_path) == sorted([data_path, data_path.parent.parent / uploads.RECORD_NAME])
        np.testing.assert_allclose(point_sets.read_points_file(data_path), clicks)
    finally:
        end_trainer(run)
