"""What a run keeps on disk as it trains, as callbacks of the training loop: its checkpoints and its sample grids.

A checkpoint is saved every checkpoint_every steps and at the end, never of non-finite weights (so that a diverged
run never rotates its last good checkpoints out); restoring takes the newest one that reads cleanly. A sample grid
is drawn from the fixed noise every sample_every steps, at step 0 and at the end.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from gan_core.inputs import data, images
from gan_core.nets import checkpoints
from gan_core.store import runs
from gan_core.store.runs import describe_os_error
from gan_core.training.callbacks import (Callback, Outcome, StepEnd, TensorBoardLog, TrainingSession,
                                         divergence_message, non_finite_metrics)

if TYPE_CHECKING:
    from gan_core.training.trainer import Trainer


class Checkpoints(Callback):
    """The run's checkpoints: every network, optimizer, state variable, the averaged generator and the step."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.run = trainer.run
        training = trainer.training
        self.tracked = {**training.networks, **training.optimizers, **training.state,
                        "generator_ema": trainer.generator_ema, "step": trainer.step}
        self.checkpoint = tf.train.Checkpoint(**self.tracked)
        # Every worker must save (reading some variables is a collective operation); only the chief's count.
        self.scratch_dir = None if trainer.is_chief else Path(tempfile.mkdtemp(prefix="gan_core-worker-checkpoints-"))
        self.manager = self.new_manager()
        self.saved_steps: set[int] = set()

    def variables(self) -> list[tf.Variable]:
        """Every variable a checkpoint holds, in a fixed order."""
        found = []
        for trackable in self.tracked.values():
            found += [trackable] if isinstance(trackable, tf.Variable) else list(trackable.variables)
        return found

    def new_manager(self) -> tf.train.CheckpointManager:
        directory = self.run.checkpoints_dir if self.trainer.is_chief else self.scratch_dir
        return tf.train.CheckpointManager(self.checkpoint, str(directory), max_to_keep=5,
                                          step_counter=self.trainer.step, checkpoint_name=runs.CHECKPOINT_STEM)

    def restore(self) -> int:
        """Load the newest checkpoint that reads cleanly, if any; returns the step training continues from.

        Newer checkpoints that cannot be read (cut short by a crash or a full disk) are moved to
        checkpoints/damaged/, so that they neither shadow the good one nor get overwritten by the next save.
        """
        if self.trainer.is_chief:
            checkpoints.remove_unfinished_writes(self.run)
        step, damaged = None, []
        if available := self.run.checkpoint_steps():
            step = checkpoints.step_to_use(self.run, checkpoint=self.checkpoint)
            # The newest readable checkpoint is looked for from the newest down, so every newer one failed to read.
            damaged = [newer for newer in available if newer > step]
        # The steps saved so far, as every worker sees them alike (so all of them save at the same steps).
        self.saved_steps = {saved for saved in available if saved not in damaged}
        if damaged and self.trainer.is_chief:
            self.set_aside(damaged, step or 0)
        return int(self.trainer.step.numpy())

    def set_aside(self, damaged: list[int], step: int) -> None:
        for damaged_step in damaged:
            checkpoints.set_aside(self.run, damaged_step)
        checkpoints.rewrite_state(self.run)
        self.manager = self.new_manager()
        print(f"the checkpoint(s) at step(s) {', '.join(map(str, sorted(damaged)))} could not be read and were "
              f"moved to {self.run.checkpoints_dir / checkpoints.DAMAGED_FOLDER}; continuing from step {step}",
              flush=True)

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        if event.done % self.trainer.config.checkpoint_every == 0:
            return self.save_if_finite(event.done, event.outputs)
        return None

    def on_train_end(self, session: TrainingSession, outcome: Outcome,
                     outputs: dict[str, tf.Tensor] | None) -> Outcome:
        """After a finish or a stop, the checkpoint of the last step, unless it exists already; the outcome becomes
        "diverged" or "failed" when that checkpoint cannot be saved."""
        final_step = int(self.trainer.step.numpy())
        if outcome[0] in ("finished", "stopped") and final_step not in self.saved_steps and outputs is not None:
            outcome = self.save_if_finite(final_step, outputs) or outcome
        if self.scratch_dir is not None:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)
        return outcome

    def save_if_finite(self, step: int, outputs: dict[str, tf.Tensor]) -> Outcome | None:
        if reason := self.non_finite_reason(outputs):
            return "diverged", divergence_message(self.run, step, reason)
        if failure := self.save(step):
            return "failed", failure
        return None

    def non_finite_reason(self, outputs: dict[str, tf.Tensor]) -> str | None:
        """Why the networks must not be saved (a non-finite loss or weight), or None when all is finite."""
        if reason := non_finite_metrics(outputs):
            return reason
        for network in self.trainer.training.networks.values():
            if not all(bool(tf.reduce_all(tf.math.is_finite(weight))) for weight in network.weights):
                return f"the {network.name} has non-finite weights"
        return None

    def save(self, step: int) -> str | None:
        """Save a checkpoint at `step`; returns why it could not be written (a full disk, say), or None."""
        try:
            self.manager.save(checkpoint_number=step)
            self.saved_steps.add(step)
        except (OSError, tf.errors.OpError) as error:
            reason = describe_os_error(error) if isinstance(error, OSError) else error.message.splitlines()[0]
            kept = self.run.checkpoint_steps()
            return (f"could not save the checkpoint at step {step} in {self.run.checkpoints_dir}: {reason}. "
                    f"{f'The checkpoint at step {kept[-1]} is kept' if kept else 'No earlier checkpoint exists'}; "
                    "free some space (or make the folder writable) and resume.")
        return None


