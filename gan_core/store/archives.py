"""Reading a person's zip archive without trusting it.

A zip can lie in every header it has: the entry count, each entry's sizes and the compression method all come from
the uploader. So this module checks what it can before Python's `zipfile` builds its table of contents (whose cost
grows with the central directory, not with the file's size on disk), and checks the bytes that really come out of
each entry while they stream, never the sizes the headers promise:

- the central directory may be at most `MAX_CENTRAL_DIRECTORY_BYTES`, and may hold at most `MAX_ENTRIES` entries;
- an entry is read through a bounded reader that stops at `MAX_ENTRY_BYTES` decompressed bytes, or as soon as its
  decompressed bytes exceed `MAX_COMPRESSION_RATIO` times its compressed size;
- all entries together may decompress to at most `MAX_TOTAL_BYTES`.

Nothing is ever extracted to disk: entries are read into memory one at a time, so an entry named `../../x` or a
symbolic link cannot write or point anywhere. The limits are module constants read at every call, so a deployment
(the demo mode) can lower them, and the functions take them as parameters too.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

MAX_ENTRIES = 200_000
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 2**20
MAX_ENTRY_BYTES = 32 * 2**20  # far above any training image; a 4000x3000 photo is about 5 MB as JPEG
MAX_TOTAL_BYTES = 4 * 2**30
MAX_COMPRESSION_RATIO = 100  # PNG, JPEG and WebP hardly compress further; a bomb compresses by 1000 or more
# Below this many decompressed bytes the ratio is not checked: a tiny file of one colour compresses very well.
RATIO_CHECK_FROM_BYTES = 2**20
READ_CHUNK_BYTES = 2**20
NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".whl", ".zst")
# Every entry of the central directory starts with these four bytes; counting them bounds the entry count from above.
CENTRAL_DIRECTORY_SIGNATURE = b"PK\x01\x02"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")  # an entry, an empty archive, a spanned archive
ZIP64_RECORDS_BYTES = 56 + 20  # the zip64 end record and its locator, which sit between the directory and the end


class EntryTooLarge(ValueError):
    """An entry decompressed beyond a limit: skip it; the message says which limit."""


class ArchiveTooLarge(ValueError):
    """The archive as a whole is beyond a limit (entries, table of contents, total bytes): refuse all of it."""


@dataclass(frozen=True)
class ArchiveEntry:
    """One file of an archive, as its headers describe it (sizes are claims, checked again while reading)."""

    name: str
    compressed_size: int
    claimed_size: int
    is_symbolic_link: bool
    info: zipfile.ZipInfo


def starts_like_a_zip(path: Path) -> bool:
    """True when the file begins with a zip signature: a text file renamed to .zip does not."""
    with open(path, "rb") as file:
        return file.read(4) in ZIP_SIGNATURES


def check_directory(path: Path, max_entries: int | None = None, max_directory_bytes: int | None = None) -> None:
    """Refuse an archive whose central directory is too large or holds too many entries, before zipfile reads it.

    Raises ArchiveTooLarge naming the limit; zipfile.BadZipFile when there is no readable end-of-archive record.
    """
    max_entries = MAX_ENTRIES if max_entries is None else max_entries
    max_directory_bytes = MAX_CENTRAL_DIRECTORY_BYTES if max_directory_bytes is None else max_directory_bytes
    with open(path, "rb") as file:
        # The same end record zipfile itself trusts (a private helper, but the only way to agree with it exactly).
        end_record = zipfile._EndRecData(file)
        if not end_record:
            raise zipfile.BadZipFile("File is not a zip file")
        directory_bytes = end_record[zipfile._ECD_SIZE]
        if directory_bytes > max_directory_bytes:
            raise ArchiveTooLarge(f"its table of contents is {directory_bytes:,} bytes; at most "
                             f"{max_directory_bytes:,} are allowed")
        claimed_entries = end_record[zipfile._ECD_ENTRIES_TOTAL]
        if claimed_entries > max_entries:
            raise ArchiveTooLarge(f"it holds {claimed_entries:,} entries; at most {max_entries:,} are allowed")
        # The claimed count may lie, so count the entries' signatures in the bytes zipfile will parse (with the
        # zip64 records as a margin): a false match in a name only overcounts, so the bound is safe.
        location = end_record[zipfile._ECD_LOCATION]
        start = max(0, location - directory_bytes - ZIP64_RECORDS_BYTES)
        file.seek(start)
        counted = file.read(location - start).count(CENTRAL_DIRECTORY_SIGNATURE)
        if counted > max_entries:
            raise ArchiveTooLarge(f"it holds about {counted:,} entries; at most {max_entries:,} are allowed")


def list_entries(archive: zipfile.ZipFile) -> list[ArchiveEntry]:
    """The archive's files (folders left out), in the archive's order."""
    entries = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        # Unix zips keep the file type in the upper half of the external attributes; 0o120000 is a symbolic link.
        is_link = stat.S_ISLNK(info.external_attr >> 16)
        entries.append(ArchiveEntry(info.filename, info.compress_size, info.file_size, is_link, info))
    return entries


def is_nested_archive(name: str) -> bool:
    """True for a file name that is itself an archive; those are never opened from inside another."""
    return name.lower().endswith(NESTED_ARCHIVE_SUFFIXES)


class BoundedReader:
    """Reads entries of one archive, stopping each as soon as its real decompressed bytes break a limit."""

    def __init__(self, archive: zipfile.ZipFile, max_entry_bytes: int | None = None,
                 max_total_bytes: int | None = None, max_ratio: float | None = None) -> None:
        self.archive = archive
        self.max_entry_bytes = MAX_ENTRY_BYTES if max_entry_bytes is None else max_entry_bytes
        self.max_total_bytes = MAX_TOTAL_BYTES if max_total_bytes is None else max_total_bytes
        self.max_ratio = MAX_COMPRESSION_RATIO if max_ratio is None else max_ratio
        self.total_bytes = 0

    def read(self, entry: ArchiveEntry) -> bytes:
        """The entry's bytes. Raises EntryTooLarge when a limit is passed, ArchiveTooLarge for the total."""
        chunks, entry_bytes = [], 0
        # The ratio is taken against the compressed size the headers give; zipfile never reads more compressed
        # bytes than that, so a lie there only makes the real ratio look worse.
        ratio_limit = max(RATIO_CHECK_FROM_BYTES, self.max_ratio * max(entry.compressed_size, 1))
        with self.archive.open(entry.info) as stream:
            while chunk := stream.read(READ_CHUNK_BYTES):
                entry_bytes += len(chunk)
                self.total_bytes += len(chunk)
                if self.total_bytes > self.max_total_bytes:
                    raise ArchiveTooLarge(f"its files expand to more than {self.max_total_bytes:,} bytes in all, "
                                          f"the most allowed")
                if entry_bytes > self.max_entry_bytes:
                    raise EntryTooLarge(f"expands to more than {self.max_entry_bytes:,} bytes (at most "
                                        f"{self.max_entry_bytes:,} per file)")
                if entry_bytes > ratio_limit:
                    raise EntryTooLarge(f"expands more than {self.max_ratio:g} times its compressed size of "
                                        f"{entry.compressed_size:,} bytes, like a zip bomb")
                chunks.append(chunk)
        return b"".join(chunks)
