"""BEGAN: its maths on hand values, its networks, and a tiny run that trains, resumes exactly, samples and is
measured."""

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from gan_core.spec import registry
from gan_core.nets import sampling
from gan_core.spec.config import RunConfig, preset
from gan_core.store.runs import create_run, open_run
from gan_core.spec.settings import SettingError
from gan_core.training.trainer import Trainer
from gan_core.variants import began
from support.cli import gan_core_here
from support.datasets import requires_dataset

PROJECT_ROOT = Path(__file__).resolve().parents[1]
METRICS = ("d_loss", "g_loss", "loss_real", "loss_fake", "k_t", "m_global")


def tiny_config(**overrides):
    """8x8 digits with small networks: a few steps take about a second."""
    values = dict(variant="began", dataset="digits", width=8, latent_dim=8, began_bottleneck=8, batch_size=16,
                  max_examples=256, steps=6, log_every=2, sample_every=3, checkpoint_every=3, sample_grid=4,
                  began_gamma=0.5)
    values.update(overrides)
    return RunConfig.from_dict(values)


# ---- the maths -------------------------------------------------------------------------------------------------


def test_reconstruction_loss_is_the_batch_mean_of_each_examples_mean_absolute_error():
    examples = np.array([np.zeros((2, 2, 1)), np.ones((2, 2, 1))], np.float32)
    reconstructions = np.array([np.full((2, 2, 1), 0.5), [[[1], [1]], [[0], [-1]]]], np.float32)
    # Example 0: |0 - 0.5| everywhere = 0.5. Example 1: errors 0, 0, 1, 2 -> 0.75.
    np.testing.assert_allclose(began.per_example_reconstruction_loss(examples, reconstructions), [0.5, 0.75])
    assert float(began.reconstruction_loss(examples, reconstructions)) == pytest.approx(0.625)


def test_the_two_losses_on_hand_values():
    assert began.began_discriminator_loss(0.3, 0.2, 0.5) == pytest.approx(0.3 - 0.5 * 0.2)
    assert began.began_discriminator_loss(0.3, 0.2, 0.0) == pytest.approx(0.3), "k_0 = 0 ignores generated images"
    assert began.began_generator_loss(0.2) == pytest.approx(0.2)


def test_k_moves_by_lambda_times_the_equilibrium_gap_and_stays_in_zero_to_one():
    # gamma * L(x) - L(G(z)) = 0.5 * 0.3 - 0.1 = 0.05.
    assert float(began.next_k(0.1, 0.3, 0.1, gamma=0.5, lambda_k=0.1)) == pytest.approx(0.105)
    assert float(began.next_k(0.1, 0.3, 0.25, gamma=0.5, lambda_k=0.1)) == pytest.approx(0.09)
    assert float(began.next_k(0.001, 0.1, 0.9, gamma=0.5, lambda_k=0.1)) == 0.0
    assert float(began.next_k(0.99, 1.0, 0.0, gamma=0.5, lambda_k=1.0)) == 1.0


def test_m_global_adds_the_distance_from_equilibrium_on_either_side():
    assert began.convergence_measure(0.3, 0.2, 0.5) == pytest.approx(0.3 + 0.05)
    assert began.convergence_measure(0.3, 0.1, 0.5) == pytest.approx(0.3 + 0.05)
    assert began.convergence_measure(0.3, 0.15, 0.5) == pytest.approx(0.3), "at equilibrium M_global is L(x)"


# ---- settings and networks ---------------------------------------------------------------------------------------


def test_point_sets_are_refused_clearly():
    with pytest.raises(SettingError, match="dataset='ring' is not allowed for the BEGAN.*image dataset"):
        RunConfig(variant="began", dataset="ring", architecture="mlp")


def test_settings_have_defaults_and_ranges():
    config = RunConfig(variant="began", dataset="mnist")
    assert (config.began_gamma, config.began_lambda_k, config.began_bottleneck) == (1.0, 0.05, 64)
    with pytest.raises(SettingError, match="began_gamma"):
        RunConfig.from_dict(dict(variant="began", began_gamma=0))
    assert {"loss", "n_critic", "gp_weight", "conditional"} <= set(registry.get("began").unused_fields)
    assert registry.get("began").build_discriminator(config, 0) is None


@pytest.mark.parametrize("side, channels, expected", [(28, 1, (7, 2)), (32, 3, (8, 2)), (8, 1, (8, 0))])
def test_networks_keep_the_image_shape(side, channels, expected):
    shape = (side, side, channels)
    assert began.map_side(side) == expected
    generator = began.build_began_generator(shape, 16, 8)
    autoencoder = began.build_autoencoder(shape, 8, 4)
    images = generator(np.random.default_rng(0).standard_normal((2, 16)).astype(np.float32)).numpy()
    assert images.shape == (2, *shape) and images.min() >= -1 and images.max() <= 1
    assert not np.allclose(images[0], images[1])
    assert autoencoder(images).shape == (2, *shape)
    assert autoencoder.get_layer("d_encoder_bottleneck").units == 4


# ---- a tiny run --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run = create_run(tiny_config(), tmp_path_factory.mktemp("began"))
    assert Trainer(run).train() == "finished"
    return run


