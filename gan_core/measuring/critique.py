"""The discriminator's verdict: load it from a checkpoint and score real and generated examples with it.

Trained with the cross-entropy losses (non_saturating, minimax), the discriminator's logit passed through a
sigmoid is its probability that an example is real. The other losses train a critic whose raw output has no
probability reading: for wgan_gp and hinge only "higher looks more real" holds, and lsgan pushes it towards 1
for real and 0 for generated examples. Scores on held-out real examples beside scores on generated ones show
how well the discriminator still tells the two apart at a checkpoint: two overlapping histograms mean it can
no longer separate them (or has collapsed), two far-apart ones that it wins easily.
"""

from __future__ import annotations

import numpy as np
import keras

from gan_core.measuring import health
from gan_core.spec import registry
from gan_core.store.runs import Run
from gan_core.nets.sampling import num_classes, restore_network


def load_discriminator(run: Run, step: int | None = None) -> keras.Model:
    """The run's discriminator as of the checkpoint at `step` (default: the latest one).

    ValueError when the run's variant has no discriminator that scores examples (a VAE, say).
    """
    discriminator = registry.of(run.config).build_discriminator(run.config, num_classes(run))
    if discriminator is None:
        raise ValueError(f"a {registry.of(run.config).title} run has no discriminator that scores examples")
    restore_network(run, step, discriminator=discriminator)
    return discriminator


def discriminator_logits(
    discriminator: keras.Model, examples: np.ndarray, labels: np.ndarray | None = None, batch_size: int = 500
) -> np.ndarray:
    """The discriminator's raw output (N,) for uint8 images or float32 (N, 2) points, one label each if conditional.

    Images are scaled to [-1, 1] exactly as the trainer feeds real ones.
    """
    examples = np.asarray(examples)
    if examples.dtype == np.uint8 and examples.ndim == 4:
        inputs = examples.astype(np.float32) / 127.5 - 1.0
    elif examples.ndim == 2 and np.issubdtype(examples.dtype, np.floating):
        inputs = examples.astype(np.float32)
    else:
        raise ValueError(f"examples must be uint8 images (N, H, W, C) or float points (N, 2), "
                         f"got {examples.dtype} {examples.shape}")
    conditional = isinstance(discriminator.input, (list, tuple))
    if conditional and (labels is None or len(labels) != len(inputs)):
        raise ValueError("this discriminator is conditional: give one class label per example")
    outputs = []
    for start in range(0, len(inputs), batch_size):
        batch = inputs[start : start + batch_size]
        batch_inputs = [batch, np.asarray(labels[start : start + batch_size], np.int32)] if conditional else batch
        outputs.append(np.asarray(discriminator(batch_inputs, training=False)).reshape(-1))
    return np.concatenate(outputs) if outputs else np.zeros(0, np.float32)


def readable_scores(logits: np.ndarray, loss: str) -> np.ndarray:
    """The discriminator's outputs as people should read them: probabilities of "real" where the loss gives one."""
    return health.discriminator_output_view(logits, loss)[0]


def score_label(loss: str) -> str:
    """What `readable_scores` returns for this loss, in a few words for an axis title."""
    if health.output_is_probability(loss):
        return "D(x): the discriminator's probability that x is real"
    if loss == "lsgan":
        return "discriminator output (trained towards 1 for real, 0 for generated)"
    return "critic score (higher looks more real; no fixed scale)"
