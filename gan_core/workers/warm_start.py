"""Warm starts: a process that has imported TensorFlow and Keras once forks the engine's background processes
(trainers, workers, sweeps) from itself, so that each skips the seconds that import takes (docs/benchmarks.md,
"A trainer's start").

The web server keeps one from the first time it shows the Train page (`warm_up`). `start` asks it for a process,
waiting for it to finish importing if it has not yet: a fresh process would have to make the whole import. It
answers None, so that the caller starts a fresh one as before, when there is no starter, it has ended or is stuck,
or it imported TensorFlow in another environment than the one asked for.

A process started warm runs as a fresh one would. The child takes the environment asked for and imports the engine
afresh (gan_core.workers.warm_starter), so that it runs the code on disk and reads the engine's settings (the GAN_
variables) of the moment; only the variables that Python, TensorFlow, Keras and NumPy's BLAS may have read while the
starter imported them must be the starter's.

The starter reads one request per line on its standard input and answers each with the new process's pid on its
standard output; it ends when its standard input closes, which is when the process that started it ends.
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import json
import select
import subprocess
import sys
import threading
from pathlib import Path

# The variables read by Python when it starts (PYTHONPATH, PYTHONHASHSEED, ...), by TensorFlow and Keras when they
# are imported (log levels, oneDNN, the backend, Keras' home folder) and by NumPy's OpenBLAS when it loads (its
# threads). Intel's OpenMP and MKL (KMP_, MKL_), which scikit-learn's import configures, are not loaded by these.
IMPORT_TIME_PREFIXES = ("PYTHON", "LD_", "TF_", "XLA_", "CUDA_", "KERAS_", "OMP_", "OPENBLAS_")
IMPORT_TIME_NAMES = ("HOME", "TMPDIR")
# The package whose modules a starter starts, and which each child imports afresh.
ENGINE = "gan_core"
# An import takes seconds and a fork milliseconds; a starter silent for this long is taken for stuck and ended.
ANSWER_SECONDS = 60.0


class WarmStarter:
    """One starter process, started with `environment` from `directory`, and the requests made of it."""

    def __init__(self, directory: Path, environment: dict[str, str]):
        self.directory, self.started_in = directory, read_on_import(environment)
        self.after_import: dict[str, str] | None = None  # its variables once it has imported, as it says when ready
        # Its standard error goes where its parent's does (the server's log), to say why it ended if it did.
        self.process = subprocess.Popen([sys.executable, "-m", "gan_core.workers.warm_starter"], cwd=directory,
                                        env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.lock = threading.Lock()

    def start(self, command: list[str], log_path: Path, environment: dict[str, str]) -> int | None:
        """The pid of `command`, forked with its output appended to `log_path` and `environment`, once the starter
        is ready; None if its imports read another environment, or it has ended or is stuck (which ends it)."""
        with self.lock:
            if not (self.is_ready() or self.has_become_ready(ANSWER_SECONDS)):
                self.end()
                return None
            if not runs_as_fresh(environment, self.started_in, self.after_import):
                return None
            # As a fresh process's environment ends up: with what its imports add (the child imports them no more).
            added = imports_added(self.started_in, self.after_import)
            request = {"command": command, "log": str(log_path), "directory": str(self.directory),
                       "environment": {**added, **environment}}
            try:
                self.process.stdin.write(json.dumps(request) + "\n")
                self.process.stdin.flush()
                answer = self.answer(ANSWER_SECONDS)
            except (OSError, ValueError):  # a broken pipe: the starter has ended
                answer = None
            if answer is None:
                self.end()
                return None
            return int(json.loads(answer)["pid"])

    def is_ready(self) -> bool:
        return self.after_import is not None

    def has_become_ready(self, seconds: float = 0.0) -> bool:
        """Read the starter's ready line (its variables after its imports), waiting at most `seconds` for it."""
        line = self.answer(seconds)
        if line is not None:
            self.after_import = read_on_import(json.loads(line)["ready"])
        return self.is_ready()

    def answer(self, seconds: float) -> str | None:
        """The starter's next line, waiting at most `seconds`; None when there is none (yet, or any more)."""
        if self.process.poll() is not None:
            return None
        readable, _, _ = select.select([self.process.stdout], [], [], seconds)
        line = self.process.stdout.readline() if readable else ""
        return line.strip() or None

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def end(self) -> None:
        """End the starter (its children go on: each is in a session of its own)."""
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):  # a request half written into a pipe nobody reads any more
                pipe.close()


_starter: WarmStarter | None = None
_starter_lock = threading.Lock()


def read_on_import(environment: dict[str, str]) -> dict[str, str]:
    """The variables that the starter's Python and imports may have read and kept: a child could not change them."""
    return {name: value for name, value in environment.items()
            if name.startswith(IMPORT_TIME_PREFIXES) or name in IMPORT_TIME_NAMES}


def is_engine_command(command: list[str], directory: Path, starter_directory: Path) -> bool:
    """Whether `command` runs an engine module with this Python, from the starter's folder."""
    return (command[:2] == [sys.executable, "-m"] and len(command) > 2 and command[2].split(".")[0] == ENGINE
            and directory == starter_directory)


def runs_as_fresh(environment: dict[str, str], started_in: dict[str, str], after_import: dict[str, str]) -> bool:
    """Whether a process forked by a starter started with the variables `started_in`, which its imports turned into
    `after_import`, is the one a fresh process would be with `environment`.

    The imports' own additions (the engine's TF_CPP_MIN_LOG_LEVEL, for one) are what a fresh process's imports would
    add too, so they count as given; a process that has made the same imports (the web server, for its pictures) has
    them already.
    """
    return {**imports_added(started_in, after_import), **read_on_import(environment)} == after_import


def imports_added(started_in: dict[str, str], after_import: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in after_import.items() if name not in started_in}


def warm_up(directory: Path, environment: dict[str, str]) -> None:
    """Have a starter importing, or ready, unless one is already."""
    global _starter
    with _starter_lock:
        if _starter is None or not _starter.is_alive():
            _starter = WarmStarter(directory, environment)


def end() -> None:
    """End this process's starter, if any: what it starts is fresh until the next `warm_up`."""
    global _starter
    with _starter_lock:
        if _starter is not None:
            _starter.end()
        _starter = None


def start(command: list[str], log_path: Path, directory: Path, environment: dict[str, str]) -> int | None:
    """The pid of `command` started warm, or None: then the caller starts it fresh."""
    with _starter_lock:
        starter = _starter
    if starter is None or not is_engine_command(command, directory, starter.directory):
        return None
    return starter.start(command, log_path, environment)
