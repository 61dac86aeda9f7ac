"""Datasets for tests: finding the public ones the way the app does, and making small image folders.

Tests that need MNIST, Fashion-MNIST or CIFAR-10 ask `requires_dataset(name)`: it looks where the app looks
(`gan_core.inputs.data.data_dirs()`: each directory of GAN_DATA_DIR, /usr/share/datasets, Keras' cache), then tries
Keras' download, and skips the test with the reason when the data cannot be had (offline, no files). Tests
that only need some images build them with `write_png_folder`, so a fresh clone runs them anywhere.

This module imports gan_core (and so TensorFlow): tests/conftest.py imports it only after quietening TensorFlow's
logs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_core.inputs import data

# (name, splits) -> why it cannot be had ("" when it can), so an offline machine tries each download once.
_UNAVAILABLE: dict[tuple[str, tuple[str, ...]], str] = {}


def requires_dataset(name: str, splits: tuple[str, ...] = data.SPLITS) -> None:
    """Skip the calling test (or fixture) unless the built-in dataset `name` (these splits) is on this machine or
    can be downloaded."""
    if (name, splits) not in _UNAVAILABLE:
        try:
            if any(data.find_builtin(name, split) is None for split in splits):
                data.load_builtin(name, splits[0])  # Keras' download, which also fills its cache for later tests
                if any(data.find_builtin(name, split) is None for split in splits):
                    raise ValueError("Keras' download did not put the files where the app looks")
            _UNAVAILABLE[(name, splits)] = ""
        except ValueError as error:
            _UNAVAILABLE[(name, splits)] = (f"{name} is not on this machine and cannot be downloaded; set GAN_DATA_DIR "
                                            f"to a directory holding {data.EXPECTED_FILES[name]}. "
                                            f"{str(error)[:160]}...")
    if _UNAVAILABLE[(name, splits)]:
        pytest.skip(_UNAVAILABLE[(name, splits)])



def write_png_folder(folder: Path, count: int, size: int = 32, classes: tuple[str, ...] = (), seed: int = 0) -> Path:
    """`count` random colour PNGs (size x size) in `folder`, spread over one sub-folder per class if any given."""
    random = np.random.default_rng(seed)
    for index in range(count):
        target = folder / classes[index % len(classes)] if classes else folder
        target.mkdir(parents=True, exist_ok=True)
        # Smooth colour gradients plus noise: real-looking enough for the decoders and the networks.
        ramp = np.linspace(0, 255, size)[None, :, None] * random.random(3)
        pixels = np.clip(ramp + random.normal(0, 30, (size, size, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(target / f"{index:04d}.png")
    return folder


KAGGLE_CLASSES = ["frog", "truck", "truck", "deer", "automobile", "automobile", "bird", "horse", "ship", "cat"]


def write_kaggle_cifar(folder: Path, classes: list[str] = KAGGLE_CLASSES) -> Path:
    """CIFAR-10 in Kaggle's layout (trainLabels.csv beside train/N.png), made-up 32x32 images, in folder/cifar10/."""
    root = folder / "cifar10" / "kaggle_train"
    write_png_folder(root / "train", len(classes))
    for index, path in enumerate(sorted((root / "train").iterdir()), start=1):
        path.rename(root / "train" / f"{index}.png")
    lines = ["id,label"] + [f"{index},{name}" for index, name in enumerate(classes, start=1)]
    (root / "trainLabels.csv").write_text("\n".join(lines) + "\n")
    return root
