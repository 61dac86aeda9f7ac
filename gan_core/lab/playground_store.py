"""How the Playground's page and its trainer talk through the run directory: commands in, snapshots out.

    runs/<run_id>/playground/
      commands/<time>-<token>.json   one file per command (play, pause, step_d, step_g, step_both, speed)
      snapshot.npz                   the latest state of every view, replaced in one step several times a second

Commands are separate files, applied in the order they were written and then removed, so that two quick clicks
are two steps and a page reload loses nothing. The snapshot is replaced with a rename, so a reader sees a whole
one or the one before. Nothing here imports TensorFlow: the page only reads and writes files.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gan_core.store.files import write_text_atomically
from gan_core.store.runs import Run

FOLDER = "playground"
COMMANDS_FOLDER = "commands"
SNAPSHOT_NAME = "snapshot.npz"

ACTIONS = ("play", "pause", "step_d", "step_g", "step_both", "speed")
STEP_ACTIONS = ("step_d", "step_g", "step_both")
# Generator updates per second the trainer aims for while playing; 0 trains as fast as the machine allows.
SPEEDS = (0, 1, 2, 5, 10, 20, 50, 100)


@dataclass(frozen=True)
class Command:
    action: str
    speed: int = 0  # only for "speed"


def playground_folder(run: Run) -> Path:
    return run.path / FOLDER


def commands_folder(run: Run) -> Path:
    return playground_folder(run) / COMMANDS_FOLDER


def snapshot_path(run: Run) -> Path:
    return playground_folder(run) / SNAPSHOT_NAME


def check_command(command: Command) -> None:
    if command.action not in ACTIONS:
        raise ValueError(f"Playground command {command.action!r} does not exist; use one of {', '.join(ACTIONS)}")
    if command.action == "speed" and command.speed not in SPEEDS:
        raise ValueError(f"speed={command.speed!r} is not allowed; use one of {', '.join(map(str, SPEEDS))} "
                         "generator updates per second (0: as fast as the machine allows)")


def send_command(run: Run, command: Command) -> None:
    """Queue `command` for the run's trainer (ValueError for an unknown action or speed)."""
    check_command(command)
    folder = commands_folder(run)
    folder.mkdir(parents=True, exist_ok=True)
    # The time first, so that the names sort in the order the commands were given; the token keeps two commands
    # within one nanosecond apart.
    name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.json"
    write_text_atomically(folder / name, json.dumps({"action": command.action, "speed": command.speed}))


def take_commands(run: Run) -> list[Command]:
    """The queued commands, oldest first, removed from the queue; unreadable or unknown ones are dropped."""
    folder = commands_folder(run)
    if not folder.is_dir():
        return []
    commands = []
    for path in sorted(folder.glob("*.json")):
        try:
            values = json.loads(path.read_text())
            command = Command(str(values["action"]), int(values.get("speed", 0)))
            check_command(command)
            commands.append(command)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # A command from another version of the page, or a hand-made file: nothing to apply.
        path.unlink(missing_ok=True)
    return commands


def clear_commands(run: Run) -> None:
    """Drop commands left from an earlier trainer process, so that a resumed run starts paused."""
    take_commands(run)


@dataclass(frozen=True)
class Snapshot:
    """The latest state of the Playground's views, as the trainer wrote it."""

    values: dict[str, np.ndarray]

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__["values"]
        if name not in values:
            raise AttributeError(f"the Playground snapshot has no {name!r}")
        value = values[name]
        return value.item() if value.ndim == 0 else value


def write_snapshot(run: Run, values: dict[str, Any]) -> None:
    """Replace the run's snapshot with `values` (arrays and scalars) in one rename.

    Not synced to disk: a snapshot is superseded within a fraction of a second, and losing the last one in a
    power cut costs nothing, while a sync several times a second would slow training down.
    """
    folder = playground_folder(run)
    folder.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".snapshot.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez(handle, **{name: np.asarray(value) for name, value in values.items()})
        os.chmod(temporary, 0o644)
        os.replace(temporary, folder / SNAPSHOT_NAME)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_snapshot(run: Run) -> Snapshot | None:
    """The run's latest snapshot, or None before the trainer wrote one."""
    try:
        with np.load(snapshot_path(run), allow_pickle=False) as archive:
            return Snapshot({name: archive[name] for name in archive.files})
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None
