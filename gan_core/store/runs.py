"""The run store: one directory per run, readable by any number of processes while its trainer writes.

    runs/<run_id>/
      config.json     the RunConfig, written once
      status.json     state + message, replaced atomically under status.lock
      metrics.sqlite  per-step scalars (WAL mode: one writer, many readers), evaluations, human judgements
      samples/        step_00000200.png ... fixed-noise grids
      checkpoints/    tf.train.CheckpointManager files
      trainer.log     what the trainer process printed
This module never imports TensorFlow, so pages that only read runs stay light.
"""

from __future__ import annotations

import datetime
import errno
import json
import logging
import os
import re
import secrets
import shutil
import socket
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from gan_core.store import uploads
from gan_core.spec.config import RunConfig
from gan_core.store.files import exclusive_lock, write_text_atomically

log = logging.getLogger(__name__)

DEFAULT_RUNS_DIR = Path(os.environ.get("GAN_RUNS_DIR", "runs"))
JOURNAL_VARIABLE = "GAN_SQLITE_JOURNAL"

STATES = ("queued", "running", "stopping", "stopped", "finished", "failed", "diverged")
ACTIVE_STATES = ("queued", "running", "stopping")

# The per-step scalars a trainer logs, in column order.
METRIC_COLUMNS = (
    "d_loss",
    "g_loss",
    "d_real",  # mean discriminator output (logit) on real examples
    "d_fake",  # mean discriminator output (logit) on generated examples
    "d_grad_norm",
    "g_grad_norm",
    "gradient_penalty",
    "images_per_second",
)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS metrics (
    step INTEGER PRIMARY KEY,
    wall_time REAL NOT NULL,
    {", ".join(f"{column} REAL" for column in METRIC_COLUMNS)}
);
CREATE TABLE IF NOT EXISTS evaluations (
    step INTEGER NOT NULL,
    feature_space TEXT NOT NULL,
    sample_count INTEGER NOT NULL,
    results TEXT NOT NULL,
    wall_time REAL NOT NULL,
    PRIMARY KEY (step, feature_space, sample_count)
);
CREATE TABLE IF NOT EXISTS judgements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    wall_time REAL NOT NULL,
    image_key TEXT NOT NULL,
    is_real INTEGER NOT NULL,
    answered_real INTEGER NOT NULL
);
"""

# Names a metric may have: they become SQL column names.
METRIC_NAME = re.compile(r"[a-z][a-z0-9_]*")

SQLITE_HEADER = b"SQLite format 3\x00"  # the first bytes of every SQLite database file

SAMPLE_NAME = re.compile(r"step_(\d+)\.png$")
# Checkpoint files are named <CHECKPOINT_STEM>-<step>.index and .data-*; the trainer saves them under this name.
CHECKPOINT_STEM = "ckpt"
CHECKPOINT_NAME = re.compile(rf"{CHECKPOINT_STEM}-(\d+)\.index$")


@dataclass(frozen=True)
class Status:
    state: str
    message: str = ""
    pid: int | None = None
    step: int = 0
    updated: float = 0.0
    # The step the current (or last) stretch of training aims for: config.steps at first, more after "Train
    # more". None in status files written before it was recorded.
    target_step: int | None = None
    # Seconds the run's trainer processes have spent training, summed over every resume (a demo caps it).
    trained_seconds: float = 0.0
    # The machine whose process `pid` is: a run store shared by several machines holds runs trained elsewhere.
    host: str | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True)
class Run:
    """A handle on one run directory. Cheap to build; every property reads the disk afresh."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def config(self) -> RunConfig:
        return RunConfig.from_json((self.path / "config.json").read_text())

    @property
    def status(self) -> Status:
        return read_status(self.path)

    def progress_target(self, status: Status | None = None) -> int:
        """The step that progress is measured against: "step X of TARGET", never with X beyond TARGET."""
        status = self.status if status is None else status
        return max(status.target_step or self.config.steps, status.step)

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def database_path(self) -> Path:
        return self.path / "metrics.sqlite"

    @property
    def log_path(self) -> Path:
        return self.path / "trainer.log"

    @property
    def stop_request_path(self) -> Path:
        return self.path / "stop_requested"

    def sample_steps(self) -> list[int]:
        """Steps at which a fixed-noise grid was saved, in order."""
        return steps_named_in(self.samples_dir, SAMPLE_NAME)

    def sample_path(self, step: int) -> Path:
        return self.samples_dir / f"step_{step:08d}.png"

    def latest_sample_path(self) -> Path | None:
        steps = self.sample_steps()
        return self.sample_path(steps[-1]) if steps else None

    def checkpoint_steps(self) -> list[int]:
        """Steps with a saved checkpoint, in order (read from the file names; no TensorFlow needed)."""
        return steps_named_in(self.checkpoints_dir, CHECKPOINT_NAME)

    def dataset_summary(self) -> dict[str, Any]:
        """What the trainer recorded about its data: num_examples, class_names, skipped files ({} before it ran)."""
        try:
            return json.loads((self.path / "dataset.json").read_text())
        except (OSError, json.JSONDecodeError):
            return {}

    def latest_step(self) -> int:
        """The last step with logged metrics (0 before the first row)."""
        with connect(self.database_path, readonly=True) as connection:
            row = connection.execute("SELECT MAX(step) FROM metrics").fetchone()
        return int(row[0] or 0)

    def metrics_since(self, step: int = -1) -> list[dict[str, Any]]:
        """Rows logged after `step`, oldest first, as dicts of step, wall_time and METRIC_COLUMNS."""
        with connect(self.database_path, readonly=True) as connection:
            cursor = connection.execute("SELECT * FROM metrics WHERE step > ? ORDER BY step", (step,))
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def tail_log(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 20_000))
            text = handle.read().decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # Evaluations and human judgements live in the same database, so a run directory stays self-contained.
    def save_evaluation(self, step: int, feature_space: str, sample_count: int, results: dict[str, Any]) -> None:
        with connect(self.database_path) as connection:
            connection.execute(
                "INSERT OR REPLACE INTO evaluations VALUES (?, ?, ?, ?, ?)",
                (step, feature_space, sample_count, json.dumps(results), time.time()),
            )

    def evaluations(self, feature_space: str | None = None) -> list[dict[str, Any]]:
        query, arguments = "SELECT step, feature_space, sample_count, results FROM evaluations", ()
        if feature_space is not None:
            query, arguments = query + " WHERE feature_space = ?", (feature_space,)
        with connect(self.database_path, readonly=True) as connection:
            rows = connection.execute(query + " ORDER BY step", arguments).fetchall()
        return [
            {"step": step, "feature_space": space, "sample_count": count, "results": json.loads(results)}
            for step, space, count, results in rows
        ]

    def add_judgement(self, image_key: str, is_real: bool, answered_real: bool) -> None:
        with connect(self.database_path) as connection:
            connection.execute(
                "INSERT INTO judgements (wall_time, image_key, is_real, answered_real) VALUES (?, ?, ?, ?)",
                (time.time(), image_key, int(is_real), int(answered_real)),
            )

    def judgements(self) -> list[dict[str, Any]]:
        with connect(self.database_path, readonly=True) as connection:
            rows = connection.execute(
                "SELECT wall_time, image_key, is_real, answered_real FROM judgements ORDER BY id"
            ).fetchall()
        return [
            {"wall_time": wall_time, "image_key": key, "is_real": bool(real), "answered_real": bool(answer)}
            for wall_time, key, real, answer in rows
        ]

    def clear_judgements(self) -> None:
        with connect(self.database_path) as connection:
            connection.execute("DELETE FROM judgements")


