"""The Train form against what this machine holds and what each setting uses, opened through app.py with AppTest."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_core import data
from gan_core.config import PRESETS

APP = Path(__file__).resolve().parents[1] / "app.py"


def open_train_page() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    app.switch_page("pages/train.py").run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def preset_labels(app: AppTest) -> dict[str, str]:
    """{preset name: the label the picker shows for it}."""
    picker = app.selectbox(key="train_preset")
    assert len(picker.options) == len(PRESETS)
    return dict(zip(PRESETS, picker.options))


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
