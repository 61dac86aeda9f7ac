"""Training one run: the compiled GAN step, its schedule, checkpoints, samples and logs.

Randomness is a pure function of (seed, step): the order of real examples comes from a per-epoch permutation
seeded by (seed, epoch), and the noise from stateless random ops seeded by (seed, step). Restoring the step
from a checkpoint therefore restores the random state too, which is what makes a resumed run continue exactly.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf
import keras

from gan_core.nets import checkpoints, distribution
from gan_core.inputs import data, images
from gan_core.spec import registry
from gan_core.store import runs
from gan_core.training import throughput
from gan_core.spec.config import RunConfig
from gan_core.store.files import write_text_atomically
from gan_core.store.runs import MetricsWriter, Run, describe_os_error, write_status
from gan_core.variants.base import Batch, Variant

# Every random draw within one step gets its own stateless seed: step * SEED_STRIDE + the draw's offset.
SEED_STRIDE = Variant.SEED_STRIDE

# How a stretch of training ended: its state for status.json and the message beside it.
Outcome = tuple[str, str]


class Trainer:
    """Holds a run's networks, optimizers and data, and trains them from the latest checkpoint on.

    What is trained and how comes from the run's variant (see gan_core/variants); the trainer keeps what every
    variant shares: the data order, the schedule, metrics, sample grids, checkpoints, stop, resume and divergence.
    """

    def __init__(
        self, run: Run, strategy: tf.distribute.Strategy | None = None, dataset: data.Dataset | None = None
    ) -> None:
        self.run = run
        self.config: RunConfig = run.config
        self.variant = registry.of(self.config)
        self.strategy = strategy or tf.distribute.get_strategy()
        # With several workers, one (the chief) writes the run; the others train alongside and write nothing there.
        self.is_chief = distribution.is_chief(self.strategy)
        self.multi_worker = isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)
        self.scratch_dir = None if self.is_chief else Path(tempfile.mkdtemp(prefix="gan_core-worker-checkpoints-"))
        self.dataset = dataset if dataset is not None else data.load_dataset(self.config)
        uses_labels = self.variant.uses_labels(self.config)
        if uses_labels and self.dataset.num_classes < 2:
            raise ValueError(
                f"this {self.variant.title} run is fed class labels, but {self.config.dataset!r} has no labels here; "
                "use sub-folders per class for your own images, or train without labels (conditional=false, or a "
                "variant that needs none)"
            )
        self.num_classes = self.dataset.num_classes if uses_labels else 0
        if self.is_chief:
            write_dataset_summary(run, self.dataset)
        replicas = self.strategy.num_replicas_in_sync
        if self.config.batch_size % replicas:
            raise ValueError(f"batch_size={self.config.batch_size} must divide evenly over {replicas} replicas")

        # Layer initialisers draw from Keras' global seed, so seeding here makes the first steps repeatable.
        keras.utils.set_random_seed(self.config.seed)
        with self.strategy.scope():
            self.training = self.variant.build_training(self.config, self.num_classes)
            self.generator = self.training.networks["generator"]
            # Samples can come from a moving average of the generator's weights, which smooths out the
            # oscillation of long adversarial runs (Yazici et al. 2019). With g_ema_decay 0 the "averaged"
            # generator is the generator itself, so nothing is copied each step.
            self.generator_ema = self.generator
            if self.config.g_ema_decay > 0:
                self.generator_ema = keras.models.clone_model(self.generator)
                self.generator_ema.set_weights(self.generator.get_weights())
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.checkpoint = tf.train.Checkpoint(
            **self.training.networks, **self.training.optimizers, **self.training.state,
            generator_ema=self.generator_ema, step=self.step,
        )
        self.checkpoint_manager = self.new_checkpoint_manager()
        self.real_examples = tf.constant(self.dataset.examples)
        labels = self.dataset.labels if self.dataset.labels is not None else np.zeros(len(self.dataset.examples))
        self.real_labels = tf.constant(labels, dtype=tf.int32)
        self.real_inputs = None if self.dataset.inputs is None else tf.constant(self.dataset.inputs)
        self.fixed_noise, self.fixed_labels = self.variant.fixed_inputs(self.config, self.num_classes)
        self.compiled_step = tf.function(self.distributed_step)

    # ---- the step -------------------------------------------------------------------------------------------

    def indices_for_step(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """The real examples and the inputs (for image-to-image variants) of `step`, as indices.

        Paired inputs go with their examples; unpaired ones follow a permutation of their own (stream 1), so that
        which A meets which B changes from epoch to epoch.
        """
        example_indices = example_indices_for_step(len(self.dataset.examples), self.config, step)
        if self.dataset.inputs is None or self.dataset.paired:
            return example_indices, example_indices
        return example_indices, example_indices_for_step(len(self.dataset.inputs), self.config, step, stream=1)

    def distributed_step(self, step: tf.Tensor, example_indices: tf.Tensor,
                         input_indices: tf.Tensor) -> dict[str, tf.Tensor]:
        """One step of the variant on every replica, its metrics summed over replicas."""
        per_replica = self.strategy.run(self.replica_step, args=(step, example_indices, input_indices))
        if self.config.g_ema_decay > 0:
            self.update_generator_average(step)
        return {
            name: self.strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
            for name, value in per_replica.items()
        }

    def update_generator_average(self, step: tf.Tensor) -> None:
        """Move the averaged generator towards the current one, with a short warm-up.

        The decay grows as (1 + step) / (10 + step) up to g_ema_decay, as in tf.train.ExponentialMovingAverage,
        so the first samples are not dominated by the untrained initial weights. Batch-norm statistics are
        averaged along with the weights.
        """
        steps_done = tf.cast(step, tf.float32)
        decay = tf.minimum(self.config.g_ema_decay, (1.0 + steps_done) / (10.0 + steps_done))
        for average, current in zip(self.generator_ema.weights, self.generator.weights):
            average.assign(decay * average + (1.0 - decay) * current)

    def replica_step(self, step: tf.Tensor, example_indices: tf.Tensor,
                     input_indices: tf.Tensor) -> dict[str, tf.Tensor]:
        """The step as one replica sees it: its slice of the batch and of the seeded noise (see variants.base.Batch)."""
        config = self.config
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync
        local_size = config.batch_size // replicas
        start = context.replica_id_in_sync_group * local_size

        def local(tensor: tf.Tensor) -> tf.Tensor:
            return tensor[start : start + local_size]

        def noise(offset: int, shape: list[int], uniform: bool = False) -> tf.Tensor:
            seed = tf.stack([tf.constant(config.seed, tf.int64), step * SEED_STRIDE + offset])
            draw = tf.random.stateless_uniform if uniform else tf.random.stateless_normal
            return local(draw(shape, seed=seed))

        inputs = None
        if self.real_inputs is not None:
            inputs = lambda iteration: self.real_batch(local(input_indices[iteration]), self.real_inputs)  # noqa: E731
        batch = Batch(
            real=lambda iteration: self.real_batch(local(example_indices[iteration])),
            labels=lambda iteration: tf.gather(self.real_labels, local(example_indices[iteration])),
            noise=noise, replicas=replicas, size=local_size, inputs=inputs,
        )
        return self.training.step(batch, step)

    def real_batch(self, indices: tf.Tensor, source: tf.Tensor | None = None) -> tf.Tensor:
        batch = tf.gather(self.real_examples if source is None else source, indices)
        if self.config.is_points:
            return tf.cast(batch, tf.float32)
        return tf.cast(batch, tf.float32) / 127.5 - 1.0

    # ---- the loop -------------------------------------------------------------------------------------------

    def new_checkpoint_manager(self) -> tf.train.CheckpointManager:
        # Every worker must save (reading some variables is a collective operation); only the chief's count.
        directory = self.run.checkpoints_dir if self.is_chief else self.scratch_dir
        return tf.train.CheckpointManager(
            self.checkpoint, str(directory), max_to_keep=5, step_counter=self.step,
            checkpoint_name=runs.CHECKPOINT_STEM,
        )

    def restore(self) -> int:
        """Load the newest checkpoint that reads cleanly, if any; returns the step training continues from.

        Newer checkpoints that cannot be read (cut short by a crash or a full disk) are moved to
        checkpoints/damaged/, so that they neither shadow the good one nor get overwritten by the next save.
        """
        if self.is_chief:
            checkpoints.remove_unfinished_writes(self.run)
        step, damaged = None, []
        if available := self.run.checkpoint_steps():
            step = checkpoints.step_to_use(self.run, checkpoint=self.checkpoint)
            # The newest readable checkpoint is looked for from the newest down, so every newer one failed to read.
            damaged = [newer for newer in available if newer > step]
        # The steps saved so far, as every worker sees them alike (so all of them save at the same steps).
        self.saved_steps = {saved for saved in available if saved not in damaged}
        if damaged and self.is_chief:
            for damaged_step in damaged:
                checkpoints.set_aside(self.run, damaged_step)
            checkpoints.rewrite_state(self.run)
            self.checkpoint_manager = self.new_checkpoint_manager()
            print(f"the checkpoint(s) at step(s) {', '.join(map(str, sorted(damaged)))} could not be read and were "
                  f"moved to {self.run.checkpoints_dir / checkpoints.DAMAGED_FOLDER}; continuing from step {step or 0}",
                  flush=True)
        # The optimizers' learning rates are saved in the checkpoint, but the config decides them: a resume with
        # lower rates (after a divergence) must not get the old ones back.
        self.training.apply_configured_learning_rates()
        return int(self.step.numpy())

    def non_finite_reason(self, outputs: dict[str, tf.Tensor]) -> str | None:
        """Why the networks must not be saved (a non-finite loss or weight), or None when all is finite.

        Checked before every checkpoint, so that a diverged run never rotates its last good checkpoints out.
        """
        if reason := non_finite_metrics(outputs):
            return reason
        for network in self.training.networks.values():
            if not all(bool(tf.reduce_all(tf.math.is_finite(weight))) for weight in network.weights):
                return f"the {network.name} has non-finite weights"
        return None

    def save_checkpoint(self, step: int) -> str | None:
        """Save a checkpoint at `step`; returns why it could not be written (a full disk, say), or None."""
        try:
            self.checkpoint_manager.save(checkpoint_number=step)
            self.saved_steps.add(step)
        except (OSError, tf.errors.OpError) as error:
            reason = describe_os_error(error) if isinstance(error, OSError) else error.message.splitlines()[0]
            kept = self.run.checkpoint_steps()
            return (f"could not save the checkpoint at step {step} in {self.run.checkpoints_dir}: {reason}. "
                    f"{f'The checkpoint at step {kept[-1]} is kept' if kept else 'No earlier checkpoint exists'}; "
                    "free some space (or make the folder writable) and resume.")
        return None

    def train(
        self,
        target_step: int | None = None,
        max_seconds: float | None = None,
        on_log: Callable[[dict[str, float]], None] | None = None,
    ) -> str:
        """Train until `target_step` (default: config.steps), a time limit, a stop request or divergence.

        `on_log` is called with every metrics row as it is written. Returns the final state in status.json.
        """
        start_step, session = self.open_session(target_step, max_seconds, on_log)
        target_step = session.target_step
        outcome, outputs = None, None
        try:
            for step in range(start_step, target_step):
                outputs = self.train_step(step)
                if outcome := self.after_step(session, step + 1, outputs):
                    break
        finally:
            session.writer.close()
            session.summary_writer.flush()
        return self.finish_session(session, outcome or ("finished", f"reached step {target_step}"), outputs)

    def train_step(self, step: int) -> dict[str, tf.Tensor]:
        """One step of the variant at `step` (its seeded data and noise); the step counter moves past it."""
        outputs = self.compiled_step(tf.constant(step, tf.int64), *self.indices_for_step(step))
        self.step.assign(step + 1)
        return outputs

    def after_step(self, session: TrainingSession, done: int, outputs: dict[str, tf.Tensor]) -> Outcome | None:
        """The metrics row, sample grid and checkpoint due once `done` steps are done; the outcome that ends
        training here (a divergence, a failed save, a stop), or None to go on."""
        if done % self.config.log_every == 0 or done == session.target_step:
            if outcome := self._log_step(session, done, outputs):
                return outcome
        if done % self.config.sample_every == 0:
            self.save_sample_grid(done, session.summary_writer)
        return self._checkpoint_or_stop(session, done, outputs)

    def open_session(self, target_step: int | None, max_seconds: float | None,
                     on_log: Callable[[dict[str, float]], None] | None) -> tuple[int, TrainingSession]:
        """Restore the latest checkpoint and set up a stretch of training: the step it starts from and its session.

        Records the run as running, and saves the first sample grid of a fresh run.
        """
        target_step = self.config.steps if target_step is None else target_step
        start_step = self.restore()
        writer = MetricsWriter(self.run.database_path) if self.is_chief else UnwrittenMetrics()
        writer.truncate_after(start_step)
        session = TrainingSession(
            target_step=target_step,
            max_seconds=max_seconds,
            on_log=on_log,
            writer=writer,
            summary_writer=tf.summary.create_file_writer(str(self.run.path / "tensorboard")) if self.is_chief
            else tf.summary.create_noop_writer(),
            stop_signal=install_stop_signal_handler(),
            trained_before=self.run.status.trained_seconds,
        )
        self.write_status("running", f"training from step {start_step}", pid=os.getpid(), step=start_step,
                          target_step=target_step, trained_seconds=session.trained_before)
        if start_step == 0:
            self.save_sample_grid(0)
        session.interval_start, session.interval_step = time.monotonic(), start_step
        return start_step, session

    def finish_session(self, session: TrainingSession, outcome: Outcome, outputs: dict[str, tf.Tensor] | None) -> str:
        """Close a stretch of training: the final checkpoint and grid, the stop request cleared, the final status."""
        state, message = self._final_save(session, outcome, outputs)
        if self.is_chief:
            self.run.stop_request_path.unlink(missing_ok=True)
        self.write_status(state, message, pid=None, step=int(self.step.numpy()), target_step=session.target_step,
                          trained_seconds=session.trained_seconds())
        if self.scratch_dir is not None:
            shutil.rmtree(self.scratch_dir, ignore_errors=True)
        return state

    def write_status(self, state: str, message: str, **fields: Any) -> None:
        """The run's status.json, which only the chief writes."""
        if self.is_chief:
            write_status(self.run.path, state, message, **fields)

    def _log_step(self, session: TrainingSession, done: int, outputs: dict[str, tf.Tensor]) -> Outcome | None:
        """Write the metrics row of step `done` everywhere it goes; ("diverged", why) if a loss is not finite."""
        now = time.monotonic()
        row = {name: float(value) for name, value in outputs.items()}
        elapsed = max(now - session.interval_start, 1e-9)
        row["images_per_second"] = (done - session.interval_step) * throughput.images_per_step(self.config) / elapsed
        row.update(step=done, wall_time=time.time())
        session.interval_start, session.interval_step = now, done
        # A non-finite row is written too, so that the curves show the step where the losses stopped being finite.
        session.writer.write([row])
        if reason := non_finite_metrics(outputs):
            return "diverged", self.divergence_message(done, reason)
        write_tensorboard_scalars(session.summary_writer, row)
        if session.on_log is not None:
            session.on_log(row)
        self.write_status("running", "", pid=os.getpid(), step=done, target_step=session.target_step,
                          trained_seconds=session.trained_seconds())
        return None

    def _checkpoint_or_stop(self, session: TrainingSession, done: int, outputs: dict[str, tf.Tensor]) -> Outcome | None:
        """Save the checkpoint due at step `done`, if any; the outcome that ends training here, or None to go on."""
        if done % self.config.checkpoint_every == 0:
            if reason := self.non_finite_reason(outputs):
                return "diverged", self.divergence_message(done, reason)
            if failure := self.save_checkpoint(done):
                return "failed", failure
        outcome = self.stop_outcome(session, done)
        if self.multi_worker and self.any_worker(outcome is not None) and outcome is None:
            outcome = "stopped", f"stopped at step {done}, as another worker of the cluster did"
        return outcome

    def stop_outcome(self, session: TrainingSession, done: int) -> Outcome | None:
        """("stopped", why) when a stop was requested or the time limit has passed; None otherwise."""
        if session.stop_signal.requested or self.run.stop_request_path.exists():
            return "stopped", f"stopped on request at step {done}"
        if session.max_seconds is not None and time.monotonic() - session.started >= session.max_seconds:
            return "stopped", f"stopped at step {done} after the {session.max_seconds:g} s time limit"
        return None

    def any_worker(self, flag: bool) -> bool:
        """Whether `flag` holds on any worker: every worker must stop at the same step, or the others would wait
        for it in the next step's collective operations for ever."""
        votes = self.strategy.run(lambda: tf.constant(1.0 if flag else 0.0))
        return float(self.strategy.reduce(tf.distribute.ReduceOp.SUM, votes, axis=None)) > 0

    def _final_save(self, session: TrainingSession, outcome: Outcome, outputs: dict[str, tf.Tensor] | None) -> Outcome:
        """After a finish or a stop, the checkpoint and sample grid of the last step, unless they exist already.

        Returns the outcome to record, which becomes "diverged" or "failed" when that checkpoint cannot be saved.
        """
        state, message = outcome
        final_step = int(self.step.numpy())
        needs_checkpoint = final_step not in self.saved_steps
        if state in ("finished", "stopped") and needs_checkpoint and outputs is not None:
            if reason := self.non_finite_reason(outputs):
                state, message = "diverged", self.divergence_message(final_step, reason)
            elif failure := self.save_checkpoint(final_step):
                state, message = "failed", failure
        if state in ("finished", "stopped") and self.is_chief and final_step not in self.run.sample_steps():
            self.save_sample_grid(final_step, session.summary_writer)
        return state, message

    def divergence_message(self, step: int, reason: str) -> str:
        kept = self.run.checkpoint_steps()
        return (f"training diverged: losses or weights became non-finite at step {step} ({reason}); no checkpoint was "
                f"saved after that, so the last good one (step {kept[-1] if kept else 'none'}) is kept. Resume with "
                "lower learning rates or try another loss.")

    # ---- samples ----------------------------------------------------------------------------------------------

    def save_sample_grid(self, step: int, summary_writer=None) -> None:
        """Write the fixed-noise grid (or, for 2-D sets, a scatter and the raw points) for this step (the chief)."""
        if not self.is_chief:
            return
        networks = {**self.training.networks, "generator": self.generator_ema}
        if drawn := self.variant.grid_tiles(self.config, networks):
            tiles, columns = drawn
            self.save_grid_picture(step, images.image_grid(tiles, len(tiles) // columns, columns,
                                                           scale=images.grid_scale(tiles.shape[1])), summary_writer)
            return
        inputs = tf.constant(self.fixed_noise)
        if self.num_classes:
            inputs = [inputs, tf.constant(self.fixed_labels)]
        generated = self.generator_ema(inputs, training=False).numpy()
        if self.config.is_points:
            picture = images.scatter_image(generated, self.dataset.examples[:2000])
            np.save(self.run.samples_dir / f"step_{step:08d}.npy", generated.astype(np.float32))
        else:
            columns = self.config.sample_grid
            rows = len(generated) // columns
            tiles = data.to_uint8_images(generated)
            picture = images.image_grid(tiles, rows, columns, scale=images.grid_scale(self.config.data_shape[0]))
        self.save_grid_picture(step, picture, summary_writer)

    def save_grid_picture(self, step: int, picture: np.ndarray, summary_writer=None) -> None:
        images.save_png(picture, self.run.sample_path(step))
        if summary_writer is not None:
            with summary_writer.as_default():
                tf.summary.image("fixed_noise_samples", picture[np.newaxis], step=step)


