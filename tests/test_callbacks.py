"""Tests for gan_core.training.callbacks and .saving: the loop calls its callbacks in order, and one can end
training."""

import pytest

from gan_core.spec.config import preset
from gan_core.store.runs import create_run
from gan_core.training.callbacks import Callback
from gan_core.training.trainer import Trainer

pytestmark = pytest.mark.slow


class Recorder(Callback):
    """Writes down every hook it sees; ends training at `stop_at` steps when given."""

    def __init__(self, stop_at: int | None = None) -> None:
        self.calls: list[tuple] = []
        self.stop_at = stop_at

    def on_train_start(self, session):
        self.calls.append(("start", session.start_step, session.target_step))

    def on_step_end(self, session, event):
        self.calls.append(("step", event.done, None if event.row is None else event.row["step"]))
        if event.done == self.stop_at:
            return "stopped", f"stopped by a callback at step {event.done}"
        return None

    def on_close(self, session):
        self.calls.append(("close",))

    def on_train_end(self, session, outcome, outputs):
        self.calls.append(("end", outcome[0]))
        return outcome


def quick_run(tmp_path, name: str):
    config = preset("digits-mlp", steps=6, batch_size=16, log_every=2, sample_every=3, checkpoint_every=3,
                    max_examples=256, width=16)
    return create_run(config, tmp_path / name)


def test_a_callback_sees_the_start_every_step_with_its_metrics_rows_and_the_end(tmp_path):
    recorder = Recorder()
    assert Trainer(quick_run(tmp_path, "plain"), callbacks=[recorder]).train() == "finished"
    assert recorder.calls == [("start", 0, 6), ("step", 1, None), ("step", 2, 2), ("step", 3, None), ("step", 4, 4),
                              ("step", 5, None), ("step", 6, 6), ("close",), ("end", "finished")]


def test_a_callback_that_returns_an_outcome_ends_training_with_a_checkpoint_and_that_status(tmp_path):
    run = quick_run(tmp_path, "stopped")
    recorder = Recorder(stop_at=4)
    assert Trainer(run, callbacks=[recorder]).train() == "stopped"
    assert recorder.calls[-3:] == [("step", 4, 4), ("close",), ("end", "stopped")]
    # The standard callbacks finish the stretch as they do after a Stop: a checkpoint and a grid of step 4.
    assert run.checkpoint_steps() == [3, 4] and run.sample_steps() == [0, 3, 4]
    assert (run.status.state, run.status.step) == ("stopped", 4)
    assert run.status.message == "stopped by a callback at step 4"
    # Resumed, the run goes on from there to its last step.
    resumed = Recorder()
    assert Trainer(run, callbacks=[resumed]).train() == "finished"
    assert resumed.calls[0] == ("start", 4, 6)


def test_the_checkpoints_hold_every_variable_the_trainer_steps(tmp_path):
    trainer = Trainer(quick_run(tmp_path, "variables"))
    held = {id(variable) for variable in trainer.checkpoints.variables()}
    networks = trainer.training.networks.values()
    stepped = [*(variable for network in networks for variable in network.variables), trainer.step,
               *(variable for optimizer in trainer.training.optimizers.values() for variable in optimizer.variables)]
    assert all(id(variable) in held for variable in stepped)
