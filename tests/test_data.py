"""The dataset registry, on the real data found the way the app finds it and on small image collections built here."""

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.inputs import data
from gan_core.spec.config import RunConfig
from support.datasets import KAGGLE_CLASSES, requires_dataset, write_kaggle_cifar

PROJECT_ROOT = Path(__file__).resolve().parents[1]
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
    with pytest.raises(ValueError, match="only 0 usable images; at least 8 are needed"):
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


def test_a_dataset_with_inputs_keeps_its_pairs_together():
    examples = np.arange(6 * 4, dtype=np.uint8).reshape(6, 2, 2, 1)
    inputs = 255 - examples
    paired = data.Dataset("pairs", examples, np.arange(6, dtype=np.int32) % 2, ("a", "b"), inputs=inputs, paired=True)
    chosen = paired.select(np.array([4, 1]))
    np.testing.assert_array_equal(chosen.inputs, 255 - chosen.examples)
    assert chosen.labels.tolist() == [0, 1]
    assert len(paired.first(3).inputs) == 3
    unpaired = data.Dataset("two sets", examples, None, (), inputs=inputs[:4])
    assert len(unpaired.select(np.array([0, 1, 2]), np.array([3])).inputs) == 1
    with pytest.raises(ValueError, match="paired inputs must be one per example"):
        data.Dataset("pairs", examples, None, (), inputs=inputs[:5], paired=True)
    with pytest.raises(ValueError, match="inputs must be uint8"):
        data.Dataset("pairs", examples, None, (), inputs=inputs.astype(np.float32))
    with pytest.raises(ValueError, match="only a dataset with inputs"):
        data.Dataset("pairs", examples, None, (), paired=True)


def test_the_built_in_datasets_a_run_needs_are_told_apart_from_those_here_without_loading_anything(tmp_path):
    # A fresh interpreter, so that TensorFlow is seen to stay out; the data folder holds Fashion-MNIST's file names
    # only (empty files), which shows that nothing is read.
    fashion = tmp_path / "data" / "fashion-mnist"
    fashion.mkdir(parents=True)
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (fashion / f"{stem}.gz").write_bytes(b"")
    script = (
        "import sys\n"
        "from gan_core.inputs import data\n"
        "from gan_core.spec.config import preset\n"
        "data.SYSTEM_DATA_DIR = data.Path(sys.argv[1])\n"
        "print([data.datasets_not_here(preset(name)) for name in sys.argv[2:]])\n"
        "print('tensorflow' in sys.modules)\n"
    )
    environment = {**os.environ, "GAN_DATA_DIR": str(tmp_path / "data"), "KERAS_HOME": str(tmp_path / "keras"),
                   "PYTHONPATH": str(PROJECT_ROOT)}
    answer = subprocess.run([sys.executable, "-c", script, str(tmp_path / "no-system-data"), "mnist-dcgan",
                             "fashion-dcgan", "digits-mlp", "ring-mlp", "mnist2fashion-cyclegan"],
                            capture_output=True, text=True, env=environment, cwd=PROJECT_ROOT, check=True)
    needed, tensorflow_imported = answer.stdout.splitlines()
    assert needed == "[('mnist',), (), (), (), ('mnist',)]"
    assert tensorflow_imported == "False"
