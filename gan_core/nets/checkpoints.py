"""Reading a run's checkpoints defensively: the newest one that reads cleanly wins.

A checkpoint can be cut short by a killed process or a full disk, or damaged on disk later. TensorFlow checks
every tensor's checksum while restoring, so a damaged file fails loudly; we then fall back to the previous
checkpoint instead of leaving the run unusable. The fallback is reported in the log (the trainer's log, for a
trainer), so a person can see what happened.

TensorFlow is imported only by the functions that read or write checkpoint files, so that checking a requested
step (all the Evaluate page needs before it finds a stored result) stays light.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gan_core.store.runs import CHECKPOINT_STEM, Run

if TYPE_CHECKING:
    import tensorflow as tf

log = logging.getLogger(__name__)

DAMAGED_FOLDER = "damaged"


class DamagedCheckpoint(ValueError):
    """A checkpoint whose files cannot be read back."""


def checkpoint_prefix(run: Run, step: int) -> str:
    return str(run.checkpoints_dir / f"{CHECKPOINT_STEM}-{step}")


def step_to_use(
    run: Run, step: int | None = None, checkpoint: tf.train.Checkpoint | None = None, partial: bool = False
) -> int:
    """The checkpoint step to use for a run: `step` when one is asked for, else the newest checkpoint that reads.

    Raises ValueError when the run has no checkpoint yet, or none at the requested `step` (naming the steps it
    has). With a `checkpoint`, it is restored from the step returned (see `restore_step` for `partial`). Only
    restoring shows which checkpoint reads cleanly, so without a `step` a `checkpoint` is needed; a damaged newer
    checkpoint is then skipped with a warning in the log, and DamagedCheckpoint raised when none reads.
    """
    available = run.checkpoint_steps()
    if not available:
        raise ValueError(f"run {run.run_id} has no checkpoint yet; train it for at least a few steps first")
    if step is not None and step not in available:
        raise ValueError(f"run {run.run_id} has no checkpoint at step {step}; available: {available}")
    if checkpoint is None:
        if step is None:
            raise TypeError("finding the newest readable checkpoint needs a checkpoint to restore into")
        return step
    if step is None:
        step, _ = restore_newest_readable(checkpoint, run, available, partial)
    else:
        restore_step(checkpoint, run, step, partial)
    return step


def restore_step(checkpoint: tf.train.Checkpoint, run: Run, step: int, partial: bool = False) -> None:
    """Restore `checkpoint` from the run's checkpoint at `step`; DamagedCheckpoint if its files do not read.

    With `partial`, objects the checkpoint holds but `checkpoint` does not ask for are left unread; every
    object that `checkpoint` does hold must be found either way (AssertionError otherwise: a mismatch, not damage).
    """
    import tensorflow as tf

    try:
        status = checkpoint.restore(checkpoint_prefix(run, step))
        if partial:
            status.expect_partial()
        status.assert_existing_objects_matched()
    # A short read surfaces as IndexError ("Read less bytes than requested"), a bad checksum as DataLossError.
    except (tf.errors.OpError, ValueError, IndexError, OSError) as error:
        reason = getattr(error, "message", None) or str(error)
        raise DamagedCheckpoint(
            f"the checkpoint at step {step} of run {run.run_id} cannot be read ({reason.splitlines()[0]})"
        ) from None


def restore_newest_readable(
    checkpoint: tf.train.Checkpoint, run: Run, steps: Sequence[int] | None = None, partial: bool = False
) -> tuple[int | None, list[int]]:
    """Restore from the newest of `steps` (default: all the run's checkpoints) that reads cleanly.

    Returns that step (None when there is no checkpoint at all) and the newer steps that were damaged. Raises
    DamagedCheckpoint when checkpoints exist but none of them reads.
    """
    steps = run.checkpoint_steps() if steps is None else list(steps)
    damaged = []
    for step in reversed(steps):
        try:
            restore_step(checkpoint, run, step, partial)
        except DamagedCheckpoint as error:
            log.warning("%s; falling back to the previous checkpoint", error)
            damaged.append(step)
            continue
        if damaged:
            log.warning("restored run %s from its checkpoint at step %d instead", run.run_id, step)
        return step, damaged
    if damaged:
        raise DamagedCheckpoint(f"none of the checkpoints of run {run.run_id} can be read (steps {sorted(damaged)})")
    return None, []


def set_aside(run: Run, step: int) -> None:
    """Move a damaged checkpoint's files into checkpoints/damaged/, so that it is neither listed nor overwritten."""
    folder = run.checkpoints_dir / DAMAGED_FOLDER
    folder.mkdir(exist_ok=True)
    for path in run.checkpoints_dir.glob(f"{CHECKPOINT_STEM}-{step}.*"):
        path.replace(folder / path.name)


def rewrite_state(run: Run) -> None:
    """Make the checkpoint state file list exactly the checkpoints on disk (after some were set aside)."""
    import tensorflow as tf

    steps = run.checkpoint_steps()
    if not steps:
        (run.checkpoints_dir / "checkpoint").unlink(missing_ok=True)
        return
    tf.compat.v1.train.update_checkpoint_state(
        str(run.checkpoints_dir),
        checkpoint_prefix(run, steps[-1]),
        all_model_checkpoint_paths=[checkpoint_prefix(run, step) for step in steps],
    )


def remove_unfinished_writes(run: Run) -> None:
    """Delete the `ckpt-N_temp` folders a save killed midway leaves behind; they never hold a usable checkpoint."""
    for folder in run.checkpoints_dir.glob(f"{CHECKPOINT_STEM}-*_temp"):
        log.warning("removing %s, left by a checkpoint write that did not finish", folder)
        shutil.rmtree(folder, ignore_errors=True)
