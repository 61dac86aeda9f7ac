"""The GAN losses against values worked out by hand on tiny inputs, and the gradient penalty on critics whose
input gradient is known in closed form."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_core.nets import losses
from gan_core.spec.config import LOSSES

# Logits shaped (batch, 1), as the discriminators return them.
REAL_LOGITS = tf.constant([[0.0], [2.0]])
FAKE_LOGITS = tf.constant([[-1.0], [2.5]])


def value_of(tensor: tf.Tensor) -> float:
    assert tensor.shape == (), f"a loss must be a scalar, got shape {tensor.shape}"
    return float(tensor)


def test_non_saturating_losses_match_cross_entropy_by_hand():
    # -log sigmoid(0) = log 2; -log sigmoid(2) = log(1 + e^-2); -log(1 - sigmoid(t)) = log(1 + e^t).
    expected_real = (math.log(2.0) + math.log(1 + math.exp(-2.0))) / 2
    expected_fake = (math.log(1 + math.exp(-1.0)) + math.log(1 + math.exp(2.5))) / 2
    expected_g = (math.log(1 + math.exp(1.0)) + math.log(1 + math.exp(-2.5))) / 2
    assert value_of(losses.non_saturating_discriminator_loss(REAL_LOGITS, FAKE_LOGITS)) == pytest.approx(
        expected_real + expected_fake, rel=1e-6
    )
    assert value_of(losses.non_saturating_generator_loss(FAKE_LOGITS)) == pytest.approx(expected_g, rel=1e-6)


def test_minimax_generator_loss_is_log_one_minus_d_of_fake():
    sigmoid = [1 / (1 + math.exp(1.0)), 1 / (1 + math.exp(-2.5))]
    expected = (math.log(1 - sigmoid[0]) + math.log(1 - sigmoid[1])) / 2
    assert value_of(losses.minimax_generator_loss(FAKE_LOGITS)) == pytest.approx(expected, rel=1e-6)


def test_minimax_and_non_saturating_discriminators_play_the_same_game():
    real = tf.random.stateless_normal((16, 1), seed=(1, 2), stddev=3.0)
    fake = tf.random.stateless_normal((16, 1), seed=(3, 4), stddev=3.0)
    assert value_of(losses.minimax_discriminator_loss(real, fake)) == pytest.approx(
        value_of(losses.non_saturating_discriminator_loss(real, fake)), rel=1e-7
    )


def test_wgan_gp_losses_are_differences_of_mean_scores():
    # mean(real) = 1, mean(fake) = 0.75.
    assert value_of(losses.wgan_gp_discriminator_loss(REAL_LOGITS, FAKE_LOGITS)) == pytest.approx(0.75 - 1.0)
    assert value_of(losses.wgan_gp_generator_loss(FAKE_LOGITS)) == pytest.approx(-0.75)


def test_lsgan_losses_by_hand():
    expected_d = 0.5 * ((0 - 1) ** 2 + (2 - 1) ** 2) / 2 + 0.5 * ((-1) ** 2 + 2.5**2) / 2
    expected_g = 0.5 * ((-1 - 1) ** 2 + (2.5 - 1) ** 2) / 2
    assert value_of(losses.lsgan_discriminator_loss(REAL_LOGITS, FAKE_LOGITS)) == pytest.approx(expected_d)
    assert value_of(losses.lsgan_generator_loss(FAKE_LOGITS)) == pytest.approx(expected_g)


def test_hinge_losses_by_hand():
    # Real: relu(1 - 0) = 1, relu(1 - 2) = 0. Fake: relu(1 - 1) = 0, relu(1 + 2.5) = 3.5.
    expected_d = (1 + 0) / 2 + (0 + 3.5) / 2
    assert value_of(losses.hinge_discriminator_loss(REAL_LOGITS, FAKE_LOGITS)) == pytest.approx(expected_d)
    assert value_of(losses.hinge_generator_loss(FAKE_LOGITS)) == pytest.approx(-0.75)


def test_softplus_forms_stay_finite_for_confident_logits():
    # log(sigmoid(-1000)) underflows to -inf in float32; the softplus form gives the exact 1000.
    confident_fake = tf.constant([[1000.0]])
    confident_real = tf.constant([[-1000.0]])
    assert value_of(losses.non_saturating_generator_loss(-confident_fake)) == pytest.approx(1000.0)
    assert value_of(losses.non_saturating_discriminator_loss(confident_real, confident_fake)) == pytest.approx(2000.0)
    assert value_of(losses.minimax_generator_loss(confident_fake)) == pytest.approx(-1000.0)


def generator_gradient(loss_function, fake_logit: float) -> float:
    logits = tf.Variable([[fake_logit]])
    with tf.GradientTape() as tape:
        loss = loss_function(logits)
    return float(tape.gradient(loss, logits)[0, 0])


def test_minimax_generator_saturates_where_non_saturating_does_not():
    # d/dt softplus(-t) = -sigmoid(-t) and d/dt (-softplus(t)) = -sigmoid(t): both push fake logits up.
    rejected = -10.0  # D(fake) = sigmoid(-10), about 4.5e-5: the discriminator confidently says "fake".
    minimax = generator_gradient(losses.minimax_generator_loss, rejected)
    non_saturating = generator_gradient(losses.non_saturating_generator_loss, rejected)
    assert minimax == pytest.approx(-1 / (1 + math.exp(10.0)), rel=1e-4)
    assert non_saturating == pytest.approx(-1 / (1 + math.exp(-10.0)), rel=1e-6)
    assert abs(non_saturating) > 1e4 * abs(minimax)
    # Where the discriminator cannot tell (D = 1/2) the two generators get the same push.
    assert generator_gradient(losses.minimax_generator_loss, 0.0) == pytest.approx(-0.5)
    assert generator_gradient(losses.non_saturating_generator_loss, 0.0) == pytest.approx(-0.5)


def per_example_sum(values: tf.Tensor) -> tf.Tensor:
    """Sum over every axis but the batch axis, shaped (batch, 1) like discriminator logits."""
    return tf.reduce_sum(values, axis=list(range(1, len(values.shape))))[:, None]


def linear_critic(weights: tf.Tensor):
    """f(x) = a . x per example, whose input gradient is a everywhere."""
    return lambda examples: per_example_sum(examples * weights)


def test_gradient_penalty_of_a_linear_critic_is_norm_of_a_minus_one_squared():
    real = tf.random.stateless_normal((4, 2), seed=(5, 6))
    fake = tf.random.stateless_normal((4, 2), seed=(7, 8))
    weights = tf.random.stateless_uniform((4,), seed=(9, 10))
    penalty = losses.gradient_penalty(linear_critic(tf.constant([3.0, 4.0])), real, fake, weights)
    assert value_of(penalty) == pytest.approx((5.0 - 1.0) ** 2, rel=1e-6)


def test_gradient_penalty_takes_the_norm_over_all_of_an_image():
    real = tf.random.stateless_normal((3, 2, 2, 1), seed=(1, 1))
    fake = tf.random.stateless_normal((3, 2, 2, 1), seed=(2, 2))
    # ||a|| = sqrt(1 + 4 + 4 + 16) = 5 only if the norm covers every pixel and channel of an example.
    a = tf.constant([[1.0, 2.0], [2.0, 4.0]])[:, :, None]
    penalty = losses.gradient_penalty(linear_critic(a), real, fake, tf.constant([0.1, 0.5, 0.9]))
    assert value_of(penalty) == pytest.approx(16.0, rel=1e-6)


def quadratic_critic(scale=1.0):
    """f(x) = scale * ||x||^2 per example, whose input gradient 2 * scale * x depends on where it is taken."""
    return lambda examples: scale * per_example_sum(tf.square(examples))


def test_gradient_penalty_uses_each_examples_own_interpolate():
    real = tf.constant([[1.0, 0.0], [0.0, 0.0]])
    fake = tf.constant([[3.0, 0.0], [0.0, 2.0]])
    # Interpolates (2, 0) and (0, 0.5); gradients 2 x have norms 4 and 1; penalties 9 and 0.
    penalty = losses.gradient_penalty(quadratic_critic(), real, fake, tf.constant([0.5, 0.25]))
    assert value_of(penalty) == pytest.approx(4.5, rel=1e-6)


def test_gradient_penalty_broadcasts_weights_over_image_examples():
    real = tf.zeros((2, 2, 2, 1))
    fake = tf.ones((2, 2, 2, 1))
    # Interpolates are 0.5 and 0.25 in every pixel: gradient norms sqrt(4 * 1^2) = 2 and sqrt(4 * 0.5^2) = 1.
    penalty = losses.gradient_penalty(quadratic_critic(), real, fake, tf.constant([0.5, 0.25]))
    assert value_of(penalty) == pytest.approx(((2 - 1) ** 2 + (1 - 1) ** 2) / 2, rel=1e-6)


def test_gradient_penalty_is_differentiable_in_the_critics_variables_inside_tf_function():
    scale = tf.Variable(1.0)
    real = tf.constant([[1.0, 0.0], [0.0, 0.0]])
    fake = tf.constant([[3.0, 0.0], [0.0, 2.0]])

    @tf.function
    def penalty_and_gradient():
        with tf.GradientTape() as tape:
            penalty = losses.gradient_penalty(quadratic_critic(scale), real, fake, tf.constant([0.5, 0.25]))
        return penalty, tape.gradient(penalty, scale)

    # Gradient norms are 4c and c, so penalty = ((4c - 1)^2 + (c - 1)^2) / 2 and its slope at c = 1 is
    # (2 * 3 * 4 + 2 * 0 * 1) / 2 = 12.
    penalty, gradient = penalty_and_gradient()
    assert float(penalty) == pytest.approx(4.5, rel=1e-6)
    assert float(gradient) == pytest.approx(12.0, rel=1e-6)


def test_gradient_penalty_rejects_weights_that_are_not_one_per_example():
    real = tf.zeros((2, 2))
    with pytest.raises(ValueError, match=r"shape \(batch,\)"):
        losses.gradient_penalty(quadratic_critic(), real, real, tf.constant([[0.5], [0.5]]))


def test_every_configured_loss_has_a_pair_of_functions():
    assert set(losses.LOSS_FUNCTIONS) == set(LOSSES)
    real = tf.constant([[0.5], [-0.5]])
    fake = tf.constant([[-2.0], [1.0]])
    for name in LOSSES:
        d_loss, g_loss = losses.loss_functions(name)
        assert np.isfinite(value_of(d_loss(real, fake))) and np.isfinite(value_of(g_loss(fake)))
    assert losses.loss_functions("hinge") == (losses.hinge_discriminator_loss, losses.hinge_generator_loss)


def test_unknown_loss_name_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="'wasserstein'.*non_saturating, minimax, wgan_gp, lsgan, hinge"):
        losses.loss_functions("wasserstein")
