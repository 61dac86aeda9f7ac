"""What the Playground shows of a GAN on 2-D points, as numbers: the view's square, the discriminator's field,
the generator's manifold and the gradient arrows on its samples (GAN Lab's KL and JS are metrics.grid_divergences).

Each function takes the networks (or points) and returns plain NumPy arrays, so that the trainer can write them
into a snapshot and the page can draw them without TensorFlow. TensorFlow is imported inside the functions that
run networks, as the rest of gan_core does, so that importing this module stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from gan_core.measuring import health

if TYPE_CHECKING:
    import keras

# (x_min, x_max, y_min, y_max) of the square the Playground shows.
Bounds = tuple[float, float, float, float]

# How much room the view leaves around the data, as a share of the data's extent on each side.
VIEW_MARGIN = 0.25


def view_bounds(points: np.ndarray, margin: float = VIEW_MARGIN) -> Bounds:
    """A square around `points`, centred on them, with `margin` of their extent added on every side."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"points must be a non-empty (N, 2) array of x, y; got shape {points.shape}")
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    # A lone point (or points on one line) still gets a view of side 2 around it.
    half_side = max(float((high - low).max()) / 2, 1.0) * (1 + 2 * margin)
    return (float(centre[0] - half_side), float(centre[0] + half_side),
            float(centre[1] - half_side), float(centre[1] + half_side))


def extent(bounds: Bounds) -> tuple[tuple[float, float], tuple[float, float]]:
    """The bounds as ((x_min, x_max), (y_min, y_max)), the extent metrics.grid_divergences takes."""
    x_min, x_max, y_min, y_max = bounds
    return (x_min, x_max), (y_min, y_max)


def grid_axes(bounds: Bounds, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The centres of `resolution` equal cells along x and along y of `bounds`."""
    x_min, x_max, y_min, y_max = bounds
    x_step, y_step = (x_max - x_min) / resolution, (y_max - y_min) / resolution
    xs = x_min + x_step * (np.arange(resolution) + 0.5)
    ys = y_min + y_step * (np.arange(resolution) + 0.5)
    return xs.astype(np.float32), ys.astype(np.float32)


def grid_points(bounds: Bounds, resolution: int) -> np.ndarray:
    """The cell centres of the grid as (resolution * resolution, 2) points, row by row from the bottom (y_min)."""
    xs, ys = grid_axes(bounds, resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    return np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)


def discriminator_field(discriminator: keras.Model, bounds: Bounds, resolution: int, loss: str) -> np.ndarray:
    """The discriminator's output at the centre of every grid cell, shaped (resolution, resolution) as [y, x].

    Read as `health.discriminator_output_view` reads it: a probability of "real" for the cross-entropy losses; the
    other losses train a critic whose raw score is what the generator climbs, so that score is returned as it is.
    """
    import tensorflow as tf

    logits = discriminator(tf.constant(grid_points(bounds, resolution)), training=False).numpy().reshape(-1)
    values, _ = health.discriminator_output_view(logits, loss)
    return values.reshape(resolution, resolution).astype(np.float32)


def latent_grid(latent_dim: int, lines: int, points_per_line: int, extent: float = 2.0) -> np.ndarray:
    """The latent points of the manifold mesh, shaped (2, lines, points_per_line, latent_dim).

    The first two latent dimensions span [-extent, extent] (two standard deviations of the noise); [0] holds the
    lines along the first dimension (the second fixed per line), [1] those along the second. Any further
    dimensions are 0, the noise's mean.
    """
    if latent_dim < 1:
        raise ValueError(f"latent_dim={latent_dim} is not allowed; it must be at least 1")
    across = np.linspace(-extent, extent, lines, dtype=np.float32)
    along = np.linspace(-extent, extent, points_per_line, dtype=np.float32)
    grid = np.zeros((2, lines, points_per_line, latent_dim), dtype=np.float32)
    grid[0, :, :, 0] = along[np.newaxis, :]
    grid[1, :, :, 0] = across[:, np.newaxis]
    if latent_dim >= 2:
        grid[0, :, :, 1] = across[:, np.newaxis]
        grid[1, :, :, 1] = along[np.newaxis, :]
    return grid


def manifold_mesh(generator: keras.Model, latent_dim: int, lines: int, points_per_line: int = 41) -> np.ndarray:
    """How the generator warps a regular latent grid: polylines in the plane, shaped (2 * lines, points_per_line, 2).

    With a 2-D latent these are GAN Lab's warped mesh; with more dimensions they are the slice through the first
    two at 0 in the others. A 1-D latent gives one line, repeated.
    """
    import tensorflow as tf

    grid = latent_grid(latent_dim, lines, points_per_line)
    mapped = generator(tf.constant(grid.reshape(-1, latent_dim)), training=False).numpy()
    return mapped.reshape(2 * lines, points_per_line, 2).astype(np.float32)


def generator_gradient_arrows(generator: keras.Model, discriminator: keras.Model, latent: np.ndarray,
                              g_loss_function: Callable) -> tuple[np.ndarray, np.ndarray]:
    """The generated points G(latent) and, at each, where the generator's loss pushes it: -d g_loss / d x.

    The loss is the mean over the points, so each gradient is scaled by the number of points to read as the
    push on that one sample, whatever the batch size.
    """
    import tensorflow as tf

    points = tf.constant(generator(tf.constant(latent), training=False))
    with tf.GradientTape() as tape:
        tape.watch(points)
        g_loss = g_loss_function(discriminator(points, training=False))
    gradients = tape.gradient(g_loss, points).numpy() * len(latent)
    return points.numpy().astype(np.float32), (-gradients).astype(np.float32)
