"""Tests for gan_core.measuring.label_measures: hand-computed matchings, purities and distances; CAS on scikit-learn's
digits."""

import subprocess
import sys

import numpy as np
import pytest

from gan_core.inputs import data
from gan_core.measuring import label_measures


def samples_from_counts(counts):
    """(codes, classes) holding counts[code][class] samples of each pair, so a confusion matrix can be written out."""
    codes, classes = [], []
    for code, row in enumerate(counts):
        for class_index, count in enumerate(row):
            codes += [code] * count
            classes += [class_index] * count
    return np.array(codes), np.array(classes)


# ---------------------------------------------------------------------------------------------------------------
# Matching codes to classes


def test_a_permuted_labelling_is_matched_back_exactly():
    classes = np.array([0, 0, 1, 1, 1, 2, 3, 3])
    code_of_class = np.array([2, 0, 3, 1])
    codes = code_of_class[classes]
    mapping = label_measures.match_codes_to_classes(codes, classes, 4, 4)
    assert mapping.tolist() == [1, 3, 0, 2]
    assert label_measures.matched_accuracy(codes, classes, 4, 4) == 1.0


def test_matching_maximises_total_agreement_rather_than_each_codes_majority():
    # Code 0's majority is class 0, but giving class 0 to code 1 and class 1 to code 0 agrees with 8 samples, not 5.
    codes, classes = samples_from_counts([[5, 4, 0], [4, 0, 0], [0, 0, 3]])
    mapping = label_measures.match_codes_to_classes(codes, classes, 3, 3)
    assert mapping.dtype.kind == "i"
    assert mapping.tolist() == [1, 0, 2]
    assert label_measures.matched_accuracy(codes, classes, 3, 3) == pytest.approx(11 / 16)


def test_codes_left_without_a_class_get_minus_one_and_count_as_wrong():
    # Two classes, three codes: code 1 (1 sample of class 0) loses class 0 to code 0 (2 samples).
    codes, classes = samples_from_counts([[2, 0], [1, 0], [1, 2]])
    assert label_measures.match_codes_to_classes(codes, classes, 3, 2).tolist() == [0, -1, 1]
    assert label_measures.matched_accuracy(codes, classes, 3, 2) == pytest.approx(4 / 6)


def test_fewer_codes_than_classes_leave_classes_unmatched():
    codes, classes = samples_from_counts([[0, 1, 3], [2, 0, 0]])
    assert label_measures.match_codes_to_classes(codes, classes, 2, 3).tolist() == [2, 0]
    assert label_measures.matched_accuracy(codes, classes, 2, 3) == pytest.approx(5 / 6)


def test_code_purity_of_a_hand_example():
    # Code 0: classes 1, 1, 1, 0; code 1: classes 1, 1; code 2 never occurs. Both codes mean class 1, which purity
    # forgives and the one-to-one matching does not: only 3 of 6 samples can be matched.
    codes = np.array([0, 0, 0, 0, 1, 1])
    classes = np.array([1, 1, 1, 0, 1, 1])
    result = label_measures.code_purity(codes, classes, 3, 3)
    assert result["purity"] == pytest.approx(5 / 6)
    assert result["per_code"] == [
        {"code": 0, "majority_class": 1, "purity": 0.75, "count": 4},
        {"code": 1, "majority_class": 1, "purity": 1.0, "count": 2},
    ]
    assert result["matched_accuracy"] == pytest.approx(0.5)


# ---------------------------------------------------------------------------------------------------------------
# Requested-class accuracy


def test_requested_class_accuracy_leaves_a_class_never_requested_as_none():
    requested = np.array([0, 0, 0, 0, 1, 1])
    predicted = np.array([0, 0, 0, 2, 1, 0])
    result = label_measures.requested_class_accuracy(requested, predicted, 3)
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["per_class"] == [0.75, 0.5, None]


# ---------------------------------------------------------------------------------------------------------------
# Diversity


def test_diversity_is_zero_for_identical_points_and_the_distance_for_two_points():
    features = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [3.0, 4.0], [7.0, 7.0]])
    labels = np.array([0, 0, 0, 1, 1, 2])
    assert label_measures.per_class_diversity(features, labels, 4) == [0.0, 5.0, None, None]


def test_diversity_of_three_points_is_the_mean_of_the_three_distances():
    features = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]])  # distances 5, 5 and 8
    assert label_measures.per_class_diversity(features, np.zeros(3, dtype=int), 1) == [pytest.approx(6.0)]


def test_diversity_subsamples_large_classes_the_same_way_for_the_same_seed():
    features = np.random.default_rng(0).normal(size=(300, 4))
    labels = np.zeros(300, dtype=int)
    full = label_measures.per_class_diversity(features, labels, 1)[0]
    first = label_measures.per_class_diversity(features, labels, 1, max_per_class=50, seed=3)[0]
    again = label_measures.per_class_diversity(features, labels, 1, max_per_class=50, seed=3)[0]
    other = label_measures.per_class_diversity(features, labels, 1, max_per_class=50, seed=4)[0]
    assert first == again != other
    assert first == pytest.approx(full, rel=0.1)


def test_diversity_ratio_divides_generated_by_real_per_class():
    generated = np.array([[0.0], [1.0], [0.0], [6.0], [5.0]])
    generated_labels = np.array([0, 0, 1, 1, 2])
    real = np.array([[0.0], [4.0], [1.0], [4.0], [2.0], [2.0]])
    real_labels = np.array([0, 0, 1, 1, 3, 3])
    result = label_measures.diversity_ratio(generated, generated_labels, real, real_labels, 4)
    # Class 2 has one generated row and no real ones; class 3's real rows are identical, so no ratio either.
    assert result["per_class"] == [0.25, 2.0, None, None]
    assert result["mean"] == pytest.approx(1.125)
    assert result["generated"] == [1.0, 6.0, None, None]
    assert result["real"] == [4.0, 3.0, None, 0.0]


