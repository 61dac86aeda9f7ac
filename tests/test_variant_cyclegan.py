"""CycleGAN: its losses on hand values, the pool of earlier fakes, unpaired datasets with held-out parts, a tiny run
that trains, resumes exactly and samples, its views and measures, and the command line."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from gan_core.inputs import data
from gan_core.nets import losses, sampling
from gan_core.spec import registry
from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.spec.settings import SettingError
from gan_core.training.trainer import Trainer
from gan_core.variants import cyclegan
from gan_core.variants.base import Batch, Networks
from support.cli import PROJECT_ROOT, gan_core_here, last_line
from support.resume import assert_resumed_like
from support.datasets import requires_dataset, write_png_folder

# ---- the maths --------------------------------------------------------------------------------------------------


def test_least_squares_losses_on_hand_values():
    real, fake = tf.constant([1.0, 0.0]), tf.constant([0.5, -1.0])
    # D, the engine's least-squares loss as it is: 0.5 * [mean((0, -1)^2) + mean((0.5, -1)^2)] = 0.5 * (0.5 + 0.625).
    assert float(losses.lsgan_discriminator_loss(real, fake)) == pytest.approx(0.5625)
    # G, weighed as CycleGAN does: mean((0.5 - 1)^2, (-1 - 1)^2) = (0.25 + 4) / 2, twice the engine's 1/2 scale.
    assert float(cyclegan.generator_adversarial_loss(fake)) == pytest.approx(2.125)
    assert float(cyclegan.generator_adversarial_loss(fake)) == 2 * float(losses.lsgan_generator_loss(fake))
    # A perfect discriminator costs nothing; a generator judged fully real costs nothing.
    assert float(losses.lsgan_discriminator_loss(tf.ones([3]), tf.zeros([3]))) == 0.0
    assert float(cyclegan.generator_adversarial_loss(tf.ones([3]))) == 0.0


def test_cycle_and_identity_losses_on_hand_values():
    a, b = tf.constant([[0.0, 1.0]]), tf.constant([[1.0, 1.0]])
    cycled_a, cycled_b = tf.constant([[0.5, 1.0]]), tf.constant([[1.0, 0.0]])
    # weight * (mean |(0.5, 0)| + mean |(0, 1)|) = 10 * (0.25 + 0.5).
    assert float(cyclegan.cycle_consistency_loss(a, cycled_a, b, cycled_b, 10.0)) == pytest.approx(7.5)
    same_a, same_b = tf.constant([[0.0, 0.0]]), tf.constant([[1.0, 1.0]])
    # weight * (mean |G(b) - b| = 0 + mean |F(a) - a| = 0.5).
    assert float(cyclegan.identity_loss(a, same_a, b, same_b, 5.0)) == pytest.approx(2.5)


def images_numbered(first, count):
    """`count` 1x1 images whose single pixel is first, first + 1, ..., so that each can be traced through the pool."""
    return tf.reshape(tf.range(first, first + count, dtype=tf.float32), [count, 1, 1, 1])


def pixel_values(images):
    return [float(value) for value in np.asarray(images).reshape(-1)]


def test_the_pool_fills_first_then_swaps_where_the_coin_says():
    pool, filled = tf.zeros([4, 1, 1, 1]), tf.constant(0)
    order = tf.constant([0.9, 0.1, 0.5, 0.3])  # slots in the order 1, 3, 2, 0
    shown, pool, filled = cyclegan.pool_query(pool, filled, images_numbered(1, 3), tf.zeros([3]), order)
    assert pixel_values(shown) == [1, 2, 3], "while filling, every image passes through"
    assert pixel_values(pool) == [1, 2, 3, 0] and int(filled) == 3
    # 4 fills the last slot; 5 (coin 0.2) swaps with slot 3, now holding 4; 6 (coin 0.9) passes through.
    coins = tf.constant([0.0, 0.2, 0.9])
    shown, pool, filled = cyclegan.pool_query(pool, filled, images_numbered(4, 3), coins, order)
    assert pixel_values(shown) == [4, 4, 6]
    assert pixel_values(pool) == [1, 2, 3, 5] and int(filled) == 4
    # Full: two swaps take distinct slots (1 then 3), never both the same one.
    shown, pool, _ = cyclegan.pool_query(pool, filled, images_numbered(7, 2), tf.zeros([2]), order)
    assert pixel_values(shown) == [2, 5] and pixel_values(pool) == [1, 7, 3, 8]


def seeded_batch(size, seed):
    def noise(offset, shape, uniform=False):
        draw = tf.random.stateless_uniform if uniform else tf.random.stateless_normal
        return draw(shape, seed=[seed, offset])

    return Batch(real=None, labels=None, noise=noise, replicas=1, size=size)


def pool_training(pool_size=50, batch_size=50):
    config = preset("mnist2inverted-cyclegan", dataset="digits", width=4, batch_size=batch_size,
                    cyclegan_pool_size=pool_size)
    return registry.of(config).build_training(config, 0)


def run_pool(training, steps, batch_size, seed=0):
    """What D_B sees over `steps` batches of distinct numbered images, drawn with the step's seeded noise."""
    seen = []
    for step in range(steps):
        fakes = tf.broadcast_to(images_numbered(step * batch_size, batch_size), [batch_size, 8, 8, 1])
        seen.append(pixel_values(training.pooled("b", fakes, seeded_batch(batch_size, seed + step))[:, 0, 0, 0]))
    return np.array(seen)


