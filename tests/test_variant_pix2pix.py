"""Pix2Pix: its losses and noise on hand values, its pairs (derived, noisy and a person's own, with the held-out part
never trained on), training with exact resume, the translations it samples, its views and measures, denoising at any
noise level, and the command line."""

import math

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gan_core.inputs import data, image_pairs
from gan_core.measuring import evaluation, metrics
from gan_core.spec import registry
from gan_core.nets import sampling
from gan_core.spec.config import RunConfig, preset
from gan_core.store.runs import create_run
from gan_core.spec.settings import SettingError
from gan_core.training.trainer import Trainer
from gan_core.variants import pix2pix, translation
from support.cli import gan_core_here, last_line
from support.datasets import requires_dataset

METRICS = ("d_loss", "g_loss", "g_adversarial_loss", "l1_loss", "d_real", "d_fake")


def tiny_config(**overrides):
    """A digits (8x8) edges-to-digits run, small enough to train in seconds."""
    values = dict(dataset="digits", width=8, batch_size=16, steps=6, log_every=2, sample_every=3,
                  checkpoint_every=3, max_examples=256, sample_grid=4)
    values.update(overrides)
    return preset("fashion-edges2img", **values)


# ---- maths --------------------------------------------------------------------------------------------------------


def test_losses_on_hand_values():
    real, fake = tf.constant([[2.0, 0.0]]), tf.constant([[-1.0, 0.0]])
    softplus = lambda value: math.log1p(math.exp(value))  # noqa: E731
    # Each patch's cross-entropy, averaged over patches: towards 1 it is softplus(-logit), towards 0 softplus(logit).
    assert float(pix2pix.patch_cross_entropy(real, 1.0)) == pytest.approx((softplus(-2) + math.log(2)) / 2)
    assert float(pix2pix.patch_cross_entropy(fake, 0.0)) == pytest.approx((softplus(-1) + math.log(2)) / 2)
    expected_d = 0.5 * ((softplus(-2) + math.log(2)) / 2 + (softplus(-1) + math.log(2)) / 2)
    assert float(pix2pix.pix2pix_discriminator_loss(real, fake)) == pytest.approx(expected_d)
    l1 = pix2pix.mean_absolute_error(tf.constant([1.0, -1.0, 0.5]), tf.constant([0.0, -1.0, -0.5]))
    assert float(l1) == pytest.approx(2 / 3)
    with_gan = pix2pix.pix2pix_generator_loss(fake, l1, 100.0)
    assert float(with_gan) == pytest.approx((softplus(1) + math.log(2)) / 2 + 100 * 2 / 3, rel=1e-6)
    assert float(pix2pix.pix2pix_generator_loss(None, l1, 100.0)) == pytest.approx(2 / 3), "L1 alone"


def test_settings_and_their_combinations():
    config = tiny_config()
    assert (config.pix2pix_pairs, config.pix2pix_l1_weight, config.pix2pix_l1_only) == ("edges", 100.0, False)
    with pytest.raises(SettingError, match="choose the dataset 'folder'") as refused:
        tiny_config(pix2pix_pairs="own")
    assert refused.value.field == "pix2pix_pairs"
    # A person's plain images make derived pairs as a built-in set does: noisy, grey or any other kind.
    folder = RunConfig.from_dict({**preset("fashion-denoise").to_dict(), "dataset": "folder", "data_path": "/x"})
    assert folder.pix2pix_pairs == "noisy"
    with pytest.raises(SettingError, match="from 0.05 to 1"):
        tiny_config(pix2pix_pairs="noisy", pix2pix_noise_level=0)
    with pytest.raises(SettingError, match="gaussian, salt_and_pepper"):
        tiny_config(pix2pix_pairs="noisy", pix2pix_noise="speckle")
    with pytest.raises(SettingError, match="grey"):
        tiny_config(pix2pix_pairs="grey")
    with pytest.raises(SettingError, match="g_ema_decay"):
        tiny_config(g_ema_decay=0.9)
    with pytest.raises(SettingError, match="image dataset"):
        tiny_config(dataset="ring", architecture="mlp")


