"""The dataset registry, on the real data found the way the app finds it and on small image collections built here."""

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import KAGGLE_CLASSES, requires_dataset, write_kaggle_cifar
from gan_core import data
from gan_core.config import RunConfig

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@pytest.fixture(scope="module")
def mnist_train() -> data.Dataset:
    requires_dataset("mnist")
    return data.load_builtin("mnist", "train")


def test_mnist_has_the_official_splits_and_label_counts(mnist_train):
    test = data.load_builtin("mnist", "test")
    assert mnist_train.examples.shape == (60000, 28, 28, 1) and mnist_train.examples.dtype == np.uint8
    assert test.examples.shape == (10000, 28, 28, 1)
    assert mnist_train.labels.dtype == np.int32
    assert np.bincount(mnist_train.labels).tolist() == MNIST_TRAIN_COUNTS
    assert mnist_train.class_names == tuple("0123456789") and mnist_train.num_classes == 10
    assert not mnist_train.is_points
    assert mnist_train.examples.max() == 255 and mnist_train.examples.min() == 0


def test_fashion_mnist_is_complete_and_balanced():
    requires_dataset("fashion_mnist")
    train, test = data.load_builtin("fashion_mnist", "train"), data.load_builtin("fashion_mnist", "test")
    assert train.examples.shape == (60000, 28, 28, 1) and test.examples.shape == (10000, 28, 28, 1)
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    # The published normalisation constant of Fashion-MNIST's training pixels.
    assert train.examples.mean() / 255 == pytest.approx(0.2860, abs=5e-4)
    assert train.class_names[9] == "Ankle boot"


def test_cifar10_loads_from_the_kaggle_folder(tmp_path, monkeypatch):
    folder = write_kaggle_cifar(tmp_path)
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    assert data.find_builtin("cifar10", "train") == folder and data.find_builtin("cifar10", "test") is None
    cifar = data.load_builtin("cifar10")
    assert cifar.examples.shape == (10, 32, 32, 3) and cifar.examples.dtype == np.uint8
    assert [cifar.class_names[label] for label in cifar.labels] == KAGGLE_CLASSES
    assert np.array_equal(cifar.examples[1], np.asarray(Image.open(folder / "train" / "2.png")))


def test_cifar10_reads_the_official_pickles_and_refuses_other_objects(tmp_path, monkeypatch):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    planes = np.concatenate([np.full(1024, 10), np.full(1024, 20), np.full(1024, 30)]).astype(np.uint8)
    for file_name in [f"data_batch_{index}" for index in range(1, 6)] + ["test_batch"]:
        batch = {b"data": np.stack([planes, planes]), b"labels": [3, 7]}
        (folder / file_name).write_bytes(pickle.dumps(batch))
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    train = data.load_builtin("cifar10", "train")
    assert train.examples.shape == (10, 32, 32, 3)
    assert train.examples[0, 5, 5].tolist() == [10, 20, 30]  # channel-first planes became RGB pixels
    assert train.labels.tolist() == [3, 7] * 5
    assert len(data.load_builtin("cifar10", "test").examples) == 2

    import datetime
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": datetime.date(2020, 1, 1), b"labels": []}))
    with pytest.raises(ValueError, match="test_batch is not a readable CIFAR-10 batch.*refusing to load datetime"):
        data.load_builtin("cifar10", "test")


def test_digits_has_a_fixed_held_out_part():
    train, test = data.load_builtin("digits", "train"), data.load_builtin("digits", "test")
    assert train.examples.shape == (1500, 8, 8, 1) and test.examples.shape == (297, 8, 8, 1)
    assert train.examples.max() == 255 and test.examples.min() == 0
    from sklearn.datasets import load_digits
    everything = load_digits()
    # Train is the first 1500 and test the last 297: together every image once, in scikit-learn's order.
    assert np.concatenate([train.labels, test.labels]).tolist() == everything.target.tolist()
    together = np.concatenate([train.examples, test.examples])[..., 0]
    assert np.array_equal(np.rint(everything.images * 255 / 16), together)


