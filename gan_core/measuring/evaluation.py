"""Judging a run: draw samples from a checkpoint, extract features, and compute every measure in one flat dict.

The generated samples are compared with real samples from the dataset's test split, not the training split: a
generator that copied its training images would look perfect against them, while against held-out images it
only looks as good as the data it learnt from. The training split serves instead as the reference for the
memorisation check (how close generated samples come to their nearest training example, relative to how close
held-out real ones come). A person's own images have no held-out part, so they are compared with the
collection itself and the memorisation check is left out (None).

`reference_scores` gives the same measures for real against real (training split against test split): what a
perfect generator would score at the same sample count, since every measure here is biased by finite samples.

KID is averaged over KID_SUBSETS random subsets of KID_SUBSET_SIZE samples; with that many samples or fewer,
every subset is the whole set, so kid_std is 0 and says nothing about the estimate's spread.

The maths is in gan_core.measuring.metrics and the feature spaces in gan_core.measuring.features; this module only
orchestrates.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import numpy as np

from gan_core.nets import checkpoints
from gan_core.inputs import data
from gan_core.measuring import features, metrics
from gan_core.spec import registry
from gan_core.spec.config import RunConfig
from gan_core.store.runs import Run

# Bump when the measures or their settings change, so results cached by an older version are recomputed.
EVALUATION_VERSION = 1
MIN_SAMPLE_COUNT = 10  # the nearest-neighbour measures need nearest_k + 1 rows, and fewer is noise anyway
NEAREST_K = 5  # Naeem et al.'s choice for precision / recall / density / coverage
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
# A class counts as covered when it gets at least a tenth of a uniform share of the generated samples, so a
# few misclassified samples do not make a missing class look present.
CLASS_COVERAGE_SHARE = 0.1
# Held-out real samples are this close to some training example only 1% of the time; generated samples that
# close are counted as possible near-copies.
NEAR_COPY_PERCENTILE = 1.0


def evaluate_run(
    run: Run, sample_count: int, kind: str = "auto", step: int | None = None, seed: int = 0, download: bool = False
) -> dict[str, Any]:
    """Every measure for the checkpoint at `step` (default: the latest), as one flat JSON-able dict.

    `sample_count` generated samples (latent seed `seed`) are compared with as many real test-split samples
    (drawn with the same seed). The result is stored in the run store; asking again for the same checkpoint,
    feature space, count and seed returns the stored result without sampling anything. The keys "seconds"
    and "seconds_<phase>" say how long the computation took when it was done.
    """
    started = time.perf_counter()
    config = run.config
    _check_sample_count(sample_count)
    step = _checkpoint_step(run, step)
    clock = PhaseClock()
    with clock("feature_extractor"):
        extractor = features.choose_extractor(config, kind, download)
    cached = cached_evaluation(run, step, extractor, sample_count, seed)
    if cached is not None:
        return cached

    results = _measure_checkpoint(run, config, step, extractor, clock, sample_count, seed)
    results.update(clock.seconds)
    results["seconds"] = round(time.perf_counter() - started, 3)
    run.save_evaluation(step, extractor.feature_space, sample_count, results)
    return results


def _measure_checkpoint(
    run: Run, config: RunConfig, step: int, extractor: features.FeatureExtractor, clock: PhaseClock,
    sample_count: int, seed: int,
) -> dict[str, Any]:
    """`evaluate_run`'s measures once no stored result will do: the samples drawn, their features and every measure.

    Each phase is timed by `clock`. `config` is the run's, read once by the caller: the run store reads it from disk
    at every ask.
    """
    with clock("real_data"):
        real, real_split = held_out_examples(config, sample_count, seed)
        training = _training_examples(config, sample_count, seed) if real_split == "test" else None
    with clock("sampling"):
        from gan_core.nets import sampling  # It imports TensorFlow, needed only when something must be computed.

        generated = sampling.sample(run, sample_count, seed=seed, step=step)
    with clock("features"):
        generated_features, generated_probabilities = extractor.features_and_probabilities(generated)
        real_features, real_probabilities = extractor.features_and_probabilities(real)
        training_features = None if training is None else extractor.features(training)

    results = _header(extractor, sample_count, seed, real_split)
    results["step"] = step
    results.update(_compare(config, extractor, clock, real, generated, real_features, generated_features,
                            real_probabilities, generated_probabilities))
    with clock("memorisation"):
        results.update(_memorisation(training_features, real_features, generated_features))
    with clock("variant_measures"):
        results.update(registry.of(config).evaluate(run, step, sample_count, seed))
    return results


def cached_evaluation(
    run: Run, step: int, extractor: features.FeatureExtractor, sample_count: int, seed: int
) -> dict[str, Any] | None:
    """The stored result for this checkpoint, feature space, count and seed, if it is still valid."""
    for row in run.evaluations(extractor.feature_space):
        results = row["results"]
        if (row["step"] == step and row["sample_count"] == sample_count and results.get("seed") == seed
                and results.get("feature_key") == extractor.key
                and results.get("evaluation_version") == EVALUATION_VERSION):
            return results
    return None


def stored_evaluation(run: Run, step: int) -> dict[str, Any] | None:
    """The stored result for the checkpoint at `step` with the most samples per side, or None if never measured."""
    results = [row["results"] for row in run.evaluations()
               if row["step"] == step and row["results"].get("evaluation_version") == EVALUATION_VERSION]
    return max(results, key=lambda result: result["sample_count"], default=None)


def feature_kind(results: dict[str, Any]) -> str:
    """The `kind` that chooses the feature space `results` were measured in, to get their real-vs-real reference."""
    if results["feature_space"] == "inception_v3":
        return "inception"
    return "classifier" if results.get("classifier_test_accuracy") is not None else "auto"


def reference_scores(
    config: RunConfig,
    sample_count: int,
    kind: str = "auto",
    seed: int = 0,
    download: bool = False,
    cache_dir: Path | str | None = None,
) -> dict[str, Any]:
    """The measures for real against real: what a perfect generator would score at this sample count.

    The held-out test samples that `evaluate_run` uses (same seed) play the real side, and as many training
    samples play the generated side. A person's own collection has no held-out part, so two disjoint halves
    of it are compared. Results are cached as JSON in the cache directory (see gan_core.measuring.features), keyed by
    the data actually drawn, the feature network and the settings.
    """
    started = time.perf_counter()
    _check_sample_count(sample_count)
    clock = PhaseClock()
    # The data come first: asking for more samples than exist fails before any classifier is trained.
    with clock("real_data"):
        real, stand_in, real_split = _two_real_sets(config, sample_count, seed)
    with clock("feature_extractor"):
        extractor = features.choose_extractor(config, kind, download)
    path = _reference_path(config, extractor, sample_count, seed, real, stand_in, cache_dir)
    if path.is_file():
        return json.loads(path.read_text())

    results = _measure_real_against_real(config, extractor, clock, real, stand_in, real_split, sample_count, seed)
    results.update(clock.seconds)
    results["seconds"] = round(time.perf_counter() - started, 3)
    _save_reference(path, results)
    return results


def _reference_path(
    config: RunConfig, extractor: features.FeatureExtractor, sample_count: int, seed: int, real: np.ndarray,
    stand_in: np.ndarray, cache_dir: Path | str | None,
) -> Path:
    """Where `reference_scores` caches its result for exactly these data, feature network and settings.

    The name ends in a hash of them all, so that other data (a changed collection) or another network is never
    answered from a file measured on the old.
    """
    digest = hashlib.sha256(json.dumps([EVALUATION_VERSION, extractor.key, sample_count, seed]).encode())
    digest.update(np.ascontiguousarray(real).data)
    digest.update(np.ascontiguousarray(stand_in).data)
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else features.default_cache_dir()
    slug = extractor.feature_space.replace(" ", "_").replace("/", "_")
    return cache_dir / "reference" / f"{config.dataset}-{slug}-{sample_count}-{digest.hexdigest()[:16]}.json"


def _measure_real_against_real(
    config: RunConfig, extractor: features.FeatureExtractor, clock: PhaseClock, real: np.ndarray,
    stand_in: np.ndarray, real_split: str, sample_count: int, seed: int,
) -> dict[str, Any]:
    """`reference_scores`'s measures, with the real `stand_in` set where `evaluate_run` has generated samples."""
    with clock("features"):
        real_features, real_probabilities = extractor.features_and_probabilities(real)
        stand_in_features, stand_in_probabilities = extractor.features_and_probabilities(stand_in)
    results = _header(extractor, sample_count, seed, real_split)
    results["generated_split"] = "train" if real_split == "test" else "train (the other half)"
    results.update(_compare(config, extractor, clock, real, stand_in, real_features, stand_in_features,
                            real_probabilities, stand_in_probabilities))
    return results


