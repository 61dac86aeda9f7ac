"""Measures that use class labels: how well a conditional or code-driven generator keeps to its classes.

- InfoGAN learns its categorical code without labels, so which code value stands for which class is arbitrary:
  `match_codes_to_classes` finds the best one-to-one assignment (Hungarian), and `code_purity` /
  `matched_accuracy` score the code as a classifier after it (the InfoGAN paper's 5% error).
- A conditional generator is asked for a class: `requested_class_accuracy` says how often a classifier agrees.
- ACGAN trades diversity within a class for classifiability: `per_class_diversity` and `diversity_ratio`
  measure the first, generated against real.
- Classification Accuracy Score (Ravuri & Vinyals 2019): a classifier trained only on generated labelled images,
  tested on real ones (`classification_accuracy_score`, `classification_accuracy_scores`).

Everything but the classifier-training functions is numpy and scipy only; those import TensorFlow inside
themselves, so pages can import this module without loading it.
"""

from __future__ import annotations

import math

import numpy as np

from gan_core.measuring.features import CLASSIFIER_RECIPE, build_classifier
from gan_core.measuring.metrics import check_same_width, checked_labels, checked_matrix, checked_whole_number

# Classification Accuracy Score training budget: passes over the training set, at the project classifier's batch
# size and learning rate. Measured on two CPU cores: 10,000 MNIST training images take 8 to 12 s (395 updates,
# testing on 10,000 included) and reach about 98% test accuracy; 8 passes gain only 0.4 points for 50% more time.
CAS_EPOCHS = 5
# A set of a few hundred images is only a handful of batches per epoch; it still gets this many updates, so a
# small but good training set is not scored as bad merely for being small.
CAS_MIN_UPDATES = 300
# Images per prediction batch when the trained classifier is tested.
CAS_TEST_BATCH = 1000


# ---------------------------------------------------------------------------------------------------------------
# Codes against classes (InfoGAN's categorical code, or any clustering).


def _confusion_matrix(row_name: str, rows, num_rows_name: str, num_rows: int,
                      column_name: str, columns, num_columns_name: str, num_columns: int) -> np.ndarray:
    """counts[r, c]: how many samples carry row value r and column value c, after checking both label arrays."""
    num_rows = checked_whole_number(num_rows_name, num_rows, 1)
    num_columns = checked_whole_number(num_columns_name, num_columns, 1)
    rows = checked_labels(row_name, rows, num_rows)
    columns = checked_labels(column_name, columns, num_columns)
    if rows.shape != columns.shape:
        raise ValueError(f"{row_name} and {column_name} must have the same length; got {rows.size} and {columns.size}")
    flat = rows.astype(np.int64) * num_columns + columns
    return np.bincount(flat, minlength=num_rows * num_columns).reshape(num_rows, num_columns)


def _code_confusion(codes, classes, num_codes: int, num_classes: int,
                    code_name: str = "codes", class_name: str = "classes") -> np.ndarray:
    return _confusion_matrix(code_name, codes, "num_codes", num_codes, class_name, classes, "num_classes", num_classes)


def _assignment(counts: np.ndarray) -> np.ndarray:
    """mapping[code] = class maximising the samples on matched pairs, one class per code; -1 for codes left over."""
    import scipy.optimize  # where it is used: SciPy adds tens of MB to the light processes that import this module

    code_indices, class_indices = scipy.optimize.linear_sum_assignment(counts, maximize=True)
    mapping = np.full(counts.shape[0], -1, dtype=np.int64)
    mapping[code_indices] = class_indices
    return mapping


def _matched_share(counts: np.ndarray, mapping: np.ndarray) -> float:
    matched = mapping >= 0
    return float(counts[np.flatnonzero(matched), mapping[matched]].sum() / counts.sum())


def match_codes_to_classes(codes: np.ndarray, classes: np.ndarray, num_codes: int, num_classes: int) -> np.ndarray:
    """The one-to-one assignment of code values to classes that agrees with the most samples: mapping[code] = class.

    An unsupervised code may name the classes in any order, so it is scored only after this matching (Hungarian
    algorithm on the code x class confusion matrix). With more codes than classes the codes left without a class
    get -1; with fewer, some classes get no code.
    """
    return _assignment(_code_confusion(codes, classes, num_codes, num_classes))


