"""Feature extractors: the spaces in which gan_core.measuring.metrics compares real and generated samples.

Three kinds, never mixed under one label:
- a small classifier per built-in image set, trained by the project on that set's training split and cached on
  disk; its 128-unit penultimate layer gives features, its softmax gives class probabilities. Distances in it
  are labelled "FD (Fashion-MNIST classifier)" and so on, because they are not comparable with published FIDs.
- InceptionV3's 2048-d average-pool features with Keras' ImageNet weights: the standard FID recipe (299x299
  bilinear resize, Inception preprocessing). Keras' weights are a port, not the 2015 graph the reference FID
  code uses, so the numbers are close to but not identical with published FIDs.
- for the 2-D toy sets, the points themselves.

Classifiers are cached as `<cache>/classifiers/<dataset>-<key>.keras`, with the key a hash of the training data
and of the classifier's recipe, so changing either trains a new one. The cache directory is GAN_CACHE_DIR, or
~/.cache/gan_dashboard when it is unset.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from gan_core.inputs import data
from gan_core.spec import registry
from gan_core.store import uploads
from gan_core.store.files import exclusive_lock
from gan_core.spec.config import DATASET_TITLES, NATIVE_IMAGE_SHAPES, RunConfig

if TYPE_CHECKING:
    import keras

log = logging.getLogger(__name__)

KINDS = ("auto", "classifier", "inception")

# Bump when the classifier's code changes in a way CLASSIFIER_RECIPE does not capture, so old files are retrained.
# Version 2 feeds the training from a tf.data pipeline of one shuffled pass after another, instead of Keras' own
# batching of numpy arrays, which took half as long again on two cores.
CLASSIFIER_VERSION = 2
# Two convolution blocks, a 128-unit feature layer and dropout, trained with Adam on a cosine-decaying rate. Narrow
# (16 and 32 filters, a third of the work of 32 and 64), so that preparing one takes well under half a minute on a
# two-core CPU, with test accuracy near 99% on MNIST and 90% on Fashion-MNIST; it ranks the checkpoints of trained
# runs as the wider network did (bench/bench_classifier.py, docs/benchmarks.md).
CLASSIFIER_RECIPE = {
    "filters": (16, 32),
    "feature_units": 128,
    "dropout": 0.3,
    "epochs": 3,
    "min_updates": 600,  # small sets (digits: 6 batches per epoch) train for more epochs to get this many
    "batch_size": 256,
    "learning_rate": 4e-3,
    "seed": 0,
}
# A classifier is only a trustworthy yardstick when trained on a set's whole training split; CIFAR-10 in
# particular may be present only as a small sample, which is not enough.
FULL_TRAINING_SIZES = {"mnist": 60_000, "fashion_mnist": 60_000, "digits": 1_500, "cifar10": 50_000}

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_SIZE = 299
INCEPTION_BATCH = 50
CLASSIFIER_BATCH = 1000

# What the Evaluate view can still show when no feature space is available.
MEASURES_WITHOUT_FEATURES = (
    "pixel-intensity histograms, nearest training images in pixel space, the discriminator's scores on real "
    "and generated images, and the human real-or-fake test"
)


class FeaturesUnavailable(ValueError):
    """No feature extractor of the kind asked for can be used on this machine; the message says why."""


class FeatureExtractor:
    """Turns samples into float64 feature rows (N, d); classifiers also give class probabilities (N, classes).

    Build one with `choose_extractor`, `classifier_extractor`, `inception_extractor` or `point_extractor`.
    """

    def __init__(
        self,
        feature_space: str,
        name: str,
        frechet_label: str,
        key: str,
        compute: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray | None]],
        class_names: tuple[str, ...] = (),
        test_accuracy: float | None = None,
    ) -> None:
        self.feature_space = feature_space  # a stable name for caches and charts, e.g. "fashion_mnist classifier"
        self.name = name  # for people, e.g. "Fashion-MNIST classifier"
        self.frechet_label = frechet_label  # how the Fréchet distance in this space is labelled
        self.key = key  # identifies the exact network (weights), so cached results can be checked against it
        self.class_names = class_names
        self.test_accuracy = test_accuracy
        self._compute = compute

    def __repr__(self) -> str:
        return f"FeatureExtractor({self.feature_space!r}, key={self.key!r})"

    @property
    def is_classifier(self) -> bool:
        return bool(self.class_names)

    def features_and_probabilities(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Features and (for classifiers, else None) class probabilities of `samples`, in one pass."""
        features, probabilities = self._compute(samples)
        return features.astype(np.float64), None if probabilities is None else probabilities.astype(np.float64)

    def features(self, samples: np.ndarray) -> np.ndarray:
        """float64 (N, d) features of uint8 NHWC images (or of (N, 2) points for the point extractor)."""
        return self.features_and_probabilities(samples)[0]

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        """float64 (N, classes) class probabilities; only classifiers have them."""
        if not self.is_classifier:
            raise ValueError(f"{self.name} features have no class probabilities; only a dataset classifier does")
        return self.features_and_probabilities(samples)[1]