def test_training_logs_every_metric_and_moves_k(tiny_run):
    rows = tiny_run.metrics_since()
    assert [row["step"] for row in rows] == [2, 4, 6]
    for row in rows:
        for name in METRICS:
            assert math.isfinite(row[name]), (name, row)
        assert row["g_loss"] == pytest.approx(row["loss_fake"])
        assert row["m_global"] == pytest.approx(began.convergence_measure(row["loss_real"], row["loss_fake"], 0.5),
                                                rel=1e-5)
        assert 0 <= row["k_t"] <= 1
    assert rows[-1]["k_t"] > 0, "k_t starts at 0 and must move"
    assert tiny_run.checkpoint_steps() == [3, 6]


def test_k_is_saved_in_the_checkpoint(tiny_run):
    reader = tf.train.load_checkpoint(str(tiny_run.checkpoints_dir))
    saved = [name for name in reader.get_variable_to_shape_map() if name.startswith("k_t/")]
    assert saved, "k_t must be part of the checkpoint"
    assert reader.get_tensor(saved[0]) == pytest.approx(tiny_run.metrics_since()[-1]["k_t"])


def test_resume_continues_exactly(tmp_path, tiny_run):
    interrupted = create_run(tiny_config(), tmp_path)
    assert Trainer(interrupted).train(target_step=4) == "finished"
    assert Trainer(interrupted).train() == "finished"
    straight_rows, resumed_rows = tiny_run.metrics_since(), interrupted.metrics_since()
    assert [row["step"] for row in resumed_rows] == [row["step"] for row in straight_rows]
    for expected, actual in zip(straight_rows, resumed_rows):
        for name in METRICS:
            assert actual[name] == expected[name], name
    np.testing.assert_array_equal(sampling.sample(tiny_run, 8, seed=1), sampling.sample(interrupted, 8, seed=1))


def test_same_seed_gives_the_same_steps_and_another_does_not(tmp_path, tiny_run):
    again = create_run(tiny_config(), tmp_path)
    other = create_run(tiny_config(seed=1), tmp_path)
    Trainer(again).train(), Trainer(other).train()
    history = [[row["m_global"] for row in run.metrics_since()] for run in (tiny_run, again, other)]
    assert history[0] == history[1] and history[0] != history[2]


def test_samples_are_images(tiny_run):
    samples = sampling.sample(tiny_run, 5, seed=2)
    assert samples.shape == (5, 8, 8, 1) and samples.dtype == np.uint8


@pytest.mark.parametrize("view", registry.get("began").views(), ids=lambda view: view.key)
def test_views_show_image_pairs_side_by_side(tiny_run, view):
    pictures = view.draw(tiny_run, 6, 0)
    assert len(pictures) == 1 and view.page == "gallery"
    image = pictures[0].image
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 1
    # 16 pairs, 4 to a row: 4 rows of 8 tiles.
    assert image.shape[1] > 2 * image.shape[0] * 0.9
    assert "reconstruction" in pictures[0].caption


def test_evaluate_gives_m_global_from_held_out_and_generated_images(tiny_run):
    variant = registry.get("began")
    results = variant.evaluate(tiny_run, 6, sample_count=40, seed=0)
    assert set(results) == {measure.name for measure in variant.measures}
    expected = began.convergence_measure(results["began_loss_real"], results["began_loss_fake"], 0.5)
    assert results["m_global"] == pytest.approx(expected) and results["m_global"] > 0
    assert variant.evaluate(tiny_run, 6, sample_count=40, seed=0) == results, "the same seed gives the same measure"


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys, tensorflow as tf
    devices = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(devices[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    from gan_core.spec.config import RunConfig
    from gan_core.store.runs import create_run
    from gan_core.training.trainer import Trainer
    run = create_run(RunConfig.from_json(sys.argv[2]), sys.argv[1])
    Trainer(run, strategy=tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])).train()
    print(json.dumps(run.metrics_since()))
    """
)


@pytest.mark.slow
def test_two_replicas_share_one_k_and_match_one_device(tiny_run, tmp_path):
    """k_t must come from the losses of the whole batch, not of one replica's half."""
    # The module's tiny run is the one device; the script trains its config again over two replicas. The config goes
    # to the script as JSON, the way a run's directory holds it: the script imports no test module.
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    output = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path), tiny_run.config.to_json()],
                            capture_output=True, text=True, timeout=300, env=environment, cwd=PROJECT_ROOT)
    assert output.returncode == 0, output.stderr[-3000:]
    import json

    mirrored_rows = json.loads(output.stdout.strip().splitlines()[-1])
    assert [row["step"] for row in mirrored_rows] == [2, 4, 6]
    for one, mirrored in zip(tiny_run.metrics_since(), mirrored_rows, strict=True):
        for name in METRICS:
            assert mirrored[name] == pytest.approx(one[name], rel=1e-4, abs=1e-6), (name, one["step"])


# ---- the preset --------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_preset_trains_from_the_command_line(tmp_path):
    requires_dataset("mnist")
    result = gan_core_here("train", "--preset", "mnist-began", "--steps", "3", "--runs-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    run = open_run(result.stdout.strip().splitlines()[-1])
    assert run.config.variant == "began" and run.status.state == "finished"
    assert run.config == preset("mnist-began", steps=3)
