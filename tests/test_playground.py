"""The Playground's numbers on tiny fixed networks, its commands and snapshots, its point files, and its trainer
driven through the run store the way the page drives it."""

import math
import threading
import time

import keras
import numpy as np
import pytest

from gan_core.nets import losses
from gan_core.measuring import metrics
from gan_core.lab import playground, playground_store
from gan_core.inputs import point_sets
from gan_core.spec.config import RunConfig, preset
from gan_core.lab.playground_store import Command
from gan_core.store.runs import create_run
from support.playground import wait_for_snapshot
from support.waiting import wait_for


def linear_network(weights: list[list[float]], bias: list[float], inputs: int) -> keras.Model:
    """x -> x @ weights + bias, as a Keras model."""
    x = keras.Input(shape=(inputs,))
    layer = keras.layers.Dense(len(bias))
    model = keras.Model(x, layer(x))
    layer.set_weights([np.asarray(weights, np.float32), np.asarray(bias, np.float32)])
    return model


# The discriminator's logit is x; the generator maps the noise to the plane unchanged.
X_DISCRIMINATOR = linear_network([[1.0], [0.0]], [0.0], 2)
IDENTITY_GENERATOR = linear_network([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0], 2)


def test_view_bounds_is_a_square_around_the_points_with_a_margin():
    points = np.array([[0.0, 0.0], [2.0, 1.0]])
    # Centre (1, 0.5); the larger extent is 2, so half a side is 1 * (1 + 2 * 0.25) = 1.5.
    assert playground.view_bounds(points) == pytest.approx((-0.5, 2.5, -1.0, 2.0))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        playground.view_bounds(np.zeros((3, 3)))


def test_grid_points_are_cell_centres_row_by_row_from_the_bottom():
    points = playground.grid_points((0.0, 2.0, 0.0, 2.0), 2)
    np.testing.assert_allclose(points, [[0.5, 0.5], [1.5, 0.5], [0.5, 1.5], [1.5, 1.5]])


def test_discriminator_field_is_the_probability_for_probability_losses_and_the_score_otherwise():
    bounds = (-1.0, 1.0, 0.0, 2.0)
    probability = playground.discriminator_field(X_DISCRIMINATOR, bounds, 2, "non_saturating")
    # Cell centres at x = -0.5 and 0.5 (columns), the same in both rows: the logit is x.
    expected = 1 / (1 + np.exp(-np.array([-0.5, 0.5])))
    np.testing.assert_allclose(probability, [expected, expected], rtol=1e-6)
    for loss in ("wgan_gp", "hinge"):
        np.testing.assert_allclose(playground.discriminator_field(X_DISCRIMINATOR, bounds, 2, loss),
                                   [[-0.5, 0.5], [-0.5, 0.5]], rtol=1e-6)
    with pytest.raises(ValueError, match="loss='bce' is not allowed; use one of non_saturating, minimax"):
        playground.discriminator_field(X_DISCRIMINATOR, bounds, 2, "bce")


def test_manifold_mesh_of_the_identity_generator_is_the_latent_grid_itself():
    mesh = playground.manifold_mesh(IDENTITY_GENERATOR, 2, lines=3, points_per_line=5)
    assert mesh.shape == (6, 5, 2)
    # The first three lines run along x at y = -2, 0, 2; the next three along y at x = -2, 0, 2.
    np.testing.assert_allclose(mesh[1], np.stack([np.linspace(-2, 2, 5), np.zeros(5)], axis=1), atol=1e-6)
    np.testing.assert_allclose(mesh[5], np.stack([np.full(5, 2.0), np.linspace(-2, 2, 5)], axis=1), atol=1e-6)


def test_manifold_mesh_holds_further_latent_dimensions_at_zero():
    # The third latent dimension would shift every point by (10, 10) if it were not 0.
    generator = linear_network([[1.0, 0.0], [0.0, 1.0], [10.0, 10.0]], [0.0, 0.0], 3)
    mesh = playground.manifold_mesh(generator, 3, lines=3, points_per_line=5)
    assert np.abs(mesh).max() == pytest.approx(2.0)


def test_gradient_arrows_point_where_the_generator_loss_falls_per_sample():
    latent = np.array([[0.0, 0.0], [2.0, -1.0]], np.float32)
    points, arrows = playground.generator_gradient_arrows(
        IDENTITY_GENERATOR, X_DISCRIMINATOR, latent, losses.non_saturating_generator_loss)
    np.testing.assert_allclose(points, latent)
    # Loss softplus(-x) per sample: its gradient is -sigmoid(-x) along x, so the push is +sigmoid(-x): 0.5 at x = 0.
    np.testing.assert_allclose(arrows, [[0.5, 0.0], [1 / (1 + math.exp(2.0)), 0.0]], rtol=1e-5, atol=1e-7)
    _, critic_arrows = playground.generator_gradient_arrows(
        IDENTITY_GENERATOR, X_DISCRIMINATOR, latent, losses.wgan_gp_generator_loss)
    np.testing.assert_allclose(critic_arrows, [[1.0, 0.0], [1.0, 0.0]], rtol=1e-6)


