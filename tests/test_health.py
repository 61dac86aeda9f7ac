"""Failure patterns, smoothing, grid splitting and time estimates, on hand-made curves and real digits."""

import math

import numpy as np
import pytest

from gan_core.inputs import data, images
from gan_core.measuring import health
from gan_core.training import throughput
from gan_core.spec.config import preset
from gan_core.store.runs import MetricsWriter, create_run, write_status


def rows_from(d_loss, g_loss, d_fake=0.0, every=10, start=10):
    """Metrics rows at steps start, start+every, ... with the given per-row values (scalars repeat)."""
    count = max(len(np.atleast_1d(value)) for value in (d_loss, g_loss, d_fake))
    columns = {name: np.broadcast_to(np.asarray(value, dtype=np.float64), (count,))
               for name, value in (("d_loss", d_loss), ("g_loss", g_loss), ("d_fake", d_fake))}
    return [
        {"step": start + index * every, "wall_time": 1000.0 + index, "images_per_second": 500.0,
         **{name: float(values[index]) for name, values in columns.items()}}
        for index in range(count)
    ]


def test_exponential_moving_average_matches_hand_computation():
    # With smoothing 0.5: averages 0.5, 0.5*0.5 + 0.5*3 = 1.75 over weights 0.5, 0.75.
    smoothed = health.exponential_moving_average([1.0, 3.0], 0.5)
    np.testing.assert_allclose(smoothed, [1.0, 1.75 / 0.75])
    np.testing.assert_allclose(health.exponential_moving_average([1.0, 3.0, 2.0], 0.0), [1.0, 3.0, 2.0])


def test_exponential_moving_average_keeps_nan_visible_and_rejects_bad_smoothing():
    smoothed = health.exponential_moving_average([1.0, math.nan, 1.0], 0.9)
    assert math.isnan(smoothed[1]) and smoothed[2] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="smoothing=1"):
        health.exponential_moving_average([1.0], 1)


def test_discriminator_output_is_a_probability_only_for_cross_entropy_losses():
    assert [health.output_is_probability(loss) for loss in ("non_saturating", "minimax", "wgan_gp", "lsgan", "hinge")] \
        == [True, True, False, False, False]
    # sigmoid(0) = 1/2, sigmoid(ln 3) = 3/4 and sigmoid(-ln 3) = 1/4.
    for loss in ("non_saturating", "minimax"):
        values, label = health.discriminator_output_view([0.0, math.log(3.0), -math.log(3.0)], loss)
        np.testing.assert_allclose(values, [0.5, 0.75, 0.25])
        assert label == health.PROBABILITY_LABEL == "probability real"
    for loss in ("wgan_gp", "lsgan", "hinge"):
        values, label = health.discriminator_output_view([0.0, 2.5, -4.0], loss)
        np.testing.assert_array_equal(values, [0.0, 2.5, -4.0])
        assert label == health.RAW_SCORE_LABEL == "raw score"
    assert health.sigmoid(-1000.0) == 0.0 and health.sigmoid(1000.0) == 1.0


def test_an_unknown_loss_is_refused_naming_the_losses_that_exist():
    message = "loss='bce' is not allowed; use one of non_saturating, minimax, wgan_gp, lsgan, hinge"
    with pytest.raises(ValueError) as error:
        health.output_is_probability("bce")
    assert str(error.value) == message
    with pytest.raises(ValueError, match=message):
        health.discriminator_output_view([0.0], "bce")
    with pytest.raises(ValueError, match=message):
        health.diagnose(rows_from([1.0], [1.0]), "bce")


def test_split_grid_recovers_the_tiles_of_a_scaled_grid_of_real_digits():
    digits = data.load_builtin("digits").examples[:12]
    scale = images.grid_scale(8)
    grid = images.image_grid(digits, 3, 4, scale=scale)
    tiles = health.split_grid(grid, columns=4, image_side=8)
    assert tiles.shape == (12, 8 * scale, 8 * scale, 1)
    np.testing.assert_array_equal(tiles[5][::scale, ::scale], digits[5])
    with pytest.raises(ValueError, match="not a grid of 5 columns"):
        health.split_grid(grid, columns=5, image_side=8)