def _save_reference(path: Path, results: dict[str, Any]) -> None:
    """Write `results` under a temporary name and rename it into place, so that a process reading the cache at the
    same moment never finds half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(results, indent=2))
    os.replace(temporary, path)


# ---------------------------------------------------------------------------------------------------------------
# The measures.


def _header(extractor: features.FeatureExtractor, sample_count: int, seed: int, real_split: str) -> dict[str, Any]:
    header = {
        "feature_space": extractor.feature_space,
        "feature_label": extractor.name,
        "frechet_label": extractor.frechet_label,
        "feature_key": extractor.key,
        "evaluation_version": EVALUATION_VERSION,
        "sample_count": sample_count,
        "seed": seed,
        "real_split": real_split,
    }
    if extractor.test_accuracy is not None:
        header["classifier_test_accuracy"] = extractor.test_accuracy
    return header


def _compare(
    config: RunConfig,
    extractor: features.FeatureExtractor,
    clock: PhaseClock,
    real: np.ndarray,
    generated: np.ndarray,
    real_features: np.ndarray,
    generated_features: np.ndarray,
    real_probabilities: np.ndarray | None,
    generated_probabilities: np.ndarray | None,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with clock("frechet_distance"):
        results["frechet_distance"] = metrics.frechet_distance(real_features, generated_features)
    with clock("kernel_distance"):
        results["kid_mean"], results["kid_std"] = metrics.kernel_distance(
            real_features, generated_features, num_subsets=KID_SUBSETS, subset_size=KID_SUBSET_SIZE, seed=0
        )
    with clock("prdc"):
        results.update(metrics.prdc(real_features, generated_features, nearest_k=NEAREST_K))
    if extractor.is_classifier:
        with clock("classes"):
            results.update(_class_measures(extractor.class_names, real_probabilities, generated_probabilities))
    if config.is_points:
        with clock("points"):
            results.update(metrics.point_measures(real, generated, data.toy_mode_centres(config.dataset)))
    return results


def _class_measures(
    class_names: tuple[str, ...], real_probabilities: np.ndarray, generated_probabilities: np.ndarray
) -> dict[str, Any]:
    # Both histograms count the classifier's predictions, not the real set's labels, so that the classifier's
    # own mistakes affect both sides alike and the difference reflects the generator.
    num_classes = len(class_names)
    generated_histogram = metrics.class_histogram(generated_probabilities.argmax(axis=1), num_classes)
    real_histogram = metrics.class_histogram(real_probabilities.argmax(axis=1), num_classes)
    return {
        "classifier_score": metrics.classifier_score(generated_probabilities)[0],
        "real_classifier_score": metrics.classifier_score(real_probabilities)[0],
        "class_coverage": metrics.class_coverage(
            generated_probabilities.argmax(axis=1), num_classes, min_share=CLASS_COVERAGE_SHARE / num_classes
        ),
        "class_histogram_distance": metrics.histogram_distance(generated_histogram, real_histogram),
        "generated_class_histogram": generated_histogram.tolist(),
        "real_class_histogram": real_histogram.tolist(),
        "class_names": list(class_names),
    }


def _memorisation(
    training_features: np.ndarray | None, real_features: np.ndarray, generated_features: np.ndarray
) -> dict[str, Any]:
    """How close generated samples come to the training set, measured against how close held-out samples come.

    memorisation_ratio = median distance (generated -> nearest training example) divided by the same median for
    held-out real samples. About 1 is healthy; well below 1 means samples sit closer to training examples than
    unseen real data does, i.e. copying; above 1 means generated samples lie farther from the data than real ones.
    near_copy_share is the share of generated samples closer to a training example than 99% of held-out ones
    are: about 0.01 when nothing is copied.
    """
    keys = ("nearest_train_distance_generated", "nearest_train_distance_real", "memorisation_ratio",
            "near_copy_share")
    if training_features is None:
        return dict.fromkeys(keys)
    generated_distances, _ = metrics.nearest_neighbour_distances(generated_features, training_features)
    real_distances, _ = metrics.nearest_neighbour_distances(real_features, training_features)
    generated_median, real_median = float(np.median(generated_distances)), float(np.median(real_distances))
    threshold = np.percentile(real_distances, NEAR_COPY_PERCENTILE)
    ratio = generated_median / real_median if real_median > 0 else None
    return dict(zip(keys, (generated_median, real_median, ratio, float(np.mean(generated_distances < threshold)))))


# ---------------------------------------------------------------------------------------------------------------
# Real data.


def held_out_dataset(config: RunConfig, training_if_missing: bool = False) -> tuple[data.Dataset, str]:
    """The real examples generated ones are judged against, and their split.

    That is the test split, held out from training; a person's own collection has no held-out part, so it is the
    collection itself ("train"). With `training_if_missing`, a built-in set whose test split cannot be had (not
    on this machine, offline) gives its training split instead, for views that can still show something; the
    measures never do that, since they would no longer mean the same.
    """
    if _collection_without_held_out(config):
        return data.load_dataset(config, "train"), "train"
    try:
        return data.load_dataset(config, "test"), "test"
    except ValueError:
        if not training_if_missing:
            raise
        return data.load_dataset(config, "train"), "train"


def largest_sample_count(config: RunConfig, training_if_missing: bool = False) -> int:
    """The most samples per side both `evaluate_run` and `reference_scores` can use for this config.

    That is every held-out example, or half a person's collection, because its real-against-real reference
    compares two disjoint halves of it.
    """
    dataset, _ = held_out_dataset(config, training_if_missing)
    return len(dataset.examples) // 2 if _collection_without_held_out(config) else len(dataset.examples)


def draw_examples(dataset: data.Dataset, count: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """`count` of the dataset's examples without repeats, in their stored order, and their labels (None if none).

    Every real sample the measures use is drawn this way, so the same seed always gives the same examples.
    """
    chosen = np.sort(np.random.default_rng(seed).choice(len(dataset.examples), count, replace=False))
    return dataset.examples[chosen], None if dataset.labels is None else dataset.labels[chosen]


def held_out_examples(config: RunConfig, count: int, seed: int,
                      training_if_missing: bool = False) -> tuple[np.ndarray, str]:
    """`count` real examples the run did not train on, drawn with `seed`, and the split they come from.

    They come from the test split (a person's collection: from the collection; see held_out_dataset for
    `training_if_missing`); ValueError when the split holds fewer than `count`.
    """
    dataset, split = held_out_dataset(config, training_if_missing)
    return _draw(dataset, count, seed, split), split


def _training_examples(config: RunConfig, count: int, seed: int) -> np.ndarray:
    """Up to `count` of the examples the run trained on (honouring max_examples), drawn at random.

    The memorisation check measures generated and held-out samples against the same training examples, so its
    ratio stays fair with a subset; taking as many as there are samples keeps its cost in proportion.
    """
    dataset = data.load_dataset(config, "train")
    return _draw(dataset, min(len(dataset.examples), count), seed, "train")


def _two_real_sets(config: RunConfig, count: int, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Two independent real samples: the held-out one `evaluate_run` uses, and one from the training split."""
    if _collection_without_held_out(config):
        collection = data.load_dataset(config, "train")
        both = _draw(collection, 2 * count, seed, "collection (split in two halves)")
        return both[:count], both[count:], "train"
    real, split = held_out_examples(config, count, seed)
    # The full training split, not the run's max_examples prefix: a perfect generator matches the whole data.
    training = data.load_dataset(config.replace(max_examples=0), "train")
    return real, _draw(training, count, seed, "train"), split