def test_kl_and_js_on_the_view_grid_are_zero_for_equal_sets_and_ln2_for_disjoint_ones():
    bounds = (0.0, 2.0, 0.0, 2.0)
    left = np.array([[0.5, 0.5], [0.5, 1.5]] * 50)
    right = left + [1.0, 0.0]
    same = metrics.grid_divergences(left, left, bins=2, extent=playground.extent(bounds))
    apart = metrics.grid_divergences(left, right, bins=2, extent=playground.extent(bounds))
    assert same["kl"] == pytest.approx(0.0, abs=1e-9) and same["js"] == pytest.approx(0.0, abs=1e-9)
    assert apart["js"] == pytest.approx(math.log(2), rel=1e-2) and apart["kl"] > 5


def test_commands_are_taken_in_order_once_and_bad_ones_are_refused(tmp_path):
    run = create_run(preset("ring-playground"), tmp_path)
    for command in (Command("play"), Command("step_d"), Command("speed", 5)):
        playground_store.send_command(run, command)
    assert playground_store.take_commands(run) == [Command("play"), Command("step_d"), Command("speed", 5)]
    assert playground_store.take_commands(run) == []
    with pytest.raises(ValueError, match="'jump' does not exist; use one of play, pause"):
        playground_store.send_command(run, Command("jump"))
    with pytest.raises(ValueError, match="speed=3 is not allowed"):
        playground_store.send_command(run, Command("speed", 3))


def test_snapshot_round_trip_and_none_before_the_first(tmp_path):
    run = create_run(preset("ring-playground"), tmp_path)
    assert playground_store.read_snapshot(run) is None
    playground_store.write_snapshot(run, {"field": np.eye(2, dtype=np.float32), "step": 7, "loss": "hinge"})
    snapshot = playground_store.read_snapshot(run)
    np.testing.assert_array_equal(snapshot.field, np.eye(2))
    assert (snapshot.step, snapshot.loss) == (7, "hinge")
    assert list(playground_store.playground_folder(run).iterdir()) == [playground_store.snapshot_path(run)]


def test_points_csv_with_header_and_blank_lines_parses():
    points = point_sets.parse_points_csv("x,y\n1,2\n\n -3.5 , 4e-1\n")
    np.testing.assert_allclose(points, [[1, 2], [-3.5, 0.4]])


def test_points_csv_reports_every_bad_row_by_line_number():
    text = "x,y\n1,2\n3\nfoo,bar\n1,2,3\n5,nan\n1e9,0\n4,5\n"
    with pytest.raises(ValueError) as error:
        point_sets.parse_points_csv(text)
    message = str(error.value)
    assert message.startswith("5 bad row(s); nothing was saved.")
    for expected in ("line 3 ('3'): 1 value(s) instead of 2", "line 4 ('foo,bar'): not two numbers",
                     "line 5 ('1,2,3'): 3 value(s) instead of 2", "line 6 ('5,nan'): not finite numbers",
                     "line 7 ('1e9,0'): a coordinate beyond ±1000", "each row must be two numbers x,y"):
        assert expected in message
    assert "line 2" not in message and "line 8" not in message


def test_points_csv_needs_between_two_and_the_limit_of_points():
    with pytest.raises(ValueError, match="1 point\\(s\\) given; a set needs from 2 to 20,000 points"):
        point_sets.parse_points_csv("1,2\n")
    with pytest.raises(ValueError, match="20,001 point"):
        point_sets.parse_points_csv("0,0\n" * 20_001)


def test_saved_points_train_as_the_dataset_points(tmp_path):
    from gan_core.inputs import data

    path = point_sets.save_points(np.array([[0.0, 1.0], [2.0, 3.0]]), tmp_path)
    config = preset("ring-playground", dataset="points", data_path=str(path))
    np.testing.assert_allclose(data.load_dataset(config).examples, [[0, 1], [2, 3]])


def test_playground_config_rules_say_what_is_allowed():
    with pytest.raises(ValueError, match="dataset='mnist' is not allowed; .*one of the 2-D point sets"):
        RunConfig(dataset="mnist", playground=True)
    with pytest.raises(ValueError, match="a CSV file of x,y points when dataset is 'points'"):
        preset("ring-playground", dataset="points")
    with pytest.raises(ValueError, match="data_path='/x.csv' is not allowed; "
                                         "data_path must be empty unless dataset is one of folder, points"):
        preset("ring-playground", data_path="/x.csv")