# ---------------------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("call, message", [
    (lambda: label_measures.match_codes_to_classes([0, 1], [0, 1, 1], 2, 2), "codes and classes must have the same"),
    (lambda: label_measures.match_codes_to_classes([0, 5], [0, 1], 2, 2), r"codes must lie in \[0, 1\]"),
    (lambda: label_measures.match_codes_to_classes([0, 1], [0, -1], 2, 2), r"classes must lie in \[0, 1\]"),
    (lambda: label_measures.match_codes_to_classes([0, 1], [0, 1], 0, 2), "num_codes must be an integer >= 1"),
    (lambda: label_measures.match_codes_to_classes([[0, 1]], [0, 1], 2, 2), "codes must be a non-empty 1-D array"),
    (lambda: label_measures.matched_accuracy([0.5, 1], [0, 1], 2, 2), "predicted_codes must hold integer"),
    (lambda: label_measures.matched_accuracy([0, 1], [0, 3], 2, 2), "true_classes must lie in"),
    (lambda: label_measures.code_purity([], [], 2, 2), "codes must be a non-empty 1-D array"),
    (lambda: label_measures.requested_class_accuracy([0, 1], [0, 1, 2], 3), "requested and predicted must have"),
    (lambda: label_measures.requested_class_accuracy([0, 1], [0, 3], 3), "predicted must lie in"),
    (lambda: label_measures.per_class_diversity([1.0, 2.0], [0, 0], 1), "features must be 2-D"),
    (lambda: label_measures.per_class_diversity([[1.0], [2.0]], [0], 1), "labels must have one entry for each of"),
    (lambda: label_measures.per_class_diversity([[1.0], [2.0]], [0, 2], 2), "labels must lie in"),
    (lambda: label_measures.per_class_diversity([[1.0], [2.0]], [0, 0], 1, max_per_class=1), "max_per_class"),
    (lambda: label_measures.diversity_ratio([[1.0]], [0], [[1.0, 2.0]], [0], 1), "generated_features has 1"),
    (lambda: label_measures.diversity_ratio([[1.0]], [1], [[1.0]], [0], 1), "generated_labels must lie in"),
    (lambda: label_measures.diversity_ratio([[1.0]], [0], [[1.0]], [0, 0], 1), "real_labels must have one entry"),
])
def test_bad_input_raises_a_value_error_naming_the_field(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_images_are_refused_before_any_training():
    images = np.zeros((4, 8, 8, 1), np.uint8)
    labels = np.array([0, 1, 0, 1])
    score = label_measures.classification_accuracy_score
    with pytest.raises(ValueError, match="train_images must be a non-empty uint8"):
        score(images.astype(np.float32), labels, images, labels, 2)
    with pytest.raises(ValueError, match="train_labels must have one entry for each of the 4 rows of train_images"):
        score(images, labels[:3], images, labels, 2)
    with pytest.raises(ValueError, match="test_labels must lie in"):
        score(images, labels, images, labels + 1, 2)
    with pytest.raises(ValueError, match=r"train_images are \(8, 8, 1\) but test_images are \(8, 8, 3\)"):
        score(images, labels, np.zeros((4, 8, 8, 3), np.uint8), labels, 2)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        score(images, labels, images, labels, 2, epochs=0)
    with pytest.raises(ValueError, match="real_images are"):
        label_measures.classification_accuracy_scores(images, labels, np.zeros((4, 9, 9, 1), np.uint8), labels,
                                                      images, labels, 2)


def test_the_module_imports_without_tensorflow():
    code = "import sys, gan_core.measuring.label_measures; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------------------------
# Classification Accuracy Score, on scikit-learn's 8x8 digits, the size an InfoGAN or AC-GAN run on digits is
# measured at (two pooling layers leave 2x2 maps, enough for these classes).


@pytest.fixture(scope="module")
def digits():
    """(train images, train labels, test images, test labels): 1500 and 297 grey 8x8 uint8 digits."""
    train, test = data.load_builtin("digits", "train"), data.load_builtin("digits", "test")
    return train.examples, train.labels, test.examples, test.labels


@pytest.mark.slow
def test_cas_is_high_for_correct_labels_and_near_chance_for_shuffled_ones(digits):
    train_images, train_labels, test_images, test_labels = digits
    shuffled = np.random.default_rng(0).permutation(train_labels)
    correct = label_measures.classification_accuracy_score(train_images, train_labels, test_images, test_labels, 10)
    wrong = label_measures.classification_accuracy_score(train_images, shuffled, test_images, test_labels, 10)
    assert correct > 0.7
    assert wrong < 0.3


@pytest.mark.slow
def test_cas_scores_compare_generated_real_and_both_at_one_size(digits):
    train_images, train_labels, test_images, test_labels = digits
    # A "generator" whose labels are noise: 400 images with shuffled labels, against 1500 correctly labelled ones.
    generated_labels = np.random.default_rng(1).permutation(train_labels[:400])
    result = label_measures.classification_accuracy_scores(
        train_images[:400], generated_labels, train_images, train_labels, test_images, test_labels, 10)
    assert result["train_count"] == 400
    assert result["generated"] < 0.3
    assert result["real"] > 0.7
    # Noise labels drag the mixed set down from the real one, but the real half still teaches the classes.
    assert result["generated"] < result["real_plus_generated"] < result["real"]