def non_finite_metrics(outputs: dict[str, Any]) -> str | None:
    """Which logged metrics are not finite ("d_loss=nan, g_loss=inf"), or None when all are."""
    bad = [f"{name}={float(value)}" for name, value in outputs.items() if not math.isfinite(float(value))]
    return ", ".join(bad) or None


def write_dataset_summary(run: Run, dataset: data.Dataset) -> None:
    """Record what the run trains on, so pages can name classes without loading the data themselves."""
    summary = {
        "num_examples": int(len(dataset.examples)),
        "class_names": list(dataset.class_names),
        "skipped": [list(entry) for entry in dataset.skipped],
    }
    write_text_atomically(run.path / "dataset.json", json.dumps(summary, indent=2))


def example_indices_for_step(num_examples: int, config: RunConfig, step: int, stream: int = 0) -> np.ndarray:
    """Indices of the real examples used at `step`, shaped (the variant's iterations per step, batch_size).

    The examples are visited in a fresh permutation each epoch, seeded by (seed, epoch), so the batch of any
    step can be computed without replaying the ones before it. Another `stream` (a second, unpaired collection)
    gets permutations of its own.
    """
    count = throughput.images_per_step(config)
    first = step * count
    positions = np.arange(first, first + count)
    epochs, offsets = np.divmod(positions, num_examples)
    indices = np.empty(count, dtype=np.int32)
    for epoch in np.unique(epochs):
        permutation = epoch_permutation(num_examples, config.seed, int(epoch), stream)
        chosen = epochs == epoch
        indices[chosen] = permutation[offsets[chosen]]
    return indices.reshape(-1, config.batch_size)