def test_the_training_pool_swaps_about_half_with_seeded_draws_and_is_saved():
    training = pool_training()
    seen = run_pool(training, 5, 50)
    newest = np.arange(250).reshape(5, 50)
    np.testing.assert_array_equal(seen[0], newest[0])
    swapped = (seen[1:] != newest[1:]).mean()
    assert 0.35 < swapped < 0.65, swapped
    assert np.all(seen[1:] <= newest[1:]), "swapped images come from earlier batches (or earlier in this one)"
    np.testing.assert_array_equal(run_pool(pool_training(), 5, 50), seen)
    assert not np.array_equal(run_pool(pool_training(), 5, 50, seed=10), seen), "the draws follow the seed"
    assert {"pool_a_images", "pool_a_filled", "pool_b_images", "pool_b_filled"} == set(training.state)
    assert int(training.state["pool_b_filled"]) == 50
    assert pool_training(pool_size=0).state == {}


@pytest.mark.parametrize("kind", ["resnet", "unet"])
def test_both_generators_translate_images_to_images(kind):
    generator = cyclegan.build_translator(kind, (28, 28, 1), 3, 4, "generator_ba")
    outputs = generator(tf.random.uniform([2, 28, 28, 1], -1.0, 1.0))
    assert outputs.shape == (2, 28, 28, 3) and generator.name == "generator_ba"
    assert float(tf.reduce_max(tf.abs(outputs))) <= 1.0
    with pytest.raises(ValueError, match="generator 'vgg' is not allowed"):
        cyclegan.build_translator("vgg", (28, 28, 1), 1, 4, "generator")


# ---- settings and data ------------------------------------------------------------------------------------------


def test_settings_are_checked():
    config = preset("mnist2inverted-cyclegan")
    assert (config.cyclegan_cycle_weight, config.cyclegan_identity_weight, config.cyclegan_pool_size) == (10, 0.5, 50)
    assert (config.g_learning_rate, config.g_beta_1, config.d_learning_rate, config.d_beta_1) == (2e-4, 0.5, 2e-4, 0.5)
    assert preset("mnist2fashion-cyclegan").cyclegan_target == "fashion_mnist"
    with pytest.raises(SettingError, match="another dataset than the run's own"):
        preset("mnist2fashion-cyclegan", cyclegan_target="mnist")
    with pytest.raises(SettingError, match="choose the dataset 'folder'"):
        preset("mnist2inverted-cyclegan", cyclegan_target="own")
    with pytest.raises(SettingError, match="'own' with your own images"):
        preset("mnist2inverted-cyclegan", dataset="folder", data_path="/nowhere")
    with pytest.raises(SettingError, match="cyclegan_generator"):
        preset("mnist2inverted-cyclegan", cyclegan_generator="vgg")
    with pytest.raises(SettingError, match="cyclegan_pool_size"):
        preset("mnist2inverted-cyclegan", cyclegan_pool_size=-1)


