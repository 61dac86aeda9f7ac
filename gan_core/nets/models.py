"""Generator and discriminator builders, chosen by data shape, architecture and whether labels are fed.

Both players are Keras functional models. The generator maps noise z of shape (latent_dim,) to images in
[-1, 1] (tanh) of shape (height, width, channels), or to 2-D points (linear output) when the data shape is
(2,). The discriminator maps a batch of examples to raw logits of shape (batch, 1); the losses apply any
sigmoid themselves. When `num_classes > 0` both take a second input, the class labels: an int32 tensor of
shape (batch,), declared as `keras.Input(shape=(), dtype="int32")`, so the models are called as
`generator([z, labels])` and `discriminator([x, labels])`.

Architectures:
- "mlp": dense layers. For images the generator widens through width*2, width*4, width*8 units (batch norm,
  LeakyReLU) and the discriminator narrows through width*8, width*4, width*2 (LeakyReLU 0.2). For 2-D points
  both are three hidden layers of `width` units without batch norm, which is enough for the toy sets.
- "dcgan": for square images of side 8 to 64 (a multiple of 4) with 1 or 3 channels, after Radford et al.
  (2016). The discriminator halves the side with 4x4 stride-2 convolutions (LeakyReLU 0.2), doubling the
  filters from `width`, down to a start_size x start_size map (see `dcgan_start_size`), then one dense logit.
  The generator mirrors it: z is projected to that map, and 4x4 stride-2 transposed convolutions (batch norm,
  ReLU) double the side and halve the filters, the last one producing the image's channels through tanh.
  The discriminator has no batch norm, because batch norm mixes the examples of a batch and so breaks the
  per-example gradient penalty of WGAN-GP.
"""

from __future__ import annotations

import math

import keras
from keras import layers

from gan_core.spec.config import ARCHITECTURES, RunConfig

POINT_SHAPE = (2,)
IMAGE_CHANNELS = (1, 3)
DCGAN_MIN_SIDE = 8
DCGAN_MAX_SIDE = 64
# The smallest feature map the dcgan generator starts from; smaller maps leave too little room for 4x4 kernels.
DCGAN_MIN_START_SIZE = 4
# Size of the learned label vector; about 50 is the usual choice for ten classes in conditional GANs.
LABEL_EMBEDDING_SIZE = 50
LEAKY_RELU_SLOPE = 0.2
# Each network's last layer computes in float32 even when the others compute in bfloat16 (see precision), so
# logits, losses and images keep float32's precision.
OUTPUT_DTYPE = "float32"


