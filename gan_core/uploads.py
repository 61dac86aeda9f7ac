"""Files a person uploads, stored where a run can train on them, and removed with the last run that uses them.

    <uploads dir>/<content id>/
      upload.json   what the person called the files (messages name those, never this folder)
      files/        the files themselves: one .zip, or any number of images

The content id comes from the files' names and bytes, so the same upload is stored once however often a page
reruns. An upload is written into a uniquely named `*.partial` folder and renamed into place only when complete,
so a crash never leaves a half-written upload where a run could find it; stale partial folders are removed
whenever a new upload is saved. Paths are returned absolute, so a run trains on them whatever the trainer's
working directory. The Train page and the command line both go through this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Iterable

RECORD_NAME = "upload.json"
FILES_FOLDER = "files"
RECORD_KIND = "gan_dashboard upload"  # marks a folder as ours, so that a person's own folder is never removed
PARTIAL_SUFFIX = ".partial"
# A partial folder older than this belongs to a save that died; a live save takes seconds.
STALE_PARTIAL_SECONDS = 600
MAX_STORED_NAME_CHARACTERS = 200  # below the 255 bytes most file systems allow, with room for a prefix


def save_upload(files: list[tuple[str, bytes]], uploads_dir: Path | str) -> Path:
    """Store (file name, bytes) pairs and return the absolute path to train on: the zip, or the folder of images.

    Raises ValueError for an empty upload, or one that mixes a zip with other files.
    """
    if not files:
        raise ValueError("the upload is empty; upload one .zip file or some image files")
    zips = [name for name, _ in files if name.lower().endswith(".zip")]
    if zips and len(files) > 1:
        raise ValueError("upload either one .zip file or any number of image files, not several zips or a mix")
    uploads_dir = Path(uploads_dir).resolve()
    uploads_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(uploads_dir)
    digest = hashlib.sha256()
    for name, content in files:
        digest.update(name.encode() + b"\0" + hashlib.sha256(content).digest())
    folder = uploads_dir / digest.hexdigest()[:16]
    stored_names = _stored_names([name for name, _ in files])
    if not folder.is_dir():
        _write_atomically(folder, files, stored_names)
    files_folder = folder / FILES_FOLDER
    return files_folder / stored_names[0] if zips else files_folder


def _write_atomically(folder: Path, files: list[tuple[str, bytes]], stored_names: list[str]) -> None:
    partial = folder.with_name(f"{folder.name}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
    try:
        (partial / FILES_FOLDER).mkdir(parents=True)
        for (_, content), stored_name in zip(files, stored_names):
            (partial / FILES_FOLDER / stored_name).write_bytes(content)
        record = {"kind": RECORD_KIND, "created": time.time(),
                  "files": [{"name": name, "stored_as": stored} for (name, _), stored in zip(files, stored_names)]}
        (partial / RECORD_NAME).write_text(json.dumps(record, indent=1))
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


def remove_if_unused(folder: Path, data_paths_in_use: Iterable[str]) -> bool:
    """Remove an upload folder unless one of the data paths lies in it; True when it was removed."""
    if _read_record(folder) is None:
        raise ValueError(f"{folder} is not an upload folder (it has no {RECORD_NAME} of ours); refusing to remove it")
    if any(upload_folder_of(path) == folder.resolve() for path in data_paths_in_use):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True
