"""Real and generated examples laid out alike, so that a person can judge them side by side.

A comparison grid has one row per class for conditional runs (class i in row i, for both sides) and is a
plain square-ish grid otherwise. The real side is drawn from the training data with a fixed seed, so the same
settings always show the same real examples.
"""

from __future__ import annotations

import math

import numpy as np

from gan_core.inputs.data import Dataset


def grid_labels(num_classes: int, columns: int) -> np.ndarray:
    """Class labels for a grid of one row per class, `columns` wide: 0,0,...,1,1,...; int32."""
    if num_classes < 1 or columns < 1:
        raise ValueError(f"a class grid needs at least one class and one column, got {num_classes} and {columns}")
    return np.repeat(np.arange(num_classes), columns).astype(np.int32)


def cycled_labels(count: int, num_classes: int) -> np.ndarray:
    """Labels 0, 1, ..., num_classes - 1, 0, 1, ... for `count` samples: how a conditional run's samples are
    spread over its classes when none are asked for (evaluate_run's samples among them)."""
    return np.arange(count) % num_classes


def grid_shape(count: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns) for `count` tiles: `columns` wide if given, else as square as possible."""
    if count < 1:
        raise ValueError(f"a grid needs at least one tile, got {count}")
    columns = columns or math.ceil(math.sqrt(count))
    return math.ceil(count / columns), columns


def matching_real_examples(dataset: Dataset, count: int, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
    """`count` real examples drawn without repeats where possible; with `labels`, example i has class labels[i].

    Raises ValueError when labels are asked for but the dataset has none, or a class has no examples.
    """
    if count < 1:
        raise ValueError(f"count={count} is not allowed; ask for at least 1 example")
    random = np.random.default_rng(seed)
    if labels is None:
        chosen = random.choice(len(dataset.examples), size=count, replace=count > len(dataset.examples))
        return dataset.examples[chosen]
    labels = np.asarray(labels)
    if len(labels) != count:
        raise ValueError(f"{len(labels)} labels were given for {count} examples; give one label per example")
    if dataset.labels is None:
        raise ValueError(f"dataset {dataset.name!r} has no labels, so examples cannot be matched to classes")
    chosen = np.empty(count, dtype=np.int64)
    for label in np.unique(labels):
        members = np.flatnonzero(dataset.labels == label)
        if len(members) == 0:
            raise ValueError(f"dataset {dataset.name!r} has no examples of class {label}")
        wanted = labels == label
        chosen[wanted] = random.choice(members, size=int(wanted.sum()), replace=wanted.sum() > len(members))
    return dataset.examples[chosen]
