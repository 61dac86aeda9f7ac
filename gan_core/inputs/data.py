"""The dataset registry: built-in image sets, 2-D toy distributions and a person's own images.

A person's own images (a folder or a zip) are found, checked and decoded by `image_collection`; this module only
registers them beside the built-ins.

Every loader returns a `Dataset` of uint8 NHWC images (or float32 (N, 2) points) with optional labels, held in
memory: the largest built-in (CIFAR-10's 50,000 images) takes 150 MB.

Built-in sets are looked for as local files first, in the directories `data_dirs()` lists: each entry of the
environment variable GAN_DATA_DIR, then /usr/share/datasets (Debian's dataset packages), then Keras' download
cache. Only when none holds them does `keras.datasets` try to download them.

Splits: mnist, fashion_mnist and cifar10 use their official train / test splits. digits (scikit-learn's 1797
images) has none, so "test" is the last 297 images and "train" the first 1500, always the same. The toy sets draw
their test points from a seed no training run can use. A person's own collection has no held-out part, so both
splits return the whole collection.

TensorFlow, Keras and scikit-learn are imported only inside the functions that need them, so a page that only
shows real images stays light.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import importlib.util
import os
import pickle
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from gan_core.inputs import image_collection, point_sets
from gan_core.spec import registry
from gan_core.spec.config import NATIVE_IMAGE_SHAPES, POINT_DATASETS, TOY_DATASETS, RunConfig

if TYPE_CHECKING:
    from gan_core.store.runs import Run

BUILTIN_DATASETS = tuple(NATIVE_IMAGE_SHAPES)  # mnist, fashion_mnist, cifar10, digits
SPLITS = ("train", "test")
CLASS_NAMES = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "digits": tuple(str(digit) for digit in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}
SYSTEM_DATA_DIR = Path("/usr/share/datasets")
DIGITS_TEST_COUNT = 297
TOY_POINT_COUNT = 20_000
# Run seeds are below 2**31 (config.py), so test points drawn from seed + 2**31 never repeat any run's training points.
TOY_TEST_SEED_OFFSET = 2**31


def class_names(run: Run) -> list[str]:
    """The classes a conditional run generates, label i being the i-th name (empty for unconditional runs).

    A built-in set's names are fixed above; a person's own images take theirs from their sub-folders, which only
    the trainer reads, so they come from the summary it records beside the run (dataset.json).
    """
    if not registry.of(run.config).uses_labels(run.config):
        return []
    if run.config.dataset in CLASS_NAMES:
        return list(CLASS_NAMES[run.config.dataset])
    return list(run.dataset_summary().get("class_names", []))


@dataclass(frozen=True)
class Dataset:
    """Real examples for a run: uint8 (N, H, W, C) images or float32 (N, 2) points, with optional labels.

    Image-to-image variants also have `inputs`, the images they translate (domain A); `examples` are then what
    their outputs should look like (domain B, the targets), so that every measure of generated images against real
    ones reads the right side. With `paired`, inputs[i] and examples[i] are a pair; otherwise the two are
    independent collections, possibly of different sizes.
    """

    name: str
    examples: np.ndarray
    labels: np.ndarray | None  # int32 (N,) class indices, or None when unlabelled
    class_names: tuple[str, ...]  # () when unlabelled; class i is class_names[i]
    skipped: tuple[tuple[str, str], ...] = ()  # (file name, reason) for a person's files that were not used
    inputs: np.ndarray | None = None  # uint8 (M, H, W, C') images to translate, for image-to-image variants
    paired: bool = False  # inputs[i] goes with examples[i]
    input_labels: np.ndarray | None = None  # int32 (M,) class labels of the inputs, where they have classes

    def __post_init__(self) -> None:
        if self.is_points:
            if self.examples.dtype != np.float32 or self.examples.shape[1] != 2:
                raise ValueError(f"dataset {self.name!r}: points must be float32 (N, 2), "
                                 f"got {self.examples.dtype} {self.examples.shape}")
        elif self.examples.dtype != np.uint8 or self.examples.ndim != 4 or self.examples.shape[-1] not in (1, 3):
            raise ValueError(f"dataset {self.name!r}: images must be uint8 (N, H, W, 1 or 3), "
                             f"got {self.examples.dtype} {self.examples.shape}")
        self._check_inputs()
        if self.labels is None:
            if self.class_names:
                raise ValueError(f"dataset {self.name!r}: class_names must be () when there are no labels")
            return
        if self.labels.dtype != np.int32 or self.labels.shape != (len(self.examples),):
            raise ValueError(f"dataset {self.name!r}: labels must be int32 with one per example, "
                             f"got {self.labels.dtype} {self.labels.shape} for {len(self.examples)} examples")
        if len(self.labels) and not 0 <= self.labels.min() <= self.labels.max() < len(self.class_names):
            raise ValueError(f"dataset {self.name!r}: labels must lie in 0..{len(self.class_names) - 1}")

    def _check_inputs(self) -> None:
        if self.inputs is None:
            if self.paired or self.input_labels is not None:
                raise ValueError(f"dataset {self.name!r}: only a dataset with inputs can be paired or label them")
            return
        if self.inputs.dtype != np.uint8 or self.inputs.ndim != 4 or self.inputs.shape[-1] not in (1, 3):
            raise ValueError(f"dataset {self.name!r}: inputs must be uint8 (N, H, W, 1 or 3), "
                             f"got {self.inputs.dtype} {self.inputs.shape}")
        if self.paired and len(self.inputs) != len(self.examples):
            raise ValueError(f"dataset {self.name!r}: paired inputs must be one per example, "
                             f"got {len(self.inputs)} inputs for {len(self.examples)} examples")
        if self.input_labels is not None and self.input_labels.shape != (len(self.inputs),):
            raise ValueError(f"dataset {self.name!r}: input_labels must be one per input")

    @property
    def num_classes(self) -> int:
        """How many classes the labels name; 0 when unlabelled."""
        return len(self.class_names)

    @property
    def is_points(self) -> bool:
        """True for the 2-D toy sets, whose examples are points rather than images."""
        return self.examples.ndim == 2

    def first(self, count: int) -> Dataset:
        """The first `count` examples (and inputs; all of them when there are fewer)."""
        return self.select(np.arange(min(count, len(self.examples))),
                           None if self.inputs is None else np.arange(min(count, len(self.inputs))))

    def select(self, example_indices: np.ndarray, input_indices: np.ndarray | None = None) -> Dataset:
        """The examples at `example_indices` and the inputs at `input_indices` (the same ones when paired)."""
        if self.paired:
            input_indices = example_indices
        labels = None if self.labels is None else self.labels[example_indices]
        if self.inputs is None or input_indices is None:
            return dataclasses.replace(self, examples=self.examples[example_indices], labels=labels)
        input_labels = None if self.input_labels is None else self.input_labels[input_indices]
        return dataclasses.replace(self, examples=self.examples[example_indices], labels=labels,
                                   inputs=self.inputs[input_indices], input_labels=input_labels)


def load_dataset(config: RunConfig, split: str = "train") -> Dataset:
    """Everything a run trains on (or is judged against), shaped as `config.data_shape`.

    The run's variant decides: most take the dataset as it is; image-to-image variants build their inputs (and may
    read a person's collection their own way).
    """
    _check_split(split)
    return registry.of(config).load_dataset(config, split, lambda: load_images_or_points(config, split))


def load_images_or_points(config: RunConfig, split: str = "train") -> Dataset:
    """The run's dataset itself: a built-in set, a toy distribution or a person's collection, as data_shape."""
    _check_split(split)
    if config.dataset == "points":
        dataset = Dataset("points", point_sets.read_points_file(config.data_path), None, ())
    elif config.is_points:
        seed = config.seed if split == "train" else config.seed + TOY_TEST_SEED_OFFSET
        dataset = Dataset(config.dataset, toy_points(config.dataset, TOY_POINT_COUNT, seed), None, ())
    elif config.dataset == "folder":
        image_size, _, channels = config.data_shape
        collection = image_collection.load_image_collection(config.data_path, image_size, channels)
        dataset = Dataset(collection.name, collection.images, collection.labels, collection.class_names,
                          collection.skipped)
    else:
        dataset = load_builtin(config.dataset, split)
    if split == "train" and config.max_examples:
        dataset = dataset.first(config.max_examples)
    if split == "train" and config.labels_per_class:
        dataset = dataset.select(labelled_budget(dataset.labels, config.labels_per_class, config.seed))
    if not dataset.is_points and dataset.examples.shape[1:] != config.data_shape:
        image_size, _, channels = config.data_shape
        dataset = dataclasses.replace(dataset, examples=convert_images(dataset.examples, image_size, channels))
    return dataset


def labelled_budget(labels: np.ndarray | None, per_class: int, seed: int) -> np.ndarray:
    """Indices of `per_class` examples of every class, drawn with `seed`, in stored order: a small labelled budget.

    The draw for a larger budget holds the draw for a smaller one with the same seed (each class's examples are
    taken in one seeded order), so that budgets compared side by side differ only in how many labels they add.
    """
    if labels is None:
        raise ValueError("labels_per_class needs a labelled dataset (a built-in one with classes, or your own images "
                         "in one sub-folder per class); this one has no labels")
    if per_class < 1:
        raise ValueError(f"labels_per_class={per_class} is not allowed; use a positive count (0 means all)")
    random = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < per_class:
            raise ValueError(f"labels_per_class={per_class} is more than class {label} has ({len(members)} "
                             f"examples); use at most {len(members)}")
        chosen.append(members[random.permutation(len(members))[:per_class]])
    return np.sort(np.concatenate(chosen))


def check_available(config: RunConfig) -> None:
    """Raise ValueError saying what is missing unless the data `config` trains on can be had.

    Called before a run is created, so bad data is refused at Start instead of failing the run at step 0. It is
    cheap where it can be: a built-in set found on this machine is only located, not loaded. A built-in set that
    is not here is downloaded now (what training would do first anyway), and offline that fails with the
    directories searched and the file names expected. A person's folder or zip is read through, since only
    decoding its images shows that some are usable.
    """
    if config.dataset in ("ring", "grid", "spiral", "moons", "digits"):
        return  # generated, or bundled with scikit-learn
    if config.dataset in ("folder", "points"):
        load_dataset(config)
    for name in datasets_not_here(config):
        _download_with_keras(name, "train")


def datasets_not_here(config: RunConfig) -> tuple[str, ...]:
    """The built-in datasets `config` trains on that are not on this machine, which its first run would download.

    Only file names are looked at (`find_builtin`): nothing is downloaded or loaded and TensorFlow is not imported,
    so a page can ask this of every preset on every rerun. Besides the run's own dataset, a variant may train on a
    second one (CycleGAN's built-in domain B), which is the one its judge reads.
    """
    needed = {config.dataset, registry.of(config).judged_dataset(config)}
    return tuple(name for name in BUILTIN_DATASETS if name in needed and find_builtin(name, "train") is None)


def load_builtin(name: str, split: str = "train") -> Dataset:
    """A built-in image set at its native shape: local files first, then a Keras download."""
    if name not in BUILTIN_DATASETS:
        raise ValueError(f"built-in dataset {name!r} does not exist; choose one of {', '.join(BUILTIN_DATASETS)}")
    _check_split(split)
    if name == "digits":
        return _load_digits(split)
    for directory in data_dirs():
        found = _load_local(name, directory, split)
        if found is not None:
            images, labels = found
            return Dataset(name, images, labels.astype(np.int32), CLASS_NAMES[name])
    return _download_with_keras(name, split)


def data_dirs() -> tuple[Path, ...]:
    """The directories searched for built-in datasets, in order."""
    from_environment = [Path(entry).expanduser() for entry in os.environ.get("GAN_DATA_DIR", "").split(os.pathsep)
                        if entry.strip()]
    keras_home = Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser()
    return (*from_environment, SYSTEM_DATA_DIR, keras_home / "datasets")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not allowed; use one of {', '.join(SPLITS)}")


def _load_local(name: str, directory: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    found = _local_source(name, directory, split)
    if found is None:
        return None
    layout, path = found
    if layout == "cifar_batches":
        return _load_cifar_batches(path, split)
    if layout == "cifar_kaggle":
        return _load_cifar_kaggle(path)
    if layout == "idx":
        return _load_idx_pair(path, split)
    return _load_mnist_npz(path, split)


def _local_source(name: str, directory: Path, split: str) -> tuple[str, Path] | None:
    """Which layout of `name`'s files `directory` holds, and where: ("idx" | "npz" | "cifar_batches" |
    "cifar_kaggle", path), or None. Only file names are looked at, so this is cheap; the one home of the layouts."""
    if name == "cifar10":
        for folder in (directory / "cifar-10-batches-py", directory / "cifar10" / "cifar-10-batches-py",
                       directory / "cifar-10-batches-py-target" / "cifar-10-batches-py"):
            if all((folder / file_name).is_file() for file_name in _cifar_batch_names(split)):
                return "cifar_batches", folder
        root = directory / "cifar10"
        if split == "train" and root.is_dir():
            for folder in (root, *sorted(path for path in root.iterdir() if path.is_dir())):
                if (folder / "trainLabels.csv").is_file() and (folder / "train").is_dir():
                    return "cifar_kaggle", folder
        return None
    prefix = "train" if split == "train" else "t10k"
    folders = ("mnist",) if name == "mnist" else ("fashion_mnist", "fashion-mnist")
    for folder in folders:
        if _first_file(directory / folder, f"{prefix}-images", 3) and _first_file(directory / folder,
                                                                                  f"{prefix}-labels", 1):
            return "idx", directory / folder
    if name == "mnist":
        for npz_path in (directory / "mnist.npz", directory / "mnist" / "mnist.npz"):
            if npz_path.is_file():
                return "npz", npz_path
    return None


def find_builtin(name: str, split: str = "train") -> Path | None:
    """Where the built-in set `name` is on this machine (the first match in `data_dirs()`), without loading it.

    None when it is not here (a load would then try Keras' download); digits, bundled with scikit-learn, is always
    here and answers with scikit-learn's data folder.
    """
    if name not in BUILTIN_DATASETS:
        raise ValueError(f"built-in dataset {name!r} does not exist; choose one of {', '.join(BUILTIN_DATASETS)}")
    _check_split(split)
    if name == "digits":
        return _digits_folder()
    for directory in data_dirs():
        found = _local_source(name, directory, split)
        if found is not None:
            return found[1]
    return None


def _load_idx_pair(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray] | None:
    prefix = "train" if split == "train" else "t10k"
    images_path = _first_file(folder, f"{prefix}-images", 3)
    labels_path = _first_file(folder, f"{prefix}-labels", 1)
    if images_path is None or labels_path is None:
        return None
    images = read_idx(images_path, expected_dimensions=3)
    labels = read_idx(labels_path, expected_dimensions=1)
    _check_images_and_labels(folder, images, labels, (28, 28))
    return images[..., np.newaxis], labels


def _first_file(folder: Path, stem: str, dimensions: int) -> Path | None:
    # The official names, their un-gzipped form, and the dotted form some mirrors use.
    idx = f"idx{dimensions}-ubyte"
    for file_name in (f"{stem}-{idx}.gz", f"{stem}-{idx}", f"{stem}.{idx}"):
        if (folder / file_name).is_file():
            return folder / file_name
    return None


def read_idx(path: Path, expected_dimensions: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped or not), checking its magic number and length."""
    try:
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as file:
            raw = file.read()
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path} cannot be read: {error}") from None
    expected_magic = 0x0800 + expected_dimensions  # two zero bytes, type 0x08 (unsigned byte), the number of dimensions
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if magic != expected_magic:
        raise ValueError(f"{path} is not an IDX file of {expected_dimensions}-D unsigned bytes: magic number {magic}, "
                         f"expected {expected_magic}")
    header_size = 4 + 4 * expected_dimensions
    shape = tuple(int.from_bytes(raw[4 + 4 * axis:8 + 4 * axis], "big") for axis in range(expected_dimensions))
    if len(raw) != header_size + int(np.prod(shape)):
        raise ValueError(f"{path} is truncated or corrupt: its header promises shape {shape} "
                         f"({header_size + int(np.prod(shape))} bytes) but the file holds {len(raw)} bytes")
    return np.frombuffer(raw, np.uint8, offset=header_size).reshape(shape).copy()


