"""A person's own images: mixed formats and modes, class folders, zips, and every broken or hostile file kind."""

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import hostile_uploads
from gan_core.store import archives
from gan_core.inputs import data, image_collection
from gan_core.spec.config import RunConfig
from gan_core.inputs.image_collection import load_image_collection, preview_image_collection
from support.datasets import KAGGLE_CLASSES, write_kaggle_cifar



def make_image_folder(root: Path) -> None:
    """Images in every mode and format a person might have, and files that must be skipped."""
    root.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (200, 10, 10)).save(root / "red_wide.png")
    transparent = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    transparent.save(root / "transparent.png")
    Image.new("P", (16, 16), 3).save(root / "palette.png")
    Image.new("L", (64, 48), 90).save(root / "grey.jpg", quality=95)
    Image.fromarray(np.full((20, 20), 128 * 257, np.uint16)).save(root / "sixteen_bit.png")
    Image.new("RGB", (24, 24), (0, 0, 255)).save(root / "blue.webp", lossless=True)
    Image.new("RGB", (10, 10), (0, 255, 0)).save(root / "green.bmp")
    Image.new("RGB", (10, 10), (255, 255, 0)).save(root / "yellow.png")
    (root / "notes.txt").write_text("not a picture")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    (root / ".DS_Store").write_bytes(b"\0" * 10)


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def test_a_folder_of_mixed_images_is_converted_and_bad_files_are_listed(tmp_path):
    make_image_folder(tmp_path / "pictures")
    collection = load_image_collection(tmp_path / "pictures", image_size=16, channels=3)
    assert collection.images.shape == (8, 16, 16, 3) and collection.images.dtype == np.uint8
    assert collection.labels is None and collection.class_names == () and collection.image_count == 8
    skipped = dict(collection.skipped)
    assert skipped[".DS_Store"] == "hidden or system file"
    assert skipped["notes.txt"] == "not an image type: .txt"
    assert skipped["broken.png"].startswith("cannot be read as an image:")
    assert len(skipped) == 3
    # Files are taken in name order.
    pixels = {name: collection.images[index, 8, 8].tolist() for index, name in enumerate(
        ["blue", "green", "grey", "palette", "red_wide", "sixteen_bit", "transparent", "yellow"])}
    assert pixels["blue"] == [0, 0, 255] and pixels["green"] == [0, 255, 0] and pixels["red_wide"] == [200, 10, 10]
    assert pixels["transparent"] == [255, 255, 255]  # composited onto white
    assert pixels["sixteen_bit"] == [128, 128, 128]  # scaled from 16 bits, not clipped
    assert abs(pixels["grey"][0] - 90) <= 2  # JPEG is lossy

    grey = load_image_collection(tmp_path / "pictures", image_size=8, channels=1)
    assert grey.images.shape == (8, 8, 8, 1)
    assert grey.images[1, 4, 4, 0] == 150  # pure green in Pillow's luminance: 587/1000 of 255


def test_sub_folders_become_labels_also_inside_a_wrapping_folder_of_a_zip(tmp_path):
    for class_name, colour in (("dogs", (90, 60, 30)), ("cats", (10, 10, 10))):
        (tmp_path / "pets" / "all" / class_name).mkdir(parents=True)
        for index in range(4):
            Image.new("RGB", (12, 12), colour).save(tmp_path / "pets" / "all" / class_name / f"{index}.png")
    folder = load_image_collection(tmp_path / "pets", image_size=8, channels=3)
    assert folder.class_names == ("cats", "dogs") and folder.num_classes == 2
    assert folder.labels.tolist() == [0] * 4 + [1] * 4
    assert folder.images[folder.labels == 1][:, 0, 0].tolist() == [[90, 60, 30]] * 4

    archive_path = tmp_path / "pets.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for path in sorted((tmp_path / "pets").rglob("*.png")):
            archive.write(path, "pets/" + path.relative_to(tmp_path / "pets").as_posix())
        archive.writestr("__MACOSX/pets/._0.png", b"resource fork")
        archive.writestr("../escape.png", (tmp_path / "pets" / "all" / "cats" / "0.png").read_bytes())
    zipped = load_image_collection(archive_path, image_size=8, channels=3)
    assert zipped.class_names == ("cats", "dogs")
    assert np.array_equal(zipped.images, folder.images) and np.array_equal(zipped.labels, folder.labels)
    assert dict(zipped.skipped) == {"__MACOSX/pets/._0.png": "hidden or system file",
                                    "../escape.png": "unsafe path: it points outside the collection"}
    # The preview decodes only the first images, but names every class and counts every image file.
    preview = preview_image_collection(archive_path, image_size=8, channels=3, count=3)
    assert len(preview.images) == 3 and preview.image_count == 8 and preview.class_names == ("cats", "dogs")
    assert preview.labels.tolist() == [0, 0, 0]

    # One image beside the class folders means the sub-folders are no longer a labelling.
    Image.new("RGB", (12, 12)).save(tmp_path / "pets" / "all" / "stray.png")
    assert load_image_collection(tmp_path / "pets", image_size=8, channels=3).labels is None


