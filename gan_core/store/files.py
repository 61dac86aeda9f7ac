"""Writing small files so that a reader, a crash or a second writer never sees or leaves half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Replace `path` with `text` in one step, durably.

    The text goes to a temporary file with a unique name in the same directory (so that concurrent writers,
    e.g. the dashboard's session threads and the trainer, never share one), is flushed to disk, and is then
    renamed over `path`; the directory is synced so that the rename itself survives a power cut. A reader sees
    either the old file or the new one, never a mixture.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private to its owner; keep the permissions the file had (or the usual ones), so
        # that a dashboard running as another user can still read what a trainer wrote.
        os.fchmod(descriptor, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        # A failed write (a full disk, say) must not leave its temporary file behind.
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def sync_directory(folder: Path) -> None:
    """Make a rename inside `folder` durable (a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # Some file systems refuse fsync on a directory; the rename is still atomic there.
    finally:
        os.close(descriptor)
