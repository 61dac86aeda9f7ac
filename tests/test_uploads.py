"""Uploads: stored atomically under their own folder with their original names, refused uploads keeping nothing,
removed with their last run or, unused, after a grace period, and every hostile upload refused or cleaned within
1 GB of memory."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import hostile_uploads
from gan_core.inputs import data
from gan_core.store import uploads
from gan_core.spec.config import preset
from gan_core.inputs.image_collection import load_image_collection, store_usable_upload
from gan_core.store.runs import create_run, delete_run, write_status
from support.archives import zip_of

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


def refused_uploads() -> dict[str, tuple[list[tuple[str, bytes]], str]]:
    """The uploads a person gets wrong most often, each with the start of the message that refuses it."""
    return {
        "a text file named .zip": ([("notes.zip", b"words, not images\n")], "notes.zip is not a zip archive"),
        "an empty zip": ([("empty.zip", zip_of([]))],
                         "empty.zip: only 0 usable images; at least 8 are needed, and it is empty"),
        "a zip of 3 images": ([("three.zip", zip_of(hostile_uploads.good_pngs(3)))],
                              "three.zip: only 3 usable images; at least 8 are needed"),
        "3 image files": (hostile_uploads.good_pngs(3), "your 3 uploaded files: only 3 usable images"),
        "nothing": ([], "the upload is empty; upload one .zip file or some image files"),
        "a zip and an image": ([("a.zip", zip_of(hostile_uploads.good_pngs(8))), *hostile_uploads.good_pngs(1)],
                               "upload either one .zip file or any number of image files"),
    }


@pytest.mark.parametrize("kind", list(refused_uploads()))
def test_a_refused_upload_keeps_nothing(tmp_path, kind):
    files, message = refused_uploads()[kind]
    with pytest.raises(ValueError) as refusal:
        store_usable_upload(files, tmp_path)
    assert str(refusal.value).startswith(message)
    assert str(tmp_path) not in str(refusal.value), "messages name the person's files, never the server's folders"
    assert files_under(tmp_path) == set(), f"{kind} left {sorted(files_under(tmp_path))}"


def test_a_usable_upload_is_kept_and_named_as_uploaded(tmp_path):
    stored = store_usable_upload([("cats.zip", zip_of(hostile_uploads.good_pngs(8)))], tmp_path)
    assert stored.name == "cats.zip" and stored.parent.parent.parent == uploads.uploads_dir_of(tmp_path).resolve()
    assert load_image_collection(stored, 8, 3).name == "cats.zip"
    assert files_under(tmp_path) == {stored, stored.parent.parent / uploads.RECORD_NAME}


def stored_before(files: list[tuple[str, bytes]], runs_dir: Path, seconds_ago: float) -> Path:
    """An upload stored `seconds_ago` (its record's time is what the grace period counts from)."""
    stored = uploads.save_upload(files, uploads.uploads_dir_of(runs_dir))
    record = uploads.upload_folder_of(stored) / uploads.RECORD_NAME
    then = time.time() - seconds_ago
    os.utime(record, (then, then))
    return stored


def test_unused_uploads_are_swept_after_the_grace_period_and_used_or_young_ones_kept(tmp_path):
    grace = uploads.UNUSED_UPLOAD_GRACE_SECONDS
    old = grace + 60
    used = stored_before(hostile_uploads.good_pngs(8), tmp_path, old)
    used_points = stored_before([("points.csv", b"x,y\n0,1\n2,3\n")], tmp_path, old) / "points.csv"
    unused = stored_before([("old.zip", zip_of(hostile_uploads.good_pngs(8)))], tmp_path, old)
    young = stored_before([("new.zip", zip_of(hostile_uploads.good_pngs(9)))], tmp_path, grace - 60)
    not_ours = uploads.uploads_dir_of(tmp_path) / "someone-elses"
    not_ours.mkdir()
    os.utime(not_ours, (time.time() - old, time.time() - old))
    create_run(preset("digits-mlp", dataset="folder", data_path=str(used)), tmp_path)
    create_run(preset("ring-playground", dataset="points", data_path=str(used_points)), tmp_path)

    assert uploads.remove_unused_uploads(tmp_path) == [unused.parent.parent]
    assert not unused.exists()
    assert used.exists() and used_points.exists(), "an upload a run uses is kept however old"
    assert young.exists(), "an upload younger than the grace period may be for a run about to be created"
    assert not_ours.exists(), "a folder without our record is never removed"
    assert uploads.remove_unused_uploads(tmp_path, older_than_seconds=grace - 120) == [young.parent.parent]


def test_storing_an_upload_again_restarts_its_grace_period_and_sweeps_the_others(tmp_path):
    old = uploads.UNUSED_UPLOAD_GRACE_SECONDS + 60
    again = stored_before(hostile_uploads.good_pngs(8), tmp_path, old)
    forgotten = stored_before(hostile_uploads.good_pngs(9), tmp_path, old)
    assert uploads.store_upload(hostile_uploads.good_pngs(8), tmp_path) == again
    assert again.exists() and not forgotten.exists()
    assert uploads.remove_unused_uploads(tmp_path) == []


def test_nothing_is_swept_while_a_runs_config_cannot_be_read(tmp_path):
    unused = stored_before(hostile_uploads.good_pngs(8), tmp_path, uploads.UNUSED_UPLOAD_GRACE_SECONDS + 60)
    (tmp_path / "20260101-000000-damaged-0000").mkdir()
    (tmp_path / "20260101-000000-damaged-0000" / "config.json").write_text("{ half a config")
    assert uploads.remove_unused_uploads(tmp_path) == [] and unused.exists(), "the damaged run may use it"
    assert uploads.bytes_in_use(tmp_path) > 0, "the space counts every upload while that cannot be told"


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


def test_the_server_sweeps_unused_uploads_when_its_first_page_opens(tmp_path, monkeypatch):
    from support.pages import open_page

    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    old = uploads.UNUSED_UPLOAD_GRACE_SECONDS + 60
    used = stored_before(hostile_uploads.good_pngs(8), tmp_path, old)
    left_behind = stored_before(hostile_uploads.good_pngs(9), tmp_path, old)
    create_run(preset("digits-mlp", dataset="folder", data_path=str(used)), tmp_path)
    open_page("runs")
    assert used.exists() and not left_behind.exists()
