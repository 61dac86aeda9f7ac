import math
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from gan_core.nets import sampling
from gan_core.spec.config import LOSSES, lower_learning_rates, preset
from gan_core.store.runs import create_run, update_config
from gan_core.training.trainer import Trainer, example_indices_for_step
from support.datasets import requires_dataset

pytestmark = pytest.mark.slow


def quick_config(**overrides):
    """A digits run small enough to train in a second or two, logging and sampling often."""
    values = dict(steps=6, batch_size=16, log_every=2, sample_every=3, checkpoint_every=3, max_examples=256)
    values.update(overrides)
    return preset("digits-mlp", **values)


@pytest.mark.parametrize("architecture", ["mlp", "dcgan"])
@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_and_architecture_trains(tmp_path, loss, architecture):
    extra = {"n_critic": 2} if loss == "wgan_gp" else {}
    run = create_run(quick_config(loss=loss, architecture=architecture, width=16, **extra), tmp_path)
    assert Trainer(run).train() == "finished"
    rows = run.metrics_since()
    assert [row["step"] for row in rows] == [2, 4, 6]
    for row in rows:
        for name in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "images_per_second"):
            assert math.isfinite(row[name]), (name, row)
        assert row["d_grad_norm"] > 0 and row["g_grad_norm"] > 0
    if loss == "wgan_gp":
        assert rows[-1]["gradient_penalty"] > 0
    assert run.checkpoint_steps() == [3, 6]
    assert run.sample_steps() == [0, 3, 6]
    grid = Image.open(run.sample_path(6))
    assert grid.size[0] > 8 * 8 and grid.mode == "L"
    assert run.status.state == "finished" and run.status.step == 6
    assert list((run.path / "tensorboard").iterdir()), "TensorBoard event files are written"


def tensorboard_scalars(run) -> dict[tuple[str, int], float]:
    """Every scalar in the run's TensorBoard event files, by (name, step)."""
    values = {}
    for events in (run.path / "tensorboard").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    values[value.tag, event.step] = float(tf.make_ndarray(value.tensor))
    return values


@pytest.fixture(scope="module")
def runs_of_seeds_5_5_and_6(tmp_path_factory):
    """Three runs trained one after the other in one process, the first two with the same seed."""
    runs = [create_run(quick_config(seed=seed), tmp_path_factory.mktemp("seeds")) for seed in (5, 5, 6)]
    for run in runs:
        assert Trainer(run).train() == "finished"
    return runs


def test_tensorboard_holds_every_metrics_row_of_its_own_run(runs_of_seeds_5_5_and_6):
    # Runs trained one after the other in one process: each row's values land in its own run's event files.
    for run in runs_of_seeds_5_5_and_6:
        scalars = tensorboard_scalars(run)
        for row in run.metrics_since():
            for name in ("d_loss", "g_loss", "images_per_second"):
                assert scalars[name, row["step"]] == pytest.approx(row[name], rel=1e-6), (name, row["step"])
    first, _, other_seed = runs_of_seeds_5_5_and_6
    assert tensorboard_scalars(first)["d_loss", 2] != tensorboard_scalars(other_seed)["d_loss", 2]


def test_same_seed_gives_the_same_first_steps_and_another_seed_does_not(runs_of_seeds_5_5_and_6):
    histories = [[(row["d_loss"], row["g_loss"]) for row in run.metrics_since()] for run in runs_of_seeds_5_5_and_6]
    assert len(histories[0]) == 3
    assert histories[0] == histories[1]
    assert histories[0] != histories[2]


def test_resume_continues_exactly(runs_of_seeds_5_5_and_6, tmp_path):
    straight = runs_of_seeds_5_5_and_6[0]  # trained straight through its 6 steps
    interrupted = create_run(straight.config, tmp_path)
    assert Trainer(interrupted).train(target_step=4) == "finished"
    assert interrupted.checkpoint_steps() == [3, 4]
    assert Trainer(interrupted).train() == "finished"

    straight_rows = straight.metrics_since()
    resumed_rows = interrupted.metrics_since()
    assert [row["step"] for row in resumed_rows] == [row["step"] for row in straight_rows] == [2, 4, 6]
    for expected, actual in zip(straight_rows, resumed_rows):
        assert actual["d_loss"] == expected["d_loss"] and actual["g_loss"] == expected["g_loss"]
    noise = sampling.latent_vectors(straight.config, 16, seed=1)
    np.testing.assert_array_equal(
        sampling.generate(sampling.load_generator(straight), noise),
        sampling.generate(sampling.load_generator(interrupted), noise),
    )


def test_a_stop_request_is_honoured_at_the_next_step(tmp_path):
    run = create_run(quick_config(steps=1000, checkpoint_every=1000), tmp_path)
    trainer = Trainer(run)
    run.stop_request_path.touch()
    assert trainer.train() == "stopped"
    assert run.status.state == "stopped" and run.status.step == 1
    assert run.checkpoint_steps() == [1], "the stop writes a checkpoint first"
    assert not run.stop_request_path.exists()