def test_keras_npz_and_uncompressed_idx_files_are_found(tmp_path, monkeypatch):
    digits = np.random.default_rng(0).integers(0, 256, (100, 28, 28), dtype=np.uint8)
    labels = np.arange(100, dtype=np.uint8) % 10
    np.savez(tmp_path / "mnist.npz", x_train=digits, y_train=labels, x_test=digits[:7], y_test=labels[:7])
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    from_npz = data.load_builtin("mnist", "train")
    assert np.array_equal(from_npz.examples[..., 0], digits)

    # An un-gzipped IDX pair in mnist/ is preferred to the npz beside it.
    (tmp_path / "mnist").mkdir()
    header = b"".join(size.to_bytes(4, "big") for size in digits[:5].shape)
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte").write_bytes((0x0803).to_bytes(4, "big") + header +
                                                                digits[:5].tobytes())
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte").write_bytes((0x0801).to_bytes(4, "big") + (5).to_bytes(4, "big") +
                                                                labels[:5].tobytes())
    assert data.load_builtin("mnist", "test").examples.shape == (5, 28, 28, 1)


def test_corrupt_idx_files_give_clear_errors(tmp_path, monkeypatch):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    labels = (0x0801).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([1, 2, 3])
    (folder / "t10k-labels-idx1-ubyte").write_bytes(labels)
    images = (0x0803).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (3, 28, 28)) + bytes(100)
    (folder / "t10k-images-idx3-ubyte").write_bytes(images)
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte is truncated or corrupt"):
        data.load_builtin("fashion_mnist", "test")
    (folder / "t10k-images-idx3-ubyte").write_bytes(labels)
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        data.load_builtin("fashion_mnist", "test")
    (folder / "t10k-images-idx3-ubyte").unlink()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz cannot be read"):
        data.load_builtin("fashion_mnist", "test")


def test_offline_without_files_says_where_it_looked(tmp_path, monkeypatch):
    if (data.SYSTEM_DATA_DIR / "mnist").exists() or (data.SYSTEM_DATA_DIR / "mnist.npz").exists():
        pytest.skip("this machine has MNIST in the system data directory, so the loader cannot fail")
    import keras

    def offline(*arguments, **keywords):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(ValueError) as raised:
        data.load_builtin("mnist")
    message = str(raised.value)
    for expected in (str(tmp_path / "empty"), "/usr/share/datasets", str(tmp_path / "keras" / "datasets"),
                     "train-images-idx3-ubyte.gz", "mnist.npz", "GAN_DATA_DIR", "network is unreachable"):
        assert expected in message


@pytest.mark.parametrize("name", ["ring", "grid", "spiral", "moons"])
def test_toy_points_are_seeded_2d_and_bounded(name):
    points = data.toy_points(name, 5000, seed=3)
    assert points.shape == (5000, 2) and points.dtype == np.float32
    assert np.array_equal(points, data.toy_points(name, 5000, seed=3))
    assert not np.array_equal(points, data.toy_points(name, 5000, seed=4))
    assert np.abs(points).max() < 5.5
    assert points.std(axis=0).min() > 0.5  # spread out, not collapsed to a point


@pytest.mark.parametrize("name, modes, spread", [("ring", 8, 0.02), ("grid", 25, 0.05)])
def test_ring_and_grid_points_sit_on_their_mode_centres(name, modes, spread):
    centres = data.toy_mode_centres(name)
    assert centres.shape == (modes, 2)
    points = data.toy_points(name, 20000, seed=0)
    distances = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=-1)
    assert distances.min(axis=1).max() < 6 * spread
    assert np.sqrt((distances.min(axis=1) ** 2).mean() / 2) == pytest.approx(spread, rel=0.05)
    shares = np.bincount(distances.argmin(axis=1), minlength=modes) / len(points)
    assert shares.min() > 0.7 / modes  # every mode is used, roughly equally
    if name == "ring":
        assert np.allclose(np.linalg.norm(centres, axis=1), 2.0)
    assert data.toy_mode_spread(name) == spread
    assert data.toy_mode_centres("spiral") is None and data.toy_mode_spread("spiral") is None


def test_load_dataset_shapes_counts_and_splits():
    ring = data.load_dataset(RunConfig(dataset="ring", architecture="mlp", seed=5))
    assert ring.examples.shape == (data.TOY_POINT_COUNT, 2) and ring.is_points and ring.labels is None
    assert ring.num_classes == 0
    held_out = data.load_dataset(RunConfig(dataset="ring", architecture="mlp", seed=5), split="test")
    assert not np.array_equal(ring.examples, held_out.examples)

    requires_dataset("mnist")
    config = RunConfig(dataset="mnist", image_size=32, channels=3, max_examples=50)
    mnist = data.load_dataset(config)
    assert mnist.examples.shape == (50, 32, 32, 3) == (50, *config.data_shape)
    assert np.bincount(mnist.labels, minlength=10).sum() == 50
    assert np.array_equal(mnist.examples[..., 0], mnist.examples[..., 2])  # grey stays grey in RGB
    assert data.load_dataset(config, split="test").examples.shape == (10000, 32, 32, 3)
    with pytest.raises(ValueError, match="split 'valid'"):
        data.load_dataset(config, split="valid")


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
    (root / "notes.txt").write_text("not a picture")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    (root / ".DS_Store").write_bytes(b"\0" * 10)