def test_sample_spread_tells_distinct_digits_from_copies_of_one():
    digits = data.load_builtin("digits").examples[:64]
    assert health.sample_spread(digits) > 30
    assert health.sample_spread(np.repeat(digits[:1], 64, axis=0)) == 0.0
    assert health.sample_spread(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(2.5)


def test_diagnose_flags_nan_and_the_diverged_state():
    rows = rows_from([1.0, 1.0, math.nan], [1.0, 1.0, 1.0])
    findings = health.diagnose(rows, "non_saturating")
    assert [finding.kind for finding in findings] == ["non_finite"]
    assert "step 30" in findings[0].message
    assert [finding.kind for finding in health.diagnose(rows_from([1.0] * 3, [1.0] * 3), "hinge",
                                                        state="diverged")] == ["non_finite"]


def test_diagnose_flags_a_discriminator_that_wins_for_long_but_not_briefly():
    winning = rows_from([0.01] * 40, np.linspace(3, 6, 40), d_fake=-1.0)
    assert [finding.kind for finding in health.diagnose(winning, "non_saturating")] == ["discriminator_wins"]
    # The same values over only 100 steps are not "long".
    assert health.diagnose(winning[-10:], "non_saturating") == []
    # A WGAN-GP critic's loss is meant to sit near or below zero.
    assert health.diagnose(winning, "wgan_gp") == []
    healthy = rows_from(1.3 + 0.1 * np.sin(np.arange(40)), 0.8 + 0.1 * np.cos(np.arange(40)))
    assert health.diagnose(healthy, "non_saturating") == []


def test_diagnose_flags_a_failing_generator_for_cross_entropy_losses():
    failing = rows_from([0.3] * 40, np.linspace(2.0, 7.0, 40), d_fake=-6.0)
    assert [finding.kind for finding in health.diagnose(failing, "minimax")] == ["generator_failing"]
    recovering = rows_from([0.3] * 40, np.linspace(7.0, 2.0, 40), d_fake=-6.0)
    assert health.diagnose(recovering, "minimax") == []


def test_diagnose_without_an_adversarial_loss_looks_only_at_the_losses_logged():
    # A VAE logs neither d_loss nor g_loss: those columns read as NaN and must not count as a divergence.
    vae_rows = [{"step": 10 * index, "wall_time": 1000.0 + index, "loss": 50.0 - index} for index in range(1, 41)]
    assert health.diagnose(vae_rows, None) == []
    assert [finding.kind for finding in health.diagnose(vae_rows, None, state="diverged")] == ["non_finite"]
    # BEGAN's discriminator loss sits near zero by design: without a loss setting it is not "winning".
    began_rows = rows_from([0.01] * 40, np.linspace(0.3, 0.1, 40))
    assert health.diagnose(began_rows, None) == []
    assert [finding.kind for finding in health.diagnose(rows_from([0.1, math.nan], [0.1, 0.1]), None)] == \
        ["non_finite"]


def test_diagnose_flags_nearly_identical_samples_once_training_is_under_way():
    digits = data.load_builtin("digits").examples[:64]
    collapsed = np.repeat(digits[:1], 64, axis=0)
    found = health.diagnose([], "lsgan", samples=collapsed, samples_step=500)
    assert [finding.kind for finding in found] == ["identical_samples"]
    # An untrained generator's outputs are alike too, so early grids are not judged.
    assert health.diagnose([], "lsgan", samples=collapsed, samples_step=100) == []
    assert health.diagnose([], "lsgan", samples=digits, samples_step=500) == []
    points = data.toy_points("ring", 64, seed=0)
    assert health.diagnose([], "lsgan", samples=points, samples_step=500) == []
    squeezed = 0.001 * points
    assert health.diagnose([], "lsgan", samples=squeezed, samples_step=500)[0].kind == "identical_samples"


def test_time_left_and_measured_speed_come_from_the_rows():
    rows = [{"step": step, "wall_time": 100.0 + step / 10, "images_per_second": speed}
            for step, speed in zip(range(10, 110, 10), [50.0] + [640.0] * 9)]
    config = preset("digits-mlp", batch_size=64)  # 64 images a step: 10 steps a second at 640 images/s
    assert throughput.seconds_left(config, rows, step=100, target_step=1100) == pytest.approx(100.0)
    assert throughput.measured_images_per_second(rows) == 640.0
    assert throughput.measured_images_per_second(rows[:3]) is None
    # With too few rows to measure, the time left is the Train form's estimate for the rest.
    expected = throughput.estimate(config).seconds_per_1000_steps
    assert throughput.seconds_left(config, rows[:3], step=30, target_step=1030) == pytest.approx(expected)
    assert throughput.seconds_left(config, rows, step=1200, target_step=1100) == 0
    assert throughput.seconds_per_1000_steps(config, 640.0) == pytest.approx(100.0)
    with pytest.raises(ValueError, match="images_per_second=0"):
        throughput.seconds_per_1000_steps(config, 0)


def test_multiply_accumulates_follow_the_layer_plan():
    # Fashion-MNIST DCGAN, width 64: discriminator convolutions 14*14*16*1*64 + 7*7*16*64*128, mirrored by the
    # generator, plus the 7*7*128 logit and the projection of 100 noise values onto the 7x7x128 start map.
    convolutions = 14 * 14 * 16 * 64 + 7 * 7 * 16 * 64 * 128
    classic = preset("fashion-dcgan", width=64, latent_dim=100)
    assert throughput.multiply_accumulates_per_example(classic) == 2 * convolutions + 6272 + 100 * 6272
    ring = preset("ring-mlp")  # width 128, latent 16
    assert throughput.multiply_accumulates_per_example(ring) == ((16 * 128 + 2 * 128 * 128 + 256)
                                                                 + (256 + 2 * 128 * 128 + 128))


def test_estimate_prefers_a_measured_run_with_the_same_networks(tmp_path):
    measured = create_run(preset("digits-mlp", batch_size=32), tmp_path)
    writer = MetricsWriter(measured.database_path)
    writer.write([{"step": step, "wall_time": float(step), "images_per_second": 3200.0} for step in range(10, 110, 10)])
    writer.close()
    write_status(measured.path, "finished", "reached step 100", step=100)
    unfinished = create_run(preset("digits-mlp"), tmp_path)  # queued: never measured

    history = throughput.measured_history([measured, unfinished])
    assert [(run.run_id, speed) for run, _, speed in history] == [(measured.run_id, 3200.0)]
    found = throughput.estimate(preset("digits-mlp", batch_size=64), history)
    assert found.seconds_per_1000_steps == pytest.approx(1000 * 64 / 3200)
    assert found.source.startswith("measured") and measured.run_id in found.source

    # Networks no preset has: the model's count, at this machine's pace against the reference CPU.
    pace = 3200.0 / throughput.reference_images_per_second(preset("digits-mlp"))
    wider = preset("digits-mlp", width=64)
    other_networks = throughput.estimate(wider, history)
    assert other_networks.source.startswith("model:") and f"{pace:.2f} times that CPU's pace" in other_networks.source
    assert other_networks.seconds_per_1000_steps == pytest.approx(
        1000 * 64 / (pace * throughput.rough_images_per_second(wider)))
    assert throughput.estimate(wider).source.startswith("model: no run has finished on this machine yet")
    # A preset's networks, nothing like them measured here: that preset's pace on the reference CPU, scaled likewise.
    dcgan = preset("fashion-dcgan")
    fresh = throughput.estimate(dcgan)
    assert fresh.source.startswith("reference:") and "fashion-dcgan" in fresh.source
    assert fresh.seconds_per_1000_steps == pytest.approx(
        1000 * dcgan.batch_size / throughput.REFERENCE_IMAGES_PER_SECOND["fashion-dcgan"])
    assert throughput.estimate(dcgan, history).seconds_per_1000_steps == pytest.approx(
        fresh.seconds_per_1000_steps / pace)
    # Conditioning changes the networks' cost, so an unconditioned run's pace is not taken for a conditional one.
    assert throughput.network_key(preset("mnist-cgan")) != throughput.network_key(preset("mnist-dcgan"))
    rough = preset("fashion-wgan-gp", width=48)  # n_critic 5 and a gradient penalty: about ten times the plain DCGAN's
    plain = rough.replace(loss="non_saturating", n_critic=1)
    ratio = throughput.estimate(rough).seconds_per_1000_steps / throughput.estimate(plain).seconds_per_1000_steps
    assert ratio == pytest.approx(5 * throughput.GRADIENT_PENALTY_COST)