def _collection_without_held_out(config: RunConfig) -> bool:
    """A person's collection, which has no held-out part unless the run's variant splits one off."""
    return config.dataset == "folder" and not registry.of(config).holds_out_own_images


def _draw(dataset: data.Dataset, count: int, seed: int, split: str) -> np.ndarray:
    available = len(dataset.examples)
    if count > available:
        raise ValueError(
            f"sample count {count:,} is more than the {available:,} real examples in the {split} split of "
            f"{dataset.name!r}; use at most {available:,}"
        )
    examples, _ = draw_examples(dataset, count, seed)
    return examples


# ---------------------------------------------------------------------------------------------------------------
# Small helpers.


def _checkpoint_step(run: Run, step: int | None) -> int:
    if step is None and run.checkpoint_steps():
        # The newest checkpoint may be damaged (cut short by a crash): the newest one whose generator reads is
        # measured, and only restoring it shows which that is.
        from gan_core.nets import sampling  # It imports TensorFlow, needed only here.

        return sampling.newest_readable_step(run)
    # A requested step is only checked against the run's checkpoints, which needs no TensorFlow.
    return checkpoints.step_to_use(run, step)


def _check_sample_count(sample_count: int) -> None:
    if isinstance(sample_count, bool) or not isinstance(sample_count, (int, np.integer)) \
            or sample_count < MIN_SAMPLE_COUNT:
        raise ValueError(f"sample count must be a whole number of at least {MIN_SAMPLE_COUNT}, got {sample_count!r} "
                         f"(10,000 is usual for FD / FID; 1,000 gives a quick, noisier estimate)")


class PhaseClock:
    """Adds up wall time per named phase; `seconds` gives them as "seconds_<phase>" entries."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            key = f"seconds_{phase}"
            self.seconds[key] = round(self.seconds.get(key, 0.0) + time.perf_counter() - started, 3)
