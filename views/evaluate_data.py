"""Cached computations behind the Evaluate page: feature spaces, real and generated sets, features and scores.

The real side is drawn by gan_core.measuring.evaluation's own functions (the held-out split, the same seed), so what the
views show is what the metrics measured. Everything is cached for all visitors: loaded networks with
`st.cache_resource` (they never change), arrays with `st.cache_data`. TensorFlow is imported only inside the
functions that need it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from gan_core.inputs import comparison, data
from gan_core.measuring import evaluation, features
from gan_core.store import runs
from gan_core.spec.config import RunConfig
from gan_core.store.runs import Run
from views.common import generated_samples

SEED = 0  # evaluate_run's default: the generator's noise and the draw of real examples
# Sample counts offered; the measures depend on the count, so runs are compared at the same one.
SAMPLE_COUNTS = (500, 1000, 2000, 5000, 10_000)
DEFAULT_SAMPLE_COUNT = 1000
# The views beside the metrics show at most this many samples per side: enough for histograms and a projection,
# and quick to compute on two cores.
VIEW_LIMIT = 1000
# Nearest training images are searched among at most this many training examples (10,000 MNIST images take about
# four seconds through the classifier on two cores; the whole 60,000 would take half a minute).
TRAINING_SEARCH_LIMIT = 10_000

FEATURE_SPINNER = "Loading the feature space…"


def feature_space(config: RunConfig) -> tuple[features.FeatureExtractor | None, str | None]:
    """The run's feature extractor and None, or None and the reason (with what still holds) when there is none."""
    try:
        return feature_extractor(config.to_json()), None
    except features.FeaturesUnavailable as error:
        return None, str(error)


@st.cache_resource(max_entries=8, show_spinner=FEATURE_SPINNER)
def feature_extractor(config_json: str) -> features.FeatureExtractor:
    """The feature space gan_core.measuring.evaluation judges this config's runs in (a network: shared, never changed).

    A classifier not trained yet is not trained here (that blocks the server for a minute): it counts as
    unavailable until the worker started from the page has trained it.
    """
    config = RunConfig.from_json(config_json)
    pending = features.classifier_pending(config)
    if pending is not None:
        raise features.FeaturesUnavailable(f"the {pending} feature classifier is not trained yet")
    return features.choose_extractor(config)


@st.cache_data(max_entries=16, show_spinner="Measuring real against real (what a perfect generator scores)…")
def reference_scores(config_json: str, sample_count: int, kind: str = "auto") -> dict:
    """The measures for real against real at this sample count (also cached on disk by gan_core)."""
    return evaluation.reference_scores(RunConfig.from_json(config_json), sample_count, kind=kind, seed=SEED)


def real_side_text(config: RunConfig, held_out: bool) -> str:
    """What the real side of a comparison is, for captions."""
    if held_out:
        return "held-out real ones (the test split)"
    if config.dataset == "folder":
        return "real ones from your collection (it has no held-out part)"
    return "real training ones (the test split is not on this machine)"


@st.cache_data(max_entries=16, show_spinner=False)
def largest_sample_count(config_json: str) -> int:
    """The most samples per side a comparison can use, as gan_core.measuring.evaluation counts them (cached: it loads
    data).

    A built-in set whose test split is not on this machine is shown against its training split (see real_sample).
    """
    return evaluation.largest_sample_count(RunConfig.from_json(config_json), training_if_missing=True)


def sample_count_options(largest: int) -> list[int]:
    """The usual counts that fit in `largest`, and `largest` itself when it is below the biggest usual one."""
    options = [count for count in SAMPLE_COUNTS if count <= largest]
    if largest < SAMPLE_COUNTS[-1] and largest not in options:
        options.append(largest)
    return options


@st.cache_data(max_entries=16, show_spinner="Loading real examples…")
def real_sample(config_json: str, count: int) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """`count` held-out real examples (fewer if there are not so many), their labels, and whether held out.

    A person's own collection has no held-out part, and a built-in set whose test split is not on this machine
    falls back to training data: the views still show something, and their captions say which.
    """
    dataset, split = evaluation.held_out_dataset(RunConfig.from_json(config_json), training_if_missing=True)
    examples, labels = evaluation.draw_examples(dataset, min(count, len(dataset.examples)), SEED)
    return examples, labels, split == "test"


@st.cache_data(max_entries=4, show_spinner="Loading training examples…")
def training_sample(config_json: str) -> tuple[np.ndarray, int]:
    """Up to TRAINING_SEARCH_LIMIT of the examples the run trained on, drawn at random, and how many there are."""
    dataset = data.load_dataset(RunConfig.from_json(config_json), "train")
    examples, _ = evaluation.draw_examples(dataset, min(len(dataset.examples), TRAINING_SEARCH_LIMIT), SEED)
    return examples, len(dataset.examples)


def generated_sample(run: Run, step: int, count: int) -> tuple[np.ndarray, np.ndarray | None]:
    """`count` samples of the checkpoint from evaluate_run's noise; conditional runs cycle through the classes."""
    names = data.class_names(run)
    labels = tuple(comparison.cycled_labels(count, len(names)).tolist()) if names else None
    samples = generated_samples(str(run.path), step, count, SEED, labels)
    return samples, None if labels is None else np.array(labels)


def feature_rows(config_json: str, examples: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Features and class probabilities (None unless a classifier) in the run's feature space.

    Without a learned feature space the rows are the pixels scaled to [0, 1], the space the views fall back on.
    """
    # Whether the classifier is still to be trained is part of the cache key, so pixel rows computed while it
    # was missing are not served once it exists.
    pending = features.classifier_pending(RunConfig.from_json(config_json))
    return _feature_rows(config_json, examples, pending)


@st.cache_data(max_entries=32, show_spinner="Computing features…")
def _feature_rows(config_json: str, examples: np.ndarray, pending: str | None) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        extractor = feature_extractor(config_json)
    except features.FeaturesUnavailable:
        return examples.reshape(len(examples), -1).astype(np.float64) / 255.0, None
    return extractor.features_and_probabilities(examples)


@st.cache_resource(max_entries=4, show_spinner="Loading the discriminator…")
def cached_discriminator(run_path: str, step: int):
    """The discriminator of a run at a checkpoint step; the weights at a step never change."""
    from gan_core.measuring import critique  # Imported here: it loads TensorFlow.

    return critique.load_discriminator(runs.open_run(run_path), step)


@st.cache_data(max_entries=32, show_spinner="Scoring with the discriminator…")
def discriminator_scores(run_path: str, step: int, examples: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
    """The discriminator's scores of `examples`, as probabilities of "real" where its loss gives them."""
    from gan_core.measuring import critique

    logits = critique.discriminator_logits(cached_discriminator(run_path, step), examples, labels)
    return critique.readable_scores(logits, runs.open_run(run_path).config.loss)
