"""The Train form against what this machine holds and what each setting uses, opened through app.py with AppTest."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core.inputs import data
from gan_core.spec import promises, registry
from gan_core.spec.config import RunConfig
from gan_core.store.runs import list_runs
from support.started_trainers import end_trainer

APP = Path(__file__).resolve().parents[1] / "app.py"


def open_train_page() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    app.switch_page("pages/train.py").run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def preset_labels(app: AppTest) -> dict[str, str]:
    """{preset name: the label the picker shows for it}."""
    picker = app.selectbox(key="train_preset")
    assert len(picker.options) == len(registry.presets())
    return dict(zip(registry.presets(), picker.options))


@pytest.fixture
def offline_without_mnist(tmp_path, monkeypatch):
    """A machine with no MNIST files anywhere the app looks: an empty data folder and an empty Keras cache."""
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "no-data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def test_presets_whose_data_is_not_on_this_machine_are_marked_with_what_to_do(offline_without_mnist):
    assert data.find_builtin("mnist") is None
    app = open_train_page()
    labels = preset_labels(app)
    assert labels["mnist-dcgan"].endswith(" — MNIST not on this machine")
    assert labels["mnist2fashion-cyclegan"].startswith("MNIST to Fashion-MNIST")
    assert "MNIST" in labels["mnist2fashion-cyclegan"].split(" — ", 1)[1]
    assert "not on this machine" not in labels["digits-mlp"] + labels["ring-mlp"]
    # Fashion-MNIST may be installed system-wide (Debian's package); it is marked exactly when it is not.
    fashion_here = data.find_builtin("fashion_mnist") is not None
    assert labels["fashion-dcgan"].endswith("not on this machine") != fashion_here
    advice = [caption.value for caption in app.caption if "GAN_DATA_DIR" in caption.value]
    assert len(advice) == 1 and "downloaded when you start a run" in advice[0]
    # The dataset picker marks the set too, and says what to do once it is chosen.
    dataset_picker = app.selectbox(key="field_dataset")
    assert [label for label in dataset_picker.options if label.startswith("MNIST:")][0].endswith(
        "MNIST not on this machine")
    dataset_picker.set_value("mnist").run()
    assert len([caption for caption in app.caption if "GAN_DATA_DIR" in caption.value]) == 2


def test_presets_are_not_marked_when_their_data_is_here(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path / "runs"))
    if any(data.find_builtin(name) is None for name in ("mnist", "fashion_mnist")):
        pytest.skip("needs MNIST and Fashion-MNIST on this machine: set GAN_DATA_DIR to a folder holding them")
    app = open_train_page()
    assert not [label for label in preset_labels(app).values() if "not on this machine" in label]
    assert not [caption for caption in app.caption if "GAN_DATA_DIR" in caption.value]


def number_fields(app: AppTest) -> set[str]:
    return {field.key for field in app.number_input}


def test_fields_a_setting_leaves_unused_are_hidden_and_keep_their_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_train_page()
    # The default preset's hinge loss has no gradient penalty; every loss makes n_critic discriminator updates.
    assert app.selectbox(key="field_loss").value == "hinge"
    assert "field_gp_weight" not in number_fields(app) and "field_n_critic" in number_fields(app)
    # Choosing WGAN-GP shows the weight at once, before the form is submitted.
    app.selectbox(key="train_preset").set_value("ring-mlp").run()
    app.selectbox(key="field_loss").set_value("wgan_gp").run()
    assert "field_gp_weight" in number_fields(app)
    app.number_input(key="field_gp_weight").set_value(3.0)
    app.number_input(key="field_steps").set_value(1)
    app.button(key="train_check").click().run()
    # Back to a loss without a penalty: the weight typed for WGAN-GP is hidden and the run gets the default.
    app.selectbox(key="field_loss").set_value("lsgan").run()
    assert "field_gp_weight" not in number_fields(app)
    # 2-D points have no image size or channels.
    assert not {"field_image_size", "field_channels"} & number_fields(app)
    app.button(key="train_start").click().run(timeout=60)
    assert not app.exception, [error.value for error in app.exception]
    [run] = list_runs(tmp_path)
    try:
        assert run.config.loss == "lsgan" and run.config.gp_weight == RunConfig().gp_weight
        assert run.config.image_size == RunConfig().image_size
    finally:
        # What is checked is the run the form created; its trainer, started by the page, is ended by its pid.
        end_trainer(run)


def test_a_preset_with_a_promise_states_it_by_step_count_with_this_machines_time(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_train_page()
    app.selectbox(key="train_preset").set_value("ring-mlp").run()
    [estimate] = [info.value for info in app.info if "per 1,000 steps" in info.value]
    promise = promises.promise_of("ring-mlp")
    assert f"What the preset promises with its own settings: {promise.sentence()}; on this machine about" in estimate
    assert "by step 3,000, for every seed tried" in estimate and "AMD EPYC" in estimate
    app.selectbox(key="train_preset").set_value("digits-mlp").run()
    [estimate] = [info.value for info in app.info if "per 1,000 steps" in info.value]
    assert promises.promise_of("digits-mlp") is None and "promises" not in estimate
