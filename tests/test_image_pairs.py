"""Image-to-image datasets: derived inputs on hand-made images, and a person's own A/B or side-by-side collections
built as real files (folders and zips)."""

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.inputs import image_collection, image_pairs
from gan_core.inputs.image_pairs import (PAIR_KINDS, derive_inputs, edges, grey, held_out_indices, input_channels,
                                         inverted, load_pair_collection, low_resolution, masked)

MIN_IMAGES = image_collection.MIN_IMAGES


def image_bytes(size: tuple[int, int], colour, image_format: str = "PNG") -> bytes:
    """An image of one colour ("L" for an int, "RGB" for a triple) as the bytes of a file."""
    buffer = io.BytesIO()
    Image.new("L" if isinstance(colour, int) else "RGB", size, colour).save(buffer, image_format)
    return buffer.getvalue()


def side_by_side_bytes(height: int, left, right) -> bytes:
    """An RGB image twice as wide as high: colour `left` on the left half, `right` on the right half."""
    picture = Image.new("RGB", (2 * height, height), left)
    picture.paste(Image.new("RGB", (height, height), right), (height, 0))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def a_b_files(count: int, prefix: str = "") -> dict[str, bytes]:
    """Pairs p00, p01, ...: A/p0i.png of grey level 20 * i + 10, B/p0i (.png or .bmp) of 255 minus that level."""
    files = {}
    for index in range(count):
        level = 20 * index + 10
        files[f"{prefix}A/p{index:02d}.png"] = image_bytes((12, 12), level)
        extension = ("png", "bmp")[index % 2]  # partners may be stored in another format
        files[f"{prefix}B/p{index:02d}.{extension}"] = image_bytes((12, 12), 255 - level, extension.upper())
    return files


# --- a person's own collections --------------------------------------------------------------------------------------


def test_same_names_in_a_and_b_are_pairs_in_matching_order(tmp_path):
    folder = write_files(tmp_path / "pairs", a_b_files(10))
    collection = load_pair_collection(folder, image_size=8, channels=1)
    assert collection.paired and collection.layout == "a_b_folders" and collection.name.endswith("/pairs")
    assert collection.names == tuple(f"p{index:02d}" for index in range(10))
    assert collection.a.shape == collection.b.shape == (10, 8, 8, 1) and collection.a.dtype == np.uint8
    levels = [20 * index + 10 for index in range(10)]
    assert collection.a[:, 4, 4, 0].tolist() == levels
    assert collection.b[:, 4, 4, 0].tolist() == [255 - level for level in levels]
    assert collection.skipped == ()


def test_a_b_folders_inside_one_wrapping_folder_of_a_zip(tmp_path):
    files = a_b_files(9, prefix="facades/")
    files["__MACOSX/facades/A/._p00.png"] = b"resource fork"
    files["facades/readme.txt"] = b"words"
    files["facades/extra.png"] = image_bytes((12, 12), 7)
    collection = load_pair_collection(write_zip(tmp_path / "facades.zip", files), image_size=8, channels=3)
    assert collection.paired and collection.layout == "a_b_folders" and collection.name.endswith("/facades.zip")
    assert collection.a.shape == (9, 8, 8, 3) and len(collection.names) == 9
    assert collection.a[:, 0, 0].tolist() == [[20 * index + 10] * 3 for index in range(9)]
    assert collection.b[:, 0, 0, 0].tolist() == [245 - 20 * index for index in range(9)]
    skipped = dict(collection.skipped)
    assert skipped["facades/extra.png"] == "outside A/ and B/; only those two folders are read"
    assert skipped["facades/readme.txt"] == "not an image type: .txt"
    assert skipped["__MACOSX/facades/A/._p00.png"] == "hidden or system file"


def test_a_and_b_without_a_common_name_are_two_unpaired_collections(tmp_path):
    files = {f"A/horse{index}.png": image_bytes((10, 10), index) for index in range(9)}
    files |= {f"B/zebra{index:02d}.png": image_bytes((10, 10), 100 + index) for index in range(11)}
    collection = load_pair_collection(write_files(tmp_path / "horse2zebra", files), image_size=8, channels=1)
    assert not collection.paired and collection.layout == "a_b_unpaired" and collection.names == ()
    assert collection.a.shape == (9, 8, 8, 1) and collection.b.shape == (11, 8, 8, 1)
    assert collection.a[:, 0, 0, 0].tolist() == list(range(9))
    assert collection.b[:, 0, 0, 0].tolist() == [100 + index for index in range(11)]


