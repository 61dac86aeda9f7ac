"""What the training loop does besides stepping, one concern per callback: metrics rows, the divergence check,
TensorBoard, a caller's listener, stop requests and the run's status (checkpoints and sample grids are in
gan_core.training.saving).

The loop (gan_core.training.trainer) calls every callback's hooks in the order of its list:

    on_train_start(session)                 after the latest checkpoint is restored, before the first step
    on_step_end(session, event)             after each step; an outcome returned ends training there, and the
                                            callbacks after it in the list are not called for that step
    on_close(session)                       when the loop ends for any reason, an error included: close files
    on_train_end(session, outcome, outputs) after a loop that ended without an error; each may change the outcome

The order is the schedule: a metrics row is written before a divergence in it ends the run, the checkpoint is saved
before the stop request is looked at, and the status is written last, so that whoever reads "finished" finds the
final checkpoint and sample grid already there.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import tensorflow as tf

from gan_core.store.runs import MetricsWriter
from gan_core.training import throughput

if TYPE_CHECKING:
    from gan_core.store.runs import Run
    from gan_core.training.trainer import Trainer

# How a stretch of training ended: its state for status.json and the message beside it.
Outcome = tuple[str, str]


class StopSignal:
    requested = False


@dataclass
class TrainingSession:
    """One call of `Trainer.train`: where it starts and must end, its limits, its clock and its listener."""

    start_step: int
    target_step: int
    max_seconds: float | None
    on_log: Callable[[dict[str, float]], None] | None
    trained_before: float  # seconds the run trained in earlier processes
    stop_signal: StopSignal = field(default_factory=StopSignal)
    started: float = field(default_factory=time.monotonic)

    def trained_seconds(self) -> float:
        return self.trained_before + time.monotonic() - self.started


@dataclass
class StepEnd:
    """What a callback learns after a step: how many steps are done, the step's metrics, and the metrics row
    (with throughput, step and time) when one is due at this step."""

    done: int
    outputs: dict[str, tf.Tensor]
    row: dict[str, float] | None = None


class Callback:
    """A hook into the training loop (see this module's docstring); every hook does nothing unless overridden."""

    def on_train_start(self, session: TrainingSession) -> None:
        pass

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        return None

    def on_close(self, session: TrainingSession) -> None:
        pass

    def on_train_end(self, session: TrainingSession, outcome: Outcome,
                     outputs: dict[str, tf.Tensor] | None) -> Outcome:
        return outcome


class MetricsRows(Callback):
    """The metrics database: a row every log_every steps and at the target step, with the images per second
    measured since the previous row. Rows after the restored step (from a crashed process) are dropped first."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.writer: MetricsWriter | UnwrittenMetrics = UnwrittenMetrics()
        self.interval_start, self.interval_step = 0.0, 0

    def on_train_start(self, session: TrainingSession) -> None:
        self.writer = MetricsWriter(self.trainer.run.database_path) if self.trainer.is_chief else UnwrittenMetrics()
        self.writer.truncate_after(session.start_step)
        self.interval_start, self.interval_step = time.monotonic(), session.start_step

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        done, config = event.done, self.trainer.config
        if done % config.log_every and done != session.target_step:
            return None
        now = time.monotonic()
        row = {name: float(value) for name, value in event.outputs.items()}
        elapsed = max(now - self.interval_start, 1e-9)
        row["images_per_second"] = (done - self.interval_step) * throughput.images_per_step(config) / elapsed
        row.update(step=done, wall_time=time.time())
        self.interval_start, self.interval_step = now, done
        # A non-finite row is written too, so that the curves show the step where the losses stopped being finite.
        self.writer.write([row])
        event.row = row
        return None

    def on_close(self, session: TrainingSession) -> None:
        self.writer.close()


class DivergenceCheck(Callback):
    """Ends training as "diverged" at the first metrics row with a loss that is not finite."""

    def __init__(self, run: Run) -> None:
        self.run = run

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        if event.row is not None and (reason := non_finite_metrics(event.outputs)):
            return "diverged", divergence_message(self.run, event.done, reason)
        return None


class TensorBoardLog(Callback):
    """The run's tensorboard/ folder: every metrics row as scalars, and the sample grids as images (the chief's)."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.writer = tf.summary.create_noop_writer()

    def on_train_start(self, session: TrainingSession) -> None:
        if self.trainer.is_chief:
            self.writer = tf.summary.create_file_writer(str(self.trainer.run.path / "tensorboard"))

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        if event.row is not None:
            with self.writer.as_default():
                for name, value in event.row.items():
                    if name not in ("step", "wall_time"):
                        tf.summary.scalar(name, value, step=event.done)
        return None

    def write_image(self, name: str, picture, step: int) -> None:
        with self.writer.as_default():
            tf.summary.image(name, picture[None], step=step)

    def on_close(self, session: TrainingSession) -> None:
        self.writer.flush()