# ---------------------------------------------------------------------------------------------------------------
# Choosing one.


def choose_extractor(config: RunConfig, kind: str = "auto", download: bool = False) -> FeatureExtractor:
    """The feature space a run is judged in.

    "auto" takes the dataset's classifier when there is one, else InceptionV3 when its weights are on this
    machine; "classifier" and "inception" insist on one. InceptionV3's weights are downloaded only when
    `download` is true. The 2-D point sets are always compared on the points themselves. When nothing can be
    used, FeaturesUnavailable (a ValueError) says why and which measures still hold.
    """
    if kind not in KINDS:
        raise ValueError(f"feature kind {kind!r} is not allowed; use one of {', '.join(KINDS)}")
    if config.is_points:
        if kind != "auto":
            raise ValueError(f"the 2-D point set {config.dataset!r} is compared on the points themselves; "
                             f"use features 'auto' instead of {kind!r}")
        return point_extractor()
    judged = registry.of(config).judged_dataset(config)
    if kind == "classifier":
        return classifier_extractor(judged)
    if kind == "inception":
        return inception_extractor(download=download)
    reason = classifier_unavailable_reason(judged)
    if reason is None:
        return classifier_extractor(judged)
    if download or inception_weights_path().is_file():
        return inception_extractor(download=download)
    raise FeaturesUnavailable(
        f"No feature space is available to judge this run ({_describe_dataset(config)}). {reason}; and "
        f"InceptionV3's ImageNet weights (for FID) are not on this machine ({inception_weights_path()}). "
        f"So the feature-space measures (FD / FID, KID, precision, recall, density, coverage) cannot be computed. "
        f"Measures that still hold: {MEASURES_WITHOUT_FEATURES}. To get FID, download the weights once with "
        f"internet access (`python -m gan_core evaluate RUN_DIR --n N --features inception --download-weights`), "
        f"or copy {INCEPTION_WEIGHTS_FILE} into {inception_weights_path().parent}."
    )


def _describe_dataset(config: RunConfig) -> str:
    if config.dataset == "folder":
        return f"your own images, {uploads.display_name(config.data_path)}"
    return DATASET_TITLES.get(config.dataset, config.dataset)


def classifier_unavailable_reason(dataset_name: str) -> str | None:
    """Why the project has no classifier for `dataset_name` on this machine, or None when it has one."""
    if dataset_name == "folder":
        return ("The project trains classifiers only for the built-in labelled sets (mnist, fashion_mnist, digits, "
                "and cifar10 when its full training split is present), not for a person's own images")
    if dataset_name not in FULL_TRAINING_SIZES:
        return f"{dataset_name!r} is not an image dataset, so it has no classifier"
    if dataset_name == "cifar10":
        try:
            count = len(data.load_builtin("cifar10", "train").examples)
        except ValueError:
            return "CIFAR-10's training split is not on this machine, so no CIFAR-10 classifier can be trained"
        if count < FULL_TRAINING_SIZES["cifar10"]:
            return (f"Only {count:,} of CIFAR-10's {FULL_TRAINING_SIZES['cifar10']:,} training images are on this "
                    f"machine, too few to train a trustworthy CIFAR-10 classifier")
    return None


# ---------------------------------------------------------------------------------------------------------------
# 2-D points.


