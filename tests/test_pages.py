"""Every dashboard page, run by Streamlit's AppTest against a run store holding real, freshly trained runs.

The store is trained once per module, in this process (digits, conditional digits and the 2-D ring, a dozen steps
or less each). Pages are opened through app.py, as a browser would: run the router, then switch page.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_core.training import throughput
from gan_core.store.runs import Run, Status, list_runs, open_run, write_status
from support.datasets import write_png_folder
from support.pages import APP, PROJECT, open_page, texts
from support.started_trainers import end_trainer
from support.trained import trained_run
from support.waiting import wait_for
from views.common import duration_text, subject_key

TRAININGS = {
    # Six rows (every 2 steps): enough for the Train form and the Monitor to count its speed as measured.
    "digits": ("digits-mlp", dict(steps=12, sample_every=4, log_every=2)),
    "conditional": ("digits-mlp", dict(steps=8, conditional=True, name="Conditional digits")),
    "ring": ("ring-mlp", dict(steps=12, sample_every=4)),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A run store with three finished runs; name -> run."""
    runs_dir = tmp_path_factory.mktemp("runs")
    return {name: trained_run(runs_dir, preset_name, **settings)
            for name, (preset_name, settings) in TRAININGS.items()}


@pytest.fixture(autouse=True)
def runs_dir_setting(request, monkeypatch):
    """Point the pages at the test store (AppTest runs them in this process, so the variable is read live)."""
    if "store" in request.fixturenames:
        store = request.getfixturevalue("store")
        monkeypatch.setenv("GAN_RUNS_DIR", str(store["digits"].path.parent))


def test_home_lists_every_run_with_its_samples_and_the_sidebar(store):
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Runs overview"]
    page = texts(app)
    for run in store.values():
        assert run.run_id in page
    assert "Conditional digits" in page and "ring · gan · mlp · hinge" in page
    assert "best metric: —" in page
    assert len(app.image) == 3
    assert "step 12 / 12" in [bar.proto.text for bar in app.get("progress")]
    sidebar = [element.value for element in app.sidebar.subheader]
    assert sidebar == ["Training now"]
    assert "Nothing is training" in app.sidebar.caption[0].value


def test_home_with_an_empty_store_invites_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    assert "There are no runs yet" in app.info[0].value
    assert [link.proto.label for link in app.main.get("page_link")] == ["Set up a run"]  # the sidebar has its own


def test_train_form_fills_from_a_preset_and_estimates_from_a_measured_run(store):
    app = open_page("train")
    assert [title.value for title in app.title] == ["Train"]
    assert app.selectbox(key="field_dataset").value == "fashion_mnist"
    app.selectbox(key="train_preset").set_value("digits-mlp").run()
    assert app.selectbox(key="field_dataset").value == "digits"
    assert app.number_input(key="field_steps").value == 3000
    assert app.selectbox(key="field_architecture").value == "mlp"
    estimate = app.info[-1].value
    assert "per 1,000 steps" in estimate and "measured" in estimate and store["digits"].run_id in estimate


def test_train_form_gives_hidden_fields_their_defaults_when_the_variant_changes(store):
    # The default preset averages the generator's weights; Pix2Pix samples its generator itself and refuses that,
    # but hides the field, so a person could not see or change it.
    app = open_page("train")
    assert app.number_input(key="field_g_ema_decay").value > 0
    app.selectbox(key="field_variant").set_value("pix2pix").run()
    assert not [box for box in app.number_input if box.key == "field_g_ema_decay"]
    app.button(key="train_check").click().run()
    assert not app.exception
    assert not [error.value for error in app.error if "g_ema_decay" in error.value]


def test_train_form_shows_a_validation_message_at_the_field_at_fault(store):
    app = open_page("train")
    app.number_input(key="field_image_size").set_value(30)
    app.button(key="train_check").click().run()
    assert not app.exception
    # The message sits in the "More settings" expander, where the image size field is.
    messages = [error.value for error in app.expander[0].error]
    assert len(messages) == 1 and messages[0].startswith("image_size=30 is not allowed")
    assert not app.info or "per 1,000 steps" not in app.info[-1].value

    # The dataset is chosen outside the form, so its consequence shows at once, under the architecture.
    app = open_page("train")
    app.selectbox(key="field_dataset").set_value("ring").run()
    architecture_errors = [error.value for error in app.columns[0].error]
    assert architecture_errors and architecture_errors[0].startswith("architecture='dcgan' is not allowed")