def test_gaussian_noise_moves_pixels_by_the_level_on_a_zero_to_one_scale_and_stays_in_range():
    images = tf.constant([[[[0.0], [0.9]]]])  # one 1x2 grey image, on [-1, 1]
    normal = tf.constant([[[[1.0], [1.0]]]])
    noisy = pix2pix.add_noise(images, "gaussian", 0.25, normal, tf.zeros([1, 1, 2, 1]))
    # One standard deviation at level 0.25 is a quarter of the [0, 1] range: 0.5 on [-1, 1]; 0.9 + 0.5 is clipped.
    np.testing.assert_allclose(noisy.numpy().ravel(), [0.5, 1.0])
    unchanged = pix2pix.add_noise(images, "gaussian", 0.25, tf.zeros_like(images), tf.zeros([1, 1, 2, 1]))
    np.testing.assert_allclose(unchanged.numpy(), images.numpy())


def test_salt_and_pepper_turns_a_share_of_pixels_black_or_white_in_every_channel():
    images = tf.zeros([1, 1, 4, 3])  # mid-grey colour pixels
    uniform = tf.constant([[[[0.05], [0.5], [0.97], [0.12]]]])
    noisy = pix2pix.add_noise(images, "salt_and_pepper", 0.2, tf.zeros_like(images), uniform).numpy()[0, 0]
    # Below level / 2 black, from 1 - level / 2 white, the rest untouched; a pixel's channels together.
    np.testing.assert_array_equal(noisy, [[-1, -1, -1], [0, 0, 0], [1, 1, 1], [0, 0, 0]])


def test_noisy_images_are_seeded_and_their_noise_has_the_level_asked_for():
    grey = np.full((200, 8, 8, 1), 128, np.uint8)
    noisy = pix2pix.noisy_images(grey, "gaussian", 0.1, seed=4)
    np.testing.assert_array_equal(noisy, pix2pix.noisy_images(grey, "gaussian", 0.1, seed=4))
    assert not np.array_equal(noisy, pix2pix.noisy_images(grey, "gaussian", 0.1, seed=5))
    assert np.std(noisy.astype(float) - 128) == pytest.approx(0.1 * 255, rel=0.05)
    speckled = pix2pix.noisy_images(grey, "salt_and_pepper", 0.3, seed=4)
    assert np.mean(speckled != 128) == pytest.approx(0.3, abs=0.02)
    assert set(np.unique(speckled)) == {0, 128, 255}
    for kind, level in (("speckle", 0.3), ("gaussian", 1.5), ("gaussian", -0.1)):
        with pytest.raises(ValueError, match="not allowed"):
            pix2pix.noisy_images(grey, kind, level, seed=0)


# ---- pairs --------------------------------------------------------------------------------------------------------


def test_derived_pairs_go_with_their_targets_and_the_held_out_split_is_the_test_split():
    config = tiny_config(pix2pix_pairs="masked", max_examples=0)
    train, test = data.load_dataset(config, "train"), data.load_dataset(config, "test")
    assert train.paired and test.paired
    assert len(train.examples) == 1500 and len(test.examples) == data.DIGITS_TEST_COUNT
    np.testing.assert_array_equal(train.examples, data.load_builtin("digits", "train").examples)
    np.testing.assert_array_equal(train.inputs, image_pairs.masked(train.examples, pix2pix.MASK_SEEDS["train"]))
    np.testing.assert_array_equal(train.input_labels, train.labels)
    # The same pairs at every load (the evaluation reads them again).
    np.testing.assert_array_equal(data.load_dataset(config, "test").inputs, test.inputs)

    edges = data.load_dataset(tiny_config(max_examples=0), "train")
    np.testing.assert_array_equal(edges.inputs, image_pairs.edges(edges.examples))


