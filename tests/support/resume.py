"""Checking that a run stopped part-way and resumed continues exactly as one trained straight through.

`assert_resumed_like` takes the straight run from the caller: a variant's test module trains one tiny run for its
other tests anyway, so only the interrupted run is trained (each Trainer traces its step again, which costs far more
than the steps themselves).
"""

from __future__ import annotations

import numpy as np

from gan_core.nets import sampling
from gan_core.store.runs import Run, create_run
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
    assert_resumed_like(straight, directory, ("d_loss", metric), labels)


def assert_resumed_like(straight: Run, directory, names, labels=None, stop_at: int = 4) -> Run:
    """Train `straight`'s config in `directory` to `stop_at`, resume it in a new Trainer to the end, and check that it
    logged the same values of `names` at the same steps and that its generator draws the same images. Returns it."""
    interrupted = create_run(straight.config, directory)
    assert Trainer(interrupted).train(target_step=stop_at) == "finished"
    assert interrupted.checkpoint_steps()[-1] == stop_at, "the stop saved a checkpoint to resume from"
    assert Trainer(interrupted).train() == "finished"
    straight_rows, resumed_rows = straight.metrics_since(), interrupted.metrics_since()
    assert [row["step"] for row in resumed_rows] == [row["step"] for row in straight_rows]
    assert [row["step"] for row in resumed_rows if row["step"] > stop_at], "rows after the resume are compared"
    for expected, actual in zip(straight_rows, resumed_rows):
        for name in names:
            assert actual[name] == expected[name], (name, expected["step"])
    latents = sampling.latent_vectors(straight.config, 6, seed=1)
    np.testing.assert_array_equal(sampling.generate(sampling.load_generator(straight), latents, labels),
                                  sampling.generate(sampling.load_generator(interrupted), latents, labels))
    return interrupted
