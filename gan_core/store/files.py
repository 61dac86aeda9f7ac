"""Writing small files so that a reader, a crash or a second writer never sees or leaves half of one, and the
exclusive lock that lets one process (or thread) at a time through a check-then-act section."""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def exclusive_lock(path: Path, create_parent: bool = False) -> Iterator[None]:
    """Hold an exclusive flock on the file at `path` (made, empty, if missing) until the block ends.

    An flock belongs to the open file, so it separates threads of one process as well as processes, and the
    operating system releases it when its holder dies: a crash never leaves it taken. `create_parent` first makes
    the folder, for a lock taken before anything else is written there; without it a missing folder is an OSError,
    so that a run directory deleted meanwhile is not brought back by its lock.
    """
    path = Path(path)
    if create_parent:
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            # Unlocked before it is closed: a process started meanwhile may hold a copy of the descriptor, and
            # closing only this one would leave the lock taken until that process ends.
            fcntl.flock(handle, fcntl.LOCK_UN)