def test_inverted_targets_are_the_odd_half_inverted_and_never_paired():
    config = tiny_config()
    base = data.load_images_or_points(config, "train")
    train = data.load_dataset(config, "train")
    assert not train.paired
    np.testing.assert_array_equal(train.inputs, base.examples[0::2])
    np.testing.assert_array_equal(train.examples, 255 - base.examples[1::2])
    np.testing.assert_array_equal(train.input_labels, base.labels[0::2])
    np.testing.assert_array_equal(train.labels, base.labels[1::2])
    test_base, held_out = data.load_images_or_points(config, "test"), data.load_dataset(config, "test")
    np.testing.assert_array_equal(held_out.inputs, test_base.examples[0::2])
    assert registry.of(config).judged_dataset(config) == "digits"


def test_another_builtin_set_is_domain_b_with_its_labels():
    requires_dataset("mnist")
    requires_dataset("fashion_mnist")
    config = preset("mnist2fashion-cyclegan", max_examples=300)
    train = data.load_dataset(config, "train")
    fashion = data.load_builtin("fashion_mnist", "train").first(300)
    mnist = data.load_builtin("mnist", "train").first(300)
    assert not train.paired and len(train.examples) == len(train.inputs) == 300
    np.testing.assert_array_equal(train.examples, fashion.examples)
    np.testing.assert_array_equal(train.labels, fashion.labels)
    np.testing.assert_array_equal(train.input_labels, mnist.labels)
    held_out = data.load_dataset(config, "test")
    assert held_out.class_names == fashion.class_names and len(held_out.examples) == 10000
    assert registry.of(config).judged_dataset(config) == "fashion_mnist"


def test_own_folders_are_read_unpaired_and_their_held_out_images_are_never_trained_on(tmp_path):
    write_png_folder(tmp_path / "mine" / "A", 20, size=28, seed=1)
    for path in write_png_folder(tmp_path / "mine" / "B", 30, size=28, seed=2).iterdir():
        path.rename(path.with_name(f"b{path.name}"))  # no name in both folders: not pairs
    config = preset("mnist2inverted-cyclegan", dataset="folder", data_path=str(tmp_path / "mine"),
                    cyclegan_target="own", image_size=28, channels=1)
    train, held_out = data.load_dataset(config, "train"), data.load_dataset(config, "test")
    assert not train.paired and train.labels is None
    assert (len(train.inputs), len(held_out.inputs)) == (18, 2)
    assert (len(train.examples), len(held_out.examples)) == (27, 3)
    trained = {image.tobytes() for image in (*train.inputs, *train.examples)}
    assert not any(image.tobytes() in trained for image in (*held_out.inputs, *held_out.examples))


# ---- a tiny run -------------------------------------------------------------------------------------------------


def tiny_config(**overrides):
    return preset("mnist2inverted-cyclegan", **{**dict(dataset="digits", width=8, batch_size=8, steps=6, log_every=2,
                                                      checkpoint_every=3, sample_every=3, cyclegan_pool_size=4,
                                                      max_examples=300), **overrides})


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    run = create_run(tiny_config(), tmp_path_factory.mktemp("cyclegan"))
    trainer = Trainer(run)
    assert trainer.train() == "finished"
    return run, trainer


@pytest.mark.slow
def test_a_tiny_run_trains_both_directions(trained_run):
    run, trainer = trained_run
    rows = run.metrics_since()
    assert [row["step"] for row in rows] == [2, 4, 6]
    for row in rows:
        assert all(np.isfinite(row[name]) for name in cyclegan.CycleGAN.progress_metrics)
        assert row["g_loss"] == pytest.approx(row["g_adversarial_loss"] + row["cycle_loss"] + row["identity_loss"])
        assert row["g_adversarial_loss"] == pytest.approx(row["g_ab_adversarial_loss"] + row["g_ba_adversarial_loss"])
        assert row["d_loss"] == pytest.approx(row["d_a_loss"] + row["d_b_loss"])
    assert set(trainer.training.networks) == {"generator", "generator_ba", "discriminator_a", "discriminator_b"}
    assert rows[-1]["cycle_loss"] < rows[0]["cycle_loss"]
    assert run.checkpoint_steps() == [3, 6]
    reader = tf.train.load_checkpoint(str(run.checkpoints_dir))
    assert any(name.startswith("pool_b_images") for name in reader.get_variable_to_shape_map())
    samples = sampling.sample(run, 5)
    assert samples.shape == (5, 8, 8, 1) and samples.dtype == np.uint8


