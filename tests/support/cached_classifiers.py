"""The digits classifier, copied into a test's own cache, for tests that need one there without training it again.

The classifier for the whole digits training split is trained once in the normal cache (GAN_CACHE_DIR or
~/.cache/gan_dashboard), as the app trains it and as the tests of the MNIST and Fashion-MNIST classifiers keep theirs:
only the first run of the suite on a machine pays for it (some seconds). A test then gets a copy of its two files
(the network and what was recorded when it was trained) in a cache directory of its own, which the code under test
finds exactly as it would find a classifier it had trained there itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from gan_core.inputs import data
from gan_core.measuring import features


def copy_of_the_digits_classifier(cache_dir: Path) -> Path:
    """Put the digits classifier (trained in the normal cache first, if it is not there yet) into
    `cache_dir`/classifiers; returns where the copy's network is."""
    train = data.load_builtin("digits", "train")
    original = features.classifier_path(train, features.default_cache_dir())
    if not original.is_file():
        features.load_or_train_classifier(train, lambda: data.load_builtin("digits", "test"),
                                          features.default_cache_dir())
    copy = features.classifier_path(train, cache_dir)
    copy.parent.mkdir(parents=True, exist_ok=True)
    # The record first and the network last, in the order the trainer writes them.
    shutil.copyfile(original.with_suffix(".json"), copy.with_suffix(".json"))
    shutil.copyfile(original, copy)
    return copy