def test_a_zip_of_mixed_images_matches_the_folder(tmp_path):
    make_image_folder(tmp_path / "pictures")
    archive_path = tmp_path / "pictures.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for path in sorted((tmp_path / "pictures").iterdir()):
            archive.write(path, path.name)
    folder = load_image_collection(tmp_path / "pictures", image_size=16, channels=3)
    zipped = load_image_collection(archive_path, image_size=16, channels=3)
    assert np.array_equal(zipped.images, folder.images)
    assert zipped.skipped == folder.skipped


def test_a_persons_collection_is_a_dataset_of_the_registry(tmp_path):
    make_image_folder(tmp_path / "pictures")
    dataset = data.load_dataset(RunConfig(dataset="folder", data_path=str(tmp_path / "pictures"), image_size=8,
                                          channels=1))
    assert dataset.examples.shape == (8, 8, 8, 1) and dataset.name.endswith("pictures")
    assert ("notes.txt", "not an image type: .txt") in dataset.skipped


def test_unusable_collections_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_image_collection(tmp_path / "missing", 32, 3)
    (tmp_path / "texts").mkdir()
    for index in range(3):
        (tmp_path / "texts" / f"{index}.txt").write_text("words")
    with pytest.raises(ValueError, match=r"texts: only 0 usable images; at least 8 are needed "
                                         r"\(3 files seen, 3 refused\).*0.txt: not an image type"):
        load_image_collection(tmp_path / "texts", 32, 3)
    (tmp_path / "plain.txt").write_text("words")
    with pytest.raises(ValueError, match="neither a folder nor a .zip"):
        load_image_collection(tmp_path / "plain.txt", 32, 3)
    (tmp_path / "one.png").write_bytes(hostile_uploads.good_pngs(1)[0][1])
    with pytest.raises(ValueError, match="one.png is a single image; give a folder or a .zip of at least 8"):
        load_image_collection(tmp_path / "one.png", 32, 3)
    with pytest.raises(ValueError, match="channels=4"):
        load_image_collection(tmp_path / "texts", 32, 4)


def test_too_few_images_are_refused_with_the_minimum(tmp_path):
    archive = write_zip(tmp_path / "three.zip", dict(hostile_uploads.good_pngs(image_collection.MIN_IMAGES - 1)))
    with pytest.raises(ValueError, match="three.zip: only 7 usable images; at least 8 are needed"):
        load_image_collection(archive, 8, 3)
    # The preview, which decodes fewer, refuses the same collection.
    with pytest.raises(ValueError, match="at least 8 are needed"):
        preview_image_collection(archive, 8, 3, count=4)
    write_zip(archive, dict(hostile_uploads.good_pngs(image_collection.MIN_IMAGES)))
    assert len(load_image_collection(archive, 8, 3).images) == 8


def test_too_few_good_images_are_refused_for_being_too_few_never_called_empty(tmp_path):
    archive = write_zip(tmp_path / "three.zip", dict(hostile_uploads.good_pngs(3)))
    with pytest.raises(ValueError) as refusal:
        load_image_collection(archive, 8, 3)
    message = str(refusal.value)
    assert "three.zip: only 3 usable images; at least 8 are needed (3 files seen, none refused)" in message
    assert "empty" not in message and "reasons" not in message
    # Only the files really refused are listed, each with its reason.
    write_zip(archive, dict(hostile_uploads.good_pngs(3)) | {"notes.txt": b"words"})
    with pytest.raises(ValueError, match=r"\(4 files seen, 1 refused\)\. First reasons: notes.txt: not an image "
                                         r"type: \.txt\. Allowed"):
        load_image_collection(archive, 8, 3)
    empty = write_zip(tmp_path / "empty.zip", {})
    with pytest.raises(ValueError, match=r"empty.zip: only 0 usable images; at least 8 are needed, and it is empty"):
        load_image_collection(empty, 8, 3)