def test_noisy_pairs_train_on_clean_images_and_hold_out_noisy_ones_from_a_fixed_seed():
    config = tiny_config(pix2pix_pairs="noisy", pix2pix_noise="salt_and_pepper", pix2pix_noise_level=0.2,
                         max_examples=0)
    train, test = data.load_dataset(config, "train"), data.load_dataset(config, "test")
    # The training step adds fresh noise itself (Pix2PixTraining.step); the held-out inputs are noised once.
    np.testing.assert_array_equal(train.inputs, train.examples)
    np.testing.assert_array_equal(test.inputs, pix2pix.noisy_images(test.examples, "salt_and_pepper", 0.2,
                                                                    pix2pix.MASK_SEEDS["test"]))
    np.testing.assert_array_equal(data.load_dataset(config, "test").inputs, test.inputs)
    assert registry.of(config).input_shape(config) == (8, 8, 1)


def test_a_set_without_a_test_split_holds_part_of_its_training_split_out(tmp_path, monkeypatch):
    # Kaggle's CIFAR-10 layout has no test split: grey-to-colour pairs hold every tenth or so image out.
    from support.datasets import write_kaggle_cifar

    root = tmp_path / "data"
    write_kaggle_cifar(root)
    monkeypatch.setenv("GAN_DATA_DIR", str(root))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras"))
    config = preset("fashion-edges2img", dataset="cifar10", pix2pix_pairs="grey", width=8)
    train, held_out = data.load_dataset(config, "train"), data.load_dataset(config, "test")
    whole = data.load_images_or_points(config, "train")
    assert len(train.examples) + len(held_out.examples) == len(whole.examples) and len(held_out.examples) >= 1
    trained = {example.tobytes() for example in train.examples}
    assert not any(example.tobytes() in trained for example in held_out.examples), "held-out pairs never trained on"
    assert held_out.inputs.shape[-1] == 1 and held_out.examples.shape[-1] == 3
    np.testing.assert_array_equal(held_out.inputs, image_pairs.grey(held_out.examples))


@pytest.mark.slow
@pytest.mark.parametrize("pairs", ["noisy", "grey"])
def test_a_persons_plain_images_become_derived_pairs_and_train(png_folder, tmp_path, pairs):
    config = preset("fashion-denoise", dataset="folder", data_path=str(png_folder), image_size=32, channels=3,
                    pix2pix_pairs=pairs, width=8, batch_size=4, steps=2, log_every=1, sample_every=2,
                    checkpoint_every=2, sample_grid=2)
    data.check_available(config)
    train, held_out = data.load_dataset(config, "train"), data.load_dataset(config, "test")
    assert len(train.examples) + len(held_out.examples) == 24 and len(held_out.examples) >= 1
    trained = {example.tobytes() for example in train.examples}
    assert not any(example.tobytes() in trained for example in held_out.examples), "held-out images never trained on"
    # Derived from the whole collection, then split: the held-out inputs are those of the held-out images.
    whole = data.load_images_or_points(config, "train").examples
    derived = (image_pairs.grey(whole) if pairs == "grey" else
               pix2pix.noisy_images(whole, "gaussian", 0.3, pix2pix.MASK_SEEDS["train"]))
    np.testing.assert_array_equal(held_out.inputs, derived[image_pairs.held_out_indices(len(whole))[1]])
    run = create_run(config, tmp_path)
    assert Trainer(run).train() == "finished" and run.checkpoint_steps() == [2]
    results = registry.of(config).evaluate(run, 2, len(held_out.examples), seed=0)
    expected = translation.pair_measures(pix2pix.as_shown(held_out.inputs, held_out.examples), held_out.examples)
    assert results["input_psnr"] == pytest.approx(expected["psnr"]), "doing nothing: the input as it is"
    if pairs == "grey":
        assert results["real_colourfulness"] == pytest.approx(metrics.colourfulness(held_out.examples))
        assert results["colourfulness"] >= 0
    else:
        assert "colourfulness" not in results


