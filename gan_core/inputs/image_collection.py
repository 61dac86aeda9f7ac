"""A person's own images, from a folder or a .zip: found, checked, decoded and fitted to the run's image shape.

Everything here assumes the files are hostile or broken. A file that cannot be used is skipped with a reason the
person can act on, and the good files are still used; the collection as a whole is refused (ValueError) only when
it cannot be read at all, breaks a limit of the whole archive, or holds fewer than `MIN_IMAGES` usable images.
Messages name the collection as the person knows it (the file name they uploaded, see `uploads.display_name`, or
the path they gave the command line), never the server's upload folder.

Defences, each a module constant read at every call so that a deployment can lower it:
- image types are limited to `PILLOW_FORMATS` (no format that runs code or unpickles);
- an image's pixel count is read from its header and refused above `MAX_IMAGE_PIXELS` before it is decoded;
- a file above `MAX_IMAGE_FILE_BYTES` is not read; a zip goes through `archives` (entry count, sizes and
  compression ratio checked while streaming, nothing extracted);
- symbolic links are not followed out of a folder, and zip entries that are links or archives are skipped.
"""

from __future__ import annotations

import io
import os
import re
import warnings
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_core.store import archives, uploads

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
PILLOW_FORMATS = ("PNG", "JPEG", "WEBP", "BMP")
MAX_COLLECTION_IMAGES = 200_000
MIN_IMAGES = 8  # from fewer images a GAN can only learn to copy them; a mistaken upload is likelier
MAX_IMAGE_FILE_BYTES = archives.MAX_ENTRY_BYTES
# Far below Pillow's own 89 MP warning: training images are at most 64x64, and a 40 MP photo (larger than most
# cameras take) already needs about 160 MB to decode with alpha.
MAX_IMAGE_PIXELS = 40_000_000
PREVIEW_IMAGES = 16
# The shape a new upload is checked at before it is kept: whether images are usable does not depend on the shape
# they are fitted to, so the check uses the default one of a person's images.
CHECK_IMAGE_SIZE, CHECK_CHANNELS = 32, 3
REDUCING_GAP = 3.0  # images are shrunk by whole factors down to 3x the target size, then filtered (Pillow's resize)
SYSTEM_FILE_NAMES = ("__MACOSX", "Thumbs.db", "desktop.ini")

Decoded = TypeVar("Decoded")


@dataclass(frozen=True)
class ImageCollection:
    """A person's images as uint8 (N, size, size, channels), with labels from sub-folders when they give them."""

    name: str  # the collection as the person knows it, e.g. the name of the zip they uploaded
    images: np.ndarray
    labels: np.ndarray | None  # int32 (N,) indices into class_names, or None
    class_names: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (file name, reason) for every file that was not used
    image_count: int  # images decoded, plus the image files a preview left undecoded

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


@dataclass(frozen=True)
class CollectionFile:
    """One file of a folder or zip, listed but not yet read."""

    name: str  # relative to the collection, with "/" between folders
    size: int  # bytes on disk, or the size a zip claims (checked again while reading)
    read: Callable[[], bytes | Path]
    reason_to_skip: str = ""  # set when the way the file is stored already rules it out


def load_image_collection(path: str | Path, image_size: int, channels: int) -> ImageCollection:
    """Every usable image of a folder (searched recursively) or a .zip, as image_size x image_size x channels.

    When every image sits in a sub-folder, the sub-folder names are the class labels (sorted); a single folder that
    wraps everything, as zips often have, is looked through first.
    """
    return _read_collection(Path(path).expanduser(), image_size, channels, MAX_COLLECTION_IMAGES)


def preview_image_collection(path: str | Path, image_size: int, channels: int,
                             count: int = PREVIEW_IMAGES) -> ImageCollection:
    """Like `load_image_collection`, but decodes only the first `count` usable images (the others are counted)."""
    return _read_collection(Path(path).expanduser(), image_size, channels, count)


def store_usable_upload(files: list[tuple[str, bytes]], runs_dir: str | Path) -> Path:
    """Store uploaded images for the runs in `runs_dir` and return the path to train on, only when they make a
    usable collection; otherwise raise the ValueError saying why, and keep nothing."""
    return uploads.store_upload(files, runs_dir,
                                check=lambda path: preview_image_collection(path, CHECK_IMAGE_SIZE, CHECK_CHANNELS))