def steps_named_in(folder: Path, pattern: re.Pattern) -> list[int]:
    """The step numbers in the names of the files in `folder` that match `pattern`, in order."""
    if not folder.is_dir():
        return []
    return sorted(int(match.group(1)) for entry in folder.iterdir() if (match := pattern.match(entry.name)))


def journal_mode() -> str:
    """SQLite's journal for a trainer's metrics: "wal" (the default: readers never wait for the writer) or, with
    $GAN_SQLITE_JOURNAL=delete, the rollback journal, for a run store on a network filesystem shared by several
    hosts, where WAL's shared memory does not reach."""
    mode = os.environ.get(JOURNAL_VARIABLE, "wal").strip().lower() or "wal"
    if mode not in ("wal", "delete"):
        raise ValueError(f"{JOURNAL_VARIABLE}={mode!r} must be wal or delete")
    return mode


def connect(database_path: Path, readonly: bool = False) -> ClosingConnection:
    """Open the run's SQLite database. WAL mode lets the UI read while the trainer writes."""
    return ClosingConnection(database_path, readonly)


class ClosingConnection:
    """A context manager that commits on success and always closes (sqlite3's own one only commits)."""

    def __init__(self, database_path: Path, readonly: bool) -> None:
        if readonly:
            self.connection = sqlite3.connect(f"file:{database_path}?mode=ro", uri=True, timeout=10)
            try:
                self.connection.execute("SELECT 1 FROM sqlite_master LIMIT 1")
            except sqlite3.OperationalError as error:
                self.connection.close()
                if "unable to open" not in str(error):
                    raise
                # A WAL database in a read-only folder (a mounted copy, a read-only disk) cannot be opened as
                # usual: SQLite would need to create its -shm file beside it. Nothing can write there either, so
                # the file is safely read as immutable.
                self.connection = sqlite3.connect(f"file:{database_path}?immutable=1", uri=True, timeout=10)
        else:
            self.connection = sqlite3.connect(database_path, timeout=10)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, error_type, error, traceback) -> None:
        try:
            if error_type is None:
                self.connection.commit()
        finally:
            self.connection.close()