@pytest.mark.slow
def test_playground_trainer_obeys_single_updates_play_pause_and_stop(tmp_path):
    from gan_core.lab.playground_trainer import PlaygroundTrainer

    run = create_run(preset("ring-playground", checkpoint_every=100, log_every=5), tmp_path)
    trainer = PlaygroundTrainer(run)
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(trainer.train()))
    thread.start()
    try:
        first = wait_for_snapshot(run, lambda snapshot: True)
        assert (first.step, first.d_updates, first.playing) == (0, 0, False)

        playground_store.send_command(run, Command("step_d"))
        after_d = wait_for_snapshot(run, lambda snapshot: snapshot.commands_applied == 1)
        assert (after_d.step, after_d.d_updates) == (0, 1)
        assert np.abs(after_d.field - first.field).max() > 1e-4
        np.testing.assert_array_equal(after_d.generated, first.generated)

        playground_store.send_command(run, Command("step_g"))
        after_g = wait_for_snapshot(run, lambda snapshot: snapshot.commands_applied == 2)
        assert (after_g.step, after_g.d_updates) == (1, 1)
        moved = after_g.generated - after_d.generated
        cosines = np.sum(moved * after_d.arrows, axis=1) / (
            np.linalg.norm(moved, axis=1) * np.linalg.norm(after_d.arrows, axis=1) + 1e-12)
        assert cosines.mean() > 0.5, cosines.mean()

        playground_store.send_command(run, Command("step_both"))
        after_both = wait_for_snapshot(run, lambda snapshot: snapshot.commands_applied == 3)
        assert (after_both.step, after_both.d_updates) == (2, 2)

        playground_store.send_command(run, Command("play"))
        wait_for_snapshot(run, lambda snapshot: snapshot.playing and snapshot.step >= 20)
        playground_store.send_command(run, Command("pause"))
        paused = wait_for_snapshot(run, lambda snapshot: snapshot.commands_applied == 5)
        assert not paused.playing
        time.sleep(0.5)
        assert playground_store.read_snapshot(run).step == paused.step  # nothing trains while paused
        assert len(paused.history_step) >= 3 and np.isfinite(paused.history_js).all()
    finally:
        run.stop_request_path.touch()
        thread.join(timeout=120)
    assert outcome == ["stopped"]
    assert run.status.state == "stopped" and run.status.step == paused.step
    assert run.checkpoint_steps()[-1] == paused.step
    assert run.latest_step() >= 20  # metrics rows, as for any run


@pytest.mark.slow
def test_a_discriminator_step_after_the_last_checkpoint_is_saved_when_the_trainer_stops(tmp_path):
    from gan_core.lab.playground_trainer import PlaygroundTrainer

    run = create_run(preset("ring-playground", checkpoint_every=100), tmp_path)

    def session(*actions: str) -> PlaygroundTrainer:
        """A trainer of the run (resuming it), given these commands and then stopped."""
        trainer = PlaygroundTrainer(run)
        thread = threading.Thread(target=trainer.train)
        thread.start()
        try:
            wait_for(lambda: playground_store.read_snapshot(run) is not None, 120)
            for applied, action in enumerate(actions, start=1):
                playground_store.send_command(run, Command(action))
                # Called within this iteration, so `applied` is the current one.
                wait_for_snapshot(run, lambda snapshot: snapshot.commands_applied == applied)  # noqa: B023
        finally:
            run.stop_request_path.touch()
            thread.join(timeout=120)
        assert run.status.state == "stopped", run.status
        return trainer

    session("step_g")
    assert run.checkpoint_steps() == [1]
    stepped = session("step_d")
    assert run.checkpoint_steps() == [1]
    resumed = PlaygroundTrainer(run)
    assert resumed.trainer.restore() == 1
    for saved, after_the_step in zip(resumed.discriminator.weights, stepped.discriminator.weights):
        np.testing.assert_array_equal(saved.numpy(), after_the_step.numpy())


def test_warming_up_the_compiled_updates_leaves_the_run_as_it_was(tmp_path):
    from gan_core.lab.playground_trainer import PlaygroundTrainer

    config = preset("ring-playground")
    warmed = PlaygroundTrainer(create_run(config, tmp_path / "warmed"))
    cold = PlaygroundTrainer(create_run(config, tmp_path / "cold"))

    def everything(trainer: PlaygroundTrainer) -> list[np.ndarray]:
        return [variable.numpy() for variable in trainer.trainer.checkpoints.variables()]

    before = everything(warmed)
    warmed.warm_up()
    for kept, now in zip(before, everything(warmed), strict=True):
        np.testing.assert_array_equal(kept, now)
    assert (warmed.state.manual_updates, warmed.step) == (0, 0)
    # The updates that follow are those of a trainer that never warmed up.
    for trainer in (warmed, cold):
        trainer.single_update(trainer.compiled_discriminator_update)
        trainer.single_update(trainer.compiled_generator_update)
        trainer.trainer.train_step(0)
    for after_warming, after_cold in zip(everything(warmed), everything(cold), strict=True):
        np.testing.assert_array_equal(after_warming, after_cold)
