"""The generator and discriminator builders: shapes, ranges, labels, saving, strategies and bad arguments."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from gan_core.nets import losses
from gan_core.spec.config import RunConfig, preset
from gan_core.nets.models import build_discriminator, build_generator, build_models, dcgan_start_size

LATENT_DIM = 16
NUM_CLASSES = 10
BATCH = 2


def noise(count: int = BATCH, latent_dim: int = LATENT_DIM, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, latent_dim)).astype(np.float32)


def generator_inputs(latent, labels, conditional: bool):
    return [latent, labels] if conditional else latent


@pytest.mark.parametrize(
    "architecture, side, channels, conditional",
    list(itertools.product(("mlp", "dcgan"), (8, 28, 32, 64), (1, 3), (False, True))),
)
def test_both_players_have_the_right_shapes_and_ranges(architecture, side, channels, conditional):
    shape = (side, side, channels)
    classes = NUM_CLASSES if conditional else 0
    generator = build_generator(shape, LATENT_DIM, architecture, classes)
    discriminator = build_discriminator(shape, architecture, classes)
    labels = np.array([1, 7], dtype=np.int32)

    images = generator(generator_inputs(noise(), labels, conditional), training=False).numpy()
    assert images.shape == (BATCH, *shape)
    assert images.min() >= -1.0 and images.max() <= 1.0
    assert images.std() > 0, "a generator whose output is constant has lost its input"
    assert not np.allclose(images[0], images[1]), "different noise must give different images"

    logits = discriminator(generator_inputs(images, labels, conditional), training=False).numpy()
    assert logits.shape == (BATCH, 1)
    assert np.all(np.isfinite(logits))
    assert (generator.name, discriminator.name) == ("generator", "discriminator")
    assert len(generator.inputs) == len(discriminator.inputs) == (2 if conditional else 1)


def test_point_models_have_a_linear_output():
    generator = build_generator((2,), LATENT_DIM, "mlp", width=32)
    discriminator = build_discriminator((2,), "mlp", width=32)
    points = generator(noise(), training=False)
    assert points.shape == (BATCH, 2)
    assert discriminator(points, training=False).shape == (BATCH, 1)
    # Toy distributions reach beyond [-1, 1], so the output must not be squashed: scaling the last layer's
    # weights scales the points without bound.
    output_layer = generator.get_layer("g_points")
    kernel, bias = output_layer.get_weights()
    output_layer.set_weights([kernel * 1000.0, bias])
    assert np.abs(generator(noise(), training=False).numpy()).max() > 10.0


@pytest.mark.parametrize("architecture, output_layer", [("dcgan", "g_image"), ("mlp", "g_pixels")])
def test_image_outputs_stay_in_the_data_range_however_large_the_weights(architecture, output_layer):
    # Real images are scaled to [-1, 1]; the generator must not be able to leave that range even when its last
    # layer's weights grow, so its output is squashed (tanh) rather than clipped by a loss.
    generator = build_generator((8, 8, 1), LATENT_DIM, architecture, width=8)
    layer = generator.get_layer(output_layer)
    layer.set_weights([weight * 1000.0 for weight in layer.get_weights()])
    images = generator(noise(), training=False).numpy()
    assert np.abs(images).max() <= 1.0
    assert np.abs(images).max() > 0.99, "scaled weights should drive the output to the edge of the range"


def test_mlp_accepts_images_that_dcgan_does_not():
    generator = build_generator((20, 12, 3), LATENT_DIM, "mlp", width=8)
    assert generator(noise(), training=False).shape == (BATCH, 20, 12, 3)
    with pytest.raises(ValueError, match="square images"):
        build_generator((20, 12, 3), LATENT_DIM, "dcgan")


@pytest.mark.parametrize("architecture, shape", [("dcgan", (28, 28, 1)), ("mlp", (8, 8, 1)), ("mlp", (2,))])
def test_labels_change_what_both_players_compute(architecture, shape):
    generator = build_generator(shape, LATENT_DIM, architecture, NUM_CLASSES, width=16)
    discriminator = build_discriminator(shape, architecture, NUM_CLASSES, width=16)
    same_noise = np.repeat(noise(1), 2, axis=0)

    same_labels = generator([same_noise, np.array([4, 4], dtype=np.int32)], training=False).numpy()
    np.testing.assert_array_equal(same_labels[0], same_labels[1])
    different_labels = generator([same_noise, np.array([2, 9], dtype=np.int32)], training=False).numpy()
    assert np.abs(different_labels[0] - different_labels[1]).max() > 1e-4

    same_examples = np.repeat(same_labels[:1], 2, axis=0)
    logits = discriminator([same_examples, np.array([2, 9], dtype=np.int32)], training=False).numpy()
    assert abs(logits[0, 0] - logits[1, 0]) > 1e-6


@pytest.mark.parametrize(
    "side, expected", [(8, (4, 1)), (12, (6, 1)), (16, (4, 2)), (28, (7, 2)), (32, (4, 3)), (48, (6, 3)), (64, (4, 4))]
)
def test_dcgan_start_size(side, expected):
    assert dcgan_start_size(side) == expected


def test_dcgan_maps_shrink_to_the_start_size_for_every_allowed_side():
    for side in range(8, 65, 4):
        start_size, doublings = dcgan_start_size(side)
        assert start_size >= 4 and start_size * 2**doublings == side
        assert start_size < 8 or start_size % 2 == 1, f"side {side} could take one more doubling"
        discriminator = build_discriminator((side, side, 1), "dcgan", width=4)
        last_convolution = discriminator.get_layer(f"d_downsample_{doublings}")
        assert last_convolution.output.shape[1:3] == (start_size, start_size)


def test_keras_file_round_trip_gives_identical_outputs(tmp_path):
    generator = build_generator((28, 28, 1), LATENT_DIM, "dcgan", NUM_CLASSES, width=16)
    discriminator = build_discriminator((28, 28, 1), "dcgan", NUM_CLASSES, width=16)
    # Move the batch-norm statistics away from their initial values so the round trip has to carry them.
    labels = np.arange(8, dtype=np.int32)
    generator([noise(8), labels], training=True)
    generator.get_layer("g_project_norm").moving_mean.assign(
        tf.random.stateless_normal(generator.get_layer("g_project_norm").moving_mean.shape, seed=(1, 2))
    )
    generator.save(tmp_path / "g.keras")
    discriminator.save(tmp_path / "d.keras")
    loaded_generator = keras.models.load_model(tmp_path / "g.keras")
    loaded_discriminator = keras.models.load_model(tmp_path / "d.keras")

    inputs = [noise(4, seed=3), np.array([0, 3, 5, 9], dtype=np.int32)]
    images = generator(inputs, training=False).numpy()
    np.testing.assert_array_equal(loaded_generator(inputs, training=False).numpy(), images)
    np.testing.assert_array_equal(
        loaded_discriminator([images, inputs[1]], training=False).numpy(),
        discriminator([images, inputs[1]], training=False).numpy(),
    )
    assert loaded_generator.name == "generator" and loaded_discriminator.name == "discriminator"


def test_build_models_follows_the_config():
    generator, discriminator = build_models(preset("mnist-cgan"), num_classes=NUM_CLASSES)
    assert [tuple(tensor.shape) for tensor in generator.inputs] == [(None, 32), (None,)]
    assert generator.output.shape == (None, 28, 28, 1)
    assert discriminator.get_layer("d_label_embedding").input_dim == NUM_CLASSES

    # An unconditional run ignores the dataset's classes.
    generator, discriminator = build_models(RunConfig(dataset="cifar10", width=16), num_classes=NUM_CLASSES)
    assert len(generator.inputs) == 1 and generator.output.shape == (None, 32, 32, 3)
    assert discriminator.input.shape == (None, 32, 32, 3)

    generator, discriminator = build_models(preset("ring-mlp"), num_classes=0)
    assert generator.input.shape == (None, 16) and generator.output.shape == (None, 2)


def test_default_width_parameter_counts():
    counts = {}
    for name, config in {
        "mnist-dcgan": RunConfig(dataset="mnist"),
        "cifar10-dcgan": RunConfig(dataset="cifar10"),
        "64x64x3-dcgan": RunConfig(dataset="cifar10", image_size=64),
        "mnist-mlp": RunConfig(dataset="mnist", architecture="mlp"),
    }.items():
        generator, discriminator = build_models(config, num_classes=0)
        counts[name] = (generator.count_params(), discriminator.count_params())
    # 7x7x128 -> 14x14x64 -> 28x28x1 and back: the classic small MNIST DCGAN, under a million weights each.
    assert 700_000 < counts["mnist-dcgan"][0] < 900_000 and 100_000 < counts["mnist-dcgan"][1] < 200_000
    assert 1_000_000 < counts["cifar10-dcgan"][0] < 1_200_000 and 600_000 < counts["cifar10-dcgan"][1] < 700_000
    assert 3_000_000 < counts["64x64x3-dcgan"][0] < 4_000_000 and 2_500_000 < counts["64x64x3-dcgan"][1] < 3_000_000
    assert 500_000 < counts["mnist-mlp"][0] < 700_000 and 500_000 < counts["mnist-mlp"][1] < 700_000


def test_models_build_and_run_under_a_mirrored_strategy():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with strategy.scope():
        generator, discriminator = build_models(preset("mnist-cgan", width=8), num_classes=NUM_CLASSES)
    assert all(isinstance(variable.value, tf.distribute.DistributedValues) for variable in generator.variables)
    assert all(isinstance(variable.value, tf.distribute.DistributedValues) for variable in discriminator.variables)
    labels = tf.constant([1, 2])
    logits = strategy.run(lambda: discriminator([generator([tf.zeros((2, 32)), labels]), labels]))
    assert logits.shape == (2, 1)


def test_a_wgan_gp_step_in_tf_function_updates_both_players():
    generator = build_generator((8, 8, 1), LATENT_DIM, "dcgan", NUM_CLASSES, width=8)
    discriminator = build_discriminator((8, 8, 1), "dcgan", NUM_CLASSES, width=8)
    g_optimizer, d_optimizer = keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3)
    real = tf.random.stateless_uniform((4, 8, 8, 1), seed=(1, 1), minval=-1, maxval=1)
    labels = tf.constant([0, 1, 2, 3])

    def critic(examples):
        return discriminator([examples, labels], training=True)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            fake = generator([tf.random.stateless_normal((4, LATENT_DIM), seed=(2, 2)), labels], training=True)
            weights = tf.random.stateless_uniform((4,), seed=(3, 3))
            d_loss = losses.wgan_gp_discriminator_loss(critic(real), critic(fake))
            d_loss += 10.0 * losses.gradient_penalty(critic, real, fake, weights)
        d_gradients = tape.gradient(d_loss, discriminator.trainable_variables)
        d_optimizer.apply_gradients(zip(d_gradients, discriminator.trainable_variables))
        with tf.GradientTape() as tape:
            fake = generator([tf.random.stateless_normal((4, LATENT_DIM), seed=(4, 4)), labels], training=True)
            g_loss = losses.wgan_gp_generator_loss(critic(fake))
        g_gradients = tape.gradient(g_loss, generator.trainable_variables)
        g_optimizer.apply_gradients(zip(g_gradients, generator.trainable_variables))
        return d_loss, g_loss, d_gradients, g_gradients

    g_before = [variable.numpy().copy() for variable in generator.trainable_variables]
    d_before = [variable.numpy().copy() for variable in discriminator.trainable_variables]
    d_loss, g_loss, d_gradients, g_gradients = step()
    assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
    assert all(gradient is not None for gradient in d_gradients + g_gradients), "every weight needs a gradient"
    assert all(np.any(before != after.numpy()) for before, after in zip(g_before, generator.trainable_variables))
    # The critic's output bias cancels in mean(fake) - mean(real) and does not touch its input gradient, so
    # WGAN-GP leaves exactly that weight alone; every other weight of the critic must move.
    for variable, before, gradient in zip(discriminator.trainable_variables, d_before, d_gradients):
        if variable.path == "d_logits/bias":
            assert float(tf.reduce_max(tf.abs(gradient))) == 0.0
        else:
            assert np.any(before != variable.numpy()), f"{variable.path} was not updated"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(data_shape=(2,), architecture="dcgan"), "cannot model 2-D points; use 'mlp'"),
        (dict(data_shape=(28, 28, 1), architecture="resnet"), "'resnet' does not exist; choose one of mlp, dcgan"),
        (dict(data_shape=(28, 28, 2), architecture="mlp"), "channels 1 or 3"),
        (dict(data_shape=(28, 28), architecture="mlp"), r"\(2,\) for points or \(height, width, channels\)"),
        (dict(data_shape=(3,), architecture="mlp"), r"\(2,\) for points"),
        (dict(data_shape=(0, 28, 1), architecture="mlp"), "positive whole numbers"),
        (dict(data_shape=(30, 30, 1), architecture="dcgan"), "multiple of 4 from 8 to 64"),
        (dict(data_shape=(68, 68, 3), architecture="dcgan"), "multiple of 4 from 8 to 64"),
        (dict(data_shape=(4, 4, 1), architecture="dcgan"), "multiple of 4 from 8 to 64"),
        (dict(data_shape=(28, 28, 1), architecture="dcgan", num_classes=-1), "num_classes=-1 is not allowed"),
        (dict(data_shape=(28, 28, 1), architecture="dcgan", width=0), "width=0 is not allowed"),
        (dict(data_shape=(28, 28, 1), architecture="mlp", width=8.5), "width=8.5 is not allowed"),
    ],
)
def test_bad_arguments_raise_value_error_naming_what_is_allowed(arguments, message):
    with pytest.raises(ValueError, match=message):
        build_discriminator(**arguments)
    with pytest.raises(ValueError, match=message):
        build_generator(latent_dim=LATENT_DIM, **arguments)


def test_bad_latent_dim_and_missing_classes_are_refused():
    with pytest.raises(ValueError, match="latent_dim=0 is not allowed"):
        build_generator((28, 28, 1), 0, "dcgan")
    with pytest.raises(ValueError, match="num_classes=0 is not allowed for a conditional run"):
        build_models(preset("mnist-cgan"), num_classes=0)


def test_the_dcgan_discriminator_normalises_batches_except_for_wgan_gp():
    def norm_layers(config):
        _, discriminator = build_models(config, num_classes=0)
        return [layer.name for layer in discriminator.layers if "norm" in layer.name]

    assert norm_layers(preset("fashion-dcgan")) == ["d_downsample_2_norm"], "not after the first convolution"
    assert norm_layers(preset("fashion-wgan-gp")) == [], "the gradient penalty is per example"