def test_partial_matches_are_paired_and_files_without_a_usable_partner_are_skipped_with_reasons(tmp_path):
    files = a_b_files(11)
    files["A/lonely.png"] = image_bytes((12, 12), 1)
    files["B/stranger.png"] = image_bytes((12, 12), 2)
    files["B/p01.jpg"] = image_bytes((12, 12), 3, "JPEG")  # a second B/p01: which one is the partner is unclear
    files["B/p02.png"] = b"\x89PNG\r\n\x1a\n" + b"garbage" * 20  # the partner of A/p02.png cannot be decoded
    collection = load_pair_collection(write_files(tmp_path / "partial", files), image_size=8, channels=1)
    assert collection.paired and collection.layout == "a_b_folders"
    assert collection.names == ("p00",) + tuple(f"p{index:02d}" for index in range(3, 11))
    assert collection.a[:, 0, 0, 0].tolist() == [10] + [20 * index + 10 for index in range(3, 11)]
    assert (collection.a.astype(int) + collection.b == 255).all()
    skipped = dict(collection.skipped)
    assert skipped["A/lonely.png"] == "no partner in B/ (a pair is the same name in A/ and B/, extension aside)"
    assert skipped["B/stranger.png"] == "no partner in A/ (a pair is the same name in A/ and B/, extension aside)"
    assert skipped["A/p01.png"].startswith("no partner in B/")
    two_files = "2 files in B/ are named p01 (extension aside); a pair needs exactly one"
    assert skipped["B/p01.bmp"] == skipped["B/p01.jpg"] == two_files
    assert skipped["B/p02.png"].startswith("cannot be read as an image:")
    assert skipped["A/p02.png"] == "its partner B/p02.png cannot be used"
    assert len(skipped) == 7


def test_side_by_side_images_are_split_into_left_a_and_right_b(tmp_path):
    files = {f"train/{index}.png": side_by_side_bytes(12, (10 * index, 0, 0), (0, 0, 10 * index))
             for index in range(6)}
    files |= {f"val/{index}.png": side_by_side_bytes(16, (0, 10 * index, 0), (10 * index, 10 * index, 10 * index))
              for index in range(3)}
    files["square.png"] = image_bytes((12, 12), (9, 9, 9))
    archive = write_zip(tmp_path / "maps.zip", {f"maps/{name}": content for name, content in files.items()})
    collection = load_pair_collection(archive, image_size=8, channels=3)
    assert collection.paired and collection.layout == "side_by_side"
    assert collection.names == tuple(f"maps/train/{index}.png" for index in range(6)) + tuple(
        f"maps/val/{index}.png" for index in range(3))
    assert collection.a.shape == collection.b.shape == (9, 8, 8, 3)
    # Every pixel of each half, so a split in the wrong place (or a centre crop) would show.
    for index in range(6):
        assert (collection.a[index] == [10 * index, 0, 0]).all() and (collection.b[index] == [0, 0, 10 * index]).all()
    for index in range(3):
        assert (collection.a[6 + index] == [0, 10 * index, 0]).all() and (collection.b[6 + index] == 10 * index).all()
    assert dict(collection.skipped) == {
        "maps/square.png": "12x12 is not a side-by-side pair, which is exactly twice as wide as high"}


def test_layouts_that_are_none_of_the_allowed_ones_are_refused_naming_them(tmp_path):
    squares = write_files(tmp_path / "squares", {f"{index}.png": image_bytes((12, 12), index) for index in range(10)})
    with pytest.raises(ValueError, match=r"squares: only 0 usable pairs; at least 8 are needed "
                                         r"\(10 files seen, 10 refused\)\. "
                                         r"First reasons: 0.png: 12x12 is not a side-by-side pair.*Allowed layouts: "
                                         r"sub-folders A/ \(inputs\) and B/ \(targets\)"):
        load_pair_collection(squares, 8, 3)
    only_a = write_files(tmp_path / "only_a", {f"A/{index}.png": image_bytes((12, 12), index) for index in range(10)})
    with pytest.raises(ValueError, match=r"only_a has images in A/ but none in B/\. Allowed layouts: sub-folders A/"):
        load_pair_collection(only_a, 8, 3)
    empty = write_zip(tmp_path / "empty.zip", {})
    with pytest.raises(ValueError, match=r"empty.zip: only 0 usable pairs; .*it is empty\. Allowed layouts:"):
        load_pair_collection(empty, 8, 3)
    with pytest.raises(ValueError, match="missing does not exist; give a folder or a .zip"):
        load_pair_collection(tmp_path / "missing", 8, 3)
    with pytest.raises(ValueError, match="channels=2 is not allowed"):
        load_pair_collection(squares, 8, 2)