def _read_collection(source: Path, image_size: int, channels: int, decode_at_most: int) -> ImageCollection:
    check_image_shape(image_size, channels)
    name = uploads.display_name(source)
    with collection_files(source) as files:
        candidates, skipped = usable_files(name, files)
        decoded, refused, not_decoded = decode_files(
            candidates, lambda file: decode_image(file, image_size, channels), decode_at_most)
    skipped += refused
    names = [file_name for file_name, _ in decoded]
    require_enough(name, len(decoded) + len(not_decoded), len(files), skipped, "image",
                   f"Allowed image types: {', '.join(IMAGE_SUFFIXES)}")
    labels, class_names = folder_labels(names + not_decoded)
    labels = None if labels is None else labels[:len(names)]
    images = [image for _, image in decoded]
    stacked = np.stack(images) if images else np.zeros((0, image_size, image_size, channels), np.uint8)
    return ImageCollection(name, stacked, labels, class_names, tuple(sorted(skipped)), len(names) + len(not_decoded))


@contextmanager
def collection_files(source: Path) -> Iterator[list[CollectionFile]]:
    """Every file of a folder (recursively) or a .zip, in name order; a zip stays open until the block ends.

    A source that is neither, or a zip that is damaged or breaks a limit of the whole archive (also while the block
    reads its files), is refused with a ValueError.
    """
    name = uploads.display_name(source)
    if source.is_dir():
        yield sorted(_folder_files(source), key=lambda file: file.name)
        return
    if not source.exists():
        raise ValueError(f"image collection {name} does not exist; give a folder or a .zip of images")
    if source.suffix.lower() != ".zip":
        if source.suffix.lower() in IMAGE_SUFFIXES:
            raise ValueError(f"{name} is a single image; give a folder or a .zip of at least {MIN_IMAGES} images")
        raise ValueError(f"{name} is neither a folder nor a .zip file")
    if not archives.starts_like_a_zip(source):
        raise ValueError(f"{name} is not a zip archive: its contents do not start like one (is it another kind of "
                         f"file renamed to .zip?)")
    try:
        archives.check_directory(source)
        with zipfile.ZipFile(source) as archive:
            reader = archives.BoundedReader(archive)
            files = [_archive_file(entry, reader) for entry in archives.list_entries(archive)]
            yield sorted(files, key=lambda file: file.name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ValueError(f"{name} is not a readable zip archive ({type(error).__name__}: {error}); it may be "
                         f"truncated or corrupt") from None
    except archives.ArchiveTooLarge as error:
        raise ValueError(f"{name} is refused: {error}") from None


def _archive_file(entry: archives.ArchiveEntry, reader: archives.BoundedReader) -> CollectionFile:
    reason = ""
    if entry.is_symbolic_link:
        reason = "a symbolic link; links inside a zip are never followed"
    elif archives.is_nested_archive(entry.name):
        reason = "an archive inside the archive; unpack it and put its images in the zip itself"
    return CollectionFile(entry.name, entry.claimed_size, lambda: reader.read(entry), reason)


def _folder_files(folder: Path) -> list[CollectionFile]:
    root = folder.resolve()
    files = []
    # os.walk does not descend into linked folders, so only linked files need a look.
    for directory, _, file_names in os.walk(folder):
        for file_name in file_names:
            path = Path(directory, file_name)
            name = path.relative_to(folder).as_posix()
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                reason = "a symbolic link to outside the folder; not followed"
                files.append(CollectionFile(name, 0, lambda: b"", reason))
                continue
            size = path.stat().st_size if path.exists() else 0  # A broken link fails later, with Pillow's reason.
            files.append(CollectionFile(name, size, lambda path=path: path))
    return files


def usable_files(name: str, files: list[CollectionFile]) -> tuple[list[CollectionFile], list[tuple[str, str]]]:
    """(the image files worth decoding, (file name, reason) for the others); too many image files: ValueError."""
    skipped: list[tuple[str, str]] = []
    candidates = []
    for file in files:
        reason = file.reason_to_skip or _reason_to_skip(file.name, file.size)
        if reason:
            skipped.append((file.name, reason))
        else:
            candidates.append(file)
    if len(candidates) > MAX_COLLECTION_IMAGES:
        raise ValueError(f"{name} holds {len(candidates):,} image files; at most {MAX_COLLECTION_IMAGES:,} can be "
                         f"used, so choose a smaller folder or zip")
    return candidates, skipped


def decode_files(files: list[CollectionFile], decode: Callable[[io.BytesIO | Path], Decoded],
                 decode_at_most: int = MAX_COLLECTION_IMAGES
                 ) -> tuple[list[tuple[str, Decoded]], list[tuple[str, str]], list[str]]:
    """(file name, decode(file)) of the first `decode_at_most` files that decode, (file name, reason) of those that
    do not, and the names of the files left undecoded once enough had been decoded.

    A file that cannot be decoded is skipped with its reason; only a limit of the whole archive stops the reading.
    """
    decoded: list[tuple[str, Decoded]] = []
    skipped: list[tuple[str, str]] = []
    attempted = 0
    for file in files:
        if len(decoded) >= decode_at_most:
            break
        attempted += 1
        try:
            content = file.read()
            decoded.append((file.name, decode(content if isinstance(content, Path) else io.BytesIO(content))))
        except archives.ArchiveTooLarge:
            raise  # the whole archive is refused, not just this file
        except (archives.EntryTooLarge, ImageRefused) as error:
            skipped.append((file.name, str(error)))
        except zipfile.BadZipFile as error:
            skipped.append((file.name, f"damaged inside the zip: {error}"))
        # Pillow's decoders raise many kinds of exception on malformed files; any of them means "unusable file".
        except Exception as error:
            skipped.append((file.name, f"cannot be read as an image: {error}"))
    return decoded, skipped, [file.name for file in files[attempted:]]


def require_enough(name: str, usable: int, files_seen: int, skipped: list[tuple[str, str]], noun: str,
                   allowed: str) -> None:
    """Refuse a collection with fewer than MIN_IMAGES usable `noun`s, saying why: it is empty, the files that were
    refused (the first few, with their reasons), or that every file was usable but there are too few of them."""
    if usable >= MIN_IMAGES:
        return
    shortfall = f"{name}: only {usable} usable {noun}{'s' * (usable != 1)}; at least {MIN_IMAGES} are needed"
    if files_seen == 0:
        raise ValueError(f"{shortfall}, and it is empty. {allowed}")
    seen = f"{files_seen:,} file{'s' * (files_seen != 1)} seen"
    if not skipped:
        raise ValueError(f"{shortfall} ({seen}, none refused); add more {noun}s. {allowed}")
    reasons = "; ".join(f"{file_name}: {reason}" for file_name, reason in skipped[:5])
    raise ValueError(f"{shortfall} ({seen}, {len(skipped):,} refused). First reasons: {reasons}. {allowed}")


def _reason_to_skip(name: str, size: int) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        return "unsafe path: it points outside the collection"
    if any(part.startswith(".") or part in SYSTEM_FILE_NAMES for part in path.parts):
        return "hidden or system file"
    if archives.is_nested_archive(name):
        return "an archive inside the collection; unpack it and add its images instead"
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return f"not an image type: {path.suffix.lower() or 'no extension'}"
    if size > MAX_IMAGE_FILE_BYTES:
        return f"too large: {size:,} bytes (at most {MAX_IMAGE_FILE_BYTES:,})"
    return ""


class ImageRefused(ValueError):
    """A file that is refused for what its header says (too many pixels, not an allowed type), not for damage."""


def decode_image(file: io.BytesIO | Path, image_size: int, channels: int) -> np.ndarray:
    """One image file as (image_size, image_size, channels) uint8, upright, refused above MAX_IMAGE_PIXELS."""
    with opened_image(file, image_size) as image:
        return fit_image(image, image_size, channels)


@contextmanager
def opened_image(file: io.BytesIO | Path, image_size: int) -> Iterator[Image.Image]:
    """One image file, upright, ready to be fitted to image_size; refused (ImageRefused) above MAX_IMAGE_PIXELS or
    when it is not one of PILLOW_FORMATS, before its pixels are decoded. Closed when the block ends."""
    with warnings.catch_warnings():
        # Pillow warns between 89 and 179 MP and raises above; the header check below refuses far earlier anyway.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(file, formats=PILLOW_FORMATS)
        except Image.DecompressionBombError as error:
            # Pillow names the pixel count only in its message.
            counted = re.search(r"\((\d+) pixels\)", str(error))
            pixels = f"{int(counted.group(1)):,}" if counted else "too many"
            raise ImageRefused(f"{pixels} pixels; at most {MAX_IMAGE_PIXELS:,} are allowed") from None
        except UnidentifiedImageError:
            raise ImageRefused(f"not a {', '.join(PILLOW_FORMATS[:-1])} or {PILLOW_FORMATS[-1]} image, or its "
                               f"header is damaged") from None
    with image:
        # Only the header has been read so far: refuse before decoding.
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise ImageRefused(f"{image.width}x{image.height} is {image.width * image.height:,} pixels; at most "
                               f"{MAX_IMAGE_PIXELS:,} are allowed")
        if image.format == "JPEG":
            image.draft(None, (image_size, image_size))  # Decode big photos at a reduced scale; much faster.
        ImageOps.exif_transpose(image, in_place=True)  # in place: a copy would double the memory of big images
        yield image


def fit_image(image: Image.Image, image_size: int, channels: int) -> np.ndarray:
    """Centre-crop to a square and resize, after converting to grey ("L") or RGB; returns (size, size, channels)."""
    image, box = _shrunk_centre(image, image_size)
    if image.mode.startswith("I") or image.mode == "F":
        # Pillow's own conversion of 16-bit grey to "L" clips at 255 instead of scaling, so scale here.
        values = np.asarray(image, dtype=np.float32)
        if image.mode.startswith("I;16") or values.max(initial=0) > 255:
            values = values / 257
        image = Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8), "L")
    if image.mode == "P" or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        # Composite transparent images onto white, the background most images with alpha are designed for.
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, image.convert("RGBA"))
    # Grey images are resized before becoming RGB: a third of the work, and the same pixels.
    image = image.convert("L" if channels == 1 or image.mode in ("1", "L") else "RGB")
    image = image.resize((image_size, image_size), Image.Resampling.LANCZOS, box=box, reducing_gap=REDUCING_GAP)
    image = image.convert("L" if channels == 1 else "RGB")
    return np.asarray(image, dtype=np.uint8).reshape(image_size, image_size, channels)