def write_pairs(folder, count, size=8, names_b=None):
    """A/ and B/ folders: B/i.png is the inverse of A/i.png, each A image one grey level."""
    for domain in ("A", "B"):
        (folder / domain).mkdir(parents=True)
    for index in range(count):
        level = 10 * index + 5
        Image.fromarray(np.full((size, size), level, np.uint8), "L").save(folder / "A" / f"{index:03d}.png")
        name_b = names_b[index] if names_b else f"{index:03d}.png"
        Image.fromarray(np.full((size, size), 255 - level, np.uint8), "L").save(folder / "B" / name_b)
    return folder


def own_config(folder, **overrides):
    return preset("fashion-edges2img", dataset="folder", data_path=str(folder), image_size=8, channels=1,
                  pix2pix_pairs="own", width=8, batch_size=4, **overrides)


def test_a_persons_pairs_are_read_from_a_and_b_and_part_is_held_out(tmp_path):
    config = own_config(write_pairs(tmp_path / "pairs", 20))
    train, held_out = data.load_dataset(config, "train"), data.load_dataset(config, "test")
    assert train.paired and len(train.examples) + len(held_out.examples) == 20 and len(held_out.examples) == 2
    for dataset in (train, held_out):
        np.testing.assert_array_equal(dataset.examples.astype(int), 255 - dataset.inputs.astype(int))
    assert not set(held_out.inputs[:, 0, 0, 0]) & set(train.inputs[:, 0, 0, 0])
    # Measures compare with the held-out part, not the whole collection.
    assert evaluation.held_out_dataset(config)[1] == "test"
    assert evaluation.largest_sample_count(config) == 2
    data.check_available(config)


def test_an_unpaired_collection_is_refused_with_a_pointer_to_cyclegan(tmp_path):
    folder = write_pairs(tmp_path / "unpaired", 10, names_b=[f"b{index}.png" for index in range(10)])
    with pytest.raises(ValueError, match="CycleGAN"):
        data.check_available(own_config(folder))


# ---- training, resume, samples ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """(run, trainer) of tiny_config() trained straight through its 6 steps."""
    run = create_run(tiny_config(), tmp_path_factory.mktemp("pix2pix-tiny"))
    trainer = Trainer(run)
    assert trainer.train() == "finished"
    return run, trainer


@pytest.mark.slow
def test_trains_checkpoints_and_samples_translations_of_held_out_inputs(tiny_run):
    run, trainer = tiny_run
    rows = run.metrics_since()
    assert [row["step"] for row in rows] == [2, 4, 6]
    for row in rows:
        for name in METRICS:
            assert math.isfinite(row[name]), (name, row)
    assert set(trainer.training.networks) == {"generator", "discriminator"}
    assert run.checkpoint_steps() == [3, 6] and run.sample_steps() == [0, 3, 6]
    # The sample grid: 4 held-out examples, two groups of (input, target, output) per row, 8x8 tiles scaled by 7.
    grid = np.asarray(Image.open(run.sample_path(6)))
    assert grid.shape[:2] == ((2 * (8 + 2) + 2) * 7, (6 * (8 + 2) + 2) * 7)

    samples = sampling.sample(run, 10, seed=3)
    assert samples.shape == (10, 8, 8, 1) and samples.dtype == np.uint8
    inputs = data.to_uint8_images(sampling.latent_vectors(run.config, 10, seed=3))
    held_out = data.load_dataset(run.config, "test")
    chosen = translation.draw_indices(len(held_out.inputs), 10, 3)
    np.testing.assert_array_equal(inputs, held_out.inputs[chosen])
    generator = sampling.load_generator(run)
    np.testing.assert_array_equal(samples, translation.translate_images(generator, held_out.inputs[chosen]))


@pytest.mark.slow
def test_resume_continues_exactly(tiny_run, tmp_path):
    # The module's tiny run, trained straight through, is what a run stopped at step 4 and resumed must match.
    straight, _ = tiny_run
    interrupted = create_run(tiny_config(), tmp_path)
    assert Trainer(interrupted).train(target_step=4) == "finished"
    assert interrupted.checkpoint_steps()[-1] == 4
    assert Trainer(interrupted).train() == "finished"
    straight_rows, resumed_rows = straight.metrics_since(), interrupted.metrics_since()
    assert [row["step"] for row in resumed_rows] == [row["step"] for row in straight_rows] == [2, 4, 6]
    for expected, actual in zip(straight_rows, resumed_rows):
        for name in METRICS:
            assert actual[name] == expected[name], (name, expected["step"])
    np.testing.assert_array_equal(sampling.sample(straight, 16, seed=1), sampling.sample(interrupted, 16, seed=1))


