"""Does training really learn? Judged by an independent classifier that never saw the GAN's code."""

import functools

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC

from gan_core.nets import sampling
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.training.trainer import Trainer

pytestmark = pytest.mark.slow

CONFIDENT = 0.8


@functools.cache
def digits_svm() -> CalibratedClassifierCV:
    """An SVM trained on scikit-learn's real digits, with calibrated probabilities (trained once per process)."""
    digits = load_digits()
    return CalibratedClassifierCV(SVC(gamma=0.001), ensemble=False).fit(digits.data, digits.target)


def confidently_recognised_classes(samples: np.ndarray) -> int:
    """Classes an SVM trained on real digits assigns, with probability >= CONFIDENT, to at least 2% of samples."""
    features = samples.reshape(len(samples), -1).astype(np.float64) * (16 / 255)
    probabilities = digits_svm().predict_proba(features)
    confident = probabilities.max(axis=1) >= CONFIDENT
    counts = np.bincount(probabilities.argmax(axis=1)[confident], minlength=10)
    return int((counts >= 0.02 * len(samples)).sum())


def test_digits_mlp_preset_learns_most_digit_classes_in_300_steps(tmp_path):
    # Logging and sample grids only at the end: what is trained does not depend on them.
    run = create_run(preset("digits-mlp", steps=300, log_every=300, sample_every=300), tmp_path)
    assert Trainer(run).train() == "finished"
    samples = sampling.sample(run, 1000, seed=1)
    recognised = confidently_recognised_classes(samples)
    print(f"classes recognised confidently: {recognised} of 10")
    assert recognised >= 8


def test_an_untrained_generator_is_not_recognised(tmp_path):
    run = create_run(preset("digits-mlp", steps=1), tmp_path)
    Trainer(run).train()
    assert confidently_recognised_classes(sampling.sample(run, 1000, seed=1)) <= 4
