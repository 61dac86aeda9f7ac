"""DiffAugment: each of its changes on hand-made images, that gradients pass through them, and a GAN run with it
on (seeded like every other draw, so a resumed run continues exactly)."""

import numpy as np
import pytest
import tensorflow as tf

from gan_core.nets import augment
from gan_core.spec.config import preset
from gan_core.spec.settings import SettingError
from gan_core.store.runs import create_run, open_run
from gan_core.training.trainer import Trainer
from support.cli import gan_core, last_line
from support.resume import straight_and_resumed


def ramp(batch=2, side=8):
    """Images whose pixel (i, j) holds i * side + j, scaled below 1, so every pixel is told apart."""
    values = np.arange(side * side, dtype=np.float32).reshape(1, side, side, 1) / (side * side)
    return tf.constant(np.repeat(values, batch, axis=0))


def test_translation_shifts_by_whole_pixels_and_fills_with_zeros():
    images = ramp()
    # Side 8: shifts lie in -1..1; a draw of 0 shifts by -1, 0.5 by 0, 0.99 by +1.
    assert augment.pixel_offsets(tf.constant([0.0, 0.5, 0.99]), 8).numpy().tolist() == [-1, 0, 1]
    shifted = augment.translate(images, tf.constant([0.99, 0.5]), tf.constant([0.5, 0.0])).numpy()
    original = images.numpy()
    # Image 0 moved one pixel right: column 0 is new (zeros), column j holds the old column j - 1.
    np.testing.assert_array_equal(shifted[0, :, 0], 0)
    np.testing.assert_array_equal(shifted[0, :, 1:], original[0, :, :-1])
    # Image 1 moved one pixel up: the last row is new.
    np.testing.assert_array_equal(shifted[1, -1], 0)
    np.testing.assert_array_equal(shifted[1, :-1], original[1, 1:])


def test_cutout_zeroes_one_square_of_half_the_side():
    images = tf.ones([2, 8, 8, 3])
    cut = augment.cut_out(images, tf.constant([0.5, 0.0]), tf.constant([0.5, 0.0])).numpy()
    # Centred: rows and columns 2..5 are zero, 16 pixels per channel.
    assert (cut[0] == 0).all(axis=-1).sum() == 16
    assert (cut[0, 2:6, 2:6] == 0).all() and cut[0, :2].all() and cut[0, 6:].all()
    # At the corner it hangs over the edge: only a 2x2 quarter is inside.
    assert (cut[1] == 0).all(axis=-1).sum() == 4 and (cut[1, :2, :2] == 0).all()


def test_colour_changes_on_hand_values():
    image = tf.constant([[[[0.2, -0.2, 0.0]]]])  # one RGB pixel
    # Brightness +0.25; saturation x1 (u = 0.5) and contrast x1 (u = 0.5) leave the rest.
    brighter = augment.adjust_colour(image, tf.constant([0.75]), tf.constant([0.5]), tf.constant([0.5]))
    np.testing.assert_allclose(brighter.numpy(), image.numpy() + 0.25, atol=1e-6)
    # Saturation x0 (u = 0) turns each pixel grey at its channel mean.
    grey = augment.adjust_colour(image, tf.constant([0.5]), tf.constant([0.0]), tf.constant([0.5]))
    np.testing.assert_allclose(grey.numpy(), np.zeros((1, 1, 1, 3)), atol=1e-6)
    # Contrast x1.5 (u = 1) spreads values away from the image's mean.
    two_pixels = tf.constant([[[[0.5], [-0.5]]]])
    spread = augment.adjust_colour(two_pixels, tf.constant([0.5]), tf.constant([0.5]), tf.constant([1.0]))
    np.testing.assert_allclose(spread.numpy().ravel(), [0.75, -0.75], atol=1e-6)


def test_gradients_flow_through_every_change():
    images = tf.Variable(ramp(batch=4))
    draws = tf.constant(np.random.default_rng(0).random((4, augment.DRAWS_PER_IMAGE)), tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(augment.diff_augment(images, draws))
    gradient = tape.gradient(loss, images)
    assert gradient is not None and float(tf.reduce_sum(tf.abs(gradient))) > 0
    # Without the colour change (whose means mix every pixel), pixels cut out or shifted off the image get no
    # gradient and the others get exactly 1.
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(augment.cut_out(augment.translate(images, draws[:, 3], draws[:, 4]),
                                             draws[:, 5], draws[:, 6]))
    seen = tape.gradient(loss, images).numpy()
    assert set(np.unique(seen)) == {0.0, 1.0} and 0 < seen.mean() < 1


def test_the_setting_and_its_limits():
    assert preset("fashion-dcgan").augment == "none"
    assert preset("fashion-dcgan", augment="diffaugment").augment == "diffaugment"
    with pytest.raises(SettingError, match="2-D points"):
        preset("ring-mlp", augment="diffaugment")
    with pytest.raises(SettingError, match="at most 10"):
        preset("fashion-wgan-gp", augment="diffaugment", n_critic=11)
    with pytest.raises(SettingError, match="augment"):
        preset("fashion-dcgan", augment="always")


@pytest.mark.slow
def test_a_run_with_diffaugment_trains_and_resumes_exactly(tmp_path):
    config = preset("digits-mlp", architecture="dcgan", width=8, batch_size=16, steps=8, log_every=2,
                    checkpoint_every=100, sample_every=100, augment="diffaugment", max_examples=256)
    straight, interrupted = straight_and_resumed(config, tmp_path)
    rows, resumed = straight.metrics_since(), interrupted.metrics_since()
    assert [row["d_loss"] for row in rows] == [row["d_loss"] for row in resumed]
    plain = create_run(config.replace(augment="none"), tmp_path / "plain")
    assert Trainer(plain).train(target_step=2) == "finished"
    assert plain.metrics_since()[0]["d_loss"] != rows[0]["d_loss"], "the discriminator saw augmented images"


def test_the_command_line_turns_diffaugment_on_for_a_small_collection_unless_told_otherwise(tmp_path, png_folder):
    # `create` makes a new run's config exactly as `train` does (the same options, read by the same code) without
    # starting TensorFlow; tests/test_cli.py trains a small collection from the command line, DiffAugment on.
    settings = ("create", "--preset", "fashion-dcgan", "--data", png_folder, "--set", "image_size=16",
                "--set", "width=8", "--runs-dir", tmp_path)
    result = gan_core(*settings)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "24 images: augment=diffaugment" in result.stdout
    assert open_run(last_line(result)).config.augment == "diffaugment"
    told = gan_core(*settings, "--set", "augment=none")
    assert told.returncode == 0, told.stderr[-2000:]
    assert "augment=" not in told.stdout and open_run(last_line(told)).config.augment == "none"