class MetricsWriter:
    """The trainer's single connection to metrics.sqlite, kept open for the whole run."""

    def __init__(self, database_path: Path) -> None:
        self.connection = sqlite3.connect(database_path, timeout=10)
        self.connection.execute(f"PRAGMA journal_mode={journal_mode()}")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        # Read once: this writer is the table's only writer while it is open, so it knows every column added.
        self.columns = {row[1] for row in self.connection.execute("PRAGMA table_info(metrics)")}

    def write(self, rows: list[dict[str, float]]) -> None:
        """Store rows of step, wall_time and any named metrics; a metric not seen before gets its own column.

        Every run's table starts with METRIC_COLUMNS; a variant's own metrics (InfoGAN's mutual information,
        BEGAN's k_t, ...) are added as they first appear, so one table serves every variant.
        """
        names = {name for row in rows for name in row}
        self.add_columns(sorted(names))
        columns = ("step", "wall_time") + tuple(sorted(names - {"step", "wall_time"}))
        placeholders = ", ".join("?" for _ in columns)
        self.connection.executemany(
            f"INSERT OR REPLACE INTO metrics ({', '.join(columns)}) VALUES ({placeholders})",
            [tuple(row.get(column) for column in columns) for row in rows],
        )
        self.connection.commit()

    def add_columns(self, names: list[str]) -> None:
        for name in names:
            if name not in self.columns:
                if not METRIC_NAME.fullmatch(name):
                    raise ValueError(f"metric name {name!r} must be lower-case letters, digits and underscores")
                self.connection.execute(f"ALTER TABLE metrics ADD COLUMN {name} REAL")
                self.columns.add(name)

    def truncate_after(self, step: int) -> None:
        """Forget rows past `step`: after a resume from an earlier checkpoint they describe a lost future."""
        self.connection.execute("DELETE FROM metrics WHERE step > ?", (step,))
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def new_run_id(config: RunConfig) -> str:
    """A sortable, unique, filesystem-safe id: time, a slug of the name, and a random suffix."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", (config.name or config.dataset).lower()).strip("-")[:32] or "run"
    return f"{stamp}-{slug}-{secrets.token_hex(2)}"


def create_run(config: RunConfig, runs_dir: Path | str = DEFAULT_RUNS_DIR) -> Run:
    """Make a new run directory holding the config, a queued status and an empty database.

    A runs folder that cannot be written (read-only, full, not a folder) raises ValueError naming the path and
    the reason, and leaves no half-made run directory behind.
    """
    runs_dir = Path(runs_dir)
    path = runs_dir / new_run_id(config)
    try:
        runs_dir.mkdir(parents=True, exist_ok=True)
        path.mkdir()
    except OSError as error:
        raise ValueError(f"cannot create a run in {runs_dir}: {describe_os_error(error)}") from error
    try:
        (path / "samples").mkdir()
        (path / "checkpoints").mkdir()
        write_text_atomically(path / "config.json", config.to_json())
        with connect(path / "metrics.sqlite") as connection:
            connection.execute(f"PRAGMA journal_mode={journal_mode()}")
            connection.executescript(SCHEMA)
        write_status(path, "queued", "waiting for its trainer process to start", target_step=config.steps)
    except (OSError, sqlite3.Error) as error:
        shutil.rmtree(path, ignore_errors=True)
        raise ValueError(f"cannot create a run in {runs_dir}: {describe_os_error(error)}") from error
    return Run(path)


def describe_os_error(error: BaseException) -> str:
    """A reason a person can act on, for the errors a full disk or a read-only folder cause."""
    number = getattr(error, "errno", None)
    if number == errno.ENOSPC:
        return "the disk is full"
    if number == errno.EROFS:
        return "the file system is read-only"
    if number in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if number == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return str(error)


def resume_target(run: Run, extra_steps: int | None = None) -> int:
    """The step a resume trains to: `extra_steps` beyond the latest checkpoint, else the run's current target."""
    start = max(run.checkpoint_steps(), default=0)
    if extra_steps:
        return start + extra_steps
    return max(run.progress_target(), start)