def test_train_previews_uploaded_images_and_lists_what_was_skipped(store, png_folder):
    app = open_page("train")
    app.selectbox(key="field_dataset").set_value("folder").run()
    uploads = [(path.name, path.read_bytes(), "image/png") for path in sorted(png_folder.iterdir())[:12]]
    uploads.append(("broken.png", b"this is not a png", "image/png"))
    app.file_uploader(key="train_upload").set_value(uploads).run()
    assert not app.exception
    assert "12 usable images" in app.success[0].value and "no classes" in app.success[0].value
    assert app.selectbox(key="field_augment").value == "diffaugment", "a small collection starts with DiffAugment"
    assert len(app.image) == 1
    assert "1 file(s) skipped" in app.expander[0].label
    saved = Path(app.session_state["train_data_path"])
    assert saved.is_absolute() and saved.parent.parent == store["digits"].path.parent / "uploads"
    assert len(list(saved.iterdir())) == 13


def test_train_reads_class_folders_from_an_uploaded_zip(store, png_folder):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        for index, path in enumerate(sorted(png_folder.iterdir())[:8]):
            writer.writestr(f"pets/{'cats' if index % 2 else 'dogs'}/{path.name}", path.read_bytes())
    app = open_page("train")
    app.selectbox(key="field_dataset").set_value("folder").run()
    app.file_uploader(key="train_upload").set_value(("pets.zip", archive.getvalue(), "application/zip")).run()
    assert "8 usable images" in app.success[0].value and "2 classes: cats, dogs" in app.success[0].value
    assert app.session_state["train_data_path"].endswith("pets.zip")


def test_train_upload_preview_decodes_a_sample_and_names_a_bad_zip_by_its_file_name(store, tmp_path):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        for path in sorted(write_png_folder(tmp_path / "pictures", 40).iterdir()):
            writer.writestr(path.name, path.read_bytes())
    app = open_page("train")
    app.selectbox(key="field_dataset").set_value("folder").run()
    app.file_uploader(key="train_upload").set_value(("cifar.zip", archive.getvalue(), "application/zip")).run()
    assert "40 image files (the first 16 shown" in app.success[0].value and "`cifar.zip`" in app.success[0].value

    app.file_uploader(key="train_upload").set_value(("fake_images.zip", b"just words", "application/zip")).run()
    errors = [error.value for error in app.error]
    assert errors and errors[0].startswith("fake_images.zip is not a zip archive")
    assert "uploads" not in " ".join(errors)


def test_train_asks_for_a_new_upload_when_the_old_one_was_removed(store):
    app = open_page("train")
    app.selectbox(key="field_dataset").set_value("folder").run()
    app.session_state["train_data_path"] = str(store["digits"].path.parent / "uploads" / "0123456789abcdef" / "files")
    app.run()
    assert "no longer on this server" in app.warning[0].value and app.session_state["train_data_path"] == ""


def test_monitor_shows_a_finished_run_with_charts_grid_and_train_more(store):
    run = store["digits"]
    app = open_page("monitor", run)
    assert [title.value for title in app.title] == ["Monitor"]
    assert app.selectbox(key="run").value == run.run_id
    assert "finished" in texts(app) and "reached step 12" in texts(app)
    assert len(app.get("plotly_chart")) == 1
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in figure["data"]] == ["discriminator", "generator", "on real", "on generated",
                                                            "D gradient", "G gradient"]
    assert figure["layout"]["yaxis2"]["range"] == [0.0, 1.0]
    assert app.image[0].captions == ["Fixed noise at step 12"]
    assert app.button(key=subject_key("monitor_train_more", run)) and not app.warning


