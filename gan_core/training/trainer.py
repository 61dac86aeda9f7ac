"""Training one run: the compiled step of its variant, driven by a loop whose callbacks keep everything else.

Randomness is a pure function of (seed, step): the order of real examples comes from a per-epoch permutation
seeded by (seed, epoch), and the noise from stateless random ops seeded by (seed, step). Restoring the step
from a checkpoint therefore restores the random state too, which is what makes a resumed run continue exactly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from gan_core.inputs import data
from gan_core.nets import distribution
from gan_core.spec import registry
from gan_core.spec.config import RunConfig
from gan_core.store.files import write_text_atomically
from gan_core.store.runs import Run, write_status
from gan_core.training import throughput
from gan_core.training.callbacks import (Callback, DivergenceCheck, MetricsRows, Outcome, RowListener, StatusUpdates,
                                         StepEnd, StopRequests, TensorBoardLog, TrainingSession)
from gan_core.training.saving import Checkpoints, SampleGrids
from gan_core.variants.base import Batch, Variant

# Every random draw within one step gets its own stateless seed: step * SEED_STRIDE + the draw's offset.
SEED_STRIDE = Variant.SEED_STRIDE


class Trainer:
    """Holds a run's networks, optimizers and data, and trains them from the latest checkpoint on.

    What is trained and how comes from the run's variant (see gan_core/variants); the loop itself only steps, and
    its callbacks (gan_core.training.callbacks and .saving) keep what every variant shares: metrics, sample grids,
    checkpoints, TensorBoard, stop requests, divergence and the run's status. `callbacks` come after those.
    """

    def __init__(self, run: Run, strategy: tf.distribute.Strategy | None = None,
                 dataset: data.Dataset | None = None, callbacks: Sequence[Callback] = ()) -> None:
        self.run = run
        self.config: RunConfig = run.config
        self.variant = registry.of(self.config)
        self.strategy = strategy or tf.distribute.get_strategy()
        # With several workers, one (the chief) writes the run; the others train alongside and write nothing there.
        self.is_chief = distribution.is_chief(self.strategy)
        self.multi_worker = isinstance(self.strategy, tf.distribute.MultiWorkerMirroredStrategy)
        self.dataset = dataset if dataset is not None else data.load_dataset(self.config)
        self.num_classes = classes_fed(self.variant, self.config, self.dataset)
        if self.is_chief:
            write_dataset_summary(run, self.dataset)
        replicas = self.strategy.num_replicas_in_sync
        if self.config.batch_size % replicas:
            raise ValueError(f"batch_size={self.config.batch_size} must divide evenly over {replicas} replicas")
        self.build_networks()
        self.hold_real_data()
        self.callbacks = self.standard_callbacks() + list(callbacks)
        # No AutoGraph: every step's branches are on Python values, decided while tracing, and converting the
        # step's functions to graph code took 0.4-0.9 s of each trainer's start (and left files in /tmp).
        self.compiled_step = tf.function(self.distributed_step, autograph=False)

    def build_networks(self) -> None:
        """The variant's networks and optimizers, the averaged generator and the step counter, seeded."""
        # Layer initialisers draw from Keras' global seed, so seeding here makes the first steps repeatable.
        keras.utils.set_random_seed(self.config.seed)
        with self.strategy.scope():
            self.training = self.variant.build_training(self.config, self.num_classes)
            self.generator = self.training.networks.generator
            # Samples can come from a moving average of the generator's weights, which smooths out the
            # oscillation of long adversarial runs (Yazici et al. 2019). With g_ema_decay 0 the "averaged"
            # generator is the generator itself, so nothing is copied each step.
            self.generator_ema = self.generator
            if self.config.g_ema_decay > 0:
                self.generator_ema = keras.models.clone_model(self.generator)
                self.generator_ema.set_weights(self.generator.get_weights())
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")

    def hold_real_data(self) -> None:
        """The real examples, labels and inputs as tensors the compiled step gathers from; the fixed noise."""
        self.real_examples = tf.constant(self.dataset.examples)
        labels = self.dataset.labels if self.dataset.labels is not None else np.zeros(len(self.dataset.examples))
        self.real_labels = tf.constant(labels, dtype=tf.int32)
        self.real_inputs = None if self.dataset.inputs is None else tf.constant(self.dataset.inputs)
        self.fixed_noise, self.fixed_labels = self.variant.fixed_inputs(self.config, self.num_classes)

    def standard_callbacks(self) -> list[Callback]:
        """What every run does around its steps, in the order it is done (see gan_core.training.callbacks)."""
        self.checkpoints = Checkpoints(self)
        self.stop_requests = StopRequests(self)
        tensorboard = TensorBoardLog(self)
        return [MetricsRows(self), DivergenceCheck(self.run), tensorboard, RowListener(), self.checkpoints,
                SampleGrids(self, tensorboard), self.stop_requests, StatusUpdates(self)]

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

    def restore(self) -> int:
        """Load the newest checkpoint that reads cleanly, if any; returns the step training continues from."""
        step = self.checkpoints.restore()
        # The optimizers' learning rates are saved in the checkpoint, but the config decides them: a resume with
        # lower rates (after a divergence) must not get the old ones back.
        self.training.apply_configured_learning_rates()
        return step

    def train(
        self,
        target_step: int | None = None,
        max_seconds: float | None = None,
        on_log: Callable[[dict[str, float]], None] | None = None,
    ) -> str:
        """Train until `target_step` (default: config.steps), a time limit, a stop request or divergence.

        `on_log` is called with every metrics row as it is written. Returns the final state in status.json.
        """
        session = self.open_session(target_step, max_seconds, on_log)
        outcome, outputs = None, None
        try:
            for step in range(session.start_step, session.target_step):
                outputs = self.train_step(step)
                if outcome := self.after_step(session, step + 1, outputs):
                    break
        finally:
            self.close_session(session)
        return self.finish_session(session, outcome or ("finished", f"reached step {session.target_step}"), outputs)

    def train_step(self, step: int) -> dict[str, tf.Tensor]:
        """One step of the variant at `step` (its seeded data and noise); the step counter moves past it."""
        outputs = self.compiled_step(tf.constant(step, tf.int64), *self.indices_for_step(step))
        self.step.assign(step + 1)
        return outputs

    def open_session(self, target_step: int | None, max_seconds: float | None,
                     on_log: Callable[[dict[str, float]], None] | None) -> TrainingSession:
        """Restore the latest checkpoint and start a stretch of training from it: every callback's on_train_start."""
        start_step = self.restore()
        session = TrainingSession(start_step=start_step,
                                  target_step=self.config.steps if target_step is None else target_step,
                                  max_seconds=max_seconds, on_log=on_log,
                                  trained_before=self.run.status.trained_seconds)
        for callback in self.callbacks:
            callback.on_train_start(session)
        return session

    def after_step(self, session: TrainingSession, done: int, outputs: dict[str, tf.Tensor]) -> Outcome | None:
        """Every callback's work once `done` steps are done, in order; the outcome that ends training here (a
        divergence, a failed save, a stop), or None to go on."""
        event = StepEnd(done, outputs)
        for callback in self.callbacks:
            if outcome := callback.on_step_end(session, event):
                return outcome
        return None

    def close_session(self, session: TrainingSession) -> None:
        """Every callback's on_close: the files a stretch of training wrote to, closed even after an error."""
        for callback in self.callbacks:
            callback.on_close(session)

    def finish_session(self, session: TrainingSession, outcome: Outcome, outputs: dict[str, tf.Tensor] | None) -> str:
        """Every callback's on_train_end (the final checkpoint and grid, the stop request answered, the final
        status); returns the state recorded."""
        for callback in self.callbacks:
            outcome = callback.on_train_end(session, outcome, outputs)
        return outcome[0]

    def stop_outcome(self, session: TrainingSession, done: int) -> Outcome | None:
        """("stopped", why) when a stop was requested or the time limit has passed; None otherwise."""
        return self.stop_requests.outcome(session, done)

    def write_status(self, state: str, message: str, **fields: Any) -> None:
        """The run's status.json, which only the chief writes."""
        if self.is_chief:
            write_status(self.run.path, state, message, **fields)


def classes_fed(variant: Variant, config: RunConfig, dataset: data.Dataset) -> int:
    """How many classes the networks are told about: the dataset's when the variant feeds labels, else none."""
    if not variant.uses_labels(config):
        return 0
    if dataset.num_classes < 2:
        raise ValueError(
            f"this {variant.title} run is fed class labels, but {config.dataset!r} has no labels here; "
            "use sub-folders per class for your own images, or train without labels (conditional=false, or a "
            "variant that needs none)"
        )
    return dataset.num_classes


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
