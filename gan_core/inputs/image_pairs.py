"""Image-to-image datasets, for the Pix2Pix and CycleGAN variants: inputs derived from one image set, and a person's
own set of two domains (A, the inputs, and B, the targets), paired or not.

Derived pairs turn any image set into an image-to-image task without new data: the targets are the images, the
inputs are their edges, a masked copy, a low-resolution copy or their grey version. A person's own set is read with
`image_collection`'s defences (zip limits, decode caps, skipped files with reasons); only the layout is new here.

Layouts of a person's own set (a folder or a .zip; one folder wrapping everything, as zips often have, is looked
through):
- `a_b_folders`: sub-folders `A/` and `B/` whose files match by name inside the folder, extension aside, so that
  `A/street/001.jpg` and `B/street/001.png` are a pair (photos and their label maps are often stored as JPEG and
  PNG). When some names match, the set is paired and a file without a partner is skipped with the reason why.
- `a_b_unpaired`: the same two folders when no name matches: two unpaired collections, as CycleGAN learns from.
- `side_by_side`: images exactly twice as wide as high, A on the left half and B on the right, as the Pix2Pix
  datasets are published; sub-folders (such as their train/, val/ and test/) are read too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from collections.abc import Callable

import numpy as np

from gan_core.inputs import image_collection
from gan_core.store import uploads
from gan_core.inputs.image_collection import CollectionFile, ImageRefused

PAIR_KINDS = ("edges", "masked", "lowres", "grey")  # derived paired inputs from one image set
LOW_RESOLUTION_FACTORS = (2, 4)
# A 7x7 MNIST digit is still legible; shrunk further, too little is left for a generator to go on.
MIN_LOW_RESOLUTION_SIDE = 7
EDGES_CHUNK = 4096  # images whose edges are computed in one pass
DOMAIN_FOLDERS = ("A", "B")
LAYOUTS = ("a_b_folders", "a_b_unpaired", "side_by_side")
ALLOWED_LAYOUTS = ("Allowed layouts: sub-folders A/ (inputs) and B/ (targets), whose files with the same name "
                   "(extension aside) are pairs, or unpaired collections when no name matches; or images twice as "
                   f"wide as high, A on the left half and B on the right. Allowed image types: "
                   f"{', '.join(image_collection.IMAGE_SUFFIXES)}")


def edges(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC -> uint8 (N, H, W, 1): Sobel gradient magnitude of the grey image, each image scaled so its
    strongest edge is 255 (a blank image gives zeros). White lines on black."""
    _check_images(images)
    # A few thousand images at a time: the float intermediates of all 60,000 Fashion-MNIST images at once peaked
    # near 3 GB in the trainer (bench/bench_memory.py).
    chunks = [_edges_of(images[start : start + EDGES_CHUNK]) for start in range(0, len(images), EDGES_CHUNK)]
    return np.concatenate(chunks) if chunks else np.zeros((*images.shape[:3], 1), np.uint8)


def _edges_of(images: np.ndarray) -> np.ndarray:
    from scipy import ndimage  # where it is used: SciPy adds tens of MB to the light processes

    luma = _luma(images)
    # Sobel: a central difference along one axis, smoothed with [1, 2, 1] along the other (not along the batch).
    # Reflecting at the border keeps the image's frame from looking like an edge.
    across = ndimage.correlate1d(ndimage.correlate1d(luma, [-1, 0, 1], axis=2, mode="reflect"), [1, 2, 1], axis=1,
                                 mode="reflect")
    down = ndimage.correlate1d(ndimage.correlate1d(luma, [-1, 0, 1], axis=1, mode="reflect"), [1, 2, 1], axis=2,
                               mode="reflect")
    magnitude = np.hypot(across, down)
    # Scaling each image to its own strongest edge keeps faint and high-contrast images equally readable.
    strongest = magnitude.max(axis=(1, 2), keepdims=True)
    scaled = np.divide(magnitude * 255, strongest, out=np.zeros_like(magnitude), where=strongest > 0)
    return np.rint(scaled).astype(np.uint8)[..., np.newaxis]


def masked(images: np.ndarray, seed: int, fraction: float = 0.4) -> np.ndarray:
    """uint8 NHWC -> same shape: a square of side round(fraction * H) at a random position (per image, from
    np.random.default_rng(seed)) set to 0. For inpainting."""
    _check_images(images)
    count, height, width = images.shape[:3]
    side = round(fraction * height)
    if not 0 < fraction < 1 or side < 1 or side > width:
        raise ValueError(f"fraction={fraction} is not allowed for {height}x{width} images; use more than 0 and less "
                         f"than 1, so that the masked square is at least one pixel and leaves part of the image")
    random = np.random.default_rng(seed)
    tops = random.integers(0, height - side + 1, size=count)
    lefts = random.integers(0, width - side + 1, size=count)
    result = images.copy()
    for index, (top, left) in enumerate(zip(tops, lefts)):
        result[index, top:top + side, left:left + side] = 0
    return result