def _load_mnist_npz(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as arrays:
            images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is not a readable Keras mnist.npz: {error}") from None
    _check_images_and_labels(path, images, labels, (28, 28))
    return images[..., np.newaxis].astype(np.uint8), labels


def _check_images_and_labels(source: Path, images: np.ndarray, labels: np.ndarray, size: tuple[int, int]) -> None:
    if images.shape[1:3] != size or labels.shape != (len(images),) or (len(labels) and labels.max() > 9):
        raise ValueError(f"{source}: expected {size[0]}x{size[1]} images with one label 0..9 each, "
                         f"got images {images.shape} and labels {labels.shape}")


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles CIFAR's batch files but refuses anything except numpy arrays, so a planted file cannot run code."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch file")
        return super().find_class(module, name)


def _cifar_batch_names(split: str) -> list[str]:
    return [f"data_batch_{index}" for index in range(1, 6)] if split == "train" else ["test_batch"]


def _load_cifar_batches(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    # The official Python pickles, where a person unpacks them or where Keras' cache extracts them.
    images, labels = [], []
    for file_name in _cifar_batch_names(split):
        try:
            with open(folder / file_name, "rb") as file:
                batch = _ArrayUnpickler(file, encoding="bytes").load()
            images.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.append(np.asarray(batch[b"labels"]))
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{folder / file_name} is not a readable CIFAR-10 batch: {error}") from None
    return np.concatenate(images), np.concatenate(labels)


def _load_cifar_kaggle(folder: Path) -> tuple[np.ndarray, np.ndarray] | None:
    # Kaggle's layout: trainLabels.csv (N,class or N.png,class) beside train/N.png (found by _local_source).
    labels_path = folder / "trainLabels.csv"
    images, labels = [], []
    with open(labels_path, newline="") as file:
        for line_number, row in enumerate(csv.reader(file), start=1):
            if not row or (line_number == 1 and row == ["id", "label"]):
                continue
            if len(row) != 2 or row[1] not in CLASS_NAMES["cifar10"]:
                raise ValueError(f"{labels_path} line {line_number}: expected 'N.png,<class>' with one of "
                                 f"{', '.join(CLASS_NAMES['cifar10'])}, got {','.join(row)!r}")
            image_path = folder / "train" / (row[0] if row[0].endswith(".png") else f"{row[0]}.png")
            try:
                with Image.open(image_path) as image:
                    pixels = np.asarray(image.convert("RGB"))
            except OSError as error:
                raise ValueError(f"{image_path} (listed in {labels_path}) cannot be read: {error}") from None
            if pixels.shape != (32, 32, 3):
                raise ValueError(f"{image_path} is {pixels.shape[1]}x{pixels.shape[0]}; CIFAR-10 images are 32x32")
            images.append(pixels)
            labels.append(CLASS_NAMES["cifar10"].index(row[1]))
    return (np.stack(images), np.asarray(labels)) if images else None


EXPECTED_FILES = {
    "mnist": "mnist/ holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
             "t10k-labels-idx1-ubyte.gz (the same names without .gz also work), or Keras' mnist.npz",
    "fashion_mnist": "fashion-mnist/ (or fashion_mnist/) holding train-images-idx3-ubyte.gz, "
                     "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz "
                     "(the same names without .gz also work)",
    "cifar10": "cifar-10-batches-py/ holding data_batch_1 ... data_batch_5 and test_batch, or, for the train split "
               "only, cifar10/<any folder>/ holding trainLabels.csv (lines N.png,<class name>) and train/N.png",
}


def _download_with_keras(name: str, split: str) -> Dataset:
    import keras  # Imported here because it loads TensorFlow, which a page showing real images does not need.

    try:
        (train_images, train_labels), (test_images, test_labels) = getattr(keras.datasets, name).load_data()
    except Exception as error:  # Keras wraps network failures in a bare Exception, so nothing narrower catches them.
        searched = ", ".join(str(directory) for directory in data_dirs())
        raise ValueError(
            f"{name} ({split} split) was not found on this machine and could not be downloaded "
            f"({type(error).__name__}: {error}). Searched these directories in order: {searched}. Expected in one "
            f"of them: {EXPECTED_FILES[name]}. Put the files there, or set the environment variable GAN_DATA_DIR to "
            f"the directory that holds them (several directories separated by {os.pathsep!r})."
        ) from None
    images, labels = (train_images, train_labels) if split == "train" else (test_images, test_labels)
    images = images if images.ndim == 4 else images[..., np.newaxis]
    return Dataset(name, images.astype(np.uint8), labels.reshape(-1).astype(np.int32), CLASS_NAMES[name])


def _digits_folder() -> Path:
    """scikit-learn's folder of bundled data, found without importing scikit-learn."""
    return Path(importlib.util.find_spec("sklearn").origin).parent / "datasets" / "data"


def _load_digits(split: str) -> Dataset:
    # The file `sklearn.datasets.load_digits` reads, read the same way (64 pixel values from 0 to 16, then the label):
    # importing scikit-learn would take a second of a digits run's start.
    table = np.loadtxt(_digits_folder() / "digits.csv.gz", delimiter=",")
    images = np.rint(table[:, :-1].reshape(-1, 8, 8) * (255 / 16)).astype(np.uint8)[..., np.newaxis]
    labels = table[:, -1].astype(np.int32)
    part = slice(None, -DIGITS_TEST_COUNT) if split == "train" else slice(-DIGITS_TEST_COUNT, None)
    return Dataset("digits", images[part], labels[part], CLASS_NAMES["digits"])


TOY_MODE_SPREADS = {"ring": 0.02, "grid": 0.05}


def toy_mode_centres(name: str) -> np.ndarray | None:
    """The centres of the Gaussian mixture for "ring" (8) and "grid" (25); None for the other 2-D sets."""
    _check_toy_name(name, POINT_DATASETS)
    if name == "ring":
        # Ring and grid follow VEEGAN (Srivastava et al., 2017) and Unrolled GAN (Metz et al., 2017).
        angles = np.arange(8) * (2 * np.pi / 8)
        return (2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)
    if name == "grid":
        steps = np.arange(-4.0, 5.0, 2.0)
        return np.stack(np.meshgrid(steps, steps), axis=-1).reshape(-1, 2).astype(np.float32)
    return None


def toy_mode_spread(name: str) -> float | None:
    """The standard deviation of each Gaussian mode of "ring" and "grid"; None for the other 2-D sets."""
    _check_toy_name(name, POINT_DATASETS)
    return TOY_MODE_SPREADS.get(name)


def toy_points(name: str, count: int, seed: int) -> np.ndarray:
    """`count` float32 points (count, 2) from a 2-D toy distribution; the same seed gives the same points."""
    _check_toy_name(name)
    if count < 1:
        raise ValueError(f"count={count} is not allowed; draw at least 1 point")
    random = np.random.default_rng(seed)
    if name in ("ring", "grid"):
        centres = toy_mode_centres(name)
        points = centres[random.integers(len(centres), size=count)]
        points = points + random.normal(0, toy_mode_spread(name), size=(count, 2))
    elif name == "spiral":
        # One and a half turns whose radius grows with the angle, scaled to fit within about [-5, 5].
        angle = 1.5 * np.pi * (1 + 2 * random.random(count))
        points = np.stack([angle * np.cos(angle), angle * np.sin(angle)], axis=1) / 3
        points += random.normal(0, 0.05, size=(count, 2))
    else:
        from sklearn.datasets import make_moons

        moons, _ = make_moons(n_samples=count, noise=0.05, random_state=seed % 2**32)
        points = 2 * (moons - [0.5, 0.25])  # centred on the origin and spread to about [-3, 3]
    return points.astype(np.float32)


def _check_toy_name(name: str, allowed: tuple[str, ...] = TOY_DATASETS) -> None:
    if name not in allowed:
        raise ValueError(f"toy dataset {name!r} does not exist; choose one of {', '.join(allowed)}")


def convert_images(images: np.ndarray, image_size: int, channels: int) -> np.ndarray:
    """uint8 NHWC images as image_size x image_size x channels (centre-cropped, resized, grey <-> RGB)."""
    image_collection.check_image_shape(image_size, channels)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must be uint8 (N, H, W, 1 or 3), got {images.dtype} {images.shape}")
    if images.shape[1:] == (image_size, image_size, channels):
        return images
    converted = np.empty((len(images), image_size, image_size, channels), np.uint8)
    for index, image in enumerate(images):
        picture = Image.fromarray(image[..., 0], "L") if image.shape[-1] == 1 else Image.fromarray(image, "RGB")
        converted[index] = image_collection.fit_image(picture, image_size, channels)
    return converted


def to_uint8_images(generated: np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] as uint8 pixels (values outside the range are clipped)."""
    pixels = (np.asarray(generated, dtype=np.float32) + 1.0) * 127.5
    return np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
