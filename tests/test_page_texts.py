"""What pages say in words and numbers: the empty store's advice names the real default preset, and counts carry a
thousands separator the one way everywhere ("1,201"). Pages are opened through app.py with AppTest."""

import io
import zipfile
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_core.spec import registry
from gan_core.spec.config import DEFAULT_PRESET
from support.datasets import write_png_folder

APP = Path(__file__).resolve().parents[1] / "app.py"


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def test_an_empty_store_points_to_the_default_preset(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    app = open_page("runs")
    advice = app.info[0].value
    assert advice.startswith("There are no runs yet, so there is nothing to list")
    assert f"the default preset, {registry.presets()[DEFAULT_PRESET]['name']} ({DEFAULT_PRESET})" in advice
    # It used to name quicker presets than the one the Train form starts from.
    assert "digits" not in advice and "ring" not in advice


def test_counts_on_the_train_page_have_a_thousands_separator(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        for path in sorted(write_png_folder(tmp_path / "pictures", 8, size=8).iterdir()):
            writer.writestr(path.name, path.read_bytes())
        for index in range(1201):
            writer.writestr(f"notes/{index}.txt", b"words")
    app = open_page("train")
    assert "per 1,000 steps" in app.info[-1].value
    app.selectbox(key="field_dataset").set_value("folder").run()
    app.file_uploader(key="train_upload").set_value(("mixed.zip", archive.getvalue(), "application/zip")).run()
    assert not app.exception, [error.value for error in app.exception]
    assert "8 usable images" in app.success[0].value
    assert [expander.label for expander in app.expander if "skipped" in expander.label] == ["1,201 file(s) skipped"]