def _shrunk_centre(image: Image.Image, image_size: int) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """The image and the box of its centre square, shrunk first when the image is far larger than needed.

    Shrinking by the same whole factor that `resize(reducing_gap=...)` would use gives nearly the same pixels, but
    before the mode conversions rather than after, so their copies are small: converted at full size, a 40 MP image
    with alpha takes about 600 MB; shrunk first, about 300 MB.
    """
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    box = (left, top, left + side, top + side)
    factor = int(side // (image_size * REDUCING_GAP))
    if factor < 2:
        return image, box
    # These modes cannot be averaged as they are: palette indices, single bits, 16-bit integers.
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "1":
        image = image.convert("L")
    elif image.mode.startswith("I;16"):
        image = image.convert("I")
    shrunk = image.reduce(factor, box=box)
    return shrunk, (0, 0, *shrunk.size)


def folder_labels(names: Iterable[str]) -> tuple[np.ndarray | None, tuple[str, ...]]:
    """Class labels from the images' sub-folders, or (None, ()) when the images are not all in class folders."""
    folders = [PurePosixPath(name).parts[:-1] for name in names]
    # Look through folders that wrap every image, e.g. the one top-level folder inside most zips.
    while folders and all(folders) and len({parts[0] for parts in folders}) == 1:
        folders = [parts[1:] for parts in folders]
    if not folders or not all(folders):
        return None, ()
    class_names = tuple(sorted({parts[0] for parts in folders}))
    labels = np.asarray([class_names.index(parts[0]) for parts in folders], np.int32)
    return labels, class_names


def check_image_shape(image_size: int, channels: int) -> None:
    """Refuse an image shape no collection can be fitted to."""
    if not 1 <= image_size <= 1024:
        raise ValueError(f"image_size={image_size} is not allowed; use 1 to 1024 pixels")
    if channels not in (1, 3):
        raise ValueError(f"channels={channels} is not allowed; use 1 (grey) or 3 (RGB)")