class SampleGrids(Callback):
    """The fixed-noise sample grid (for 2-D sets, a scatter and the raw points) of a step, drawn by the averaged
    generator, as a PNG in samples/ and an image in TensorBoard; the chief's only."""

    def __init__(self, trainer: Trainer, tensorboard: TensorBoardLog) -> None:
        self.trainer = trainer
        self.tensorboard = tensorboard

    def on_train_start(self, session: TrainingSession) -> None:
        if session.start_step == 0:
            self.save(0)

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        if event.done % self.trainer.config.sample_every == 0:
            self.save(event.done)
        return None

    def on_train_end(self, session: TrainingSession, outcome: Outcome,
                     outputs: dict[str, tf.Tensor] | None) -> Outcome:
        final_step = int(self.trainer.step.numpy())
        if outcome[0] in ("finished", "stopped") and final_step not in self.trainer.run.sample_steps():
            self.save(final_step)
        return outcome

    def save(self, step: int) -> None:
        trainer = self.trainer
        if not trainer.is_chief:
            return
        if drawn := trainer.variant.grid_tiles(trainer.config,
                                               trainer.training.networks.with_generator(trainer.generator_ema)):
            tiles, columns = drawn
            picture = images.image_grid(tiles, len(tiles) // columns, columns, scale=images.grid_scale(tiles.shape[1]))
        else:
            picture = self.fixed_noise_picture(step)
        images.save_png(picture, trainer.run.sample_path(step))
        self.tensorboard.write_image("fixed_noise_samples", picture, step)

    def fixed_noise_picture(self, step: int) -> np.ndarray:
        trainer, config = self.trainer, self.trainer.config
        inputs = tf.constant(trainer.fixed_noise)
        if trainer.num_classes:
            inputs = [inputs, tf.constant(trainer.fixed_labels)]
        generated = trainer.generator_ema(inputs, training=False).numpy()
        if config.is_points:
            np.save(trainer.run.samples_dir / f"step_{step:08d}.npy", generated.astype(np.float32))
            return images.scatter_image(generated, trainer.dataset.examples[:2000])
        columns = config.sample_grid
        return images.image_grid(data.to_uint8_images(generated), len(generated) // columns, columns,
                                 scale=images.grid_scale(config.data_shape[0]))