def test_a_text_file_named_zip_and_a_corrupt_zip_say_what_they_are(tmp_path):
    text = tmp_path / "fake_images.zip"
    text.write_text("hello, these are not images\n")
    with pytest.raises(ValueError) as refusal:
        load_image_collection(text, 8, 3)
    assert "fake_images.zip is not a zip archive" in str(refusal.value)
    assert "neither a folder nor" not in str(refusal.value)

    good = write_zip(tmp_path / "good.zip", dict(hostile_uploads.good_pngs(8)))
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"corrupt.zip is not a readable zip archive \(BadZipFile: "):
        load_image_collection(corrupt, 8, 3)


def test_awkward_image_modes_are_converted_to_the_colours_people_see(tmp_path):
    files = {**dict(hostile_uploads.good_pngs(4)), **hostile_uploads.awkward_images()}
    collection = load_image_collection(write_zip(tmp_path / "modes.zip", files), 8, 3)
    assert collection.skipped == ()
    centre = {name: collection.images[index, 4, 4].tolist() for index, name in enumerate(sorted(files))}
    assert all(abs(value - expected) <= 3 for value, expected in zip(centre["cmyk.jpg"], [0, 255, 255]))
    assert centre["sixteen_bit.png"] == [200, 200, 200]
    assert centre["palette.png"] == [255, 128, 0]
    assert centre["alpha.png"] == [255, 255, 255]
    # Upright the picture is 10 wide and 20 high with red on top; its centre crop spans the two halves.
    rotated = collection.images[sorted(files).index("rotated.png")]
    assert rotated[0, 4].tolist() == [255, 0, 0] and rotated[-1, 4].tolist() == [0, 0, 255]


def test_hostile_entries_are_skipped_with_reasons_and_the_good_images_used(tmp_path):
    collection = load_image_collection(_hostile(tmp_path), 8, 3)
    assert len(collection.images) == 8 + len(hostile_uploads.awkward_images())
    skipped = dict(collection.skipped)
    assert skipped["photos/nested.zip"].startswith("an archive inside the archive")
    assert skipped["photos/link.png"].startswith("a symbolic link")
    assert skipped["photos/pixel_bomb.png"] == "400,000,000 pixels; at most 40,000,000 are allowed"
    assert skipped["photos/truncated.png"] == "cannot be read as an image: image file is truncated"
    assert skipped["photos/flat.bmp"].startswith("expands more than 100 times its compressed size")
    assert skipped["../../escape.png"].startswith("unsafe path")
    assert len(skipped) == 6


def _hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.zip"
    path.write_bytes(hostile_uploads.hostile_zip())
    return path


def test_the_pixel_cap_is_checked_from_the_header_below_pillows_own_limit(tmp_path, monkeypatch):
    # 8000x6000 is 48 MP: under Pillow's 89 MP warning, over our cap, and refused without decoding.
    files = {**dict(hostile_uploads.good_pngs(8)), "big.png": hostile_uploads.pixel_bomb_png(8000, 6000)}
    collection = load_image_collection(write_zip(tmp_path / "big.zip", files), 8, 3)
    assert dict(collection.skipped) == {"big.png": "8000x6000 is 48,000,000 pixels; at most 40,000,000 are allowed"}
    monkeypatch.setattr(image_collection, "MAX_IMAGE_PIXELS", 100)  # a deployment may lower it
    with pytest.raises(ValueError, match="12x12 is 144 pixels; at most 100 are allowed"):
        load_image_collection(tmp_path / "big.zip", 8, 3)