def matched_accuracy(predicted_codes, true_classes, num_codes: int, num_classes: int) -> float:
    """Share of samples whose code, mapped by `match_codes_to_classes`, is their true class.

    This is the InfoGAN paper's measure (5% error on MNIST with the categorical code as a classifier). Samples
    whose code has no class (more codes than classes) count as wrong.
    """
    counts = _code_confusion(predicted_codes, true_classes, num_codes, num_classes,
                             code_name="predicted_codes", class_name="true_classes")
    return _matched_share(counts, _assignment(counts))


def code_purity(codes, classes, num_codes: int, num_classes: int) -> dict:
    """How cleanly each code value picks out one class, without requiring different codes to pick different classes.

    "purity" is the share of all samples that carry their code's most frequent class (the usual cluster purity:
    each code's purity weighted by how many samples it has). Unlike "matched_accuracy" (the same data after the
    one-to-one matching), purity does not punish two codes that both mean "4", so the gap between the two shows
    classes merging. "per_code" lists {code, majority_class, purity, count} for the code values that occur.
    """
    counts = _code_confusion(codes, classes, num_codes, num_classes)
    sizes = counts.sum(axis=1)
    per_code = [
        {"code": code, "majority_class": int(counts[code].argmax()), "purity": float(counts[code].max() / sizes[code]),
         "count": int(sizes[code])}
        for code in np.flatnonzero(sizes).tolist()
    ]
    return {
        "purity": float(counts.max(axis=1).sum() / counts.sum()),
        "per_code": per_code,
        "matched_accuracy": _matched_share(counts, _assignment(counts)),
    }


def requested_class_accuracy(requested, predicted, num_classes: int) -> dict:
    """How often a classifier finds the class a conditional generator was asked for, overall and per class.

    "per_class"[c] is the share of samples requested as c that were classified as c, or None when c was never
    requested (no samples to judge, which is not the same as a score of 0).
    """
    counts = _confusion_matrix("requested", requested, "num_classes", num_classes,
                               "predicted", predicted, "num_classes", num_classes)
    requested_counts = counts.sum(axis=1)
    hits = np.diagonal(counts)
    per_class = [float(hit / total) if total else None for hit, total in zip(hits.tolist(), requested_counts.tolist())]
    return {"accuracy": float(hits.sum() / counts.sum()), "per_class": per_class}


# ---------------------------------------------------------------------------------------------------------------
# Diversity within a class.


def per_class_diversity(features, labels, num_classes: int, max_per_class: int = 500, seed: int = 0) -> list:
    """Mean pairwise Euclidean distance between the feature rows of each class; None for a class with under 2 rows.

    A generator that pleases a classifier by drawing one favourite sample per class has high class accuracy but
    little spread within each class; this shows it. Classes with more than `max_per_class` rows use a random
    subset of that size (numpy's default_rng(seed), classes in order), keeping the cost at most ~125,000 distances
    per class.
    """
    features = checked_matrix("features", features)
    labels = _one_label_per_row("labels", labels, num_classes, "features", features.shape[0])
    max_per_class = checked_whole_number("max_per_class", max_per_class, 2)
    return _class_diversities(features, labels, num_classes, max_per_class, seed)


def diversity_ratio(generated_features, generated_labels, real_features, real_labels, num_classes: int) -> dict:
    """Within-class diversity of generated data divided by that of real data, per class and on average.

    A ratio near 1 means a class varies as much as in real data; well below 1, the generator has narrowed it
    (ACGAN's known trade of diversity for classifiability). "per_class" holds None where either side has under 2
    rows of the class or the real rows are all identical; "mean" is the plain mean of the other ratios (None when
    there are none). "generated" and "real" hold the two `per_class_diversity` lists the ratios come from.
    """
    generated = checked_matrix("generated_features", generated_features)
    real = checked_matrix("real_features", real_features)
    check_same_width("generated_features", generated, "real_features", real)
    generated_labels = _one_label_per_row("generated_labels", generated_labels, num_classes,
                                          "generated_features", generated.shape[0])
    real_labels = _one_label_per_row("real_labels", real_labels, num_classes, "real_features", real.shape[0])
    generated_diversity = _class_diversities(generated, generated_labels, num_classes, max_per_class=500, seed=0)
    real_diversity = _class_diversities(real, real_labels, num_classes, max_per_class=500, seed=0)
    ratios = [
        generated_value / real_value if generated_value is not None and real_value else None
        for generated_value, real_value in zip(generated_diversity, real_diversity)
    ]
    known = [ratio for ratio in ratios if ratio is not None]
    return {
        "per_class": ratios,
        "mean": float(np.mean(known)) if known else None,
        "generated": generated_diversity,
        "real": real_diversity,
    }