def test_time_limit_stops_with_a_checkpoint(tmp_path):
    run = create_run(quick_config(steps=100_000), tmp_path)
    started = time.monotonic()
    assert Trainer(run).train(max_seconds=1) == "stopped"
    assert time.monotonic() - started < 30
    assert "time limit" in run.status.message
    assert run.checkpoint_steps()[-1] == run.status.step and 1 <= run.status.step < 100_000
    # The run's training time adds up over resumes (a demo caps it per run, not per process).
    first_stretch = run.status.trained_seconds
    assert 1 <= first_stretch < 30
    assert Trainer(run).train(max_seconds=1) == "stopped"
    assert first_stretch + 1 <= run.status.trained_seconds < first_stretch + 30


def test_exploding_learning_rate_is_reported_as_diverged(tmp_path):
    # Every step logged, and so checked; no checkpoint or sample grid on the way, which the check does not need.
    run = create_run(quick_config(loss="wgan_gp", gp_weight=0.0, g_learning_rate=1.0, d_learning_rate=1.0,
                                  steps=400, log_every=1, checkpoint_every=400, sample_every=400), tmp_path)
    state = Trainer(run).train()
    assert state == "diverged"
    assert "non-finite" in run.status.message


def test_conditional_grid_has_one_row_per_class(tmp_path):
    run = create_run(quick_config(conditional=True, architecture="dcgan", width=16), tmp_path)
    Trainer(run).train()
    assert run.dataset_summary()["class_names"] == [str(digit) for digit in range(10)]
    samples = sampling.sample(run, 20, seed=0)
    assert samples.shape == (20, 8, 8, 1) and samples.dtype == np.uint8
    grid = np.asarray(Image.open(run.sample_path(6)))
    assert grid.shape[0] > grid.shape[1], "10 class rows by 8 columns"


def test_ring_points_train_and_sample_as_points(tmp_path):
    run = create_run(preset("ring-mlp", steps=20, log_every=10, sample_every=10, checkpoint_every=10), tmp_path)
    assert Trainer(run).train() == "finished"
    points = sampling.sample(run, 50)
    assert points.shape == (50, 2) and points.dtype == np.float32
    assert np.load(run.samples_dir / "step_00000020.npy").shape == (64, 2)


def test_fashion_dcgan_trains_on_real_images(tmp_path):
    requires_dataset("fashion_mnist")
    run = create_run(preset("fashion-dcgan", steps=4, log_every=2, sample_every=4, checkpoint_every=4,
                            max_examples=1000), tmp_path)
    assert Trainer(run).train() == "finished"
    assert all(math.isfinite(row["d_loss"]) for row in run.metrics_since())
    assert Image.open(run.sample_path(4)).mode == "L"


def test_batches_follow_a_fresh_permutation_each_epoch():
    config = preset("digits-mlp", batch_size=4, n_critic=1)
    first_epoch = np.concatenate([example_indices_for_step(10, config, step).ravel() for step in range(2)])
    assert sorted(first_epoch) == sorted(set(first_epoch)), "no example repeats within an epoch"
    crossing = example_indices_for_step(10, config, 2).ravel()  # positions 8..11 span two epochs
    assert len(crossing) == 4 and set(crossing) <= set(range(10))


