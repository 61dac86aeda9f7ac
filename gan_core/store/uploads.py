"""Files a person uploads, stored where a run can train on them, and removed once no run uses them.

    <runs dir>/uploads/<content id>/
      upload.json   what the person called the files (messages name those, never this folder)
      files/        the files themselves: one .zip, or any number of images

The content id comes from the files' names and bytes, so the same upload is stored once however often a page
reruns. An upload is written into a uniquely named `*.partial` folder, checked there, and renamed into place only
when complete and accepted: a crash never leaves a half-written upload where a run could find it, and a refused
upload keeps nothing. Stale partial folders are removed whenever a new upload is saved.

An upload is kept while a run uses it (the run's config.json names it as its data_path): it is removed with the
last run that uses it, and one that no run uses is removed by `remove_unused_uploads` once it has not been stored
for a grace period, which leaves the person time to create the run it is for. Paths are returned absolute, so a
run trains on them whatever the trainer's working directory. The pages and the command line go through this
module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from pathlib import Path
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

UPLOADS_FOLDER = "uploads"  # inside the runs folder, so that the run store and its uploads move together
RUN_CONFIG_NAME = "config.json"  # in each run's folder (see gan_core.store.runs), naming the run's data_path
RECORD_NAME = "upload.json"
FILES_FOLDER = "files"
RECORD_KIND = "gan_dashboard upload"  # marks a folder as ours, so that a person's own folder is never removed
PARTIAL_SUFFIX = ".partial"
# A partial folder older than this belongs to a save that died; a live save takes seconds.
STALE_PARTIAL_SECONDS = 600
MAX_STORED_NAME_CHARACTERS = 200  # below the 255 bytes most file systems allow, with room for a prefix
# How long an upload no run uses is kept after it was last stored: time for the person to finish the form and
# create the run it is for (the Train page stores its upload again on every rerun, which restarts this period).
UNUSED_UPLOAD_GRACE_SECONDS = 3600

Check = Callable[[Path], object]  # raises ValueError saying why an upload cannot be used


def uploads_dir_of(runs_dir: Path | str) -> Path:
    """Where the uploads of the runs in `runs_dir` are stored."""
    return Path(runs_dir) / UPLOADS_FOLDER


def store_upload(files: list[tuple[str, bytes]], runs_dir: Path | str, check: Check | None = None) -> Path:
    """Store an upload for the runs in `runs_dir` (see `save_upload`), then remove the uploads no run uses."""
    path = save_upload(files, uploads_dir_of(runs_dir), check)
    remove_unused_uploads(runs_dir)
    return path


def save_upload(files: list[tuple[str, bytes]], uploads_dir: Path | str, check: Check | None = None) -> Path:
    """Store (file name, bytes) pairs and return the absolute path to train on: the zip, or the folder of images.

    A new upload is first written to a partial folder and `check` is called with the path to train on there; when
    it raises, the partial folder is removed and its ValueError is raised, so a refused upload keeps nothing.
    Raises ValueError for an empty upload, or one that mixes a zip with other files.
    """
    if not files:
        raise ValueError("the upload is empty; upload one .zip file or some image files")
    zips = [name for name, _ in files if name.lower().endswith(".zip")]
    if zips and len(files) > 1:
        raise ValueError("upload either one .zip file or any number of image files, not several zips or a mix")
    uploads_dir = Path(uploads_dir).resolve()
    digest = hashlib.sha256()
    for name, content in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    folder = uploads_dir / digest.hexdigest()[:16]
    stored_names = _stored_names([name for name, _ in files])
    to_train_on = Path(FILES_FOLDER, stored_names[0]) if zips else Path(FILES_FOLDER)
    if not _store_again(folder):
        uploads_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(uploads_dir)
        _write_atomically(folder, files, stored_names, lambda partial: check(partial / to_train_on) if check else None)
    return folder / to_train_on


def _store_again(folder: Path) -> bool:
    """Restart the grace period of an upload stored before, since someone is about to use it; False when there is
    no such upload (yet, or any more)."""
    try:
        os.utime(folder / RECORD_NAME)
    except FileNotFoundError:
        return False
    return True


def _write_atomically(folder: Path, files: list[tuple[str, bytes]], stored_names: list[str],
                      check: Callable[[Path], object]) -> None:
    partial = folder.with_name(f"{folder.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        (partial / FILES_FOLDER).mkdir(parents=True)
        for (_, content), stored_name in zip(files, stored_names):
            (partial / FILES_FOLDER / stored_name).write_bytes(content)
        record = {"kind": RECORD_KIND, "created": time.time(),
                  "files": [{"name": name, "stored_as": stored} for (name, _), stored in zip(files, stored_names)]}
        # The record comes before the check, so that the check's messages name the files as the person did.
        (partial / RECORD_NAME).write_text(json.dumps(record, indent=1))
        check(partial)
        try:
            os.rename(partial, folder)
        except OSError:
            if not folder.is_dir():  # Another session stored the same upload first; theirs is identical.
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _stored_names(names: list[str]) -> list[str]:
    """A safe, distinct name for each file: only its last part, never empty, "." or "..", and not too long."""
    stored, taken = [], set()
    for index, name in enumerate(names):
        base = name.replace("\\", "/").split("/")[-1].replace("\0", "")
        if base in ("", ".", ".."):
            base = f"file_{index}"
        base = base[-MAX_STORED_NAME_CHARACTERS:]
        if base.lower() in taken:
            base = f"{index}_{base}"
        taken.add(base.lower())
        stored.append(base)
    return stored


def remove_stale_partials(uploads_dir: Path) -> None:
    """Remove partial upload folders left by saves that died (a live save's folder is younger)."""
    for partial in uploads_dir.glob(f"*{PARTIAL_SUFFIX}"):
        try:
            if time.time() - partial.stat().st_mtime > STALE_PARTIAL_SECONDS:
                shutil.rmtree(partial)
        except OSError:
            pass  # Removed by another session at the same moment.


def upload_folder_of(path: Path | str) -> Path | None:
    """The upload folder a data path lies in (resolved), or None for a person's own folder or zip."""
    if not str(path).strip():
        return None
    path = Path(path).resolve()
    for folder in (path.parent, path.parent.parent):
        if path.is_relative_to(folder / FILES_FOLDER) and _read_record(folder) is not None:
            return folder
    return None


def _read_record(folder: Path) -> dict | None:
    try:
        record = json.loads((folder / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("kind") == RECORD_KIND else None


def display_name(path: Path | str) -> str:
    """How to name a data path to the person: the name they uploaded, or the path as they gave it."""
    folder = upload_folder_of(path)
    record = _read_record(folder) if folder else None
    if record is None:
        return str(path)
    files = record.get("files", [])
    stored = Path(path).name
    for file in files:
        if file.get("stored_as") == stored and stored != FILES_FOLDER:
            return str(file.get("name"))
    if len(files) == 1:
        return str(files[0].get("name"))
    return f"your {len(files)} uploaded files"


def folders_in_use(runs_dir: Path | str) -> set[Path] | None:
    """The upload folders (resolved) that the runs in `runs_dir` train on; None when a run's config cannot be read,
    since that run may use any of them.

    The configs are read as plain JSON: a run whose config no longer validates still holds on to its data.
    """
    in_use = set()
    for config_path in Path(runs_dir).glob(f"*/{RUN_CONFIG_NAME}"):
        try:
            data_path = json.loads(config_path.read_text()).get("data_path", "")
        except FileNotFoundError:
            continue  # The run was deleted meanwhile.
        except (OSError, ValueError, AttributeError) as error:
            log.warning("cannot tell which upload %s uses: %s", config_path, error)
            return None
        folder = upload_folder_of(data_path) if isinstance(data_path, str) else None
        if folder is not None:
            in_use.add(folder)
    return in_use


def stored_folders(runs_dir: Path | str) -> list[Path]:
    """Every complete upload folder (resolved) stored for the runs in `runs_dir`."""
    uploads_dir = uploads_dir_of(runs_dir).resolve()
    if not uploads_dir.is_dir():
        return []
    return [folder for folder in uploads_dir.iterdir()
            if not folder.name.endswith(PARTIAL_SUFFIX) and _read_record(folder) is not None]


def remove_unused_uploads(runs_dir: Path | str, older_than_seconds: float = UNUSED_UPLOAD_GRACE_SECONDS) -> list[Path]:
    """Remove the uploads no run in `runs_dir` uses that were last stored more than `older_than_seconds` ago, and
    partial folders left by saves that died; returns the upload folders removed.

    A younger upload is kept: it may be for a run the person is about to create. Nothing is removed while a run's
    config cannot be read.
    """
    uploads_dir = uploads_dir_of(runs_dir).resolve()
    if uploads_dir.is_dir():
        remove_stale_partials(uploads_dir)
    in_use = folders_in_use(runs_dir)
    if in_use is None:
        return []
    removed = []
    for folder in stored_folders(runs_dir):
        try:
            age = time.time() - (folder / RECORD_NAME).stat().st_mtime
        except FileNotFoundError:
            continue  # Removed by another session at the same moment.
        if folder not in in_use and age > older_than_seconds:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def bytes_in_use(runs_dir: Path | str) -> int:
    """The bytes the uploads that runs in `runs_dir` use take on disk (every upload's, when that cannot be told)."""
    in_use = folders_in_use(runs_dir)
    folders = [folder for folder in stored_folders(runs_dir) if in_use is None or folder in in_use]
    return sum(entry.stat().st_size for folder in folders for entry in folder.rglob("*")
               if entry.is_file() and not entry.is_symlink())


def remove_if_unused(folder: Path, data_paths_in_use: Iterable[str]) -> bool:
    """Remove an upload folder unless one of the data paths lies in it; True when it was removed."""
    if _read_record(folder) is None:
        raise ValueError(f"{folder} is not an upload folder (it has no {RECORD_NAME} of ours); refusing to remove it")
    if any(upload_folder_of(path) == folder.resolve() for path in data_paths_in_use):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True
