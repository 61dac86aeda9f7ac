"""Uploads: stored atomically under their own folder with their original names, removed with their last run, and
every hostile upload refused or cleaned within 1 GB of memory."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hostile_uploads
from gan_core import data, uploads
from gan_core.config import preset
from gan_core.image_collection import load_image_collection
from gan_core.runs import create_run, delete_run, write_status

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def test_an_upload_is_stored_absolute_with_its_original_names(tmp_path):
    images = hostile_uploads.good_pngs(8)
    saved = uploads.save_upload(images, tmp_path / "uploads")
    assert saved.is_absolute() and saved.is_dir() and saved.name == uploads.FILES_FOLDER
    assert sorted(path.name for path in saved.iterdir()) == [name for name, _ in images]
    record = json.loads((saved.parent / uploads.RECORD_NAME).read_text())
    assert [file["name"] for file in record["files"]] == [name for name, _ in images]
    assert uploads.display_name(saved) == "your 8 uploaded files"
    assert uploads.display_name(saved / "good_03.png") == "good_03.png"
    # The same files again are the same upload, stored once.
    assert uploads.save_upload(images, tmp_path / "uploads") == saved
    assert len(list((tmp_path / "uploads").iterdir())) == 1

    archive = uploads.save_upload([("My Photos.zip", b"PK\x05\x06" + b"\0" * 18)], tmp_path / "uploads")
    assert archive.name == "My Photos.zip" and uploads.display_name(archive) == "My Photos.zip"
    # A person's own folder or zip is named as they gave it.
    assert uploads.display_name(tmp_path / "mine.zip") == str(tmp_path / "mine.zip")
    assert uploads.upload_folder_of(tmp_path / "mine.zip") is None


def test_messages_name_the_uploaded_file_never_the_server_path(tmp_path):
    text = uploads.save_upload([("fake_images.zip", b"hello, not a zip\n")], tmp_path / "uploads")
    with pytest.raises(ValueError) as refusal:
        load_image_collection(text, 8, 3)
    message = str(refusal.value)
    assert message.startswith("fake_images.zip is not a zip archive")
    assert "uploads" not in message and str(tmp_path) not in message

    corrupt = uploads.save_upload([("holiday.zip", hostile_uploads.hostile_zip()[:4000])], tmp_path / "uploads")
    with pytest.raises(ValueError, match=r"^holiday.zip is not a readable zip archive \(BadZipFile"):
        load_image_collection(corrupt, 8, 3)

    few = uploads.save_upload(hostile_uploads.good_pngs(3), tmp_path / "uploads")
    with pytest.raises(ValueError, match=r"^your 3 uploaded files: only 3 usable images; at least 8"):
        load_image_collection(few, 8, 3)


def test_hostile_file_names_stay_inside_the_upload_folder(tmp_path):
    content = hostile_uploads.good_pngs(1)[0][1]
    names = ["../../evil.png", "..", "", "a/b\\c.png", "/etc/passwd.png", "x" * 400 + ".png", "C.PNG", "c.png"]
    saved = uploads.save_upload([(name, content) for name in names], tmp_path / "uploads")
    stored = sorted(path.name for path in saved.iterdir())
    assert len(stored) == len(names) and "c.png" in stored and "passwd.png" in stored and "evil.png" in stored
    assert all(len(name) <= uploads.MAX_STORED_NAME_CHARACTERS for name in stored)
    assert files_under(tmp_path) <= files_under(saved.parent)


def test_an_upload_is_either_one_zip_or_images(tmp_path):
    with pytest.raises(ValueError, match="not several zips or a mix"):
        uploads.save_upload([("a.zip", b"PK"), ("b.png", b"x")], tmp_path)
    with pytest.raises(ValueError, match="the upload is empty"):
        uploads.save_upload([], tmp_path)
    assert not list(tmp_path.iterdir())


def test_half_written_uploads_do_not_stay_behind(tmp_path):
    uploads_dir = tmp_path / "uploads"
    stale, live = uploads_dir / "0123456789abcdef.dead.partial", uploads_dir / "fedcba9876543210.busy.partial"
    for partial in (stale, live):
        (partial / uploads.FILES_FOLDER).mkdir(parents=True)
        (partial / uploads.FILES_FOLDER / "half.png").write_bytes(b"\x89PNG")
    old = time.time() - uploads.STALE_PARTIAL_SECONDS - 1
    os.utime(stale, (old, old))
    saved = uploads.save_upload(hostile_uploads.good_pngs(8), uploads_dir)
    assert not stale.exists(), "a partial folder left by a save that died is removed"
    assert live.exists(), "a partial folder younger than a save can take may belong to a save in progress"
    assert sorted(path.name for path in uploads_dir.iterdir()) == sorted([saved.parent.name, live.name])


def test_an_upload_is_removed_with_the_last_run_that_uses_it(tmp_path):
    runs_dir = tmp_path / "runs"
    saved = uploads.save_upload(hostile_uploads.good_pngs(8), runs_dir / "uploads")
    own_folder = tmp_path / "mine"
    own_folder.mkdir()
    first, second, own = (create_run(preset("digits-mlp", dataset="folder", data_path=str(path)), runs_dir)
                          for path in (saved, saved, own_folder))
    for run in (first, second, own):
        write_status(run.path, "finished")
    delete_run(first)
    assert saved.is_dir(), "another run still trains on the upload"
    delete_run(own)
    assert own_folder.is_dir(), "a person's own folder is never removed"
    delete_run(second)
    assert not saved.parent.exists() and list((runs_dir / "uploads").iterdir()) == []
    with pytest.raises(ValueError, match="not an upload folder"):
        uploads.remove_if_unused(own_folder, [])


def test_an_uploaded_path_trains_from_another_working_directory(tmp_path, monkeypatch):
    (tmp_path / "app").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    saved = uploads.save_upload(hostile_uploads.good_pngs(8), Path("runs") / "uploads")  # relative, as the app has
    run = create_run(preset("digits-mlp", dataset="folder", data_path=str(saved), image_size=8), "runs")
    monkeypatch.chdir(tmp_path / "elsewhere")
    stored = json.loads((tmp_path / "app" / run.path / "config.json").read_text())["data_path"]
    assert Path(stored).is_absolute() and Path(stored).is_dir()
    config = preset("digits-mlp", dataset="folder", data_path=stored, image_size=8)
    assert data.load_dataset(config).examples.shape == (8, 8, 8, 3)


def test_every_hostile_upload_is_refused_or_cleaned_within_1_gb(tmp_path):
    # In a fresh process, so that the peak memory is that of handling these uploads alone.
    finished = subprocess.run([sys.executable, str(PROJECT_ROOT / "tests" / "hostile_uploads.py"), str(tmp_path)],
                              capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    outcomes = report["outcomes"]
    assert report["peak_rss_bytes"] < 2**30, f"peak memory {report['peak_rss_bytes']:,} bytes"
    assert report["files_outside_uploads"] == []
    assert outcomes["zip_bomb.zip"]["refused"].startswith("zip_bomb.zip: only 0 usable images")
    assert "bomb_0.png: too large: 1,073,741,824 bytes" in outcomes["zip_bomb.zip"]["refused"]
    assert "Bad CRC-32" in outcomes["lying_bomb.zip"]["refused"]
    assert outcomes["pixel_bomb.zip"] == {"images": 8, "skipped": [
        ["huge.png", "400,000,000 pixels; at most 40,000,000 are allowed"]]}
    assert outcomes["crowded.zip"]["refused"] == ("crowded.zip is refused: it holds about 1,200,000 entries; at most "
                                                  "200,000 are allowed")
    assert outcomes["large_photo.zip"] == {"images": 9, "skipped": []}
    assert outcomes["hostile.zip"]["images"] == 8 + len(hostile_uploads.awkward_images())
    assert len(outcomes["hostile.zip"]["skipped"]) == 6
    assert outcomes["corrupt.zip"]["refused"].startswith("corrupt.zip is not a readable zip archive")
    assert outcomes["notes.zip"]["refused"].startswith("notes.zip is not a zip archive")
    print(f"peak memory handling every hostile upload: {report['peak_rss_bytes'] / 2**20:.0f} MiB")


def test_the_command_line_refuses_a_hostile_zip_with_the_same_message_and_makes_no_run(tmp_path):
    (tmp_path / "notes.zip").write_text("words, not images\n")
    finished = subprocess.run([sys.executable, "-m", "gan_core", "train", "--preset", "digits-mlp", "--data",
                               str(tmp_path / "notes.zip"), "--runs-dir", str(tmp_path / "runs")],
                              capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert finished.returncode == 2
    assert f"error: {tmp_path / 'notes.zip'} is not a zip archive" in finished.stderr
    assert not (tmp_path / "runs").exists()