def check_data_shape(data_shape: tuple[int, ...], architecture: str) -> tuple[int, ...]:
    """Return `data_shape` as a tuple if `architecture` can model it; otherwise raise ValueError saying why."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture {architecture!r} does not exist; choose one of {', '.join(ARCHITECTURES)}")
    shape = tuple(data_shape)
    if not all(isinstance(size, int) and not isinstance(size, bool) and size > 0 for size in shape):
        raise ValueError(f"data_shape {data_shape!r} must hold positive whole numbers")
    if shape == POINT_SHAPE:
        if architecture != "mlp":
            raise ValueError(f"architecture {architecture!r} cannot model 2-D points; use 'mlp' for data_shape (2,)")
        return shape
    if len(shape) != 3 or shape[2] not in IMAGE_CHANNELS:
        raise ValueError(
            f"data_shape {data_shape!r} is not allowed; use (2,) for points or (height, width, channels) "
            "with channels 1 or 3 for images"
        )
    if architecture == "dcgan":
        height, width, _ = shape
        if height != width or not DCGAN_MIN_SIDE <= height <= DCGAN_MAX_SIDE or height % 4 != 0:
            raise ValueError(
                f"data_shape {data_shape!r} is not allowed for 'dcgan'; it needs square images whose side is "
                f"a multiple of 4 from {DCGAN_MIN_SIDE} to {DCGAN_MAX_SIDE} (use 'mlp' for other shapes)"
            )
    return shape


def dcgan_start_size(side: int) -> tuple[int, int]:
    """(start_size, upsamplings): the generator's first map side and how many times it doubles to reach `side`.

    Takes as many doublings as keep the start a whole number of at least 4: 28 -> (7, 2), 32 -> (4, 3),
    64 -> (4, 4), 8 -> (4, 1), 12 -> (6, 1).
    """
    upsamplings = 0
    while side % 2 ** (upsamplings + 1) == 0 and side // 2 ** (upsamplings + 1) >= DCGAN_MIN_START_SIZE:
        upsamplings += 1
    return side // 2**upsamplings, upsamplings


def build_generator(
    data_shape: tuple[int, ...], latent_dim: int, architecture: str, num_classes: int = 0, width: int = 64
) -> keras.Model:
    """The generator: z, or [z, labels] when num_classes > 0, to examples of `data_shape`."""
    shape = check_data_shape(data_shape, architecture)
    _check_sizes(latent_dim=latent_dim, num_classes=num_classes, width=width)
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, hidden = z, z
    if num_classes:
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        embedding = layers.Embedding(num_classes, LABEL_EMBEDDING_SIZE, name="g_label_embedding")(labels)
        inputs, hidden = [z, labels], layers.Concatenate(name="g_concat_label")([z, embedding])
    if shape == POINT_SHAPE:
        outputs = _point_generator(hidden, width)
    elif architecture == "mlp":
        outputs = _mlp_image_generator(hidden, shape, width)
    else:
        outputs = _dcgan_generator(hidden, shape, width)
    return keras.Model(inputs, outputs, name="generator")


def build_discriminator(
    data_shape: tuple[int, ...], architecture: str, num_classes: int = 0, width: int = 64, batch_norm: bool = False
) -> keras.Model:
    """The discriminator: x, or [x, labels] when num_classes > 0, to raw logits of shape (batch, 1).

    `batch_norm` adds batch normalisation after every DCGAN convolution but the first, as in Radford et al.
    (2016); it must stay off for WGAN-GP, whose gradient penalty is defined per example.
    """
    shape = check_data_shape(data_shape, architecture)
    _check_sizes(num_classes=num_classes, width=width)
    x = keras.Input(shape=shape, name="x")
    inputs, hidden = x, x
    if num_classes:
        labels = keras.Input(shape=(), dtype="int32", name="labels")
        inputs = [x, labels]
        embedding = layers.Embedding(num_classes, LABEL_EMBEDDING_SIZE, name="d_label_embedding")(labels)
        if shape == POINT_SHAPE or architecture == "mlp":
            flat = layers.Flatten(name="d_flatten_input")(x)
            hidden = layers.Concatenate(name="d_concat_label")([flat, embedding])
        else:
            # The label becomes one more image channel, learned per class, so the first convolution sees it
            # beside every pixel.
            height, image_width, _ = shape
            label_map = layers.Dense(height * image_width, name="d_label_map")(embedding)
            label_channel = layers.Reshape((height, image_width, 1), name="d_label_channel")(label_map)
            hidden = layers.Concatenate(axis=-1, name="d_concat_label")([x, label_channel])
    if shape == POINT_SHAPE:
        logits = _point_discriminator(hidden, width)
    elif architecture == "mlp":
        logits = _mlp_image_discriminator(hidden, width)
    else:
        logits = _dcgan_discriminator(hidden, shape, width, batch_norm)
    return keras.Model(inputs, logits, name="discriminator")


def build_models(config: RunConfig, num_classes: int) -> tuple[keras.Model, keras.Model]:
    """(generator, discriminator) for a run; `num_classes` is used only when the run is conditional."""
    classes = num_classes if config.conditional else 0
    if config.conditional and num_classes < 1:
        raise ValueError(f"num_classes={num_classes!r} is not allowed for a conditional run; it needs at least 1 class")
    generator = build_generator(config.data_shape, config.latent_dim, config.architecture, classes, config.width)
    discriminator = build_discriminator(
        config.data_shape, config.architecture, classes, config.width, batch_norm=config.loss != "wgan_gp"
    )
    return generator, discriminator


def _check_sizes(**sizes: int) -> None:
    """Raise ValueError for a size that is not a whole number of at least 1 (num_classes may also be 0)."""
    for name, value in sizes.items():
        smallest = 0 if name == "num_classes" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
            allowed = "0 (unconditional) or a positive whole number" if smallest == 0 else "a positive whole number"
            raise ValueError(f"{name}={value!r} is not allowed; {name} must be {allowed}")


def _point_generator(hidden: keras.KerasTensor, width: int) -> keras.KerasTensor:
    for index in range(1, 4):
        hidden = layers.Dense(width, activation="relu", name=f"g_dense_{index}")(hidden)
    return layers.Dense(POINT_SHAPE[0], name="g_points", dtype=OUTPUT_DTYPE)(hidden)


def _point_discriminator(hidden: keras.KerasTensor, width: int) -> keras.KerasTensor:
    for index in range(1, 4):
        hidden = layers.Dense(width, name=f"d_dense_{index}")(hidden)
        hidden = layers.LeakyReLU(LEAKY_RELU_SLOPE, name=f"d_dense_{index}_relu")(hidden)
    return layers.Dense(1, name="d_logits", dtype=OUTPUT_DTYPE)(hidden)


def _mlp_image_generator(hidden: keras.KerasTensor, shape: tuple[int, ...], width: int) -> keras.KerasTensor:
    for index, units in enumerate((width * 2, width * 4, width * 8), start=1):
        # Batch norm supplies the shift, so the dense layer's own bias would be redundant.
        hidden = layers.Dense(units, use_bias=False, name=f"g_dense_{index}")(hidden)
        hidden = layers.BatchNormalization(synchronized=True, name=f"g_dense_{index}_norm")(hidden)
        hidden = layers.LeakyReLU(LEAKY_RELU_SLOPE, name=f"g_dense_{index}_relu")(hidden)
    pixels = layers.Dense(math.prod(shape), activation="tanh", name="g_pixels", dtype=OUTPUT_DTYPE)(hidden)
    return layers.Reshape(shape, name="g_image", dtype=OUTPUT_DTYPE)(pixels)


def _mlp_image_discriminator(hidden: keras.KerasTensor, width: int) -> keras.KerasTensor:
    hidden = layers.Flatten(name="d_flatten")(hidden)
    for index, units in enumerate((width * 8, width * 4, width * 2), start=1):
        hidden = layers.Dense(units, name=f"d_dense_{index}")(hidden)
        hidden = layers.LeakyReLU(LEAKY_RELU_SLOPE, name=f"d_dense_{index}_relu")(hidden)
    return layers.Dense(1, name="d_logits", dtype=OUTPUT_DTYPE)(hidden)


def _dcgan_generator(hidden: keras.KerasTensor, shape: tuple[int, ...], width: int) -> keras.KerasTensor:
    side, _, channels = shape
    start_size, upsamplings = dcgan_start_size(side)
    # The generator mirrors the discriminator: its start map has the filters of the discriminator's last
    # convolution, and its last upsampling produces the image itself, as in Radford et al. (2016). A separate
    # full-resolution convolution after the last upsampling would cost as much again on a CPU.
    filters = width * 2 ** (upsamplings - 1)
    hidden = layers.Dense(start_size * start_size * filters, use_bias=False, name="g_project")(hidden)
    hidden = layers.BatchNormalization(synchronized=True, name="g_project_norm")(hidden)
    hidden = layers.ReLU(name="g_project_relu")(hidden)
    hidden = layers.Reshape((start_size, start_size, filters), name="g_start_map")(hidden)
    for index in range(1, upsamplings):
        filters //= 2
        # Batch norm supplies the shift, so the convolution's own bias would be redundant.
        hidden = layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=False, name=f"g_upsample_{index}"
        )(hidden)
        hidden = layers.BatchNormalization(synchronized=True, name=f"g_upsample_{index}_norm")(hidden)
        hidden = layers.ReLU(name=f"g_upsample_{index}_relu")(hidden)
    # tanh matches real images scaled to [-1, 1].
    return layers.Conv2DTranspose(
        channels, 4, strides=2, padding="same", activation="tanh", name="g_image", dtype=OUTPUT_DTYPE
    )(hidden)


def _dcgan_discriminator(
    hidden: keras.KerasTensor, shape: tuple[int, ...], width: int, batch_norm: bool
) -> keras.KerasTensor:
    _, downsamplings = dcgan_start_size(shape[0])
    filters = width
    for index in range(1, downsamplings + 1):
        normalised = batch_norm and index > 1
        hidden = layers.Conv2D(
            filters, 4, strides=2, padding="same", use_bias=not normalised, name=f"d_downsample_{index}"
        )(hidden)
        if normalised:
            hidden = layers.BatchNormalization(synchronized=True, name=f"d_downsample_{index}_norm")(hidden)
        hidden = layers.LeakyReLU(LEAKY_RELU_SLOPE, name=f"d_downsample_{index}_relu")(hidden)
        filters *= 2
    hidden = layers.Flatten(name="d_flatten")(hidden)
    return layers.Dense(1, name="d_logits", dtype=OUTPUT_DTYPE)(hidden)


def build_discriminator_heads(
    discriminator: keras.Model, heads: dict[str, int], hidden_units: int = 0, name: str = "heads"
) -> tuple[keras.Model, keras.Model]:
    """Extra outputs on a discriminator's trunk: (the heads alone, the discriminator with its heads).

    The heads read the features the discriminator's real/fake logit is computed from (the input of its "d_logits"
    layer), so they share every layer of its trunk: InfoGAN's Q network and ACGAN's class classifier are built
    this way. `heads` maps each head's name to its number of raw (linear) outputs; with `hidden_units` the heads
    first share one dense LeakyReLU layer of that size (InfoGAN's Q has 128).

    The heads are a model of their own, checkpointed beside the unchanged discriminator, so every page that
    loads a discriminator alone still reads the checkpoint. The combined model holds no weights of its own: it
    maps the discriminator's inputs to {"logits": (batch, 1), <head>: (batch, units), ...}, and training through
    it updates the discriminator's and the heads' weights.
    """
    if not heads:
        raise ValueError("build_discriminator_heads needs at least one head")
    _check_sizes(**{f"{head}_units": units for head, units in heads.items()})
    trunk_features = discriminator.get_layer("d_logits").input
    features = keras.Input(shape=tuple(trunk_features.shape[1:]), name=f"{name}_features")
    hidden = features
    if hidden_units:
        _check_sizes(hidden_units=hidden_units)
        hidden = layers.Dense(hidden_units, name=f"{name}_dense")(hidden)
        hidden = layers.LeakyReLU(LEAKY_RELU_SLOPE, name=f"{name}_dense_relu")(hidden)
    outputs = {head: layers.Dense(units, name=head)(hidden) for head, units in heads.items()}
    head_model = keras.Model(features, outputs, name=name)
    combined = keras.Model(discriminator.input, {"logits": discriminator.output, **head_model(trunk_features)},
                           name=f"discriminator_with_{name}")
    return head_model, combined