def test_too_few_pairs_or_too_few_images_in_a_domain_are_refused_with_the_minimum(tmp_path):
    few = write_files(tmp_path / "few", a_b_files(MIN_IMAGES - 1))
    with pytest.raises(ValueError, match=rf"few: only {MIN_IMAGES - 1} usable pairs; at least {MIN_IMAGES} are "
                                         rf"needed \(14 files seen, .*Allowed layouts"):
        load_pair_collection(few, 8, 1)
    files = {f"A/horse{index}.png": image_bytes((10, 10), index) for index in range(9)}
    files |= {f"B/zebra{index}.png": image_bytes((10, 10), index) for index in range(3)}
    with pytest.raises(ValueError, match=rf"unpaired: only 3 usable B/ images; at least {MIN_IMAGES} are needed"):
        load_pair_collection(write_files(tmp_path / "unpaired", files), 8, 1)
    side_by_side = {f"{index}.png": side_by_side_bytes(8, (1, 1, 1), (2, 2, 2)) for index in range(MIN_IMAGES - 1)}
    with pytest.raises(ValueError, match=rf"only {MIN_IMAGES - 1} usable pairs; at least {MIN_IMAGES} are needed"):
        load_pair_collection(write_files(tmp_path / "side", side_by_side), 8, 1)


# --- derived inputs --------------------------------------------------------------------------------------------------


def vertical_step(height: int = 8, width: int = 8, low: int = 0, high: int = 255, channels: int = 1) -> np.ndarray:
    """One image: `low` on the left half of the columns, `high` on the right half."""
    image = np.full((1, height, width, channels), low, np.uint8)
    image[:, :, width // 2:] = high
    return image


def test_edges_lie_on_the_step_and_are_zero_on_flat_regions():
    for step in (vertical_step(), vertical_step(channels=3)):
        result = edges(step)
        assert result.shape == (1, 8, 8, 1) and result.dtype == np.uint8
        assert np.nonzero(result[0, :, :, 0].any(axis=0))[0].tolist() == [3, 4]  # the columns either side
        assert (result[0, :, 3:5, 0] == 255).all()


def test_edges_of_each_image_are_scaled_to_its_own_strongest_edge_and_blank_gives_zeros():
    images = np.concatenate([vertical_step(high=10), vertical_step(high=255), np.full((1, 8, 8, 1), 77, np.uint8)])
    result = edges(images)
    assert result[0].max() == result[1].max() == 255
    assert (result[0] == result[1]).all()
    assert (result[2] == 0).all()


def test_masked_sets_one_square_of_the_right_size_per_image_to_zero_and_is_seeded():
    images = np.full((12, 20, 20, 3), 200, np.uint8)
    result = masked(images, seed=5)
    assert result.shape == images.shape and (images == 200).all()  # the input is left as it was
    corners = []
    for image in result:
        rows, columns = np.nonzero((image == 0).all(axis=-1))
        assert len(rows) == 8 * 8  # round(0.4 * 20)
        assert rows.max() - rows.min() == columns.max() - columns.min() == 7
        assert ((image == 0) | (image == 200)).all()
        corners.append((rows.min(), columns.min()))
    assert len(set(corners)) > 1
    assert (masked(images, seed=5) == result).all()
    assert not (masked(images, seed=6) == result).all()
    assert (masked(images[:, :10, :10], seed=1, fraction=0.3) == 0).all(axis=-1).sum(axis=(1, 2)).tolist() == [9] * 12
    for fraction in (0.0, 1.0, 0.01):
        with pytest.raises(ValueError, match=f"fraction={fraction} is not allowed"):
            masked(images, seed=5, fraction=fraction)


def test_low_resolution_averages_blocks_and_repeats_them():
    levels = np.random.default_rng(0).integers(0, 256, (2, 2, 2, 3), dtype=np.uint8)
    blocks = levels.repeat(4, axis=1).repeat(4, axis=2)
    assert (low_resolution(blocks, factor=4) == blocks).all()
    checkerboard = ((np.indices((8, 8)).sum(axis=0) % 2) * 255).astype(np.uint8)[np.newaxis, ..., np.newaxis]
    for factor in (2, 4):
        assert (low_resolution(checkerboard, factor) == 128).all()  # 127.5, rounded to even
    ramp = np.arange(16, dtype=np.uint8).reshape(1, 4, 4, 1)
    assert low_resolution(ramp, 2)[0, :, :, 0].tolist() == [[2, 2, 4, 4], [2, 2, 4, 4], [10, 10, 12, 12],
                                                            [10, 10, 12, 12]]  # 2.5 and 12.5 round to even too
    with pytest.raises(ValueError, match=r"factor=3 is not allowed; use one of \(2, 4\)"):
        low_resolution(blocks, 3)
    with pytest.raises(ValueError, match="6x6 images cannot be shrunk by factor=4"):
        low_resolution(blocks[:, :6, :6], 4)


def test_grey_is_pillows_luma_and_refuses_grey_input():
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (13, 200, 77)]
    images = np.asarray(colours, np.uint8).reshape(len(colours), 1, 1, 3)
    random = np.random.default_rng(1).integers(0, 256, (1, 9, 9, 3), dtype=np.uint8)
    for batch in (images, random):
        expected = [np.asarray(Image.fromarray(image).convert("L")) for image in batch]
        assert (grey(batch)[..., 0] == np.stack(expected)).all()
    assert grey(images)[:3, 0, 0, 0].tolist() == [76, 150, 29]
    with pytest.raises(ValueError, match="grey needs RGB images"):
        grey(images[..., :1])


