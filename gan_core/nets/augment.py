"""Differentiable augmentation (DiffAugment, Zhao et al. 2020): the same random changes to real and generated
images before the discriminator sees them, so that a discriminator trained on a few hundred images cannot simply
memorise them, while the generator still learns the un-augmented distribution (every change is differentiable, so
its gradients flow back through them).

The three policies of the paper's "color,translation,cutout", on images in [-1, 1]:
- colour: brightness shifted by U(-0.5, 0.5), saturation scaled by U(0, 2), contrast scaled by U(0.5, 1.5);
- translation: shifted by up to 1/8 of the side in each direction, the uncovered border filled with zeros;
- cutout: a square of half the side set to zero, at a random place (it may hang over the edge).

Randomness comes in as uniform draws in [0, 1) (`DRAWS_PER_IMAGE` per image), so the trainer's seeded, stateless
noise decides it and a resumed run augments exactly as the uninterrupted one would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tensorflow as tf

POLICIES = ("diffaugment", "none")
# A person's collection this small gets DiffAugment unless they say otherwise: the paper's gains are largest from a
# few hundred to a few thousand images, where a discriminator otherwise memorises the training set.
SMALL_COLLECTION_IMAGES = 2000
# brightness, saturation, contrast, translation x and y, cutout x and y
DRAWS_PER_IMAGE = 7
TRANSLATION_FRACTION = 0.125
CUTOUT_FRACTION = 0.5


def suggested_policy(image_count: int) -> str:
    """The augmentation a person's collection of `image_count` images starts with."""
    return "diffaugment" if image_count <= SMALL_COLLECTION_IMAGES else "none"


def diff_augment(images: tf.Tensor, draws: tf.Tensor) -> tf.Tensor:
    """Colour, translation and cutout, in that order, driven by `draws` (batch x DRAWS_PER_IMAGE, in [0, 1))."""
    images = adjust_colour(images, draws[:, 0], draws[:, 1], draws[:, 2])
    images = translate(images, draws[:, 3], draws[:, 4])
    return cut_out(images, draws[:, 5], draws[:, 6])


def adjust_colour(images: tf.Tensor, brightness: tf.Tensor, saturation: tf.Tensor, contrast: tf.Tensor) -> tf.Tensor:
    """Brightness + (u - 0.5), saturation x 2u around each pixel's channel mean, contrast x (u + 0.5) around the
    image's mean; grey images have no saturation to change."""
    import tensorflow as tf

    def per_image(values: tf.Tensor) -> tf.Tensor:
        return tf.reshape(values, [-1, 1, 1, 1])

    images = images + per_image(brightness - 0.5)
    pixel_mean = tf.reduce_mean(images, axis=3, keepdims=True)
    images = (images - pixel_mean) * per_image(saturation * 2.0) + pixel_mean
    image_mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    return (images - image_mean) * per_image(contrast + 0.5) + image_mean


def translate(images: tf.Tensor, draw_x: tf.Tensor, draw_y: tf.Tensor) -> tf.Tensor:
    """Each image shifted by a whole number of pixels in [-side/8, side/8] per axis; zeros come in at the edge."""
    import tensorflow as tf

    height, width = images.shape[1], images.shape[2]
    shift_y = pixel_offsets(draw_y, height)
    shift_x = pixel_offsets(draw_x, width)
    # Output pixel (i, j) reads input (i - shift_y, j - shift_x) where that lies inside the image.
    rows = tf.range(height)[tf.newaxis, :] - shift_y[:, tf.newaxis]
    columns = tf.range(width)[tf.newaxis, :] - shift_x[:, tf.newaxis]
    inside = ((rows >= 0) & (rows < height))[:, :, tf.newaxis] & ((columns >= 0) & (columns < width))[:, tf.newaxis, :]
    gathered = tf.gather(images, tf.clip_by_value(rows, 0, height - 1), axis=1, batch_dims=1)
    gathered = tf.gather(gathered, tf.clip_by_value(columns, 0, width - 1), axis=2, batch_dims=1)
    return gathered * tf.cast(inside, images.dtype)[..., tf.newaxis]


def pixel_offsets(draws: tf.Tensor, side: int) -> tf.Tensor:
    """Uniform draws in [0, 1) as whole shifts in [-limit, limit], limit = round(side * TRANSLATION_FRACTION)."""
    import tensorflow as tf

    limit = max(1, int(side * TRANSLATION_FRACTION + 0.5))
    return tf.cast(tf.floor(draws * (2 * limit + 1)), tf.int32) - limit


def cut_out(images: tf.Tensor, draw_x: tf.Tensor, draw_y: tf.Tensor) -> tf.Tensor:
    """A square of half the side set to zero in each image; its centre is anywhere in the image."""
    import tensorflow as tf

    height, width = images.shape[1], images.shape[2]
    size_y, size_x = max(1, int(height * CUTOUT_FRACTION + 0.5)), max(1, int(width * CUTOUT_FRACTION + 0.5))
    top = tf.cast(tf.floor(draw_y * height), tf.int32) - size_y // 2
    left = tf.cast(tf.floor(draw_x * width), tf.int32) - size_x // 2
    rows, columns = tf.range(height)[tf.newaxis, :], tf.range(width)[tf.newaxis, :]
    in_rows = (rows >= top[:, tf.newaxis]) & (rows < top[:, tf.newaxis] + size_y)
    in_columns = (columns >= left[:, tf.newaxis]) & (columns < left[:, tf.newaxis] + size_x)
    covered = in_rows[:, :, tf.newaxis] & in_columns[:, tf.newaxis, :]
    return images * tf.cast(~covered, images.dtype)[..., tf.newaxis]