def low_resolution(images: np.ndarray, factor: int = 4) -> np.ndarray:
    """uint8 NHWC -> same shape: shrunk by `factor` (the average of each factor x factor block) and enlarged back by
    repeating each pixel (nearest neighbour). Nearest neighbour keeps exactly what the small image holds, with no
    detail invented by interpolation, so the generator alone has to supply the fine structure.
    factor 2 or 4 (ValueError otherwise, and when H or W is not divisible by factor)."""
    _check_images(images)
    count, height, width, channels = images.shape
    if factor not in LOW_RESOLUTION_FACTORS:
        raise ValueError(f"factor={factor} is not allowed; use one of {LOW_RESOLUTION_FACTORS}")
    if height % factor or width % factor:
        raise ValueError(f"{height}x{width} images cannot be shrunk by factor={factor}: both sides must be "
                         f"divisible by it")
    blocks = images.reshape(count, height // factor, factor, width // factor, factor, channels)
    small = np.rint(blocks.mean(axis=(2, 4), dtype=np.float64)).astype(np.uint8)
    return small.repeat(factor, axis=1).repeat(factor, axis=2)


def grey(images: np.ndarray) -> np.ndarray:
    """uint8 (N,H,W,3) -> uint8 (N,H,W,1), ITU-R 601 luma (as Pillow's "L"). ValueError for 1-channel input."""
    _check_images(images)
    if images.shape[-1] != 3:
        raise ValueError(f"grey needs RGB images (3 channels), not {images.shape[-1]} channel; grey images are "
                         f"already grey")
    return _luma(images).astype(np.uint8)[..., np.newaxis]


def _luma(images: np.ndarray) -> np.ndarray:
    """float (N, H, W): the grey value of uint8 NHWC images, 1 or 3 channels, in Pillow's integer arithmetic."""
    if images.shape[-1] == 1:
        return images[..., 0].astype(np.float64)
    # Pillow's "L" conversion: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16, i.e. 0.299, 0.587, 0.114 rounded.
    weighted = images.astype(np.uint32) @ np.asarray([19595, 38470, 7471], np.uint32) + 0x8000
    return (weighted >> 16).astype(np.float64)


def inverted(images: np.ndarray) -> np.ndarray:
    """255 - images."""
    _check_images(images)
    return 255 - images


def derive_inputs(kind: str, targets: np.ndarray, seed: int) -> np.ndarray:
    """The inputs of a derived paired set: one of PAIR_KINDS applied to the targets.

    lowres shrinks by 4 when the side is divisible by 4 and the small image keeps at least MIN_LOW_RESOLUTION_SIDE
    pixels a side (MNIST's 28 gives 7, CIFAR-10's 32 gives 8), otherwise by 2 when the side is even (the 8x8
    digits give 4); an odd side is refused. masked draws its squares from `seed`.
    """
    _check_kind(kind)
    if kind == "edges":
        return edges(targets)
    if kind == "masked":
        return masked(targets, seed)
    if kind == "grey":
        return grey(targets)
    _check_images(targets)
    return low_resolution(targets, low_resolution_factor(targets.shape[1]))


def low_resolution_factor(image_size: int) -> int:
    """The factor `derive_inputs` shrinks image_size x image_size targets by for lowres (see there)."""
    if image_size % 4 == 0 and image_size // 4 >= MIN_LOW_RESOLUTION_SIDE:
        return 4
    if image_size % 2 == 0:
        return 2
    raise ValueError(f"lowres needs an even image size, not {image_size}: images are shrunk by 2 or 4")


def input_channels(kind: str, target_channels: int) -> int:
    """Channels of the derived inputs: edges and grey give 1, masked and lowres keep target_channels.
    grey of grey targets is refused (ValueError), as `grey` refuses it."""
    _check_kind(kind)
    if target_channels not in (1, 3):
        raise ValueError(f"target_channels={target_channels} is not allowed; use 1 (grey) or 3 (RGB)")
    if kind == "grey" and target_channels == 1:
        raise ValueError("the grey pair kind needs RGB targets (3 channels); grey targets are already grey")
    return 1 if kind in ("edges", "grey") else target_channels


def _check_kind(kind: str) -> None:
    if kind not in PAIR_KINDS:
        raise ValueError(f"pair kind {kind!r} is not allowed; use one of {', '.join(PAIR_KINDS)}")


def _check_images(images: np.ndarray) -> None:
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must be uint8 (N, H, W, 1 or 3), not {images.dtype} {images.shape}")


@dataclass(frozen=True)
class PairCollection:
    """A person's own image-to-image set: domain A (inputs) and domain B (targets)."""

    name: str  # the collection as the person knows it, e.g. the name of the zip they uploaded
    a: np.ndarray  # uint8 (N_a, size, size, channels)
    b: np.ndarray  # uint8 (N_b, size, size, channels)
    paired: bool  # True: a[i] and b[i] are a pair (N_a == N_b)
    layout: str  # one of LAYOUTS
    # Paired: each pair's name, in order (its path inside A/ without extension, or the side-by-side image's file
    # name). Unpaired: ().
    names: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (file name, reason) for every file that was not used


def load_pair_collection(path: str | Path, image_size: int, channels: int) -> PairCollection:
    """A folder or .zip in one of the layouts of this module's docstring, each image fitted like any image of
    `image_collection`. Another layout, or fewer than image_collection.MIN_IMAGES usable pairs (or images in either
    domain of an unpaired set): ValueError naming the allowed layouts."""
    image_collection.check_image_shape(image_size, channels)
    source = Path(path).expanduser()
    name = uploads.display_name(source)
    with image_collection.collection_files(source) as files:
        candidates, skipped = image_collection.usable_files(name, files)
        domains, outside = _domains(candidates)
        if not domains["A"] and not domains["B"]:
            return _side_by_side(name, candidates, len(files), skipped, image_size, channels)
        for domain, other in (("A", "B"), ("B", "A")):
            if not domains[domain]:
                raise ValueError(f"{name} has images in {other}/ but none in {domain}/. {ALLOWED_LAYOUTS}")
        skipped += [(file.name, "outside A/ and B/; only those two folders are read") for file in outside]
        return _a_b_folders(name, domains, len(files), skipped, image_size, channels)


def _domains(files: list[CollectionFile]) -> tuple[dict[str, dict[str, CollectionFile]], list[CollectionFile]]:
    """({"A": {name inside A/: file}, "B": ...}, the files outside both), after looking through wrapping folders."""
    parts = [PurePosixPath(file.name).parts for file in files]
    # Look through folders that wrap every file, as zips often have, but never through A/ or B/ themselves.
    depth = 0
    while (parts and all(len(file_parts) > depth + 1 for file_parts in parts)
           and len({file_parts[depth] for file_parts in parts}) == 1 and parts[0][depth] not in DOMAIN_FOLDERS):
        depth += 1
    domains: dict[str, dict[str, CollectionFile]] = {"A": {}, "B": {}}
    outside = []
    for file, file_parts in zip(files, parts):
        if len(file_parts) > depth + 1 and file_parts[depth] in DOMAIN_FOLDERS:
            domains[file_parts[depth]]["/".join(file_parts[depth + 1:])] = file
        else:
            outside.append(file)
    return domains, outside


def _a_b_folders(name: str, domains: dict[str, dict[str, CollectionFile]], files_seen: int,
                 skipped: list[tuple[str, str]], image_size: int, channels: int) -> PairCollection:
    def decode(file: io.BytesIO | Path) -> np.ndarray:
        return image_collection.decode_image(file, image_size, channels)

    by_stem = {domain: _by_stem(domain, named, skipped) for domain, named in domains.items()}
    matched = sorted(by_stem["A"].keys() & by_stem["B"].keys())
    if not matched:
        return _unpaired(name, by_stem, files_seen, skipped, decode)
    for domain, other in (("A", "B"), ("B", "A")):
        reason = f"no partner in {other}/ (a pair is the same name in A/ and B/, extension aside)"
        skipped += [(file.name, reason) for stem, file in by_stem[domain].items() if stem not in by_stem[other]]
    decoded = {}
    for domain in DOMAIN_FOLDERS:
        images, refused, _ = image_collection.decode_files([by_stem[domain][stem] for stem in matched], decode)
        skipped += refused
        decoded[domain] = dict(images)
    pairs, names = {"A": [], "B": []}, []
    for stem in matched:
        files = {domain: by_stem[domain][stem] for domain in DOMAIN_FOLDERS}
        usable = {domain: files[domain].name in decoded[domain] for domain in DOMAIN_FOLDERS}
        if all(usable.values()):
            names.append(stem)
            for domain in DOMAIN_FOLDERS:
                pairs[domain].append(decoded[domain][files[domain].name])
        for domain, other in (("A", "B"), ("B", "A")):
            if usable[domain] and not usable[other]:
                skipped.append((files[domain].name, f"its partner {files[other].name} cannot be used"))
    image_collection.require_enough(name, len(names), files_seen, skipped, "pair", ALLOWED_LAYOUTS)
    return PairCollection(name, np.stack(pairs["A"]), np.stack(pairs["B"]), True, "a_b_folders", tuple(names),
                          tuple(sorted(skipped)))


def _unpaired(name: str, by_stem: dict[str, dict[str, CollectionFile]], files_seen: int,
              skipped: list[tuple[str, str]], decode: Callable[[io.BytesIO | Path], np.ndarray]) -> PairCollection:
    """Two unpaired collections, each in file name order."""
    domain_images = {}
    for domain in DOMAIN_FOLDERS:
        decoded, refused, _ = image_collection.decode_files(list(by_stem[domain].values()), decode)
        skipped += refused
        domain_images[domain] = [image for _, image in decoded]
    for domain in DOMAIN_FOLDERS:
        image_collection.require_enough(name, len(domain_images[domain]), files_seen, skipped, f"{domain}/ image",
                                        ALLOWED_LAYOUTS)
    return PairCollection(name, np.stack(domain_images["A"]), np.stack(domain_images["B"]), False, "a_b_unpaired", (),
                          tuple(sorted(skipped)))


def _by_stem(domain: str, named: dict[str, CollectionFile],
             skipped: list[tuple[str, str]]) -> dict[str, CollectionFile]:
    """{name inside the domain's folder without extension: file}; names held by two files are skipped, since
    which of them is the partner cannot be told."""
    stems: dict[str, list[CollectionFile]] = {}
    for inside, file in named.items():
        stems.setdefault(str(PurePosixPath(inside).with_suffix("")), []).append(file)
    for stem, files in stems.items():
        if len(files) > 1:
            reason = f"{len(files)} files in {domain}/ are named {stem} (extension aside); a pair needs exactly one"
            skipped += [(file.name, reason) for file in files]
    return {stem: files[0] for stem, files in stems.items() if len(files) == 1}


def _side_by_side(name: str, files: list[CollectionFile], files_seen: int, skipped: list[tuple[str, str]],
                  image_size: int, channels: int) -> PairCollection:
    def decode(file: io.BytesIO | Path) -> tuple[np.ndarray, np.ndarray]:
        return _split_side_by_side(file, image_size, channels)

    halves, refused, _ = image_collection.decode_files(files, decode)
    skipped += refused
    image_collection.require_enough(name, len(halves), files_seen, skipped, "pair", ALLOWED_LAYOUTS)
    a = np.stack([left for _, (left, _) in halves])
    b = np.stack([right for _, (_, right) in halves])
    return PairCollection(name, a, b, True, "side_by_side", tuple(file_name for file_name, _ in halves),
                          tuple(sorted(skipped)))


def _split_side_by_side(file: io.BytesIO | Path, image_size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """The left (A) and right (B) halves of one side-by-side image, each fitted to image_size x image_size."""
    with image_collection.opened_image(file, image_size) as image:
        if image.width != 2 * image.height:
            raise ImageRefused(f"{image.width}x{image.height} is not a side-by-side pair, which is exactly twice as "
                               f"wide as high")
        side = image.height
        left, right = image.crop((0, 0, side, side)), image.crop((side, 0, 2 * side, side))
        return (image_collection.fit_image(left, image_size, channels),
                image_collection.fit_image(right, image_size, channels))


def held_out_indices(count: int, share: float = 0.1, minimum: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, held-out indices) of a collection without a test split: the held-out part is the middle item
    of each of `held` equal stretches of the collection (deterministic, spread through it, so a collection sorted
    by name or date is sampled everywhere), `held` being round(share * count) but at least `minimum`, and never all
    of it: ValueError when count < 2. Held-out pairs are never trained on."""
    if count < 2:
        raise ValueError(f"count={count} cannot be split; at least 2 items are needed, one to train on and one to hold "
                         f"out")
    if not 0 < share < 1:
        raise ValueError(f"share={share} is not allowed; use more than 0 and less than 1")
    if not 1 <= minimum < count:
        raise ValueError(f"minimum={minimum} is not allowed for {count} items; use 1 to {count - 1}, so that some "
                         f"are left to train on")
    held = min(max(minimum, round(share * count)), count - 1)
    # Stretches are count / held > 1 items long, so their middles are distinct indices below count.
    held_out = ((2 * np.arange(held) + 1) * count) // (2 * held)
    train = np.setdiff1d(np.arange(count), held_out)
    return train, held_out