def point_extractor() -> FeatureExtractor:
    """The trivial extractor for the 2-D toy sets: the points are their own features."""

    def compute(points: np.ndarray) -> tuple[np.ndarray, None]:
        points = np.asarray(points)
        if points.ndim != 2 or points.shape[1] != 2 or not np.issubdtype(points.dtype, np.floating):
            raise ValueError(f"points must be a float array of shape (N, 2), got {points.dtype} {points.shape}")
        return points, None

    return FeatureExtractor("2-D points", "2-D points", "FD (2-D points)", "points", compute)


# ---------------------------------------------------------------------------------------------------------------
# The project's classifiers.


def default_cache_dir() -> Path:
    """Where trained classifiers and reference scores are kept: GAN_CACHE_DIR, else ~/.cache/gan_dashboard."""
    return Path(os.environ.get("GAN_CACHE_DIR") or "~/.cache/gan_dashboard").expanduser()


_loaded_classifiers: dict[tuple[str, Path], FeatureExtractor] = {}


def classifier_extractor(dataset_name: str, cache_dir: Path | str | None = None,
                         on_progress: Callable[[float], None] | None = None) -> FeatureExtractor:
    """The project's classifier for a built-in dataset, trained on first use (about half a minute) and cached.

    Within one process the loaded network is kept, so later calls are free. `on_progress` hears the fraction of
    training done, when it has to train.
    """
    reason = classifier_unavailable_reason(dataset_name)
    if reason is not None:
        raise FeaturesUnavailable(f"{reason}. Use features 'inception' (InceptionV3, FID) if its weights are "
                                  f"available; otherwise these measures still hold: {MEASURES_WITHOUT_FEATURES}.")
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    memo_key = (dataset_name, cache_dir.resolve())
    if memo_key not in _loaded_classifiers:
        train = data.load_builtin(dataset_name, "train")
        _loaded_classifiers[memo_key] = load_or_train_classifier(
            train, lambda: data.load_builtin(dataset_name, "test"), cache_dir, on_progress
        )
    return _loaded_classifiers[memo_key]


# (dataset, cache dir) -> where its classifier is cached: the key hashes the whole training split, so it is worked
# out once per process (the built-in files do not change under a running server).
_classifier_paths: dict[tuple[str, Path], Path] = {}


def classifier_pending(config: RunConfig, cache_dir: Path | str | None = None) -> str | None:
    """The dataset whose classifier `choose_extractor(config)` would have to train first (half a minute), or None
    when it would not train anything (the classifier is cached, or the run is judged in another space)."""
    judged = registry.of(config).judged_dataset(config)
    if config.is_points or classifier_unavailable_reason(judged) is not None:
        return None
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    memo_key = (judged, cache_dir.resolve())
    if memo_key in _loaded_classifiers:
        return None
    if memo_key not in _classifier_paths:
        _classifier_paths[memo_key] = classifier_path(data.load_builtin(judged, "train"), cache_dir)
    return None if _classifier_paths[memo_key].is_file() else judged


def classifier_training_work(dataset_name: str, recipe: dict | None = None) -> float:
    """Multiply-accumulates of the forward passes that training a built-in set's classifier makes: the network's
    count per example, times the examples of its full training split, times the epochs the recipe (by default
    CLASSIFIER_RECIPE) gives it."""
    side, _, channels = NATIVE_IMAGE_SHAPES[dataset_name]
    recipe = recipe or CLASSIFIER_RECIPE
    per_example, filters_in = 0, channels
    for filters_out in recipe["filters"]:  # a 3x3 convolution at this side, then a halving max-pool
        per_example += side * side * 9 * filters_in * filters_out
        side, filters_in = side // 2, filters_out
    per_example += side * side * filters_in * recipe["feature_units"] + recipe["feature_units"] * 10
    examples = FULL_TRAINING_SIZES[dataset_name]
    batches_per_epoch = math.ceil(examples / recipe["batch_size"])
    epochs = max(recipe["epochs"], math.ceil(recipe["min_updates"] / batches_per_epoch))
    return float(per_example) * examples * epochs


# Seconds each built-in set's classifier took to train by the recipe above on throughput.REFERENCE_CPU, nothing else
# running (bench/bench_estimates.py, 2026-12-07): what Evaluate says before any classifier has trained on this machine.
REFERENCE_CLASSIFIER_SECONDS = {"mnist": 22.0, "fashion_mnist": 14.0}


