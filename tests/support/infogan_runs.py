"""InfoGAN's tiny runs and the checks on them that AC-GAN's tests share (with variant="acgan"): 8x8 digits and
small networks, trained in seconds."""

from __future__ import annotations

import math

from gan_core.spec.config import RunConfig
from gan_core.store.runs import create_run
from gan_core.training.trainer import Trainer
from support.cli import gan_core_here, last_line
from support.datasets import requires_dataset


def tiny_config(**overrides):
    """An 8x8 digits InfoGAN small enough to train a few steps in seconds."""
    values = dict(dataset="digits", variant="infogan", width=8, latent_dim=8, batch_size=16, steps=6, log_every=2,
                  sample_every=3, checkpoint_every=3, max_examples=256, sample_grid=4)
    values.update(overrides)
    return RunConfig.from_dict(values)


def train_tiny_run(config, directory):
    """(run, trainer) after training `config` to the end."""
    run = create_run(config, directory)
    trainer = Trainer(run)
    assert trainer.train() == "finished"
    return run, trainer


def finite_rows(run, names):
    """The run's logged rows (steps 2, 4, 6), checked to hold finite values of `names` and the GAN's own metrics."""
    rows = run.metrics_since()
    assert [row["step"] for row in rows] == [2, 4, 6]
    for row in rows:
        for name in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", *names):
            assert math.isfinite(row[name]), name
    return rows


def assert_the_cas_trains_on_real_digits_well(results, count):
    """The three Classification Accuracy Scores are shares, from `count` training images each, and the classifier
    trained on real digits is far above the 10% of chance."""
    for name in ("", "_real", "_real_plus_generated"):
        assert 0 <= results[f"classification_accuracy_score{name}"] <= 1, name
    assert results["classification_accuracy_score_real"] > 0.5
    assert results["classification_accuracy_score_train_count"] == count


def assert_the_cli_trains(preset_name, directory):
    """`python -m gan_core train --preset <preset_name> --steps 3` trains on a slice of MNIST."""
    requires_dataset("mnist")
    result = gan_core_here("train", "--preset", preset_name, "--steps", "3", "--set", "max_examples=512",
                           "--runs-dir", directory)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "step 3/3" in result.stdout and last_line(result).startswith(str(directory))
