"""Measures of a generator that is asked for classes (the conditional GAN, ACGAN): does it draw what was asked?

- requested-class accuracy: how often the dataset's classifier finds the class a sample was generated for;
- within-class diversity relative to real data, in the classifier's feature space (ACGAN trades it for the first);
- Classification Accuracy Score (Ravuri & Vinyals 2019): a classifier trained on generated labelled samples alone,
  tested on real held-out images, beside the same classifier trained on real and on real plus generated images.

TensorFlow is imported only inside the functions, so variant modules can import this one at the top.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from gan_core.inputs import comparison, data
from gan_core.measuring import evaluation, features, label_measures
from gan_core.measuring.measures import Measure

if TYPE_CHECKING:
    from gan_core.store.runs import Run

CLASSIFICATION_ACCURACY_SCORE = Measure(
    "classification_accuracy_score", "Classification Accuracy Score: real held-out accuracy of a classifier trained "
    "only on generated labelled samples; beside it classification_accuracy_score_real (the same classifier trained on "
    "as many real images, the ceiling) and classification_accuracy_score_real_plus_generated.",
    label="Classification Accuracy Score", better="higher", reference="classification_accuracy_score_real")
REQUESTED_CLASS_MEASURES = (
    Measure("requested_class_accuracy", "Share of generated samples (classes in turn) that the dataset's classifier "
            "puts in the class they were asked for; per class under requested_class_accuracy_per_class.",
            label="Requested-class accuracy", better="higher"),
    CLASSIFICATION_ACCURACY_SCORE,
)
DIVERSITY_MEASURES = (
    Measure("class_diversity_ratio", "Mean within-class spread of generated samples over that of real ones, in the "
            "classifier's feature space (1 = as varied as real data, below 1 = narrowed); per class under "
            "class_diversity_ratio_per_class.", label="Within-class diversity / real", better="higher"),
)


def conditional_measures(run: Run, step: int | None, sample_count: int, seed: int,
                         diversity: bool = False) -> dict[str, Any]:
    """The requested-class measures (and, with `diversity`, the diversity ratio) of a class-conditional run.

    Measures that cannot be computed for the run's dataset (no project classifier, no held-out labels) are None,
    with the reason under "unavailable_measures".
    """
    from gan_core.nets import sampling

    count = sampling.num_classes(run)
    requested = comparison.cycled_labels(sample_count, count)
    generated = sampling.sample(run, sample_count, seed=seed, step=step, labels=requested)
    classifier_names = ("requested_class_accuracy",) + (("class_diversity_ratio",) if diversity else ())
    groups = ((classifier_measures, classifier_names), (accuracy_scores, ("classification_accuracy_score",)))
    return collect(groups, run, generated, requested, count, seed, diversity)


def collect(groups, *arguments) -> dict[str, Any]:
    """The results of each (compute, names) group called with `arguments`, in one dict.

    A group that raises ValueError (no classifier, no labelled held-out data for the dataset) gives None for each
    of its names, and its message under "unavailable_measures", so the rest is still reported.
    """
    results: dict[str, Any] = {}
    unavailable: dict[str, str] = {}
    for compute, names in groups:
        try:
            results.update(compute(*arguments))
        except ValueError as error:
            for name in names:
                results[name] = None
                unavailable[name] = str(error)
    if unavailable:
        results["unavailable_measures"] = unavailable
    return results


def classifier_measures(run: Run, generated: np.ndarray, requested: np.ndarray, num_classes: int, seed: int,
                        diversity: bool) -> dict[str, Any]:
    """Requested-class accuracy of `generated` (asked for `requested`), and optionally its diversity ratio."""

    classifier = features.classifier_extractor(run.config.dataset)
    generated_features, probabilities = classifier.features_and_probabilities(generated)
    accuracy = label_measures.requested_class_accuracy(requested, probabilities.argmax(axis=1), num_classes)
    results = {"requested_class_accuracy": accuracy["accuracy"],
               "requested_class_accuracy_per_class": accuracy["per_class"]}
    if diversity:
        real, real_labels, _ = labelled_held_out(run, len(generated), seed)
        ratio = label_measures.diversity_ratio(generated_features, requested, classifier.features(real), real_labels,
                                               num_classes)
        results.update(class_diversity_ratio=ratio["mean"], class_diversity_ratio_per_class=ratio["per_class"])
    return results


def accuracy_scores(run: Run, generated: np.ndarray, requested: np.ndarray, num_classes: int, seed: int,
                    diversity: bool) -> dict[str, Any]:
    """CAS of `generated`, beside real and real plus generated training images, tested on the held-out split."""

    test, _ = evaluation.held_out_dataset(run.config)
    if test.labels is None:
        raise ValueError(f"{run.config.dataset!r} has no labelled held-out images to test a classifier on")
    training = data.load_dataset(run.config, "train")
    real, real_labels = evaluation.draw_examples(training, min(len(generated), len(training.examples)), seed)
    scores = label_measures.classification_accuracy_scores(generated, requested, real, real_labels, test.examples,
                                                           test.labels, num_classes, seed=seed)
    return {
        "classification_accuracy_score": scores["generated"],
        "classification_accuracy_score_real": scores["real"],
        "classification_accuracy_score_real_plus_generated": scores["real_plus_generated"],
        "classification_accuracy_score_train_count": scores["train_count"],
    }


def labelled_held_out(run: Run, count: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Up to `count` held-out real images of the run's dataset, their labels and the number of classes.

    ValueError when the dataset has no labels here.
    """

    dataset, _ = evaluation.held_out_dataset(run.config)
    if dataset.labels is None or dataset.num_classes < 2:
        raise ValueError(f"{run.config.dataset!r} has no labelled held-out images to compare with")
    examples, labels = evaluation.draw_examples(dataset, min(count, len(dataset.examples)), seed)
    return examples, labels, dataset.num_classes
