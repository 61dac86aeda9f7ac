"""The Playground's trainer: a run on 2-D points trained on command, writing what its views show several times a
second.

It is the ordinary trainer (same networks, steps, metrics rows, sample grids, checkpoints, status, stop and
resume) driven by commands from the page instead of running straight to its last step: play and pause, one
discriminator update, one generator update, or one step of both, at a chosen speed. While it plays, every step is
the ordinary step of the same seed, so a Playground run trains exactly like the same run started elsewhere.

Single updates work on the samples the page shows (GAN Lab's way): one discriminator update learns from them and
one generator update moves exactly them, along the arrows drawn before it. Their real examples come from a stream
of their own (see `example_indices_for_step`), so playing afterwards still sees the same data order.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from gan_core.inputs import data
from gan_core.lab import playground, playground_store
from gan_core.lab.playground_store import Command
from gan_core.measuring import metrics
from gan_core.store.runs import Run
from gan_core.training.callbacks import Callback, Outcome, TrainingSession
from gan_core.training.trainer import SEED_STRIDE, Trainer, example_indices_for_step
from gan_core.variants.base import Batch, SinglePlayerUpdates

PLAYGROUND_NICENESS = 10  # added to the trainer's scheduling niceness
PLAYGROUND_THREADS = 1  # TensorFlow's threads, within an operation and across operations
# Seconds between snapshots while playing: 10 a second, twice what the page needs to look smooth.
SNAPSHOT_SECONDS = 0.1
# How often a paused trainer looks for commands.
POLL_SECONDS = 0.02
# A trainer left paused this long with no command stops (with a checkpoint), so it does not hold a process for ever.
PAUSED_LIMIT_SECONDS = 15 * 60
FIELD_RESOLUTION = 32  # cells along each side of the discriminator's heatmap
MESH_LINES = 11  # latent grid lines in each direction
MEASURE_COUNT = 2000  # generated (and real) points behind KL / JS and the modes covered
DISPLAY_REAL_COUNT = 150  # real points drawn on the plot
HISTORY_LIMIT = 3000  # entries of the loss and divergence curves kept (the oldest go first)
# The seeds of single updates: apart from every run's own (which are below 2**31), so they never repeat a step's.
MANUAL_SEED_BASE = 2**31
MANUAL_STREAM = 2  # the permutation stream of single updates' real examples
DISPLAY_SEED, MEASURE_SEED = 7920, 7921  # beside the sample grids' 7919 (variants.base.fixed_seed)
# A mode counts as covered when at least this share of a fair share of the measured samples lies near it (within
# metrics.HIGH_QUALITY_STDS standard deviations). VEEGAN's rule counts a single sample, which an untrained
# generator's wide cloud meets by chance on the ring; a tenth of a fair share (25 of 2,000 samples for 8 modes) only
# a generator that learnt the mode.
MODE_SHARE = 0.1


@dataclass
class PlaygroundState:
    """What the Playground trainer keeps between commands; counts and curves carry over a resume via the snapshot."""

    playing: bool = False
    speed: int = 0
    d_updates: int = 0  # discriminator updates in all, played or single
    manual_updates: int = 0  # single updates, which number their own seeds and examples
    commands_applied: int = 0
    snapshots: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in HISTORY_NAMES})


HISTORY_NAMES = ("history_step", "history_d_updates", "history_d_loss", "history_g_loss", "history_kl",
                 "history_js")


def use_one_thread() -> None:
    """TensorFlow's thread pools cut to one thread, when this process has not run TensorFlow yet (in one that has,
    such as a test, the pools are fixed and stay as they are).

    Networks this small gain nothing from more threads, and the page showing the run (its server and the browser)
    needs the other cores to redraw several times a second.
    """
    try:
        tf.config.threading.set_intra_op_parallelism_threads(PLAYGROUND_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(PLAYGROUND_THREADS)
    except RuntimeError:
        pass


class PlaygroundTrainer:
    """Trains a Playground run (config.playground) on the commands the page queues in its run directory.

    It drives an ordinary Trainer (`self.trainer`): the same step, callbacks and session, with its own loop of
    commands and a callback of its own (PlaygroundSession) for what the page needs around it.
    """

    def __init__(self, run: Run, dataset: data.Dataset | None = None) -> None:
        use_one_thread()
        self.trainer = Trainer(run, dataset=dataset, callbacks=[PlaygroundSession(self)])
        self.run, self.config, self.dataset = run, run.config, self.trainer.dataset
        self.training = self.trainer.training
        if not isinstance(self.training, SinglePlayerUpdates):
            raise ValueError(f"a Playground run trains a generator against a discriminator; variant "
                             f"{self.config.variant!r} does not")
        config, variant = self.config, self.trainer.variant
        self.discriminator = self.training.discriminator
        self.real_measure = self.dataset.examples[:MEASURE_COUNT].astype(np.float32)
        self.real_display = self.dataset.examples[:DISPLAY_REAL_COUNT].astype(np.float32)
        self.bounds = playground.view_bounds(self.real_measure)
        self.display_latent = variant.draw_latents(config, config.batch_size, [config.seed, DISPLAY_SEED])
        self.measure_latent = variant.draw_latents(config, MEASURE_COUNT, [config.seed, MEASURE_SEED])
        self.mode_centres = data.toy_mode_centres(config.dataset)
        # As the Trainer's step: branches on Python values only, so no AutoGraph conversion to pay for at start.
        self.compiled_discriminator_update = tf.function(self.discriminator_update, autograph=False)
        self.compiled_generator_update = tf.function(self.generator_update, autograph=False)
        self.state = PlaygroundState()

    @property
    def step(self) -> int:
        return int(self.trainer.step.numpy())

    # ---- single updates -----------------------------------------------------------------------------------------

    def manual_batch(self, manual_index: tf.Tensor, example_indices: tf.Tensor) -> Batch:
        """The batch of a single update: real examples of its own stream and noise of its own seeds."""

        def noise(offset: int, shape: list[int], uniform: bool = False) -> tf.Tensor:
            seed = tf.stack([tf.constant(self.config.seed + MANUAL_SEED_BASE, tf.int64),
                             manual_index * SEED_STRIDE + offset])
            draw = tf.random.stateless_uniform if uniform else tf.random.stateless_normal
            return draw(shape, seed=seed)

        return Batch(real=lambda iteration: self.trainer.real_batch(example_indices[iteration]),
                     labels=lambda iteration: tf.zeros([self.config.batch_size], tf.int32),
                     noise=noise, replicas=1, size=self.config.batch_size)

    def discriminator_update(self, manual_index: tf.Tensor, example_indices: tf.Tensor) -> dict[str, tf.Tensor]:
        batch = self.manual_batch(manual_index, example_indices)
        return self.training.discriminator_update(batch, 0, latent=tf.constant(self.display_latent))

    def generator_update(self, manual_index: tf.Tensor, example_indices: tf.Tensor) -> dict[str, tf.Tensor]:
        batch = self.manual_batch(manual_index, example_indices)
        return self.training.generator_update(batch, batch.labels(0), latent=tf.constant(self.display_latent))

    def manual_arguments(self, index: int) -> tuple[tf.Tensor, tf.Tensor]:
        """The compiled updates' arguments for single update number `index`: the index and its real examples."""
        example_indices = example_indices_for_step(len(self.dataset.examples), self.config, index, MANUAL_STREAM)
        return tf.constant(index, tf.int64), tf.constant(example_indices)

    def single_update(self, update) -> dict[str, tf.Tensor]:
        arguments = self.manual_arguments(self.state.manual_updates)
        self.state.manual_updates += 1
        return update(*arguments)

    def warm_up(self) -> None:
        """Run each compiled update once, then put every variable back as it was.

        TensorFlow prepares a compiled function the first time it runs it (about half a second each for these
        three here, more on a busy machine). Paid while the page still says the trainer is starting, a person's
        first Play, D step or G step answers as quickly as the ones after it, and the run is unchanged.
        """
        variables = self.trainer.checkpoints.variables()
        values = [variable.numpy() for variable in variables]
        arguments = self.manual_arguments(self.state.manual_updates)
        self.compiled_discriminator_update(*arguments)
        self.compiled_generator_update(*arguments)
        self.trainer.train_step(self.step)
        for variable, value in zip(variables, values):
            variable.assign(value)

    # ---- the loop -----------------------------------------------------------------------------------------------

    def train(self, target_step: int | None = None, max_seconds: float | None = None, on_log=None) -> str:
        """Apply the page's commands and train while playing, until a stop request, the time limit, the last
        step or a long pause. Starts paused (a resumed run too, unless a Play is waiting)."""
        # The page that shows this run (its server and the browser) usually shares the machine: training takes
        # what CPU they leave, so the views stay smooth and the buttons answer at once.
        os.nice(PLAYGROUND_NICENESS)
        session = self.trainer.open_session(target_step, max_seconds, on_log)
        outcome, outputs = None, None
        last_command, next_snapshot = time.monotonic(), 0.0
        try:
            while outcome is None:
                commands = playground_store.take_commands(self.run)
                for command in commands:
                    outcome, outputs = self.apply(session, command, outputs)
                    if outcome:
                        break
                if commands:
                    last_command = time.monotonic()
                    next_snapshot = self.write_snapshot()
                if outcome is None and self.state.playing:
                    outcome, outputs = self.play_until(session, next_snapshot, outputs)
                elif outcome is None:
                    time.sleep(POLL_SECONDS)
                    outcome = self.trainer.stop_outcome(session, self.step) or self.pause_outcome(last_command)
                if time.monotonic() >= next_snapshot and self.state.playing:
                    next_snapshot = self.write_snapshot()
        finally:
            self.trainer.close_session(session)
        return self.trainer.finish_session(session, outcome, outputs)

    def apply(self, session: TrainingSession, command: Command,
              outputs: dict[str, tf.Tensor] | None) -> tuple[Outcome | None, dict[str, tf.Tensor] | None]:
        """Carry out one command; the outcome that ends training (if it does) and the latest step outputs."""
        state = self.state
        state.commands_applied += 1
        outcome = None
        if command.action in ("play", "pause"):
            state.playing = command.action == "play"
        elif command.action == "speed":
            state.speed = command.speed
        elif command.action == "step_d":
            outputs = self.single_update(self.compiled_discriminator_update)
            self.record(outputs, d_updates=1)
            # The step does not move, so its checkpoint (if one was saved) no longer holds the discriminator: kept as
            # the latest outputs and marked unsaved, a stop right after checkpoints the updated discriminator.
            self.trainer.checkpoints.saved_steps.discard(self.step)
        elif command.action == "step_g":
            outputs = self.single_update(self.compiled_generator_update)
            self.record(outputs)
            done = self.step + 1
            self.trainer.step.assign(done)
            outcome = self.trainer.after_step(session, done, outputs)
        elif command.action == "step_both":
            outcome, outputs = self.play_one(session)
        return outcome, outputs

    def play_one(self, session: TrainingSession) -> tuple[Outcome | None, dict[str, tf.Tensor]]:
        """One ordinary step (n_critic discriminator updates, then the generator's) and what is due after it."""
        step = self.step
        if step >= session.target_step:
            return ("finished", f"reached step {session.target_step}"), {}
        outputs = self.trainer.train_step(step)
        self.record(outputs, d_updates=self.config.n_critic)
        return self.trainer.after_step(session, step + 1, outputs), outputs

    def play_until(self, session: TrainingSession, deadline: float,
                   outputs: dict[str, tf.Tensor] | None) -> tuple[Outcome | None, dict[str, tf.Tensor] | None]:
        """Ordinary steps until `deadline` (the next snapshot), no faster than the chosen speed."""
        interval = 1.0 / self.state.speed if self.state.speed else 0.0
        while True:
            started = time.monotonic()
            if started >= deadline and outputs is not None:
                return None, outputs
            outcome, outputs = self.play_one(session)
            if outcome:
                return outcome, outputs
            if interval:
                # A slow speed waits between steps; the wait ends at the deadline, so snapshots keep coming.
                time.sleep(max(0.0, min(started + interval, deadline) - time.monotonic()))
                if time.monotonic() >= deadline:
                    return None, outputs

    def pause_outcome(self, last_command: float) -> Outcome | None:
        if time.monotonic() - last_command < PAUSED_LIMIT_SECONDS:
            return None
        return "stopped", (f"stopped at step {self.step} after {PAUSED_LIMIT_SECONDS // 60} minutes "
                           "paused; resume it to go on")

    def record(self, outputs: dict[str, tf.Tensor], d_updates: int = 0) -> None:
        self.state.d_updates += d_updates
        self.state.losses.update({name: float(value) for name, value in outputs.items()
                                  if name in ("d_loss", "g_loss")})

    # ---- snapshots ----------------------------------------------------------------------------------------------

    def views(self) -> dict[str, np.ndarray | float]:
        """The numbers behind every view of the page at this moment."""
        generator, loss = self.trainer.generator, self.config.loss
        generated, arrows = playground.generator_gradient_arrows(generator, self.discriminator, self.display_latent,
                                                                 self.training.g_loss_function)
        measured = generator(tf.constant(self.measure_latent), training=False).numpy()
        # The evaluation's 2-D measures, so the two pages agree, but binned on the grid of the view drawn and with
        # a mode counted only once it holds MODE_SHARE of a fair share of the samples.
        min_samples = (1 if self.mode_centres is None
                       else math.ceil(MODE_SHARE * MEASURE_COUNT / len(self.mode_centres)))
        measures = metrics.point_measures(self.real_measure, measured, self.mode_centres,
                                          extent=playground.extent(self.bounds), min_samples=min_samples)
        views = {
            "bounds": np.asarray(self.bounds, np.float32),
            "field": playground.discriminator_field(self.discriminator, self.bounds, FIELD_RESOLUTION, loss),
            "mesh": playground.manifold_mesh(generator, self.config.latent_dim, MESH_LINES),
            "generated": generated, "arrows": arrows, "real": self.real_display,
            "kl": measures["grid_kl"], "js": measures["grid_js"],
            "modes_covered": measures.get("modes_covered", -1), "num_modes": measures.get("num_modes", -1),
        }
        return views

    def write_snapshot(self) -> float:
        """Write what the page shows now; returns when the next snapshot is due while playing."""
        state = self.state
        views = self.views()
        step = self.step
        entry = {"history_step": step, "history_d_updates": state.d_updates, "history_kl": views["kl"],
                 "history_js": views["js"], "history_d_loss": state.losses.get("d_loss", np.nan),
                 "history_g_loss": state.losses.get("g_loss", np.nan)}
        if not state.history["history_step"] or (state.history["history_step"][-1],
                                                 state.history["history_d_updates"][-1]) != (step, state.d_updates):
            for name, value in entry.items():
                state.history[name] = (state.history[name] + [value])[-HISTORY_LIMIT:]
        state.snapshots += 1
        playground_store.write_snapshot(self.run, {
            **views, **{name: np.asarray(values, np.float64) for name, values in state.history.items()},
            "step": step, "d_updates": state.d_updates, "manual_updates": state.manual_updates,
            "playing": state.playing, "speed": state.speed, "commands_applied": state.commands_applied,
            "sequence": state.snapshots, "wall_time": time.time(), "loss": self.config.loss,
        })
        return time.monotonic() + SNAPSHOT_SECONDS

    def restore_state(self) -> None:
        """Carry the update counts and curves of the run's last snapshot over, up to the restored step."""
        previous = playground_store.read_snapshot(self.run)
        if previous is None:
            return
        step = self.step
        kept = np.asarray(previous.history_step) <= step
        self.state.history = {name: list(np.asarray(getattr(previous, name))[kept]) for name in HISTORY_NAMES}
        self.state.d_updates = int(self.state.history["history_d_updates"][-1]) if any(kept) else 0
        self.state.manual_updates = int(previous.manual_updates)
        self.state.snapshots = int(previous.sequence)


class PlaygroundSession(Callback):
    """What a Playground run does around its stretch of training, as a callback of its Trainer: at the start, the
    counts and curves of the last snapshot carried over, the compiled updates warmed up, and the first snapshot
    (the page says "starting" until it comes); at the end, paused, a last snapshot."""

    def __init__(self, playground_trainer: PlaygroundTrainer) -> None:
        self.playground_trainer = playground_trainer

    def on_train_start(self, session: TrainingSession) -> None:
        self.playground_trainer.restore_state()
        self.playground_trainer.warm_up()
        self.playground_trainer.write_snapshot()

    def on_close(self, session: TrainingSession) -> None:
        self.playground_trainer.state.playing = False
        self.playground_trainer.write_snapshot()
