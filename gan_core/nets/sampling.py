"""Generators from checkpoints: load one, draw samples, walk between two latent points, export `.keras`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
import keras

from gan_core.nets import checkpoints
from gan_core.inputs import comparison, data
from gan_core.spec import registry
from gan_core.spec.config import RunConfig
from gan_core.store.runs import Run


def load_generator(run: Run, step: int | None = None) -> keras.Model:
    """The run's sampling generator as of the checkpoint at `step` (default: the newest readable one).

    That is the moving average of the generator's weights the trainer keeps (the generator itself when the
    run's g_ema_decay is 0).
    """
    generator = registry.of(run.config).build_generator(run.config, num_classes(run))
    restore_network(run, step, generator_ema=generator)
    return generator


def newest_readable_step(run: Run) -> int:
    """The step of the newest checkpoint whose sampling generator reads cleanly."""
    generator = registry.of(run.config).build_generator(run.config, num_classes(run))
    return restore_network(run, None, generator_ema=generator)


def restore_network(run: Run, step: int | None, **networks: keras.Model) -> int:
    """Fill the given networks (named as in the trainer's checkpoint) from the checkpoint at `step`.

    Without a `step`, the newest checkpoint that reads cleanly is used (a damaged newest one is skipped, with a
    warning in the log); returns the step restored. Everything else in the file is deliberately left unread, but
    every variable of the given networks must be found in it.
    """
    try:
        return checkpoints.step_to_use(run, step, tf.train.Checkpoint(**networks), partial=True)
    except AssertionError:
        raise ValueError(
            f"the checkpoint at step {step or run.checkpoint_steps()[-1]} of run {run.run_id} does not hold networks "
            "matching this run's config; it may come from an older version of gan_core"
        ) from None


def num_classes(run: Run) -> int:
    """Classes the generator is conditioned on (0 for unconditional runs)."""
    return len(data.class_names(run))


def latent_vectors(config: RunConfig, count: int, seed: int) -> np.ndarray:
    """`count` generator inputs of a run's kind, drawn as its training draws them (noise, and codes if any)."""
    return registry.of(config).draw_latents(config, count, seed)


def generate(
    generator: keras.Model,
    latents: np.ndarray,
    labels: np.ndarray | None = None,
    batch_size: int = 500,
) -> np.ndarray:
    """Run the generator in batches. Images come back as uint8 NHWC, 2-D points as float32 (N, 2)."""
    conditional = isinstance(generator.input, (list, tuple))
    if conditional and labels is None:
        raise ValueError("this generator is conditional: give one class label per latent vector")
    outputs = []
    for start in range(0, len(latents), batch_size):
        batch = latents[start : start + batch_size]
        inputs = [batch, labels[start : start + batch_size].astype(np.int32)] if conditional else batch
        outputs.append(np.asarray(generator(inputs, training=False)))
    generated = np.concatenate(outputs) if outputs else np.zeros((0,) + tuple(generator.output.shape[1:]), np.float32)
    if generated.ndim == 2:
        return generated.astype(np.float32)
    return data.to_uint8_images(generated)


def sample(run: Run, count: int, seed: int = 0, step: int | None = None,
           labels: np.ndarray | None = None) -> np.ndarray:
    """`count` fresh samples from the run's generator; conditional runs cycle through the classes by default."""
    if count < 1:
        raise ValueError(f"the number of samples must be at least 1, got {count}")
    generator = load_generator(run, step)
    classes = num_classes(run)
    if classes and labels is None:
        labels = comparison.cycled_labels(count, classes)
    return generate(generator, latent_vectors(run.config, count, seed), labels)


def interpolate(start: np.ndarray, end: np.ndarray, count: int) -> np.ndarray:
    """Points on the great circle between two latent vectors (slerp), which stays where Gaussian noise lives."""
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    cosine = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end))
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))
    fractions = np.linspace(0.0, 1.0, count)[:, np.newaxis]
    if angle < 1e-6:
        return ((1 - fractions) * start + fractions * end).astype(np.float32)
    return ((np.sin((1 - fractions) * angle) * start + np.sin(fractions * angle) * end)
            / np.sin(angle)).astype(np.float32)


def export_generator(run: Run, path: Path, step: int | None = None) -> Path:
    """Save the generator as a `.keras` file that `keras.models.load_model` opens without this project."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path} must end in .keras")
    load_generator(run, step).save(path)
    return path