def test_a_folder_of_mixed_images_is_converted_and_bad_files_are_listed(tmp_path):
    make_image_folder(tmp_path / "pictures")
    collection = data.load_image_collection(tmp_path / "pictures", image_size=16, channels=3)
    assert collection.examples.shape == (7, 16, 16, 3) and collection.examples.dtype == np.uint8
    assert collection.labels is None and collection.class_names == ()
    skipped = dict(collection.skipped)
    assert skipped[".DS_Store"] == "hidden or system file"
    assert skipped["notes.txt"] == "not an image type: .txt"
    assert skipped["broken.png"].startswith("cannot be read as an image:")
    assert len(skipped) == 3
    # Files are taken in name order: blue, green, grey, palette, red_wide, sixteen_bit, transparent.
    pixels = {name: collection.examples[index, 8, 8].tolist() for index, name in enumerate(
        ["blue", "green", "grey", "palette", "red_wide", "sixteen_bit", "transparent"])}
    assert pixels["blue"] == [0, 0, 255] and pixels["green"] == [0, 255, 0] and pixels["red_wide"] == [200, 10, 10]
    assert pixels["transparent"] == [255, 255, 255]  # composited onto white
    assert pixels["sixteen_bit"] == [128, 128, 128]  # scaled from 16 bits, not clipped
    assert abs(pixels["grey"][0] - 90) <= 2  # JPEG is lossy

    grey = data.load_image_collection(tmp_path / "pictures", image_size=8, channels=1)
    assert grey.examples.shape == (7, 8, 8, 1)
    assert grey.examples[1, 4, 4, 0] == 150  # pure green in Pillow's luminance: 587/1000 of 255


def test_sub_folders_become_labels_also_inside_a_wrapping_folder_of_a_zip(tmp_path):
    for class_name, colour in (("dogs", (90, 60, 30)), ("cats", (10, 10, 10))):
        (tmp_path / "pets" / "all" / class_name).mkdir(parents=True)
        for index in range(3):
            Image.new("RGB", (12, 12), colour).save(tmp_path / "pets" / "all" / class_name / f"{index}.png")
    folder = data.load_image_collection(tmp_path / "pets", image_size=8, channels=3)
    assert folder.class_names == ("cats", "dogs") and folder.num_classes == 2
    assert folder.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert folder.examples[folder.labels == 1][:, 0, 0].tolist() == [[90, 60, 30]] * 3

    archive_path = tmp_path / "pets.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for path in sorted((tmp_path / "pets").rglob("*.png")):
            archive.write(path, "pets/" + path.relative_to(tmp_path / "pets").as_posix())
        archive.writestr("__MACOSX/pets/._0.png", b"resource fork")
        archive.writestr("../escape.png", (tmp_path / "pets" / "all" / "cats" / "0.png").read_bytes())
    zipped = data.load_image_collection(archive_path, image_size=8, channels=3)
    assert zipped.class_names == ("cats", "dogs")
    assert np.array_equal(zipped.examples, folder.examples) and np.array_equal(zipped.labels, folder.labels)
    assert dict(zipped.skipped) == {"__MACOSX/pets/._0.png": "hidden or system file",
                                    "../escape.png": "unsafe path: it points outside the collection"}

    # One image beside the class folders means the sub-folders are no longer a labelling.
    Image.new("RGB", (12, 12)).save(tmp_path / "pets" / "all" / "stray.png")
    assert data.load_image_collection(tmp_path / "pets", image_size=8, channels=3).labels is None


def test_a_zip_of_mixed_images_matches_the_folder(tmp_path):
    make_image_folder(tmp_path / "pictures")
    archive_path = tmp_path / "pictures.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for path in sorted((tmp_path / "pictures").iterdir()):
            archive.write(path, path.name)
    folder = data.load_image_collection(tmp_path / "pictures", image_size=16, channels=3)
    zipped = data.load_image_collection(archive_path, image_size=16, channels=3)
    assert np.array_equal(zipped.examples, folder.examples)
    assert zipped.skipped == folder.skipped