def expected_classifier_seconds(dataset_name: str, cache_dir: Path | str | None = None) -> float | None:
    """How long training `dataset_name`'s classifier should take here: the seconds the classifiers of images of the
    same size already trained in this cache took (recorded beside each), scaled by the work; None when none was.

    Only the same image size counts: with small images (digits' 8x8) the time goes into the steps themselves, not
    into arithmetic, so their pace says little about larger ones. Only classifiers of this version count: an older
    version was trained another way, at another pace."""
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    paces = []
    for record in sorted((cache_dir / "classifiers").glob("*.json")):
        try:
            details = json.loads(record.read_text())
            if (details.get("version") != CLASSIFIER_VERSION
                    or NATIVE_IMAGE_SHAPES[details["dataset"]] != NATIVE_IMAGE_SHAPES.get(dataset_name)):
                continue
            work = classifier_training_work(details["dataset"], details["recipe"])
            paces.append(float(details["training_seconds"]) / work)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a progress file, or a record from another version: no pace to learn from
    if not paces:
        return None
    return float(np.median(paces)) * classifier_training_work(dataset_name)


def classifier_key(train: data.Dataset, recipe: dict | None = None) -> str:
    """A hash of the training data (examples, labels, class names) and of the classifier's recipe (by default
    CLASSIFIER_RECIPE) and version."""
    digest = hashlib.sha256()
    described = json.dumps({"version": CLASSIFIER_VERSION, "recipe": recipe or CLASSIFIER_RECIPE}, sort_keys=True)
    digest.update(described.encode())
    digest.update(json.dumps([train.examples.shape, str(train.examples.dtype), list(train.class_names)]).encode())
    digest.update(np.ascontiguousarray(train.examples).data)
    digest.update(np.ascontiguousarray(train.labels).data)
    return digest.hexdigest()[:16]


def classifier_path(train: data.Dataset, cache_dir: Path | str | None = None, recipe: dict | None = None) -> Path:
    """Where the classifier for this training data (and recipe) is or would be cached; its JSON sits beside it."""
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return cache_dir / "classifiers" / f"{train.name}-{classifier_key(train, recipe)}.keras"


def load_or_train_classifier(
    train: data.Dataset, test: data.Dataset | Callable[[], data.Dataset], cache_dir: Path | str | None = None,
    on_progress: Callable[[float], None] | None = None, recipe: dict | None = None,
) -> FeatureExtractor:
    """Load the cached classifier for `train`, or train one, measure it on `test` and cache both.

    `recipe` is CLASSIFIER_RECIPE unless another is given (bench/bench_classifier.py compares two).

    `test` may be a function that loads it, so a cache hit does not pay for reading the test split. Two
    processes asking at once are serialised by a lock file: one trains, the other waits and loads the result.
    The file appears under its final name only when complete (written elsewhere, then renamed).
    """
    if train.labels is None or train.num_classes < 2:
        raise ValueError(f"dataset {train.name!r} has no class labels, so no classifier can be trained on it")
    recipe = recipe or CLASSIFIER_RECIPE
    path = classifier_path(train, cache_dir, recipe)
    if not path.is_file():
        with exclusive_lock(path.with_suffix(".lock"), create_parent=True):
            # Another process may have finished training while this one waited for the lock.
            if not path.is_file():
                _train_and_save(train, test() if callable(test) else test, path, recipe, on_progress)
    return _classifier_from_file(train, path)


def _train_and_save(train: data.Dataset, test: data.Dataset, path: Path, recipe: dict,
                    on_progress: Callable[[float], None] | None = None) -> None:
    import keras

    log.info("training the %s classifier on %d images (about half a minute, once)", train.name, len(train.examples))
    started = time.perf_counter()
    network = train_classifier(train, on_progress, recipe)
    seconds = time.perf_counter() - started
    _, accuracy = network.evaluate(test.examples, test.labels, batch_size=CLASSIFIER_BATCH, verbose=0)
    log.info("the %s classifier reached %.4f test accuracy after %.0f s", train.name, accuracy, seconds)
    details = {
        "dataset": train.name,
        "key": path.stem.rsplit("-", 1)[1],
        "test_accuracy": float(accuracy),
        "test_examples": len(test.examples),
        "train_examples": len(train.examples),
        "training_seconds": round(seconds, 1),
        "class_names": list(train.class_names),
        "recipe": recipe,
        "version": CLASSIFIER_VERSION,
        "keras_version": keras.__version__,
        "created": time.time(),
        "pid": os.getpid(),
    }
    # The JSON is in place before the .keras file, whose presence means "complete".
    temporary_json = path.with_name(f".{path.stem}.{os.getpid()}.json")
    temporary_json.write_text(json.dumps(details, indent=2))
    os.replace(temporary_json, path.with_suffix(".json"))
    temporary_model = path.with_name(f".{path.stem}.{os.getpid()}.keras")
    network.save(temporary_model)
    os.replace(temporary_model, path)


