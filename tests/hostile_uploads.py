"""Hostile and broken uploads, built in a moment: zip bombs, pixel bombs, lying zips, awkward images.

Shared by tests/test_uploads.py and tests/test_image_collection.py, and run as a script in a subprocess
(`python tests/hostile_uploads.py WORK_DIR [--good-only]`) to measure the peak memory of handling them all, or, as
a baseline, of handling one zip of good images only (bench/bench_uploads.py prints both).
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

MEBIBYTE = 2**20


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def good_pngs(count: int, size: int = 12) -> list[tuple[str, bytes]]:
    """`count` small distinct PNGs, named good_00.png ..."""
    return [(f"good_{index:02d}.png", png_bytes(Image.new("RGB", (size, size), (index * 20 % 256, 80, 160))))
            for index in range(count)]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def noisy_png(size: int = 64) -> bytes:
    """A PNG of random pixels (about 12 KB at 64x64), so that cutting it leaves a truncated image, not just a header."""
    pixels = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    return png_bytes(Image.fromarray(pixels, "RGB"))


def pixel_bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A PNG whose header promises width x height RGB pixels (1.2 GB for 20000x20000) in a few hundred bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    rows = zlib.compress(b"\0" * (1 + 3 * min(width, 1000)))  # a little real data; the decoder would want more
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def large_png(width: int = 6300, height: int = 6300, colour: tuple[int, ...] = (10, 20, 30, 128)) -> bytes:
    """A valid RGBA PNG of one colour (39.7 MP by default, just under the cap), written row by row in little memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA, no interlace
    compressor = zlib.compressobj(1)
    row = b"\0" + bytes(colour) * width  # filter type 0, then the pixels
    rows = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def zeros_deflated(total_bytes: int) -> bytes:
    """Raw deflate data that inflates to total_bytes zeros, built from one repeated 1 MiB block (about 1 KB each)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    # A full flush resets the compressor, so the same compressed block can follow itself any number of times.
    block = compressor.compress(b"\0" * MEBIBYTE) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks, rest = divmod(total_bytes, MEBIBYTE)
    return block * blocks + compressor.compress(b"\0" * rest) + compressor.flush()


def raw_zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    """A zip of (name, raw deflate data, size the headers claim) written by hand, so the data can lie.

    The CRC is left 0: a reader that trusts the data reads to the end before it could notice.
    """
    body, directory = bytearray(), bytearray()
    for name, deflated, claimed_size in entries:
        encoded = name.encode()
        offset = len(body)
        body += struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 8, 0, 0x21, 0, len(deflated), claimed_size,
                            len(encoded), 0) + encoded + deflated
        directory += struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 8, 0, 0x21, 0, len(deflated),
                                 claimed_size, len(encoded), 0, 0, 0, 0, 0o100644 << 16, offset) + encoded
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    return bytes(body + directory + end)


def zip_bomb(entry_count: int = 10, entry_bytes: int = 2**30, claimed_bytes: int | None = None) -> bytes:
    """entry_count PNG-named entries of entry_bytes zeros each: 10 GiB nominal in about 10 MB by default.

    claimed_bytes, when given, is the size the headers claim instead of the true one.
    """
    deflated = zeros_deflated(entry_bytes)
    claimed = entry_bytes if claimed_bytes is None else claimed_bytes
    return raw_zip([(f"bomb_{index}.png", deflated, claimed) for index in range(entry_count)])


def crowded_zip(entry_count: int = 1_200_000) -> bytes:
    """A central directory of entry_count tiny entries (about 47 bytes each) whose end record claims only one.

    Trusting the directory, Python's zipfile would build an object per entry: over 600 MB for the default count.
    """
    local = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0x21, 0, 0, 0, 1, 0) + b"a"
    entry = struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0x21, 0, 0, 0, 1, 0, 0, 0, 0,
                        0o100644 << 16, 0) + b"a"
    directory = entry * entry_count
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(local), 0)
    return local + directory + end


def awkward_images() -> dict[str, bytes]:
    """Images in the modes people's files come in, each with a known colour at its centre after conversion."""
    files = {}
    buffer = io.BytesIO()
    Image.new("CMYK", (16, 16), (255, 0, 0, 0)).save(buffer, "JPEG", quality=95)  # pure cyan
    files["cmyk.jpg"] = buffer.getvalue()
    files["sixteen_bit.png"] = png_bytes(Image.fromarray(np.full((16, 16), 200 * 257, np.uint16)))
    palette = Image.new("P", (16, 16), 1)
    palette.putpalette([0, 0, 0, 255, 128, 0] + [0] * 762)  # colour 1 is orange
    files["palette.png"] = png_bytes(palette)
    files["alpha.png"] = png_bytes(Image.new("RGBA", (16, 16), (0, 0, 0, 0)))  # transparent becomes white
    # A 20x10 picture stored sideways: the left half red, the right blue, with EXIF orientation 6
    # ("rotate 90 degrees clockwise to view"). Upright it is 10 wide and 20 high, red on top.
    stored = Image.new("RGB", (20, 10), (255, 0, 0))
    stored.paste((0, 0, 255), (10, 0, 20, 10))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    stored.save(buffer, "PNG", exif=exif)
    files["rotated.png"] = buffer.getvalue()
    return files