def test_unusable_collections_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        data.load_image_collection(tmp_path / "missing", 32, 3)
    (tmp_path / "texts").mkdir()
    for index in range(3):
        (tmp_path / "texts" / f"{index}.txt").write_text("words")
    with pytest.raises(ValueError, match=r"texts holds no usable images \(3 files seen\).*0.txt: not an image type"):
        data.load_image_collection(tmp_path / "texts", 32, 3)
    (tmp_path / "plain.txt").write_text("words")
    with pytest.raises(ValueError, match="neither a folder nor a .zip"):
        data.load_image_collection(tmp_path / "plain.txt", 32, 3)
    with pytest.raises(ValueError, match="channels=4"):
        data.load_image_collection(tmp_path / "texts", 32, 4)


def test_the_cifar_kaggle_folder_works_as_a_persons_collection(tmp_path, monkeypatch):
    folder = write_kaggle_cifar(tmp_path)
    (folder / "SHA256SUMS").write_text("checksums, not a picture")
    collection = data.load_image_collection(folder, image_size=32, channels=3)
    assert collection.examples.shape == (10, 32, 32, 3) and collection.labels is None
    assert [name for name, _ in collection.skipped] == ["SHA256SUMS", "trainLabels.csv"]
    # train/1.png comes first in name order, and at its own size its pixels are unchanged.
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    assert np.array_equal(collection.examples[0], data.load_builtin("cifar10").examples[0])


def test_convert_images_resizes_crops_and_changes_channels():
    wide = np.zeros((2, 10, 20, 3), np.uint8)
    wide[:, :, 5:15] = [255, 0, 0]  # a red centre square between black side bands
    converted = data.convert_images(wide, image_size=8, channels=3)
    assert converted.shape == (2, 8, 8, 3)
    # The centre crop dropped the bands; only the filter's reach past the crop edge darkens the border slightly.
    assert converted[..., 0].min() >= 240 and converted[:, 1:-1, 1:-1, 0].min() == 255
    assert converted[..., 1:].max() == 0
    grey = data.convert_images(wide, image_size=10, channels=1)
    assert grey.shape == (2, 10, 10, 1) and grey[0, 5, 5, 0] == 76  # red's luminance: 299/1000 of 255
    assert data.convert_images(grey, 10, 1) is grey  # already the right shape
    with pytest.raises(ValueError, match="uint8"):
        data.convert_images(wide.astype(np.float32), 8, 3)


def test_to_uint8_images_inverts_the_training_scale_and_clips():
    pixels = np.arange(256, dtype=np.uint8)
    assert np.array_equal(data.to_uint8_images(pixels / 127.5 - 1.0), pixels)
    assert data.to_uint8_images(np.array([-3.0, -1.0, 1.0, 2.5])).tolist() == [0, 0, 255, 255]


def test_dataset_rejects_inconsistent_parts():
    images = np.zeros((3, 8, 8, 1), np.uint8)
    with pytest.raises(ValueError, match="one per example"):
        data.Dataset("bad", images, np.zeros(2, np.int32), ("a",))
    with pytest.raises(ValueError, match="labels must lie in 0..0"):
        data.Dataset("bad", images, np.array([0, 1, 0], np.int32), ("a",))
    with pytest.raises(ValueError, match="images must be uint8"):
        data.Dataset("bad", images.astype(np.float32), None, ())


def test_check_available_refuses_bad_data_before_a_run_exists(tmp_path, monkeypatch, png_folder):
    # A person's images: a text file named .zip, and a folder with no pictures, are refused with the reason.
    fake_zip = tmp_path / "holiday.zip"
    fake_zip.write_text("not a zip at all")
    with pytest.raises(ValueError, match="holiday.zip"):
        data.check_available(RunConfig(dataset="folder", data_path=str(fake_zip)))
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "notes.txt").write_text("no pictures here")
    with pytest.raises(ValueError, match="no usable images"):
        data.check_available(RunConfig(dataset="folder", data_path=str(tmp_path / "notes")))
    data.check_available(RunConfig(dataset="folder", data_path=str(png_folder)))
    data.check_available(RunConfig(dataset="ring", architecture="mlp"))
    data.check_available(RunConfig(dataset="digits"))

    # A built-in set found locally is only located; missing offline, it names where it looked.
    write_kaggle_cifar(tmp_path)
    monkeypatch.setenv("GAN_DATA_DIR", str(tmp_path))
    data.check_available(RunConfig(dataset="cifar10"))
    import keras

    def offline(*arguments, **keywords):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.setattr(data, "SYSTEM_DATA_DIR", tmp_path / "no-system-data")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(ValueError, match="mnist .train split. was not found.*GAN_DATA_DIR"):
        data.check_available(RunConfig(dataset="mnist"))