def build_classifier(input_shape: tuple[int, int, int], num_classes: int, name: str = "classifier",
                     recipe: dict | None = None) -> keras.Model:
    """The classifier network: uint8 pixels in, class probabilities out; its layer "features" is the feature layer."""
    import keras

    recipe = recipe or CLASSIFIER_RECIPE
    pixels = keras.Input(input_shape, dtype="uint8", name="pixels")
    hidden = keras.layers.Rescaling(1 / 255)(pixels)
    for filters in recipe["filters"]:
        hidden = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(hidden)
        hidden = keras.layers.MaxPooling2D()(hidden)
    hidden = keras.layers.Flatten()(hidden)
    features = keras.layers.Dense(recipe["feature_units"], activation="relu", name="features")(hidden)
    hidden = keras.layers.Dropout(recipe["dropout"])(features)
    probabilities = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(hidden)
    return keras.Model(pixels, probabilities, name=name)


def train_classifier(train: data.Dataset, on_progress: Callable[[float], None] | None = None,
                     recipe: dict | None = None) -> keras.Model:
    """A freshly trained classifier for `train` (seeded, so the same data gives nearly the same network), by `recipe`
    (CLASSIFIER_RECIPE unless another is given).

    `on_progress` hears the fraction of the batches done, about a hundred times over the training.
    """
    import keras

    recipe = recipe or CLASSIFIER_RECIPE
    # This sets the process-wide seeds (Python, numpy, TensorFlow); only a training process calls it.
    keras.utils.set_random_seed(recipe["seed"])
    network = build_classifier(train.examples.shape[1:], train.num_classes, name=f"{train.name}_classifier",
                               recipe=recipe)
    batches_per_epoch = math.ceil(len(train.examples) / recipe["batch_size"])
    epochs = max(recipe["epochs"], math.ceil(recipe["min_updates"] / batches_per_epoch))
    # Decaying the rate to zero over the run gains about a point of accuracy over a constant rate in 3 epochs.
    schedule = keras.optimizers.schedules.CosineDecay(recipe["learning_rate"], epochs * batches_per_epoch)
    network.compile(keras.optimizers.Adam(schedule), "sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = []
    if on_progress is not None:
        total_batches = epochs * batches_per_epoch
        report_every = max(1, total_batches // 100)
        done = [0]

        def count_batch(batch: int, logs: dict | None = None) -> None:
            done[0] += 1
            if done[0] % report_every == 0:
                on_progress(done[0] / total_batches)

        callbacks.append(keras.callbacks.LambdaCallback(on_train_batch_end=count_batch))
    network.fit(shuffled_batches(train, recipe), epochs=1, steps_per_epoch=epochs * batches_per_epoch, shuffle=False,
                verbose=0, callbacks=callbacks)
    return network


def shuffled_batches(train: data.Dataset, recipe: dict):
    """The recipe's epochs of `train` as one tf.data stream of batches, each pass in a new seeded order."""
    import tensorflow as tf

    examples = tf.data.Dataset.from_tensor_slices((train.examples, train.labels.astype(np.int32)))
    passes = examples.shuffle(len(train.examples), seed=recipe["seed"], reshuffle_each_iteration=True)
    return passes.batch(recipe["batch_size"]).repeat().prefetch(2)


def classifier_details(path: Path) -> dict:
    """What was recorded when the classifier at `path` was trained (test accuracy, data size, recipe...)."""
    try:
        return json.loads(path.with_suffix(".json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(
            f"{path.with_suffix('.json')} is missing or unreadable ({error}); delete {path} to retrain"
        ) from None


def _classifier_from_file(train: data.Dataset, path: Path) -> FeatureExtractor:
    import keras

    details = classifier_details(path)
    try:
        network = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds of error for a damaged file; all mean "retrain".
        raise ValueError(f"the cached classifier {path} cannot be loaded ({error}); delete it to retrain") from None
    both = keras.Model(network.inputs, [network.get_layer("features").output, network.outputs[0]])
    image_size, _, channels = network.input_shape[1:]

    def compute(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = data.convert_images(_checked_images(images), image_size, channels)
        features, probabilities = both.predict(images, batch_size=CLASSIFIER_BATCH, verbose=0)
        return features, probabilities

    title = DATASET_TITLES.get(train.name, train.name)
    return FeatureExtractor(
        feature_space=f"{train.name} classifier",
        name=f"{title} classifier",
        frechet_label=f"FD ({title} classifier)",
        key=details.get("key", path.stem),
        compute=compute,
        class_names=tuple(train.class_names),
        test_accuracy=details.get("test_accuracy"),
    )


def _checked_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"images must be a non-empty uint8 array (N, H, W, 1 or 3), got {images.dtype} {images.shape}")
    return images


# ---------------------------------------------------------------------------------------------------------------
# InceptionV3 (the standard FID).


def inception_weights_path() -> Path:
    """Where Keras keeps InceptionV3's ImageNet weights once downloaded (KERAS_HOME, else ~/.keras)."""
    keras_home = Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser()
    return keras_home / "models" / INCEPTION_WEIGHTS_FILE


_loaded_inception: list[FeatureExtractor] = []


def inception_extractor(download: bool = False) -> FeatureExtractor:
    """InceptionV3 average-pool features (2048-d) with ImageNet weights, for FID.

    The weights come from Keras' cache; they are downloaded (about 84 MB) only when `download` is true.
    It is slow without a GPU: about 5-10 images a second on two CPU cores, so FID on 10,000 generated and
    10,000 real images takes most of an hour there (1,000 each gives a quick, noisier estimate).
    """
    if _loaded_inception:
        return _loaded_inception[0]
    path = inception_weights_path()
    if not path.is_file() and not download:
        raise FeaturesUnavailable(
            f"InceptionV3's ImageNet weights are not on this machine (looked for {path}), and downloading them was "
            f"not asked for, so FID cannot be computed. Allow the download (about 84 MB, once; the command line's "
            f"--download-weights) or copy {INCEPTION_WEIGHTS_FILE} there. Without them, these measures still hold: "
            f"{MEASURES_WITHOUT_FEATURES}."
        )
    network = _inception_network(path)

    def compute(images: np.ndarray) -> tuple[np.ndarray, None]:
        images = _checked_images(images)
        return np.concatenate([
            _inception_batch(network, images[start : start + INCEPTION_BATCH])
            for start in range(0, len(images), INCEPTION_BATCH)
        ]), None

    extractor = FeatureExtractor("inception_v3", "InceptionV3", "FID (InceptionV3)", "inception_v3-keras-imagenet",
                                 compute)
    _loaded_inception.append(extractor)
    return extractor


def _inception_network(path: Path) -> keras.Model:
    """InceptionV3 up to its average pool, with the ImageNet weights at `path`, or downloaded by Keras when absent.

    Any failure is FeaturesUnavailable, so that the views say which measures still hold instead of showing a
    traceback.
    """
    import keras

    try:
        return keras.applications.InceptionV3(
            include_top=False, weights=str(path) if path.is_file() else "imagenet", pooling="avg",
            input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3),
        )
    except Exception as error:  # A failed download surfaces as a bare Exception from keras.utils.get_file.
        raise FeaturesUnavailable(
            f"InceptionV3's ImageNet weights could not be loaded or downloaded ({type(error).__name__}: {error}). "
            f"Without them, these measures still hold: {MEASURES_WITHOUT_FEATURES}."
        ) from None


def _inception_batch(network: keras.Model, images: np.ndarray) -> np.ndarray:
    import tensorflow as tf
    from keras.applications import inception_v3

    pixels = tf.convert_to_tensor(images, dtype=tf.float32)
    if images.shape[-1] == 1:
        pixels = tf.image.grayscale_to_rgb(pixels)
    pixels = tf.image.resize(pixels, (INCEPTION_SIZE, INCEPTION_SIZE), method="bilinear")
    return np.asarray(network(inception_v3.preprocess_input(pixels), training=False))