@pytest.mark.slow
def test_l1_only_trains_without_a_discriminator(tmp_path):
    run = create_run(tiny_config(pix2pix_l1_only=True), tmp_path)
    trainer = Trainer(run)
    assert trainer.train() == "finished"
    assert set(trainer.training.networks) == {"generator"}
    assert set(run.metrics_since()[-1]) >= {"g_loss", "l1_loss"}
    assert run.metrics_since()[-1]["g_loss"] == run.metrics_since()[-1]["l1_loss"]
    charts = registry.of(run.config).charts(run.config)
    assert [chart.title for chart in charts] == ["L1 to the target"]
    patch_view = next(view for view in registry.of(run.config).views() if view.key == "patch_map")
    with pytest.raises(ValueError, match="without a discriminator"):
        patch_view.draw(run, 6, 0)


def noisy_config(**overrides):
    return tiny_config(pix2pix_pairs="noisy", pix2pix_noise_level=0.4, **overrides)


@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    """A tiny denoising run trained straight through its 6 steps."""
    run = create_run(noisy_config(), tmp_path_factory.mktemp("pix2pix-noisy"))
    assert Trainer(run).train() == "finished"
    return run


@pytest.mark.slow
def test_noisy_pairs_draw_fresh_noise_every_step_and_resume_exactly(noisy_run, tmp_path):
    straight = noisy_run
    interrupted = create_run(noisy_config(), tmp_path / "interrupted")
    assert Trainer(interrupted).train(target_step=4) == "finished"
    assert Trainer(interrupted).train() == "finished"
    for expected, actual in zip(straight.metrics_since(), interrupted.metrics_since(), strict=True):
        assert [actual[name] for name in ("step", *METRICS)] == [expected[name] for name in ("step", *METRICS)]
    # Another seed draws other noise (the batches' images aside, which the seed also orders).
    other = create_run(noisy_config(seed=1), tmp_path / "other")
    assert Trainer(other).train(target_step=2) == "finished"
    assert other.metrics_since()[0]["l1_loss"] != straight.metrics_since()[0]["l1_loss"]

    variant = registry.of(straight.config)
    results = variant.evaluate(straight, 6, 100, seed=0)
    held_out = data.load_dataset(straight.config, "test")
    chosen = translation.draw_indices(len(held_out.inputs), 100, 0)
    expected_input_psnr = translation.pair_measures(held_out.inputs[chosen], held_out.examples[chosen])["psnr"]
    assert results["input_psnr"] == pytest.approx(expected_input_psnr)

    # The Gallery's other noise levels: more noise, a lower PSNR for the noisy images.
    light, heavy = (variant.denoising(straight, 6, level, 64, seed=0) for level in (0.1, 0.6))
    assert light.noisy_psnr > heavy.noisy_psnr and light.level == 0.1
    assert light.picture.image.shape == heavy.picture.image.shape
    assert "noise level 0.1" in light.picture.caption
    assert f"denoised {light.denoised_psnr:.1f} dB" in light.picture.caption
    with pytest.raises(ValueError, match="only a run of noisy pairs"):
        variant.denoising(create_run(tiny_config(), tmp_path / "edges"), 6, 0.3, 8, seed=0)


@pytest.fixture(scope="module")
def trained_run(tiny_run):
    """The tiny run, finished at step 6: what its views, measures, command line and gallery read."""
    return tiny_run[0]