def symbolic_link_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the upper half of the external attributes is a file mode
    info.external_attr = 0o120777 << 16
    return info, target.encode()


def hostile_zip(good_count: int = 8) -> bytes:
    """Good images beside every kind of bad entry: nested zip, links, pixel bomb, truncated file, ratio bomb."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in good_pngs(good_count):
            archive.writestr(f"photos/{name}", content)
        for name, content in awkward_images().items():
            archive.writestr(f"photos/{name}", content)
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w") as nested:
            nested.writestr("inner.png", good_pngs(1)[0][1])
        archive.writestr("photos/nested.zip", inner.getvalue())
        archive.writestr(*symbolic_link_entry("photos/link.png", "/etc/passwd"))
        archive.writestr("photos/pixel_bomb.png", pixel_bomb_png())
        archive.writestr("photos/truncated.png", noisy_png()[:3000])
        archive.writestr("photos/flat.bmp", b"BM" + b"\0" * (20 * MEBIBYTE))  # compresses about 1000 to 1
        archive.writestr("../../escape.png", good_pngs(1)[0][1])
    return buffer.getvalue()


def good_case() -> dict[str, bytes]:
    """The baseline: one zip of eight good images."""
    return {"good.zip": _zip_of(dict(good_pngs(8)))}


def hostile_cases() -> dict[str, bytes]:
    """Every hostile or broken upload, by the file name a person would upload it as."""
    return {
        "zip_bomb.zip": zip_bomb(),
        # Headers that claim 30 MB per entry, under the per-file limit, so only the streamed bytes can tell.
        "lying_bomb.zip": zip_bomb(claimed_bytes=30 * MEBIBYTE),
        "pixel_bomb.zip": _zip_of({**dict(good_pngs(8)), "huge.png": pixel_bomb_png()}),
        "crowded.zip": crowded_zip(),
        # The largest image allowed, with alpha: the most memory a good file can take.
        "large_photo.zip": _zip_of({**dict(good_pngs(8)), "large.png": large_png()}),
        "hostile.zip": hostile_zip(),
        "corrupt.zip": hostile_zip()[:5000],
        "notes.zip": b"these are my notes, not a zip\n" * 10,
    }


def run_hostile_set(work_dir: Path, cases: dict[str, bytes]) -> dict:
    """Save and load each upload as the Train page does; return each outcome and the peak memory."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from gan_core.inputs import image_collection
    from gan_core.store import uploads

    uploads_dir = work_dir / "uploads"
    outcomes = {}
    for name, content in cases.items():
        path = uploads.save_upload([(name, content)], uploads_dir)
        del content
        try:
            collection = image_collection.load_image_collection(path, 32, 3)
            outcomes[name] = {"images": len(collection.images), "skipped": [list(item) for item in collection.skipped]}
        except ValueError as error:
            outcomes[name] = {"refused": str(error)}
    cases.clear()
    upload_folders = [folder for folder in uploads_dir.iterdir()]
    outside = [str(path) for path in work_dir.rglob("*")
               if path.is_file() and not any(path.is_relative_to(folder) for folder in upload_folders)]
    return {"outcomes": outcomes, "files_outside_uploads": outside, "peak_rss_bytes": peak_resident_bytes()}


def peak_resident_bytes() -> int:
    """This process's peak memory since it started. Read from /proc's VmHWM, not getrusage's ru_maxrss: Linux carries
    ru_maxrss over an exec, so a child of a large process (pytest with TensorFlow loaded) would report the
    parent's size."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("/proc/self/status has no VmHWM line")


def _zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    print(json.dumps(run_hostile_set(Path(sys.argv[1]), good_case() if "--good-only" in sys.argv else hostile_cases())))
