"""InfoGAN: the info-loss maths on hand values, its latent codes, and a tiny run that trains, resumes exactly,
samples, draws its traversals and is evaluated."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_core.measuring import features
from gan_core.inputs import images
from gan_core.nets import sampling
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.spec.settings import SettingError
from gan_core.training.trainer import Trainer
from gan_core.variants import infogan
from support.resume import assert_resumed_like
from support.datasets import write_png_folder
from support.infogan_runs import (assert_the_cas_trains_on_real_digits_well, assert_the_cli_trains, finite_rows,
                                  tiny_config, train_tiny_run)

# ---- the maths --------------------------------------------------------------------------------------------------


def test_categorical_info_loss_is_the_cross_entropy_of_the_logits():
    logits = tf.constant([[0.0, 0.0], [2.0, 0.0]])
    codes = tf.constant([0, 0])
    expected = (math.log(2) + math.log(1 + math.exp(-2))) / 2
    assert float(infogan.categorical_info_loss(logits, codes)) == pytest.approx(expected, rel=1e-6)


def test_continuous_info_loss_is_half_the_mean_squared_error():
    means = tf.constant([[0.5, -1.0]])
    codes = tf.constant([[1.0, 0.0]])
    assert float(infogan.continuous_info_loss(means, codes)) == pytest.approx(0.5 * (0.25 + 1.0) / 2)
    assert float(infogan.continuous_info_loss(tf.zeros([3, 0]), tf.zeros([3, 0]))) == 0.0


def test_info_loss_weights_each_kind_of_code_and_the_bound_tops_out_at_ln_10():
    assert float(infogan.info_loss(tf.constant(2.0), tf.constant(4.0), 1.0, 0.1)) == pytest.approx(2.4)
    assert infogan.categorical_mutual_information(0.0) == pytest.approx(math.log(10))
    assert infogan.categorical_mutual_information(math.log(10)) == pytest.approx(0.0)


def test_codes_come_from_the_right_distributions():
    categorical = infogan.categorical_codes_from_uniform(tf.constant([0.0, 0.09, 0.1, 0.55, 0.999999]))
    assert categorical.numpy().tolist() == [0, 0, 1, 5, 9]
    continuous = infogan.continuous_codes_from_uniform(tf.constant([0.0, 0.5, 0.75]))
    np.testing.assert_allclose(continuous.numpy(), [-1.0, 0.0, 0.5])
    latent = infogan.generator_input(tf.ones([2, 3]), tf.constant([1, 9]), tf.constant([[0.5], [-0.5]]))
    np.testing.assert_array_equal(latent.numpy()[1], [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, -0.5])


def test_draw_latents_lays_out_noise_one_hot_code_and_uniform_codes():
    config = tiny_config(latent_dim=5, info_continuous_codes=3)
    variant = infogan.InfoGAN()
    latents = variant.draw_latents(config, 2000, seed=3)
    assert latents.shape == (2000, variant.latent_size(config)) == (2000, 5 + 10 + 3)
    one_hot = latents[:, 5:15]
    assert set(np.unique(one_hot)) == {0.0, 1.0} and np.all(one_hot.sum(axis=1) == 1)
    assert np.bincount(one_hot.argmax(axis=1), minlength=10).min() > 150, "every code value is drawn"
    continuous = latents[:, 15:]
    assert continuous.min() >= -1 and continuous.max() <= 1 and abs(continuous.mean()) < 0.05
    assert abs(latents[:, :5].std() - 1) < 0.05
    np.testing.assert_array_equal(latents, variant.draw_latents(config, 2000, seed=3))


def test_the_sample_grid_has_one_row_per_code_value():
    config = tiny_config()
    latents, _ = infogan.InfoGAN().fixed_inputs(config, 0)
    assert latents.shape == (10 * 4, 8 + 10 + 2)
    rows = latents.reshape(10, 4, -1)
    assert [int(code) for code in rows[:, 0, 8:18].argmax(axis=1)] == list(range(10))
    np.testing.assert_array_equal(rows[0, :, :8], rows[9, :, :8]), "each column keeps its noise"
    assert np.all(rows[:, :, 18:] == 0)


def test_settings_are_checked():
    with pytest.raises(SettingError, match="info_lambda_categorical"):
        tiny_config(info_lambda_categorical=-1.0)
    with pytest.raises(SettingError, match="image dataset"):
        tiny_config(dataset="ring", architecture="mlp")
    with pytest.raises(SettingError, match="gradient penalty"):
        tiny_config(loss="wgan_gp")
    assert preset("mnist-infogan").variant == "infogan"


# ---- a tiny run -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    return train_tiny_run(tiny_config(), tmp_path_factory.mktemp("infogan"))


def test_a_tiny_run_trains_logs_its_information_and_checkpoints_q(trained_run):
    run, trainer = trained_run
    rows = finite_rows(run, ("info_categorical_loss", "info_continuous_loss", "q_categorical_accuracy"))
    for row in rows:
        assert row["mi_categorical"] == pytest.approx(math.log(10) - row["info_categorical_loss"], abs=1e-5)
    assert set(trainer.training.networks) == {"generator", "discriminator", "q_head"}
    # Q's loss must reach the shared trunk: the discriminator's optimizer holds the trunk and the heads.
    held = {id(variable) for variable in trainer.training.d_variables}
    for network in ("discriminator", "q_head"):
        assert all(id(variable) in held for variable in trainer.training.networks[network].trainable_variables)
    assert run.checkpoint_steps() == [3, 6]
    assert sampling.sample(run, 5).shape == (5, 8, 8, 1)


@pytest.mark.slow
def test_a_resumed_run_continues_exactly(trained_run, tmp_path):
    # The module's tiny run, trained straight through, is what a run stopped at step 4 and resumed must match.
    assert_resumed_like(trained_run[0], tmp_path, ("d_loss", "mi_categorical"))


def test_the_q_network_learns_the_code_of_generated_images(tmp_path):
    run = create_run(tiny_config(steps=60, log_every=10, checkpoint_every=60, sample_every=60, width=16,
                                 g_learning_rate=1e-3, d_learning_rate=1e-3), tmp_path)
    Trainer(run).train()
    rows = run.metrics_since()
    assert rows[-1]["mi_categorical"] > rows[0]["mi_categorical"] + 0.6, [row["mi_categorical"] for row in rows]


def test_views_draw_traversal_grids(trained_run):
    run, _ = trained_run
    views = {view.key: view for view in infogan.InfoGAN().views()}
    tile = np.zeros((1, 8, 8, 1), np.uint8)
    scale = images.grid_scale(8)
    categorical = views["infogan_categorical_traversal"].draw(run, 6, 0)
    assert len(categorical) == 1
    assert categorical[0].image.shape == images.image_grid(tile, 8, 10, scale).shape
    continuous = views["infogan_continuous_traversals"].draw(run, 6, 0)
    assert len(continuous) == 2
    for picture in continuous:
        assert picture.image.shape == images.image_grid(tile, 8, 9, scale).shape and picture.image.dtype == np.uint8
    assert "-2 to 2" in continuous[0].caption


@pytest.mark.slow
def test_evaluate_gives_purity_q_accuracy_and_cas_with_the_digits_classifier(trained_run):
    run, _ = trained_run
    results = infogan.InfoGAN().evaluate(run, 6, 100, 0)
    assert "unavailable_measures" not in results and results["q_accuracy_paper"] == 0.95
    for name in ("categorical_code_purity", "categorical_code_matched_accuracy", "q_accuracy"):
        assert 0 <= results[name] <= 1, name
    # Each code's majority class is at least a tenth of it; the one-to-one matching can only lose to that.
    assert results["categorical_code_purity"] >= max(0.1, results["categorical_code_matched_accuracy"])
    per_code = results["categorical_code_per_code"]
    assert [(code["code"], code["count"]) for code in per_code] == [(code, 10) for code in range(10)]
    assert all(0 <= code["majority_class"] < 10 and 0.1 <= code["purity"] <= 1 for code in per_code)
    assert results["categorical_code_purity"] == pytest.approx(sum(code["purity"] for code in per_code) / 10)
    # The codes, labelled by their matched classes, train a classifier scored on real held-out digits.
    assert_the_cas_trains_on_real_digits_well(results, 100)


def test_evaluate_says_why_a_measure_cannot_be_computed(tmp_path):
    # A person's labelled images: Q can be scored on their labels, but the project has no classifier for them.
    folder = write_png_folder(tmp_path / "my_images", 24, classes=("cats", "dogs"))
    config = tiny_config(dataset="folder", data_path=str(folder), max_examples=0, image_size=8, channels=1, steps=2,
                         log_every=1, sample_every=2, checkpoint_every=2)
    run, _ = train_tiny_run(config, tmp_path / "runs")
    results = infogan.InfoGAN().evaluate(run, 2, 20, 0)
    reason = features.classifier_unavailable_reason("folder")
    unavailable = results["unavailable_measures"]
    assert set(unavailable) == {"categorical_code_purity", "categorical_code_matched_accuracy",
                                "classification_accuracy_score"}
    for name, message in unavailable.items():
        assert results[name] is None and message.startswith(reason), name
    assert 0 <= results["q_accuracy"] <= 1 and results["q_accuracy_paper"] == 0.95


@pytest.mark.slow
def test_the_cli_trains_the_preset(tmp_path):
    assert_the_cli_trains("mnist-infogan", tmp_path)
