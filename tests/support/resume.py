"""Checking that a run stopped part-way and resumed continues exactly as one trained straight through."""

from __future__ import annotations

import numpy as np

from gan_core.nets import sampling
from gan_core.store.runs import create_run
from gan_core.training.trainer import Trainer


def straight_and_resumed(config, tmp_path, stop_at=4):
    """Two runs of `config`: one trained straight through, one stopped at `stop_at` and resumed to the end."""
    straight = create_run(config, tmp_path)
    Trainer(straight).train()

    interrupted = create_run(config, tmp_path)
    assert Trainer(interrupted).train(target_step=stop_at) == "finished"
    assert interrupted.checkpoint_steps() == [stop_at]
    assert Trainer(interrupted).train() == "finished"
    return straight, interrupted


def assert_a_resumed_run_continues_exactly(config, directory, metric, labels=None):
    """Training straight through and with a stop at step 4 give the same logged `metric` and the same generator."""
    straight = create_run(config, directory)
    Trainer(straight).train()
    interrupted = create_run(config, directory)
    Trainer(interrupted).train(target_step=4)
    Trainer(interrupted).train()
    assert [row["step"] for row in interrupted.metrics_since()] == [row["step"] for row in straight.metrics_since()]
    for expected, actual in zip(straight.metrics_since(), interrupted.metrics_since()):
        assert (actual["d_loss"], actual[metric]) == (expected["d_loss"], expected[metric])
    latents = sampling.latent_vectors(config, 6, seed=1)
    np.testing.assert_array_equal(sampling.generate(sampling.load_generator(straight), latents, labels),
                                  sampling.generate(sampling.load_generator(interrupted), latents, labels))
