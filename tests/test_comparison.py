"""Laying out real examples to match generated ones, on the real digits."""

import numpy as np
import pytest

from gan_core.inputs import comparison, data


@pytest.fixture(scope="module")
def digits():
    return data.load_builtin("digits")


def test_grid_labels_and_shape():
    np.testing.assert_array_equal(comparison.grid_labels(3, 2), [0, 0, 1, 1, 2, 2])
    assert comparison.grid_shape(64) == (8, 8)
    assert comparison.grid_shape(10) == (3, 4)
    assert comparison.grid_shape(30, columns=3) == (10, 3)
    with pytest.raises(ValueError, match="at least one tile"):
        comparison.grid_shape(0)


def test_real_examples_follow_the_requested_classes(digits):
    labels = comparison.grid_labels(10, 4)
    chosen = comparison.matching_real_examples(digits, len(labels), seed=3, labels=labels)
    assert chosen.shape == (40, 8, 8, 1)
    # Each chosen image is an example of the class asked for: find it in the dataset and read its label.
    flat = digits.examples.reshape(len(digits.examples), -1)
    for image, label in zip(chosen, labels):
        matches = np.flatnonzero((flat == image.reshape(-1)).all(axis=1))
        assert label in digits.labels[matches]


def test_real_examples_are_repeatable_and_distinct(digits):
    first = comparison.matching_real_examples(digits, 16, seed=1)
    np.testing.assert_array_equal(first, comparison.matching_real_examples(digits, 16, seed=1))
    assert len({image.tobytes() for image in first}) == 16


def test_real_examples_refuse_labels_the_dataset_cannot_give(digits):
    unlabelled = data.Dataset("ring", data.toy_points("ring", 50, seed=0), None, ())
    with pytest.raises(ValueError, match="has no labels"):
        comparison.matching_real_examples(unlabelled, 2, seed=0, labels=np.array([0, 1]))
    with pytest.raises(ValueError, match="no examples of class 12"):
        comparison.matching_real_examples(digits, 1, seed=0, labels=np.array([12]))
    with pytest.raises(ValueError, match="2 labels were given for 3"):
        comparison.matching_real_examples(digits, 3, seed=0, labels=np.array([0, 1]))