def update_config(run: Run, **changes: Any) -> RunConfig:
    """Change fields of a stopped run's config (validated as a new config) and save it atomically."""
    if run.status.is_active:
        raise ValueError(f"run {run.run_id} is {run.status.state}; stop it before changing its config")
    config = run.config.replace(**changes)
    try:
        write_text_atomically(run.path / "config.json", config.to_json())
    except OSError as error:
        raise ValueError(f"cannot save the config of run {run.run_id} in {run.path}: "
                         f"{describe_os_error(error)}") from error
    return config


def open_run(path: Path | str) -> Run:
    """A handle on an existing run directory; ValueError if the path is not one."""
    path = Path(path)
    if not (path / "config.json").is_file() or not (path / "metrics.sqlite").is_file():
        raise ValueError(f"{path} is not a run directory (it needs config.json and metrics.sqlite)")
    return Run(path)


def list_runs(runs_dir: Path | str = DEFAULT_RUNS_DIR) -> list[Run]:
    """Every readable run below `runs_dir`, newest first.

    Directories that are not runs are ignored, and so are runs whose config or database cannot be read (a
    permission problem, a damaged disk), with a warning in the server's log: one broken run must not break
    every page that lists runs.
    """
    runs_dir = Path(runs_dir)
    try:
        entries = list(runs_dir.iterdir()) if runs_dir.is_dir() else []
    except OSError as error:
        log.warning("cannot list the runs in %s: %s", runs_dir, describe_os_error(error))
        return []
    runs = [Run(path) for path in entries if is_readable_run(path)]
    return sorted(runs, key=lambda run: run.run_id, reverse=True)