def test_monitor_time_left_says_starting_then_follows_the_rows_and_never_zero(store):
    from views.monitor_views import time_left_text

    run = store["digits"]
    rows = run.metrics_since(-1)
    assert time_left_text(run, Status("queued", step=60), rows, 120) == "the trainer is starting"
    assert time_left_text(run, Status("running"), [], 120) == "the trainer is starting"
    speed = np.median([row["images_per_second"] for row in rows[-throughput.RECENT_ROWS:]])
    seconds = 1000 * throughput.images_per_step(run.config) / speed
    assert time_left_text(run, Status("running", step=60), rows, 1060) == f"about {duration_text(seconds)} left"
    assert time_left_text(run, Status("running", step=60), rows, 60) == "finishing"


def test_monitor_labels_raw_discriminator_scores_for_scores_losses(store, tmp_path, monkeypatch):
    # A copy of the digits run relabelled as LSGAN: the page must not squash its raw outputs into probabilities.
    copy = tmp_path / store["digits"].run_id
    shutil.copytree(store["digits"].path, copy)
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps({**config, "loss": "lsgan"}))
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("monitor", open_run(copy))
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert figure["layout"]["yaxis2"]["title"]["text"] == "raw score" and "range" not in figure["layout"]["yaxis2"]
    assert "not a probability" in texts(app)


def start_message(app: AppTest) -> str:
    """The message shown beside the Start button (in the button's own column), or ""."""
    [column] = [column for column in app.columns if any(button.key == "train_start" for button in column.button)]
    return "\n".join(str(element.value) for element in column.error)


def test_start_refuses_a_text_file_named_zip_and_creates_no_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("train")
    app.selectbox(key="field_dataset").set_value("folder").run()
    app.file_uploader(key="train_upload").set_value(("holiday.zip", b"words, not a zip", "application/zip")).run()
    app.button(key="train_start").click().run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Train"]
    assert "The run was not started" in start_message(app) and "holiday.zip" in start_message(app)
    assert list_runs(tmp_path) == []


def test_start_refuses_a_builtin_dataset_missing_offline(tmp_path, monkeypatch):
    import keras

    from gan_core.inputs import data

    def offline(*arguments, **keywords):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.setattr(data, "SYSTEM_DATA_DIR", tmp_path / "no-system-data")
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    app = open_page("train")
    app.selectbox(key="train_preset").set_value("mnist-dcgan").run()
    app.button(key="train_start").click().run(timeout=60)
    assert not app.exception
    message = start_message(app)
    assert "mnist (train split) was not found" in message and "GAN_DATA_DIR" in message
    assert list_runs(tmp_path / "runs") == []


