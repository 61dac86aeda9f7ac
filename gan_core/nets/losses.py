"""GAN losses as paired pure functions of discriminator logits, and the WGAN-GP gradient penalty.

Every function takes raw logits (no sigmoid applied) of any shape, averages over all of their elements and
returns a scalar tensor that its player *minimises*. The discriminator's logit is large for what it believes
is real, so with D(x) = sigmoid(logit):

- non_saturating / minimax: D minimises -log D(real) - log(1 - D(fake)); since -log sigmoid(t) = softplus(-t)
  and -log(1 - sigmoid(t)) = softplus(t), this is written with softplus, which stays finite for any logit.
  The minimax generator minimises log(1 - D(fake)) = -softplus(fake), the original game of Goodfellow et al.
  (2014); the non-saturating generator minimises -log D(fake) = softplus(-fake) instead, which has the same
  fixed point but keeps a strong gradient when D confidently rejects the fakes early in training.
- wgan_gp: the critic's output is a score, not a probability; the critic minimises mean(fake) - mean(real)
  and the generator -mean(fake). The Lipschitz constraint comes from `gradient_penalty`, which the training
  step adds to the critic's loss with its own weight.
- lsgan: least squares towards target 1 for real and 0 for fake (Mao et al. 2017), on the raw output.
- hinge: the critic minimises mean(relu(1 - real)) + mean(relu(1 + fake)); the generator -mean(fake).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from gan_core.spec.config import LOSSES

LossFunction = Callable[..., tf.Tensor]


def non_saturating_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """Binary cross-entropy with real labelled 1 and fake labelled 0: mean softplus(-real) + mean softplus(fake)."""
    return tf.reduce_mean(tf.nn.softplus(-real_logits)) + tf.reduce_mean(tf.nn.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """-log D(G(z)) averaged, i.e. mean softplus(-fake): the generator asks D to call its samples real."""
    return tf.reduce_mean(tf.nn.softplus(-fake_logits))


def minimax_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """The discriminator's side of the minimax game, which is the same cross-entropy as the non-saturating one."""
    return non_saturating_discriminator_loss(real_logits, fake_logits)


def minimax_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """log(1 - D(G(z))) averaged, i.e. -mean softplus(fake); its gradient vanishes when D rejects the fakes."""
    return -tf.reduce_mean(tf.nn.softplus(fake_logits))


def wgan_gp_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """The critic's negated Wasserstein estimate, mean(fake) - mean(real), without the gradient penalty."""
    return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)


def wgan_gp_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """-mean(fake): the generator raises the critic's score of its samples."""
    return -tf.reduce_mean(fake_logits)


def lsgan_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """0.5 mean (real - 1)^2 + 0.5 mean fake^2: real outputs pulled to 1, fake outputs to 0."""
    return 0.5 * tf.reduce_mean(tf.square(real_logits - 1.0)) + 0.5 * tf.reduce_mean(tf.square(fake_logits))


def lsgan_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """0.5 mean (fake - 1)^2: the generator pulls the output on its samples to the real target."""
    return 0.5 * tf.reduce_mean(tf.square(fake_logits - 1.0))


def hinge_discriminator_loss(real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
    """mean relu(1 - real) + mean relu(1 + fake): only examples inside the margin of 1 contribute."""
    return tf.reduce_mean(tf.nn.relu(1.0 - real_logits)) + tf.reduce_mean(tf.nn.relu(1.0 + fake_logits))


def hinge_generator_loss(fake_logits: tf.Tensor) -> tf.Tensor:
    """-mean(fake), as for WGAN: the generator's side of the hinge game has no margin."""
    return -tf.reduce_mean(fake_logits)


def gradient_penalty(
    critic: Callable[[tf.Tensor], tf.Tensor],
    real: tf.Tensor,
    fake: tf.Tensor,
    interpolation_weights: tf.Tensor,
) -> tf.Tensor:
    """mean over examples of (||grad_x critic(x_hat)||_2 - 1)^2 at x_hat = real + w * (fake - real).

    `interpolation_weights` holds one weight w per example, shape (batch,); the caller samples it from U[0, 1]
    so the interpolates cover the lines between real and generated examples (Gulrajani et al. 2017). The norm
    is taken over all of an example's dimensions. `critic` maps a batch of examples to logits; wrap a
    conditional discriminator as `lambda x: discriminator([x, labels])`. The result is differentiable with
    respect to the critic's variables, so it can be added to the critic's loss inside an outer GradientTape.
    """
    real = tf.convert_to_tensor(real)
    fake = tf.cast(fake, real.dtype)
    interpolation_weights = tf.cast(interpolation_weights, real.dtype)
    if interpolation_weights.shape.rank is not None and interpolation_weights.shape.rank != 1:
        raise ValueError(
            "interpolation_weights must have shape (batch,), one weight per example; "
            f"got shape {interpolation_weights.shape}"
        )
    # Reshape (batch,) to (batch, 1, ..., 1) so each example's weight broadcasts over that example only.
    broadcast_shape = tf.concat([tf.shape(interpolation_weights), tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)
    weights = tf.reshape(interpolation_weights, broadcast_shape)
    interpolates = real + weights * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolates)
        logits = critic(interpolates)
    gradients = tape.gradient(logits, interpolates)
    per_example_axes = tf.range(1, tf.rank(gradients))
    # The small constant keeps the square root's own gradient finite where a critic's gradient is exactly zero;
    # at float32 precision it does not change the norm of any gradient that is not already tiny.
    norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=per_example_axes) + 1e-12)
    return tf.reduce_mean(tf.square(norms - 1.0))


# Keyed by the names in config.LOSSES; each value is (discriminator loss, generator loss).
LOSS_FUNCTIONS: dict[str, tuple[LossFunction, LossFunction]] = {
    "non_saturating": (non_saturating_discriminator_loss, non_saturating_generator_loss),
    "minimax": (minimax_discriminator_loss, minimax_generator_loss),
    "wgan_gp": (wgan_gp_discriminator_loss, wgan_gp_generator_loss),
    "lsgan": (lsgan_discriminator_loss, lsgan_generator_loss),
    "hinge": (hinge_discriminator_loss, hinge_generator_loss),
}


def loss_functions(name: str) -> tuple[LossFunction, LossFunction]:
    """The (discriminator loss, generator loss) pair for a loss name from config.LOSSES."""
    if name not in LOSS_FUNCTIONS:
        raise ValueError(f"loss {name!r} does not exist; choose one of {', '.join(LOSSES)}")
    return LOSS_FUNCTIONS[name]