def test_inverted_twice_is_the_identity():
    images = np.random.default_rng(2).integers(0, 256, (3, 5, 5, 3), dtype=np.uint8)
    assert (inverted(inverted(images)) == images).all()
    assert inverted(np.zeros((1, 1, 1, 1), np.uint8)).tolist() == [[[[255]]]] and inverted(images).dtype == np.uint8


def test_derive_inputs_applies_each_kind_and_chooses_the_low_resolution_factor():
    targets = np.random.default_rng(3).integers(0, 256, (2, 28, 28, 3), dtype=np.uint8)
    assert (derive_inputs("edges", targets, 0) == edges(targets)).all()
    assert (derive_inputs("masked", targets, 9) == masked(targets, 9)).all()
    assert (derive_inputs("grey", targets, 0) == grey(targets)).all()
    assert (derive_inputs("lowres", targets, 0) == low_resolution(targets, 4)).all()
    assert (derive_inputs("lowres", targets[:, :8, :8], 0) == low_resolution(targets[:, :8, :8], 2)).all()
    assert [image_pairs.low_resolution_factor(side) for side in (8, 20, 28, 32, 64)] == [2, 2, 4, 4, 4]
    with pytest.raises(ValueError, match="lowres needs an even image size, not 7"):
        derive_inputs("lowres", targets[:, :7, :7], 0)
    with pytest.raises(ValueError, match="pair kind 'blur' is not allowed; use one of edges, masked, lowres, grey"):
        derive_inputs("blur", targets, 0)
    with pytest.raises(ValueError, match="images must be uint8"):
        derive_inputs("lowres", targets.astype(np.float32), 0)
    for kind in PAIR_KINDS:
        assert derive_inputs(kind, targets, 0).shape[-1] == input_channels(kind, 3)


def test_input_channels():
    assert [input_channels(kind, 3) for kind in PAIR_KINDS] == [1, 3, 3, 1]
    assert [input_channels(kind, 1) for kind in ("edges", "masked", "lowres")] == [1, 1, 1]
    with pytest.raises(ValueError, match="grey pair kind needs RGB targets"):
        input_channels("grey", 1)
    with pytest.raises(ValueError, match="target_channels=4 is not allowed"):
        input_channels("edges", 4)
    with pytest.raises(ValueError, match="pair kind 'sketch' is not allowed"):
        input_channels("sketch", 3)


# --- held-out pairs --------------------------------------------------------------------------------------------------


def test_held_out_indices_split_everything_disjointly_deterministically_and_spread():
    for count in range(2, 120):
        train, held_out = held_out_indices(count)
        assert not set(train) & set(held_out)
        assert sorted([*train, *held_out]) == list(range(count))
        assert len(held_out) == max(1, round(0.1 * count)) and len(train) >= 1
        assert (held_out_indices(count)[1] == held_out).all()
    train, held_out = held_out_indices(100, share=0.1)
    assert held_out.tolist() == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    assert len(held_out_indices(100, share=0.25)[1]) == 25
    assert held_out_indices(2)[1].tolist() == [1] and held_out_indices(2)[0].tolist() == [0]
    assert len(held_out_indices(20, share=0.1, minimum=5)[1]) == 5


def test_held_out_indices_refuse_what_cannot_be_split():
    for count in (0, 1):
        with pytest.raises(ValueError, match=f"count={count} cannot be split; at least 2 items are needed"):
            held_out_indices(count)
    with pytest.raises(ValueError, match="share=1 is not allowed"):
        held_out_indices(10, share=1)
    with pytest.raises(ValueError, match="minimum=10 is not allowed for 10 items; use 1 to 9"):
        held_out_indices(10, minimum=10)