@pytest.mark.slow
def test_views_show_translations_and_the_patch_map(trained_run):
    views = {view.key: view for view in registry.of(trained_run.config).views()}
    assert set(views) == {"translations", "patch_map"}
    translations = views["translations"].draw(trained_run, 6, 0)[0].image
    scale = 7
    assert translations.shape == ((8 * (8 + 2) + 2) * scale, (6 * (8 + 2) + 2) * scale)
    # The first tile is the first held-out input drawn with the seed.
    first_input = translation.held_out_inputs(trained_run.config, pix2pix.VIEW_EXAMPLES, 0)[0][0]
    corner = 2 * scale
    np.testing.assert_array_equal(translations[corner : corner + 8 * scale : scale,
                                               corner : corner + 8 * scale : scale], first_input[..., 0])
    patch_map = views["patch_map"].draw(trained_run, 6, 0)[0].image
    assert patch_map.ndim == 3 and patch_map.shape[-1] == 3
    assert translation.heatmap(np.array([[0.0, 0.5, 1.0]]))[0].tolist() == [[40, 90, 220], [255, 255, 255],
                                                                             [220, 40, 40]]


@pytest.mark.slow
def test_evaluate_measures_outputs_against_held_out_targets(trained_run):
    variant = registry.of(trained_run.config)
    results = variant.evaluate(trained_run, 6, 100, seed=0)
    # An edge drawing is no image of the target's kind: there is no PSNR of the input itself to compare with, and
    # grey digits have no colours.
    assert set(results) == {measure.name for measure in variant.measures} - {"input_psnr", "colourfulness"} == {
        "l1", "psnr", "ssim", "class_preserved"}
    assert 0 <= results["l1"] <= 1 and results["psnr"] > 0 and -1 <= results["ssim"] <= 1
    assert 0 <= results["class_preserved"] <= 1
    assert variant.evaluate(trained_run, 6, 100, seed=0) == results, "the same seed measures the same pairs"
    # A perfect translation scores as one: L1 0, SSIM 1.
    targets = data.load_dataset(trained_run.config, "test").examples[:20]
    perfect = translation.pair_measures(targets, targets)
    assert perfect["l1"] == 0 and perfect["ssim"] == pytest.approx(1.0)
    assert perfect["psnr"] == translation.MAX_PSNR_DB, "identical images count as the cap, not as infinity"
    one_off = translation.pair_measures(np.concatenate([targets[:1], targets[1:] // 2]), targets)["psnr"]
    assert math.isfinite(one_off) and one_off < translation.MAX_PSNR_DB


@pytest.mark.slow
def test_a_persons_image_is_translated(trained_run, tmp_path):
    path = tmp_path / "mine.png"
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8).reshape(8, 8) * 4, (4, 4)), "L").save(path)
    pictures = registry.of(trained_run.config).translate(trained_run, 6, path.read_bytes())
    assert [picture.image.shape for picture in pictures] == [(8, 8), (8, 8)]
    with pytest.raises(ValueError, match="not a"):
        registry.of(trained_run.config).translate(trained_run, 6, b"not an image")