def test_start_with_an_out_of_range_number_says_why_next_to_start(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("train")
    # The browser must not clamp (it would only turn the field red and send nothing): no min or max on numbers.
    assert not any(field.proto.has_min or field.proto.has_max for field in app.number_input)
    app.number_input(key="field_width").set_value(5000)
    app.button(key="train_start").click().run()
    assert not app.exception
    assert "The run was not started: width=5000 is not allowed; width must be from 4 to 1024" in start_message(app)
    assert list_runs(tmp_path) == []


def test_a_sweep_with_an_unknown_setting_is_refused_beside_its_button_and_nothing_is_made(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("train")
    app.text_area(key="sweep_dimensions").input("g_learning_rate=3e-4,1e-3\nwidht=32,64")
    app.button(key="train_sweep").click().run()
    assert not app.exception
    errors = [element.value for element in app.error]
    assert any(error.startswith("The sweep was not started: unknown config field 'widht'") for error in errors), errors
    assert list(tmp_path.iterdir()) == []


def test_the_run_name_follows_the_data_unless_typed(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("train")
    assert "The run will be called **Fashion-MNIST DCGAN**" in texts(app)
    app.selectbox(key="field_dataset").set_value("cifar10").run()
    assert "The run will be called **CIFAR-10 DCGAN, hinge loss**" in texts(app)
    app.selectbox(key="field_loss").set_value("lsgan")
    app.button(key="train_check").click().run()
    assert "The run will be called **CIFAR-10 DCGAN, lsgan loss**" in texts(app)
    app.text_input(key="field_name").input("My cats")
    app.button(key="train_check").click().run()
    assert "The run will be called **My cats**" in texts(app)


def copy_of_run(run: Run, runs_dir: Path) -> Run:
    copy = runs_dir / run.run_id
    shutil.copytree(run.path, copy)
    return open_run(copy)


def test_progress_after_train_more_reads_against_the_new_target(store, tmp_path, monkeypatch):
    # A 12-step run trained 88 steps more (as "Train more" or `resume --steps 88` would), now stopped at step 90.
    run = copy_of_run(store["digits"], tmp_path)
    write_status(run.path, "stopped", "stopped on request at step 90", step=90, target_step=100)
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    home = AppTest.from_file(str(APP), default_timeout=30).run()
    assert [bar.proto.text for bar in home.get("progress")] == ["step 90 / 100"]
    monitor = open_page("monitor", run)
    assert monitor.get("progress")[0].proto.text.startswith("step 90 of 100")
    assert monitor.button(key=subject_key("monitor_resume", run)), "the run has 10 steps to go"


def test_a_diverged_run_offers_a_resume_with_lower_learning_rates(store, tmp_path, monkeypatch):
    run = copy_of_run(store["digits"], tmp_path)
    write_status(run.path, "diverged", "losses or weights became non-finite at step 12", step=12)
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("monitor", run)
    button = app.button(key=subject_key("monitor_resume_lower", run))
    assert button.label == "Resume with learning rates halved"
    assert f"g_learning_rate {run.config.g_learning_rate / 2:g}" in button.help


def test_pages_survive_a_run_that_cannot_be_read(store, tmp_path, monkeypatch):
    readable = copy_of_run(store["digits"], tmp_path)
    damaged = copy_of_run(store["ring"], tmp_path)
    (damaged.path / "config.json").write_text("{half a file")
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    home = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not home.exception
    assert readable.run_id in texts(home) and damaged.run_id not in texts(home)
    open_page("monitor")  # asserts that no exception is shown


def test_start_in_a_runs_folder_that_cannot_be_written_says_why(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GAN_RUNS_DIR", str(blocker / "runs"))
    app = open_page("train")
    app.selectbox(key="train_preset").set_value("ring-mlp").run()
    app.button(key="train_start").click().run(timeout=60)
    assert not app.exception
    assert any(f"cannot create a run in {blocker}/runs" in error.value for error in app.error), app.error


@pytest.mark.slow
def test_start_from_the_train_form_then_stop_and_resume_from_monitor(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("train")
    app.selectbox(key="train_preset").set_value("ring-mlp").run()
    app.number_input(key="field_steps").set_value(20000)
    app.button(key="train_start").click().run(timeout=60)
    assert not app.exception
    [run] = list_runs(tmp_path)
    try:
        assert [title.value for title in app.title] == ["Monitor"]
        assert app.selectbox(key="run").value == run.run_id
        assert wait_for(lambda: run.status.state == "running", 60), run.status
        # AppTest reruns the page it last switched to, so follow the app's own switch to Monitor.
        app.switch_page("pages/monitor.py").run()
        assert "running" in texts(app)
        app.button(key=subject_key("monitor_stop", run)).click().run()
        assert run.stop_request_path.exists() or run.status.state == "stopped"
        assert wait_for(lambda: run.status.state == "stopped", 60), run.status
        app.run()
        assert run.status.step < 20000 and app.button(key=subject_key("monitor_resume", run))
        app.button(key=subject_key("monitor_resume", run)).click().run()
        assert run.status.is_active
        assert wait_for(lambda: run.status.state == "running" and run.status.step > 0, 60), run.status
    finally:
        # The trainer's own stop was proven above; this one only ends the resumed trainer, by its pid.
        end_trainer(run)


@pytest.mark.slow
def test_gallery_shows_the_timeline_fresh_samples_and_a_walk(store):
    run = store["digits"]
    app = open_page("gallery", run, timeout=90)
    assert [title.value for title in app.title] == ["Gallery"]
    assert app.select_slider(key=subject_key("gallery_timeline_step", run)).options == ["0", "4", "8", "12"]
    captions = [caption for image in app.image for caption in image.captions]
    assert captions[0] == "Fixed noise at step 12" and captions[2] == "64 samples, seed 0"
    # The timeline plays on the page beside the chosen step, as an animated GIF, and can still be downloaded.
    assert captions[1] == "The timeline, playing: steps 0 to 12 (4 frames)"
    assert app.image[1].value[0].endswith(".gif")
    assert "From the noise of seed 1 to that of seed 2" in captions[3]
    downloads = {button.proto.label for button in app.get("download_button")}
    assert {"Download this grid as PNG", "Download the timeline as a GIF (4 frames)", "Download as PNG"} <= downloads
    first = app.image[2].value
    app.number_input(key="gallery_seed").set_value(7).run()
    assert not app.exception and app.image[2].value != first


@pytest.mark.slow
def test_gallery_shows_one_row_per_class_for_a_conditional_run(store):
    app = open_page("gallery", store["conditional"], timeout=90)
    assert "Rows, top to bottom: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in app.image[2].captions
    class_picker = app.selectbox(key=subject_key("gallery_class", store["conditional"]))
    assert class_picker.options == [str(digit) for digit in range(10)]


@pytest.mark.slow
def test_gallery_scatters_real_and_generated_points_for_a_2d_run(store):
    app = open_page("gallery", store["ring"], timeout=90)
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert [trace["name"] for trace in figure["data"]] == ["real", "generated"]
    assert "Download as PNG" in {button.proto.label for button in app.get("download_button")}


@pytest.mark.slow
def test_compare_lays_out_real_and_generated_alike(store):
    app = open_page("compare", store["conditional"], timeout=90)
    assert [title.value for title in app.title] == ["Compare"]
    assert [subheader.value for subheader in app.main.subheader] == ["Real", "Generated"]
    real, fake = app.image
    assert real.captions == ["60 training examples"] and fake.captions == ["60 samples at step 8"]
    assert "Metrics" in [header.value for header in app.header]
    assert "Step 8 has not been evaluated yet" in app.info[0].value
    [link] = [link for link in app.get("page_link") if link.proto.label == "Evaluate this run"]
    assert link.proto.page.endswith("evaluate")


@pytest.mark.slow
def test_compare_shows_the_stored_evaluation_beside_real_vs_real(store, tmp_path, monkeypatch):
    from gan_core.measuring import evaluation

    run = open_run(shutil.copytree(store["digits"].path, tmp_path / store["digits"].run_id))
    results = evaluation.evaluate_run(run, 100, step=12)
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("compare", run, timeout=120)
    [table] = app.table
    rows = {row["Measure"]: row for row in table.value.to_dict("records")}
    frechet = rows[results["frechet_label"]]
    assert frechet["This checkpoint"] == f"{results['frechet_distance']:.3g}"
    assert frechet["Real vs real"] not in ("…", "—")
    assert "Step 12, as stored by the Evaluate page" in texts(app)


def test_runs_overlays_curves_and_deletes_only_after_confirmation(store, tmp_path, monkeypatch):
    for name in ("digits", "ring"):
        shutil.copytree(store[name].path, tmp_path / store[name].run_id)
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    victim = open_run(tmp_path / store["ring"].run_id)
    app = open_page("runs", victim)
    assert [title.value for title in app.title] == ["Runs"]
    overlay = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert len(overlay["data"]) == 2
    assert app.button(key=subject_key("runs_delete", victim)).disabled
    app.checkbox(key=subject_key("runs_delete_confirm", victim)).check().run()
    app.button(key=subject_key("runs_delete", victim)).click().run()
    assert not app.exception
    assert [run.run_id for run in list_runs(tmp_path)] == [store["digits"].run_id]
    assert app.selectbox(key="run").value == store["digits"].run_id
    survivor = open_run(tmp_path / store["digits"].run_id)
    assert app.checkbox(key=subject_key("runs_delete_confirm", survivor)).value is False, \
        "the tick given for the deleted run does not carry over to the next one"


def test_runs_delete_confirmation_belongs_to_the_run_it_was_given_for(store, tmp_path, monkeypatch):
    for name in ("digits", "ring"):
        shutil.copytree(store[name].path, tmp_path / store[name].run_id)
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    first, second = (open_run(tmp_path / store[name].run_id) for name in ("digits", "ring"))
    app = open_page("runs", first)
    app.checkbox(key=subject_key("runs_delete_confirm", first)).check().run()
    assert not app.button(key=subject_key("runs_delete", first)).disabled
    app.selectbox(key="run").set_value(second.run_id).run()
    assert app.checkbox(key=subject_key("runs_delete_confirm", second)).value is False
    assert app.button(key=subject_key("runs_delete", second)).disabled
    assert not [box for box in app.checkbox if box.key == subject_key("runs_delete_confirm", first)]
    assert {run.run_id for run in list_runs(tmp_path)} == {first.run_id, second.run_id}


def test_runs_opens_a_run_as_the_starting_point_of_a_new_one(store):
    app = open_page("runs", store["conditional"])
    app.button(key="runs_start_from").click().run()
    assert not app.exception
    assert [title.value for title in app.title] == ["Train"]
    assert app.checkbox(key="field_conditional").value is True
    assert app.number_input(key="field_steps").value == 8
    assert app.selectbox(key="field_dataset").value == "digits"
    # The preset box no longer names the preset the form started from, but the run.
    preset_box = app.selectbox(key="train_preset")
    assert preset_box.value is None and store["conditional"].run_id in preset_box.placeholder
    # AppTest reruns the page it last switched to, so follow the app's own switch to Train.
    app.switch_page("pages/train.py").run()
    assert app.selectbox(key="train_preset").value is None
    app.selectbox(key="train_preset").set_value("ring-mlp").run()
    assert app.selectbox(key="field_dataset").value == "ring" and "filled from run" not in texts(app)


@pytest.mark.slow
def test_runs_exports_a_generator_that_keras_loads(store, tmp_path):
    app = open_page("runs", store["digits"], timeout=90)
    app.button(key=subject_key("runs_export", store["digits"], store["digits"].checkpoint_steps()[-1])).click().run()
    assert not app.exception
    assert app.get("download_button")[0].proto.label.startswith("Download generator.keras")
    saved = tmp_path / "generator.keras"
    saved.write_bytes(app.session_state["runs_export_file"]["data"])
    import keras

    generator = keras.models.load_model(saved)
    assert generator(np.zeros((2, 32), np.float32)).shape == (2, 8, 8, 1)


STORE_ONLY_PAGES_SCRIPT = """
import sys
from streamlit.testing.v1 import AppTest
app = AppTest.from_file("app.py", default_timeout=60).run()
assert not app.exception, app.exception
for page in ("pages/train.py", "pages/monitor.py", "pages/runs.py"):
    app.switch_page(page).run()
    assert not app.exception, (page, [error.value for error in app.exception])
# Then with a run chosen (?run=<id>, as a shared link opens them), which reads its metrics, samples and status.
for page in ("pages/runs.py", "pages/monitor.py"):
    app.query_params["run"] = sys.argv[1]
    app.switch_page(page).run()
    assert not app.exception, (page, [error.value for error in app.exception])
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""


def test_store_only_pages_do_not_import_tensorflow(store):
    """Home, Train, Monitor and Runs must stay light, with no run chosen and with one: checked in a fresh interpreter
    (this test process has long imported TensorFlow for other tests), as the server would run them."""
    environment = {**os.environ, "GAN_RUNS_DIR": str(store["digits"].path.parent), "PYTHONPATH": str(PROJECT)}
    result = subprocess.run([sys.executable, "-c", STORE_ONLY_PAGES_SCRIPT, store["digits"].run_id], cwd=PROJECT,
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    imported = result.stdout.strip().splitlines()[-1]
    assert imported == "False False", "the overview, Train, Runs or Monitor imports TensorFlow or Keras"


def test_home_shows_the_best_evaluation_of_a_run(store, tmp_path, monkeypatch):
    copy = open_run(shutil.copytree(store["digits"].path, tmp_path / store["digits"].run_id))
    copy.save_evaluation(60, "pixels", 100, {"frechet_distance": 41.5, "frechet_label": "FD (pixels)", "kid_mean": 0.2})
    copy.save_evaluation(40, "pixels", 100, {"frechet_distance": 12.25, "frechet_label": "FD (pixels)",
                                             "kid_mean": 0.3})
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert "best metric: FD (pixels) 12.2 (step 40)" in texts(app)


def test_every_page_script_is_in_the_navigation():
    """The sidebar is drawn by the pages (Streamlit's own list is off), so a page missing from PAGES is unreachable."""
    from views.common import PAGES

    scripts = {"app.py"} | {f"pages/{path.name}" for path in (PROJECT / "pages").glob("*.py")}
    assert scripts == {page for page, _, _ in PAGES}