def is_readable_run(path: Path) -> bool:
    """True for a run directory whose config parses and whose database opens; False for anything else."""
    try:
        if not (path / "config.json").is_file():
            return False
        RunConfig.from_json((path / "config.json").read_text())
        with open(path / "metrics.sqlite", "rb") as database:
            header = database.read(len(SQLITE_HEADER))
        if header not in (b"", SQLITE_HEADER):  # An empty file is a valid, empty SQLite database.
            raise ValueError("metrics.sqlite is not an SQLite database")
        return True
    except (OSError, ValueError) as error:
        log.warning("skipping run %s, which cannot be read: %s", path, describe_os_error(error))
        return False


def delete_run(run: Run) -> None:
    """Remove a run directory, and the upload it trained on when no other run uses that upload.

    A run that is still training must be stopped first.
    """
    upload_folder = uploads.upload_folder_of(run.config.data_path)
    # Under the status lock: a Resume pressed meanwhile in another tab waits for it, then finds no run to start.
    with status_lock(run.path) as status:
        if status.is_active:
            raise ValueError(f"run {run.run_id} is {status.state}; stop it before deleting it")
        shutil.rmtree(run.path)
    if upload_folder is not None:
        uploads.remove_if_unused(upload_folder, (other.config.data_path for other in list_runs(run.path.parent)))


STATUS_LOCK_NAME = "status.lock"


@contextmanager
def status_lock(path: Path) -> Iterator[Status]:
    """Hold the run's status lock and yield its status as it stands.

    Every status write takes it. A writer that decides what to write from what it read (a stop request, a note that
    the trainer died) holds it from the read to the write, so that a final status the trainer writes in between is
    never overwritten with an active one. It is an flock: it works between processes and goes with a holder that dies.
    """
    with exclusive_lock(path / STATUS_LOCK_NAME):
        yield read_status(path)


def write_status(
    path: Path, state: str, message: str = "", pid: int | None = None, step: int = 0, target_step: int | None = None,
    trained_seconds: float | None = None,
) -> None:
    """Replace status.json atomically, so a reader never sees half a file, under the status lock.

    Without a `target_step` or `trained_seconds` the ones already recorded are kept: writers that do not know them
    (a stop request, a notice that the trainer died) must not erase them.
    """
    with status_lock(path) as recorded:
        replace_status(path, recorded, state, message, pid, step, target_step, trained_seconds)


def replace_status(
    path: Path, recorded: Status, state: str, message: str = "", pid: int | None = None, step: int = 0,
    target_step: int | None = None, trained_seconds: float | None = None,
) -> None:
    """`write_status` for a caller inside `status_lock(path)`, which yielded `recorded`."""
    if state not in STATES:
        raise ValueError(f"status {state!r} is not one of {', '.join(STATES)}")
    payload = {
        "state": state, "message": message, "pid": pid, "step": step,
        "target_step": recorded.target_step if target_step is None else target_step,
        "trained_seconds": recorded.trained_seconds if trained_seconds is None else trained_seconds,
        "updated": time.time(), "host": socket.gethostname() if pid else None,
    }
    write_text_atomically(path / "status.json", json.dumps(payload))


def read_status(path: Path) -> Status:
    try:
        payload = json.loads((path / "status.json").read_text())
    except (OSError, json.JSONDecodeError):
        return Status("failed", "status.json is missing or unreadable")
    return Status(
        state=payload.get("state", "failed"),
        message=payload.get("message", ""),
        pid=payload.get("pid"),
        step=payload.get("step", 0),
        updated=payload.get("updated", 0.0),
        target_step=payload.get("target_step"),
        trained_seconds=payload.get("trained_seconds", 0.0),
        host=payload.get("host"),
    )


def iter_active(runs_dir: Path | str = DEFAULT_RUNS_DIR) -> Iterator[Run]:
    for run in list_runs(runs_dir):
        if run.status.is_active:
            yield run