class RowListener(Callback):
    """Hands every metrics row to the session's `on_log`, if the caller of `train` gave one."""

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        if event.row is not None and session.on_log is not None:
            session.on_log(event.row)
        return None


class StopRequests(Callback):
    """Ends training as "stopped" on a stop file (the Stop button), SIGTERM or SIGINT, or the session's time limit;
    with several workers, all stop at the step where any one of them does."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_train_start(self, session: TrainingSession) -> None:
        session.stop_signal = install_stop_signal_handler()

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        outcome = self.outcome(session, event.done)
        if self.trainer.multi_worker and self.any_worker(outcome is not None) and outcome is None:
            outcome = "stopped", f"stopped at step {event.done}, as another worker of the cluster did"
        return outcome

    def outcome(self, session: TrainingSession, done: int) -> Outcome | None:
        """("stopped", why) when a stop was requested or the time limit has passed; None otherwise."""
        if session.stop_signal.requested or self.trainer.run.stop_request_path.exists():
            return "stopped", f"stopped on request at step {done}"
        if session.max_seconds is not None and time.monotonic() - session.started >= session.max_seconds:
            return "stopped", f"stopped at step {done} after the {round(session.max_seconds, 1):g} s time limit"
        return None

    def any_worker(self, flag: bool) -> bool:
        """Whether `flag` holds on any worker: every worker must stop at the same step, or the others would wait
        for it in the next step's collective operations for ever."""
        strategy = self.trainer.strategy
        votes = strategy.run(lambda: tf.constant(1.0 if flag else 0.0))
        return float(strategy.reduce(tf.distribute.ReduceOp.SUM, votes, axis=None)) > 0

    def on_train_end(self, session: TrainingSession, outcome: Outcome,
                     outputs: dict[str, tf.Tensor] | None) -> Outcome:
        # Answered: a request made while the last checkpoint was written must not stop the next resume at once.
        if self.trainer.is_chief:
            self.trainer.run.stop_request_path.unlink(missing_ok=True)
        return outcome


class StatusUpdates(Callback):
    """The run's status.json: "running" with the step at every metrics row, and the final state at the end."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def on_train_start(self, session: TrainingSession) -> None:
        self.trainer.write_status("running", f"training from step {session.start_step}", pid=os.getpid(),
                                  step=session.start_step, target_step=session.target_step,
                                  trained_seconds=session.trained_before)

    def on_step_end(self, session: TrainingSession, event: StepEnd) -> Outcome | None:
        if event.row is not None:
            self.trainer.write_status("running", "", pid=os.getpid(), step=event.done,
                                      target_step=session.target_step, trained_seconds=session.trained_seconds())
        return None

    def on_train_end(self, session: TrainingSession, outcome: Outcome,
                     outputs: dict[str, tf.Tensor] | None) -> Outcome:
        state, message = outcome
        self.trainer.write_status(state, message, pid=None, step=int(self.trainer.step.numpy()),
                                  target_step=session.target_step, trained_seconds=session.trained_seconds())
        return outcome


class UnwrittenMetrics:
    """Where a non-chief worker's metrics go: nowhere (the chief writes the same values)."""

    def truncate_after(self, step: int) -> None:
        pass

    def write(self, rows: list[dict[str, float]]) -> None:
        pass

    def close(self) -> None:
        pass


def non_finite_metrics(outputs: dict[str, Any]) -> str | None:
    """Which logged metrics are not finite ("d_loss=nan, g_loss=inf"), or None when all are."""
    bad = [f"{name}={float(value)}" for name, value in outputs.items() if not math.isfinite(float(value))]
    return ", ".join(bad) or None


def divergence_message(run: Run, step: int, reason: str) -> str:
    kept = run.checkpoint_steps()
    return (f"training diverged: losses or weights became non-finite at step {step} ({reason}); no checkpoint was "
            f"saved after that, so the last good one (step {kept[-1] if kept else 'none'}) is kept. Resume with "
            "lower learning rates or try another loss.")


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
