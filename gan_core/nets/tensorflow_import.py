"""TensorFlow and Keras imported the way every engine process wants them: quietly, and without Keras' extras."""

from __future__ import annotations

import os
import sys

# TensorFlow's C++ log lines (a missing GPU, grappler's harmless fusion notices) are noise for a person at a
# terminal; real failures still arrive as Python exceptions. TF_CPP_MIN_LOG_LEVEL=0 brings the lines back.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Keras imports these whenever they are installed: for notebooks (IPython), data frames (pandas) and its scikit-learn
# wrappers. No command here uses them through Keras, and they are a third of the time TensorFlow and Keras take to
# import, which every trainer waits for before its first step (bench/bench_start.py).
KERAS_EXTRAS = ("IPython", "pandas", "sklearn")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and Keras with standard error silenced, and without Keras' extras.

    Their C++ start-up notices (oneDNN, missing CUDA) bypass TF_CPP_MIN_LOG_LEVEL and would bury this tool's
    one-line messages. Only the import is silenced; an import error still surfaces as a Python exception.

    An extra not imported yet is hidden during the import only (Keras then does without it), so that a later
    `import sklearn` of this project's own (the two-moons points) imports it as usual.
    """
    if "keras" in sys.modules:
        return
    hidden = [name for name in KERAS_EXTRAS if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))  # None in sys.modules makes `import name` raise ImportError
    saved_stderr, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
        import keras  # noqa: F401
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
        for name in hidden:
            if sys.modules.get(name, "imported meanwhile") is None:
                del sys.modules[name]