MIRRORED_PRESETS = ["fashion-dcgan", "fashion-wgan-gp"]
MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys, tensorflow as tf
    devices = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(devices[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    from gan_core.spec.config import preset
    from gan_core.store.runs import create_run
    from gan_core.training.trainer import Trainer
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    results = {}
    for preset_name in sys.argv[2:]:
        for name, strategy in [("one", None), ("mirrored", mirrored)]:
            # What is compared is how each batch and its noise are split over the replicas, which narrow networks
            # show as well as wide ones; two critic updates a step (WGAN-GP's preset makes five) split their
            # batches as five would.
            fewer_critic_updates = {"n_critic": 2} if preset(preset_name).n_critic > 1 else {}
            config = preset(preset_name, steps=1, log_every=1, batch_size=32, max_examples=512, width=8,
                            **fewer_critic_updates)
            run = create_run(config, sys.argv[1])
            Trainer(run, strategy=strategy).train()
            results.setdefault(preset_name, {})[name] = run.metrics_since()[0]
    print(json.dumps(results))
    """
)


@pytest.fixture(scope="module")
def first_steps_on_one_device_and_mirrored(tmp_path_factory):
    """{preset: {"one": first metrics row, "mirrored": the same on two logical CPUs}}, from one process that splits
    its CPU in two (which TensorFlow allows only before it first runs), for every preset of MIRRORED_PRESETS."""
    requires_dataset("fashion_mnist")
    output = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, str(tmp_path_factory.mktemp("mirrored")), *MIRRORED_PRESETS],
        capture_output=True, text=True, timeout=300,
    )
    assert output.returncode == 0, output.stderr[-3000:]
    import json

    return json.loads(output.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("preset_name", MIRRORED_PRESETS)
def test_mirrored_strategy_matches_one_device_on_the_first_step(first_steps_on_one_device_and_mirrored, preset_name):
    """Two logical CPU replicas see the same batch and noise, split in halves; losses agree to 1e-4."""
    results = first_steps_on_one_device_and_mirrored[preset_name]
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert results["mirrored"][name] == pytest.approx(results["one"][name], rel=1e-4, abs=1e-5), name


def test_an_averaged_generator_is_kept_and_sampled_when_asked_for(tmp_path):
    run = create_run(quick_config(g_ema_decay=0.9), tmp_path)
    trainer = Trainer(run)
    trainer.train()
    assert trainer.generator_ema is not trainer.generator
    averaged, current = trainer.generator_ema.get_weights()[0], trainer.generator.get_weights()[0]
    assert not np.array_equal(averaged, current)
    np.testing.assert_array_equal(sampling.load_generator(run).get_weights()[0], averaged)


def network_weights_are_finite(network):
    return all(np.isfinite(weight).all() for weight in network.get_weights())


def test_a_damaged_latest_checkpoint_falls_back_to_the_previous_good_one(tmp_path, caplog):
    run = create_run(quick_config(steps=6, checkpoint_every=3), tmp_path)
    Trainer(run).train()
    assert run.checkpoint_steps() == [3, 6]
    previous_generator = sampling.load_generator(run, step=3)
    data_file = next(run.checkpoints_dir.glob("ckpt-6.data-*"))
    data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])  # cut short, as by a crash

    noise = sampling.latent_vectors(run.config, 8, seed=1)
    with caplog.at_level("WARNING", logger="gan_core"):
        fallback_generator = sampling.load_generator(run)
    assert "step 6" in caplog.text and "cannot be read" in caplog.text
    assert sampling.newest_readable_step(run) == 3, "what evaluation measures when no step is given"
    np.testing.assert_array_equal(sampling.generate(fallback_generator, noise),
                                  sampling.generate(previous_generator, noise))
    with pytest.raises(ValueError, match="checkpoint at step 6 .* cannot be read"):
        sampling.load_generator(run, step=6)

    # Resuming continues from step 3, sets the damaged files aside, and rewrites steps 4-9 continuously.
    assert Trainer(run).train(target_step=9) == "finished"
    assert run.checkpoint_steps() == [3, 6, 9]
    assert (run.checkpoints_dir / "damaged" / data_file.name).exists()
    assert [row["step"] for row in run.metrics_since()] == [2, 4, 6, 8, 9]
    assert network_weights_are_finite(sampling.load_generator(run))


def test_a_diverging_run_keeps_its_good_checkpoints_and_resumes_with_lower_learning_rates(tmp_path):
    # Logging rarely and checkpointing every step: only the check before each save can catch the divergence. Five
    # critic updates a step make the critic blow up in about a fifth of the steps (so of the checkpoints).
    run = create_run(quick_config(loss="wgan_gp", gp_weight=0.0, g_learning_rate=1.0, d_learning_rate=1.0, n_critic=5,
                                  steps=400, log_every=400, checkpoint_every=1, sample_every=400), tmp_path)
    assert Trainer(run).train() == "diverged"
    assert "non-finite" in run.status.message and "is kept" in run.status.message
    kept = run.checkpoint_steps()
    assert kept and kept[-1] < run.status.step
    for step in kept:
        generator = sampling.load_generator(run, step)
        assert network_weights_are_finite(generator), f"the checkpoint at step {step} holds finite weights"

    suggestion = lower_learning_rates(run.config)
    assert suggestion == {"g_learning_rate": 0.5, "d_learning_rate": 0.5}
    update_config(run, **suggestion)
    trainer = Trainer(run)
    assert trainer.restore() == kept[-1]
    assert (float(trainer.training.optimizers["g_optimizer"].learning_rate) == 0.5
            and float(trainer.training.optimizers["d_optimizer"].learning_rate) == 0.5)


def test_a_full_disk_fails_the_run_clearly_and_keeps_the_previous_checkpoint(small_disk):
    disk = small_disk("64m")
    run = create_run(quick_config(steps=60, checkpoint_every=20, log_every=5, sample_every=100), disk)

    def fill_the_disk_after_the_first_checkpoint(row):
        if row["step"] == 25:
            with open(disk / "filler", "wb") as filler:
                try:
                    while True:
                        filler.write(b"\0" * 65536)
                        filler.flush()
                except OSError:
                    pass
            # Leave room for the small status and metrics writes, not for a checkpoint.
            os.truncate(disk / "filler", (disk / "filler").stat().st_size - 256 * 1024)

    state = Trainer(run).train(on_log=fill_the_disk_after_the_first_checkpoint)
    assert state == "failed"
    assert run.status.state == "failed"
    assert "could not save the checkpoint at step 40" in run.status.message
    assert "The checkpoint at step 20 is kept" in run.status.message
    assert run.checkpoint_steps() == [20]
    assert network_weights_are_finite(sampling.load_generator(run))