def _class_diversities(features: np.ndarray, labels: np.ndarray, num_classes: int, max_per_class: int,
                       seed: int) -> list:
    """per_class_diversity on inputs already checked."""
    import scipy.spatial.distance  # where it is used, as above

    rng = np.random.default_rng(seed)
    diversities = []
    for class_index in range(num_classes):
        rows = np.flatnonzero(labels == class_index)
        if rows.size < 2:
            diversities.append(None)
            continue
        if rows.size > max_per_class:
            rows = rng.choice(rows, max_per_class, replace=False)
        diversities.append(float(scipy.spatial.distance.pdist(features[rows]).mean()))
    return diversities


def _one_label_per_row(name: str, labels, num_classes: int, owner_name: str, row_count: int) -> np.ndarray:
    """`labels` checked as class indices in [0, num_classes), exactly one for each of the rows of `owner_name`."""
    labels = checked_labels(name, labels, num_classes)
    if labels.size != row_count:
        raise ValueError(f"{name} must have one entry for each of the {row_count} rows of {owner_name}; "
                         f"got {labels.size}")
    return labels


# ---------------------------------------------------------------------------------------------------------------
# Classification Accuracy Score (Ravuri & Vinyals 2019).


def _images(name: str, values) -> np.ndarray:
    images = np.asarray(values)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"{name} must be a non-empty uint8 array (N, H, W, 1 or 3); got {images.dtype} {images.shape}")
    return images


def _labelled_images(prefix: str, images, labels, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """`<prefix>_images` and `<prefix>_labels` checked: uint8 NHWC, one label in [0, num_classes) per image."""
    images = _images(f"{prefix}_images", images)
    return images, _one_label_per_row(f"{prefix}_labels", labels, num_classes, f"{prefix}_images", len(images))


def _same_image_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"{name_a} are {a.shape[1:]} but {name_b} are {b.shape[1:]}; every image set must share one "
                         "(height, width, channels)")


def _updates_for(count: int, epochs: int) -> int:
    """Training updates for `epochs` passes over `count` images, at least CAS_MIN_UPDATES."""

    return max(CAS_MIN_UPDATES, epochs * math.ceil(count / CLASSIFIER_RECIPE["batch_size"]))


def _train_and_test(train_images: np.ndarray, train_labels: np.ndarray, test_images: np.ndarray,
                    test_labels: np.ndarray, num_classes: int, updates: int, seed: int) -> float:
    """Accuracy on the test set of the project's classifier network after `updates` batches of the training set.

    The batches walk through fresh seeded permutations of the training set, so the number of updates, not the
    size of the set, fixes the budget: sets of different sizes can be compared at equal cost.
    """
    import keras


    batch_size = CLASSIFIER_RECIPE["batch_size"]
    # This seeds Python, numpy and TensorFlow process-wide, so the weights and dropout repeat run to run.
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    passes = math.ceil(updates * batch_size / len(train_images))
    order = np.concatenate([rng.permutation(len(train_images)) for _ in range(passes)])[: updates * batch_size]

    network = build_classifier(train_images.shape[1:], num_classes, name="cas_classifier")
    # Decaying the rate to zero over the run, as the project's own classifier is trained.
    schedule = keras.optimizers.schedules.CosineDecay(CLASSIFIER_RECIPE["learning_rate"], updates)
    network.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy")
    # One batch at a time rather than one fit on train_images[order], which would copy the set once per pass.
    for batch in np.split(order, updates):
        network.train_on_batch(train_images[batch], train_labels[batch])
    # Called batch by batch rather than through predict, whose compiled function each new network traces anew
    # (and warns about after a few).
    predicted = np.concatenate([np.asarray(network(test_images[start : start + CAS_TEST_BATCH], training=False))
                                .argmax(axis=1) for start in range(0, len(test_images), CAS_TEST_BATCH)])
    return float((predicted == test_labels).mean())


