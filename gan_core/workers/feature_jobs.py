"""Training a dataset's feature classifier in a worker process, with its progress in a small status file.

The classifier takes about half a minute to train on two cores, too long for a web server to block on (every
visitor would wait). So the Evaluate page starts `python -m gan_core prepare-features DATASET` and polls
`<cache dir>/classifiers/<dataset>.preparing.json`; the worker trains through `features.classifier_extractor`,
whose lock file makes two workers for the same data train once. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from gan_core.measuring import features
from gan_core.measuring.features import default_cache_dir
from gan_core.workers.jobs import process_alive, reap_finished_processes, start_background_process

STATES = ("none", "starting", "training", "done", "failed")


@dataclass(frozen=True)
class Preparation:
    """What the worker last reported: state (one of STATES), fraction trained (0..1), a message, its pid."""

    state: str
    fraction: float = 0.0
    message: str = ""
    pid: int | None = None

    @property
    def is_active(self) -> bool:
        return self.state in ("starting", "training")


def status_path(dataset_name: str, cache_dir: Path | str | None = None) -> Path:
    """Where the worker for `dataset_name` reports its progress."""
    cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return cache_dir / "classifiers" / f"{dataset_name}.preparing.json"


def preparation_status(dataset_name: str, cache_dir: Path | str | None = None) -> Preparation:
    """The worker's last report; an active state whose process has gone is reported as failed. Collects the ends
    of this process's finished background processes on the way."""
    reap_finished_processes()
    path = status_path(dataset_name, cache_dir)
    try:
        report = json.loads(path.read_text())
        status = Preparation(report["state"], float(report["fraction"]), report["message"], report["pid"])
    except FileNotFoundError:
        return Preparation("none")
    except (OSError, ValueError, KeyError, TypeError) as error:
        return Preparation("failed", message=f"the progress file {path} is unreadable ({error})")
    if status.is_active and status.pid is not None and not process_alive(status.pid):
        log_path = path.with_suffix(".log")
        return Preparation("failed", status.fraction, f"the worker process ended unexpectedly; its output is in "
                           f"{log_path}", status.pid)
    return status


def start_preparation(dataset_name: str, cache_dir: Path | str | None = None) -> int:
    """Start the worker that trains `dataset_name`'s classifier, unless one is already at it; returns its pid."""
    current = preparation_status(dataset_name, cache_dir)
    if current.is_active and current.pid is not None:
        return current.pid
    path = status_path(dataset_name, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "gan_core", "prepare-features", dataset_name]
    if cache_dir is not None:
        command += ["--cache-dir", str(cache_dir)]
    starting = Preparation("starting", 0.0, "the worker process is starting")
    write_preparation(path, starting)  # before the worker exists, so that none of its own reports comes before it
    try:
        pid = start_background_process(command, path.with_suffix(".log"))
    except OSError as error:
        write_preparation(path, Preparation("failed", 0.0, f"the worker could not start: {error}"))
        raise ValueError(f"cannot start the {dataset_name} classifier's worker: {error}") from error
    # The worker reports "training" itself once TensorFlow is imported; until then the pid says who is on its way.
    if preparation_status(dataset_name, cache_dir).state == "starting":
        write_preparation(path, Preparation("starting", 0.0, starting.message, pid))
    return pid


def prepare_features(dataset_name: str, cache_dir: Path | str | None = None) -> None:
    """The worker's body: train (or load) the classifier, reporting progress; raises ValueError if it cannot."""

    path = status_path(dataset_name, cache_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    write_preparation(path, Preparation("training", 0.0, "loading the data", pid))

    def report(fraction: float) -> None:
        write_preparation(path, Preparation("training", fraction, f"training: {fraction:.0%}", pid))

    try:
        extractor = features.classifier_extractor(dataset_name, cache_dir, on_progress=report)
    except ValueError as error:
        write_preparation(path, Preparation("failed", 0.0, str(error), pid))
        raise
    write_preparation(path, Preparation("done", 1.0, f"ready: {extractor.name}", pid))


def write_preparation(path: Path, status: Preparation) -> None:
    """Replace the status file in one step (written under a unique name, then renamed), so a reader never sees
    half of it."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(json.dumps({"state": status.state, "fraction": status.fraction, "message": status.message,
                                     "pid": status.pid, "updated": time.time()}))
    os.replace(temporary, path)