@pytest.mark.slow
def test_the_command_line_trains_and_samples_the_preset(tmp_path):
    requires_dataset("fashion_mnist")
    # The first 256 training images (max_examples leaves the held-out test split whole): the Sobel edges of all
    # 60,000 take seconds that three steps do not need.
    result = gan_core_here("train", "--preset", "fashion-edges2img", "--steps", 3, "--set", "log_every=1",
                           "--set", "max_examples=256", "--runs-dir", tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fashion_mnist, pix2pix" in result.stdout and "non_saturating" not in result.stdout
    assert "step 3/3" in result.stdout and " l1_loss " in result.stdout
    run_dir = last_line(result)
    out = tmp_path / "translations.npy"
    sampled = gan_core_here("sample", run_dir, "--n", 6, "--out", out)
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    outputs, inputs = np.load(out), np.load(tmp_path / "translations_inputs.npy")
    assert outputs.shape == inputs.shape == (6, 28, 28, 1)
    test_edges = data.load_dataset(preset("fashion-edges2img"), "test").inputs
    assert all(any(np.array_equal(each, edge) for edge in test_edges[:10_000]) for each in inputs[:2])


@pytest.mark.slow
def test_the_command_line_evaluates_with_the_translation_measures(trained_run):
    import json

    result = gan_core_here("evaluate", trained_run.path, "--n", 50)
    assert result.returncode == 0, result.stderr[-2000:]
    results = json.loads(last_line(result))
    assert {"l1", "psnr", "ssim", "class_preserved", "frechet_distance"} <= set(results)


@pytest.mark.slow
def test_the_gallery_shows_translations_and_translates_an_uploaded_image(trained_run, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from support.pages import APP, texts

    monkeypatch.setenv("GAN_RUNS_DIR", str(trained_run.path.parent))
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.query_params["run"] = trained_run.run_id
    app.switch_page("pages/gallery.py").run()
    assert not app.exception
    shown, headers = texts(app), [header.value for header in app.header]
    assert "Held-out translations" in shown and "Translate your own image" in shown
    assert headers == ["Timeline", "Translations"], "noise-only sections (fresh samples, interpolation) are left out"
    assert "Held-out translations at step 6" in [caption for image in app.image for caption in image.captions]

    # The upload box says what this edges model translates before anything is uploaded.
    assert "This run translates a white-on-black edge drawing" in shown
    assert app.file_uploader(key="gallery_translate_upload").proto.label.endswith("a white-on-black edge drawing "
                                                                                   "(the Sobel edges of an image)")
    path = tmp_path / "mine.png"
    Image.fromarray(np.full((20, 30, 3), (200, 40, 40), np.uint8), "RGB").save(path)
    app.file_uploader(key="gallery_translate_upload").set_value(("mine.png", path.read_bytes(), "image/png")).run()
    assert not app.exception and not app.error
    # A colour photo is shown as the model sees it, fitted to the 8x8 grey inputs, beside the output.
    captions = [caption for image in app.image for caption in image.captions]
    assert "Your image, as the model sees it (8x8, grey)" in captions and "Translated" in captions
    app.file_uploader(key="gallery_translate_upload").set_value(("fake.png", b"not a picture", "image/png")).run()
    assert [error.value for error in app.error] and app.error[0].value.startswith("fake.png cannot be translated")


@pytest.mark.slow
def test_the_gallery_of_a_denoiser_tries_it_at_other_noise_levels(noisy_run, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from support.pages import APP, texts

    monkeypatch.setenv("GAN_RUNS_DIR", str(noisy_run.path.parent))
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    app.query_params["run"] = noisy_run.run_id
    app.switch_page("pages/gallery.py").run()
    assert not app.exception
    assert "Other noise levels" in texts(app) and "This run translates a noisy image" in texts(app)
    slider = app.slider(key="gallery_noise_level")
    assert slider.value == pytest.approx(0.4), "it starts at the level the run learnt on"

    def shown_levels():
        return [caption for image in app.image for caption in image.captions if caption.startswith("Noisy |")]

    assert len(shown_levels()) == 1 and "noise level 0.4." in shown_levels()[0]
    gained_at_trained_level = app.metric[0].value
    slider.set_value(0.8).run()
    assert not app.exception
    assert "noise level 0.8." in shown_levels()[0]
    assert app.metric[0].label == "PSNR gained over the noisy images" and app.metric[0].value.endswith(" dB")
    assert app.metric[0].value != gained_at_trained_level


@pytest.mark.parametrize("preset_name, expected", [
    ("fashion-edges2img", "a white-on-black edge drawing"),
    ("mnist-inpaint", "an image with a black square over part of it"),
    ("fashion-superres", "a blocky image at a quarter (or half) of its resolution"),
    ("fashion-denoise", "a noisy image, to be cleaned"),
    ("cifar10-colourise", "a grey image, to be coloured"),
    ("mnist2inverted-cyclegan", "an image like those of MNIST (domain A)"),
])
def test_each_translation_preset_says_what_image_it_translates(preset_name, expected):
    config = preset(preset_name)
    assert registry.of(config).expected_input(config).startswith(expected)
    own = preset("fashion-edges2img", dataset="folder", data_path="pairs.zip", pix2pix_pairs="own")
    assert "your A/ folder" in registry.of(own).expected_input(own)
