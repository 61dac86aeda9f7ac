"""Zip archives made in memory, as a person's upload of a zip would arrive."""

from __future__ import annotations

import io
import zipfile


def zip_of(files: list[tuple[str, bytes]]) -> bytes:
    """The bytes of a zip archive holding `files`, (name inside the archive, content) pairs."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        for name, content in files:
            writer.writestr(name, content)
    return archive.getvalue()