_PERMUTATIONS: dict[tuple[int, int, int, int], np.ndarray] = {}


def epoch_permutation(num_examples: int, seed: int, epoch: int, stream: int = 0) -> np.ndarray:
    key = (num_examples, seed, epoch, stream)
    if key not in _PERMUTATIONS:
        # Only the current and next epoch are ever needed; dropping older ones keeps memory flat.
        for old_key in [old for old in _PERMUTATIONS if old[2] < epoch - 1]:
            del _PERMUTATIONS[old_key]
        # Stream 0 keeps the seeds runs have always used, so that older runs resume exactly.
        rng_seed = [seed, epoch] if stream == 0 else [seed, epoch, stream]
        _PERMUTATIONS[key] = np.random.default_rng(rng_seed).permutation(num_examples).astype(np.int32)
    return _PERMUTATIONS[key]


def write_tensorboard_scalars(summary_writer, row: dict[str, float]) -> None:
    with summary_writer.as_default():
        for name, value in row.items():
            if name not in ("step", "wall_time"):
                tf.summary.scalar(name, value, step=int(row["step"]))


@dataclass
class TrainingSession:
    """What one call of `Trainer.train` keeps from step to step: where rows go, its limits and its clocks."""

    target_step: int
    max_seconds: float | None
    on_log: Callable[[dict[str, float]], None] | None
    writer: MetricsWriter
    summary_writer: Any
    stop_signal: StopSignal
    trained_before: float  # seconds the run trained in earlier processes
    started: float = field(default_factory=time.monotonic)
    # The start of the interval the next row's images_per_second is measured over.
    interval_start: float = 0.0
    interval_step: int = 0

    def trained_seconds(self) -> float:
        return self.trained_before + time.monotonic() - self.started


class UnwrittenMetrics:
    """Where a non-chief worker's metrics go: nowhere (the chief writes the same values)."""

    def truncate_after(self, step: int) -> None:
        pass

    def write(self, rows: list[dict[str, float]]) -> None:
        pass

    def close(self) -> None:
        pass


class StopSignal:
    requested = False


def install_stop_signal_handler() -> StopSignal:
    """SIGTERM and SIGINT ask for a stop at the next step boundary instead of killing mid-write."""
    stop_signal = StopSignal()

    def request_stop(signal_number, frame) -> None:
        stop_signal.requested = True

    for signal_number in (signal.SIGTERM, signal.SIGINT):
        try:
            signal.signal(signal_number, request_stop)
        except ValueError:
            pass  # Not the main thread (e.g. inside a test runner's worker); file-based stop requests still work.
    return stop_signal