def test_zip_caps_on_entries_size_and_ratio_are_checked_while_streaming(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="crowded.zip is refused: it holds about 1,000 entries; at most 500"):
        monkeypatch.setattr(archives, "MAX_ENTRIES", 500)
        (tmp_path / "crowded.zip").write_bytes(hostile_uploads.crowded_zip(1_000))
        load_image_collection(tmp_path / "crowded.zip", 8, 3)
    monkeypatch.setattr(archives, "MAX_CENTRAL_DIRECTORY_BYTES", 1000)
    with pytest.raises(ValueError, match="its table of contents is 2,350 bytes; at most 1,000"):
        (tmp_path / "crowded.zip").write_bytes(hostile_uploads.crowded_zip(50))
        load_image_collection(tmp_path / "crowded.zip", 8, 3)
    monkeypatch.undo()

    # Ten 1 GiB entries whose headers say so are refused before any byte is inflated.
    (tmp_path / "bomb.zip").write_bytes(hostile_uploads.zip_bomb(entry_bytes=2**30))
    with pytest.raises(ValueError, match="bomb_0.png: too large: 1,073,741,824 bytes"):
        load_image_collection(tmp_path / "bomb.zip", 8, 3)
    # Headers that lie low are caught by the bytes that really come out.
    (tmp_path / "bomb.zip").write_bytes(hostile_uploads.zip_bomb(entry_count=8, entry_bytes=8 * 2**20,
                                                                 claimed_bytes=1000))
    with pytest.raises(ValueError, match="bomb_0.png: damaged inside the zip: Bad CRC-32"):
        load_image_collection(tmp_path / "bomb.zip", 8, 3)
    # The total is counted from real bytes too, and refuses the whole archive.
    files = {f"noise_{index}.png": hostile_uploads.noisy_png() for index in range(8)}
    write_zip(tmp_path / "many.zip", files)
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 8 * len(files["noise_0.png"]) - 1)
    with pytest.raises(ValueError, match=r"many.zip is refused: its files expand to more than [\d,]+ bytes in all"):
        load_image_collection(tmp_path / "many.zip", 8, 3)
    monkeypatch.setattr(archives, "MAX_TOTAL_BYTES", 8 * len(files["noise_0.png"]))
    assert len(load_image_collection(tmp_path / "many.zip", 8, 3).images) == 8


def test_symbolic_links_out_of_a_folder_are_not_followed(tmp_path):
    folder = tmp_path / "pictures"
    make_image_folder(folder)
    secret = tmp_path / "secret.png"
    secret.write_bytes(hostile_uploads.good_pngs(1)[0][1])
    os.symlink(secret, folder / "outside.png")
    os.symlink(folder / "yellow.png", folder / "inside.png")
    collection = load_image_collection(folder, 8, 3)
    assert dict(collection.skipped)["outside.png"] == "a symbolic link to outside the folder; not followed"
    assert len(collection.images) == 9  # the link within the folder is an image like any other


def test_the_cifar_kaggle_folder_works_as_a_persons_collection(tmp_path, monkeypatch):
    folder = write_kaggle_cifar(tmp_path, KAGGLE_CLASSES * 2)
    (folder / "SHA256SUMS").write_text("checksums, not a picture")
    collection = load_image_collection(folder, image_size=32, channels=3)
    assert collection.images.shape == (20, 32, 32, 3) and collection.labels is None
    assert [name for name, _ in collection.skipped] == ["SHA256SUMS", "trainLabels.csv"]
    # train/1.png comes first in name order, and at its own size its pixels are unchanged.
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    assert np.array_equal(collection.images[0], data.load_builtin("cifar10").examples[0])
    preview = preview_image_collection(folder, image_size=32, channels=3)
    assert len(preview.images) == 16 and preview.image_count == 20
    assert np.array_equal(preview.images, collection.images[:16])


def test_large_images_are_shrunk_before_conversion_with_nearly_the_same_pixels():
    random = np.random.default_rng(1)
    palette = Image.fromarray(random.integers(0, 8, (300, 400), dtype=np.uint8), "P")
    palette.putpalette(random.integers(0, 256, 768, dtype=np.uint8).tolist())
    sixteen_bit = Image.fromarray(random.integers(0, 65536, (300, 400), dtype=np.uint16))
    # 300 // (16 * 3) = 6: both are shrunk six times before any conversion.
    box = (50, 0, 350, 300)
    # Pillow's own resize aligns its averaging blocks to the image's corner, this shrinking to the square's: the
    # pixels differ by a few levels at most.
    expected = palette.convert("RGB").resize((16, 16), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    difference = image_collection.fit_image(palette, 16, 3).astype(int) - np.asarray(expected)
    assert np.abs(difference).max() <= 3
    grey = Image.fromarray(np.rint(np.asarray(sixteen_bit) / 257).astype(np.uint8), "L")
    expected = grey.resize((16, 16), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    difference = image_collection.fit_image(sixteen_bit, 16, 1)[..., 0].astype(int) - np.asarray(expected)
    assert np.abs(difference).max() <= 3