@pytest.fixture(scope="module")
def unet_run(tmp_path_factory):
    """The tiny run with the U-Net generator, whose step traces in about a third of the ResNet's time: for the claims
    about the pool of earlier fakes (kept across a resume, shared by replicas), which is the same for both."""
    run = create_run(tiny_config(cyclegan_generator="unet"), tmp_path_factory.mktemp("cyclegan-unet"))
    assert Trainer(run).train() == "finished"
    return run


@pytest.mark.slow
def test_a_resumed_run_continues_exactly(unet_run, tmp_path):
    # A 4-image pool is full from the first step, so a pool lost at the resume would change what D sees after it.
    # The module's run, trained straight through, is what the run stopped at step 4 and resumed must match.
    assert_resumed_like(unet_run, tmp_path, ("d_loss", "d_b_loss", "cycle_loss", "g_loss"))


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
def test_two_replicas_share_one_pool_and_match_one_device(unet_run, tmp_path):
    """From the second step D_B sees fakes from the pool; two replicas must see the ones one device sees."""
    # The module's U-Net run is the one device; the script trains its config again over two replicas. The config goes
    # to the script as JSON, the way a run's directory holds it: the script imports no test module.
    output = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path), unet_run.config.to_json()],
                            capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT)
    assert output.returncode == 0, output.stderr[-3000:]
    mirrored_rows = json.loads(output.stdout.strip().splitlines()[-1])
    assert [row["step"] for row in mirrored_rows] == [2, 4, 6]
    for one, mirrored in zip(unet_run.metrics_since(), mirrored_rows, strict=True):
        for name in ("d_a_loss", "d_b_loss", "cycle_loss", "g_loss"):
            assert mirrored[name] == pytest.approx(one[name], rel=1e-3, abs=1e-5), (one["step"], name)


class Negation:
    """A stand-in translator: pixels p -> 255 - p, so every tile's expected value is known."""

    def __call__(self, images, training=False):
        return -images


def test_translation_groups_go_there_and_back():
    a = np.full((2, 8, 8, 1), 10, np.uint8)
    b = np.full((2, 8, 8, 1), 200, np.uint8)
    networks = Networks(Negation(), others={"generator_ba": Negation()})
    groups = cyclegan.CycleGAN().translation_groups(networks, a, b)
    assert len(groups) == 4
    assert [int(tile[0, 0, 0]) for tile in groups[0]] == [10, 245, 10]  # a, G(a), F(G(a))
    assert [int(tile[0, 0, 0]) for tile in groups[1]] == [200, 55, 200]  # b, F(b), G(F(b))


def test_the_view_draws_held_out_translations(trained_run):
    run, _ = trained_run
    views = {view.key: view for view in cyclegan.CycleGAN().views()}
    assert set(views) == {"translations"} and views["translations"].page == "gallery"
    pictures = views["translations"].draw(run, 6, 0)
    # 8 rows of two groups of three 8x8 tiles.
    assert len(pictures) == 1 and pictures[0].image.shape[0] > pictures[0].image.shape[1]
    assert not np.array_equal(pictures[0].image, views["translations"].draw(run, 6, 1)[0].image)


def test_evaluate_measures_cycles_and_the_known_answer(trained_run):
    run, _ = trained_run
    results = cyclegan.CycleGAN().evaluate(run, 6, 40, 0)
    assert set(results) == {measure.name for measure in cyclegan.CycleGAN.measures}
    held_out = data.load_dataset(run.config, "test")
    chosen = np.sort(np.random.default_rng(0).choice(len(held_out.inputs), 40, replace=False))
    images = held_out.inputs[chosen].astype(np.float32)
    assert results["identity_mapping_l1"] == pytest.approx(np.mean(np.abs(2 * images - 255)) / 255, rel=1e-5)
    assert 0 <= results["translation_l1"] <= 1 and 0 <= results["class_preserved"] <= 1
    assert 0 <= results["cycle_l1_ab"] <= 1 and 0 <= results["cycle_l1_ba"] <= 1


@pytest.mark.slow
def test_the_cli_trains_the_preset(tmp_path):
    requires_dataset("mnist")
    result = gan_core_here("train", "--preset", "mnist2inverted-cyclegan", "--set", "steps=3",
                           "--set", "max_examples=256", "--set", "log_every=1", "--runs-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "step 3/3" in result.stdout and "cycle_loss" in result.stdout
    assert last_line(result).startswith(str(tmp_path))