def classification_accuracy_score(train_images, train_labels, test_images, test_labels, num_classes: int,
                                  epochs: int = CAS_EPOCHS, seed: int = 0) -> float:
    """Test accuracy of a classifier trained only on the given labelled uint8 NHWC images: CAS if they are generated.

    Ravuri & Vinyals 2019: a conditional generator that has captured each class lets a classifier trained on its
    samples alone do well on real test images; one that drops modes or blurs classes does not, even when its
    samples look good. The network is the project's classifier (`gan_core.measuring.features.build_classifier`), trained
    for `epochs` passes (at least CAS_MIN_UPDATES batches) from `seed`. Seeding resets Python's, numpy's and
    TensorFlow's global random state; call it from a worker process, not a page.
    """
    train_images, train_labels = _labelled_images("train", train_images, train_labels, num_classes)
    test_images, test_labels = _labelled_images("test", test_images, test_labels, num_classes)
    _same_image_shape("train_images", train_images, "test_images", test_images)
    epochs = checked_whole_number("epochs", epochs, 1)
    return _train_and_test(train_images, train_labels, test_images, test_labels, num_classes,
                           _updates_for(len(train_images), epochs), seed)


def classifier_test_accuracy(train_images, train_labels, test_images, test_labels, num_classes: int, updates: int,
                             seed: int = 0) -> float:
    """Test accuracy of the project's classifier network after exactly `updates` batches of the labelled uint8 NHWC
    training images: sets of any size compared at equal training cost (the augmentation workflow's measure)."""
    train_images, train_labels = _labelled_images("train", train_images, train_labels, num_classes)
    test_images, test_labels = _labelled_images("test", test_images, test_labels, num_classes)
    _same_image_shape("train_images", train_images, "test_images", test_images)
    return _train_and_test(train_images, train_labels, test_images, test_labels, num_classes,
                           checked_whole_number("updates", updates, 1), seed)


def classification_accuracy_scores(generated_images, generated_labels, real_images, real_labels, test_images,
                                   test_labels, num_classes: int, seed: int = 0) -> dict:
    """CAS of generated images beside the same classifier trained on real images and on both, at equal budget.

    Returns {"generated", "real", "real_plus_generated", "train_count"}. Both training sets are cut to the same
    size n = train_count (the smaller of the two; a seeded random subset of the larger) and "real_plus_generated"
    trains on those 2n images, all three for the same number of updates (CAS_EPOCHS passes over n images), so a
    difference comes from the images, not from more training. "real" is the ceiling CAS aims at; "real_plus_generated"
    above "real" means the generated images add something a classifier can use.
    """
    generated_images, generated_labels = _labelled_images("generated", generated_images, generated_labels, num_classes)
    real_images, real_labels = _labelled_images("real", real_images, real_labels, num_classes)
    test_images, test_labels = _labelled_images("test", test_images, test_labels, num_classes)
    _same_image_shape("generated_images", generated_images, "real_images", real_images)
    _same_image_shape("generated_images", generated_images, "test_images", test_images)

    count = min(len(generated_images), len(real_images))
    rng = np.random.default_rng(seed)
    generated_rows = np.sort(rng.choice(len(generated_images), count, replace=False))
    real_rows = np.sort(rng.choice(len(real_images), count, replace=False))
    generated_images, generated_labels = generated_images[generated_rows], generated_labels[generated_rows]
    real_images, real_labels = real_images[real_rows], real_labels[real_rows]
    updates = _updates_for(count, CAS_EPOCHS)

    def score(images: np.ndarray, labels: np.ndarray) -> float:
        return _train_and_test(images, labels, test_images, test_labels, num_classes, updates, seed)

    return {
        "generated": score(generated_images, generated_labels),
        "real": score(real_images, real_labels),
        "real_plus_generated": score(np.concatenate([real_images, generated_images]),
                                     np.concatenate([real_labels, generated_labels])),
        "train_count": count,
    }
