"""Background trainer processes: start, stop, resume, and notice the ones that died.

Each run trains in its own OS process (`python -m gan_core resume RUN_DIR`), detached from whoever started it,
so a browser refresh or a restarted dashboard never touches a run. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from gan_core.store.files import exclusive_lock
from gan_core.store.runs import (DEFAULT_RUNS_DIR, Run, Status, describe_os_error, list_runs, replace_status,
                                 resume_target, status_lock, update_config, write_status)
from gan_core.workers import warm_start

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Every trainer records its pid within moments of starting; an active run without one for this long has none.
NEVER_STARTED_SECONDS = 120
# A trainer on another machine that has written no status for this long while running is taken for gone.
REMOTE_SILENCE_SECONDS = 600

# The background processes this process started and has not yet seen end, kept so that their ends can be collected.
_started_processes: dict[int, subprocess.Popen] = {}
_started_processes_lock = threading.Lock()


@contextmanager
def run_directory_lock(run: Run) -> Iterator[None]:
    """Hold an exclusive lock on the run directory while checking whether a run may start and starting it.

    Two tabs (or a tab and the command line) pressing Resume at once would otherwise both see a stopped run and
    both launch a trainer. The lock is an flock on a file in the run directory, so it also works between
    processes, and the operating system releases it if its holder dies.
    """
    with ExitStack() as held:
        # Only taking the lock is told as "cannot start": an OSError from the block itself passes through as it is.
        try:
            held.enter_context(exclusive_lock(run.path / "start.lock"))
        except OSError as error:
            raise ValueError(f"cannot start run {run.run_id} in {run.path}: {describe_os_error(error)}") from error
        yield


def start_run(run: Run, extra_steps: int | None = None, max_seconds: float | None = None,
              slots: int | None = None) -> int:
    """Launch the trainer for `run` in a new process and return its pid.

    A run with checkpoints continues from the latest one; `extra_steps` trains that many steps beyond it. With
    `slots` the trainer first waits in the run folder's queue until fewer than that many train there (workers.queue).
    """
    with run_directory_lock(run):
        return launch_trainer(run, extra_steps, max_seconds, slots)


def launch_trainer(run: Run, extra_steps: int | None, max_seconds: float | None, slots: int | None = None) -> int:
    """Start the trainer process; the caller holds the run directory's lock."""
    status = run.status
    if status.is_active and process_alive(status.pid):
        raise ValueError(f"run {run.run_id} is already {status.state} (pid {status.pid})")
    run.stop_request_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "gan_core", "resume", str(run.path.resolve())]
    if extra_steps is not None:
        command += ["--steps", str(extra_steps)]
    if max_seconds is not None:
        command += ["--max-seconds", str(max_seconds)]
    if slots is not None:
        command += ["--slots", str(slots)]
    target_step = resume_target(run, extra_steps)
    try:
        write_status(run.path, "queued", "trainer process starting", pid=None, step=status.step,
                     target_step=target_step)
    except OSError as error:
        # A full disk or a read-only folder: say so before a trainer starts that could not save anything.
        raise ValueError(f"cannot start run {run.run_id} in {run.path}: {describe_os_error(error)}") from error
    pid = start_background_process(command, run.log_path)
    # Recorded only while the status is still the one written above: once the trainer reports for itself, its
    # own status stands.
    with status_lock(run.path) as current:
        if current.state == "queued":
            replace_status(run.path, current, "queued", "trainer process starting", pid=pid, step=status.step)
    return pid


def engine_environment() -> dict[str, str]:
    """This process's environment with the project on PYTHONPATH, so that a child finds gan_core from any folder."""
    search_path = [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, search_path))}


def warm_up() -> None:
    """Have a warm starter ready for the background processes this process starts (gan_core.workers.warm_start)."""
    warm_start.warm_up(PROJECT_ROOT, engine_environment())


def start_background_process(command: list[str], log_path: Path) -> int:
    """Start `command` (a gan_core module) in a session of its own, so that it outlives whoever started it, with
    its output appended to `log_path`; returns its pid.

    Warm when this process has a warm starter ready; otherwise fresh, and its end is then collected by
    `reap_finished_processes` (the starter collects its own children's).
    """
    environment = engine_environment()
    pid = warm_start.start(command, log_path, PROJECT_ROOT, environment)
    if pid is not None:
        return pid
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=PROJECT_ROOT, env=environment, start_new_session=True)
    with _started_processes_lock:
        _started_processes[process.pid] = process
    return process.pid


def reap_finished_processes() -> None:
    """Collect the exit of every background process this process started that has ended, without waiting.

    A child that has ended stays a zombie until its parent collects it, and the web server never blocks on its
    trainers. A SIGCHLD handler cannot do it there: Streamlit runs pages in threads, and Python lets only the main
    thread set signal handlers. So every status refresh polls the children it started instead.
    """
    with _started_processes_lock:
        for pid, process in list(_started_processes.items()):
            if process.poll() is not None:
                del _started_processes[pid]


def resume_run(
    run: Run,
    extra_steps: int | None = None,
    max_seconds: float | None = None,
    config_changes: dict[str, Any] | None = None,
    slots: int | None = None,
) -> int:
    """Continue a stopped, finished, failed or diverged run from its latest checkpoint (queued for one of `slots`
    if given, as `start_run` does).

    `config_changes` (e.g. lower learning rates for a diverged run) are validated and saved to its config.json
    before the trainer starts, under the same lock, so two tabs cannot both apply them.
    """
    with run_directory_lock(run):
        refresh_status(run)
        status = run.status
        if status.is_active:
            raise ValueError(f"run {run.run_id} is {status.state}; it can be resumed once it has stopped")
        target_step = run.progress_target(status)
        if extra_steps is None and status.step >= target_step:
            raise ValueError(f"run {run.run_id} already reached its {target_step:,} steps; "
                             f"give a number of extra steps")
        if config_changes:
            update_config(run, **config_changes)
        return launch_trainer(run, extra_steps, max_seconds, slots)


def stop_run(run: Run) -> None:
    """Ask the trainer to checkpoint and exit at its next step boundary (a file it checks every step)."""
    # Under the status lock from the read to the write: a trainer that sees the request at once waits for the lock
    # to write its final status, which therefore comes after "stopping" and is never overwritten by it.
    with status_lock(run.path) as status:
        if not status.is_active:
            raise ValueError(f"run {run.run_id} is {status.state}, not running")
        run.stop_request_path.touch()
        replace_status(run.path, status, "stopping", "stop requested; the trainer checkpoints and exits",
                       pid=status.pid, step=status.step)


def stop_if_active(run: Run) -> None:
    """`stop_run` for a run that may have ended meanwhile, which is left as it is."""
    try:
        stop_run(run)
    except ValueError:
        pass


def process_alive(pid: int | None) -> bool:
    """True when `pid` is a live (not zombie) gan_core process; pids can be reused by unrelated programs."""
    if not pid:
        return False
    try:
        # Reap our own finished children, which would otherwise linger as zombies and look alive.
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"gan_core" in handle.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        # No /proc (e.g. macOS): fall back to asking whether the pid exists at all.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def refresh_status(run: Run) -> None:
    """Mark an active run whose process has gone, or never came, as failed, quoting the end of its log; collect the
    ends of this process's finished background processes on the way.

    A run folder that has become read-only (or full) cannot take the note; pages go on showing the old status
    rather than failing, and the server's log says why.
    """
    reap_finished_processes()
    try:
        mark_failed_if_abandoned(run)
    except OSError as error:
        logger.warning("cannot update the status of run %s: %s", run.run_id, describe_os_error(error))


def mark_failed_if_abandoned(run: Run) -> None:
    if not looks_abandoned(run.status):
        return  # the common case, decided without taking the lock
    # Decided again under the lock: the trainer may have written its final status since the first read.
    with status_lock(run.path) as status:
        if not looks_abandoned(status):
            return
        if status.host and status.host != socket.gethostname():
            message = (f"the trainer on {status.host} (pid {status.pid}) has not reported for "
                       f"{(time.time() - status.updated) / 60:.0f} min; resume it to go on from its last checkpoint")
        elif not status.pid:
            message = "no trainer process ever took this run on; resume it to try again"
        else:
            last_lines = run.tail_log(5).strip() or "the log is empty"
            message = f"the trainer process (pid {status.pid}) ended without finishing. Last log lines:\n{last_lines}"
        replace_status(run.path, status, "failed", message, pid=None, step=status.step)


def looks_abandoned(status: Status) -> bool:
    """Whether an active status has no trainer behind it: its process has gone, or none came in time. A process on
    another machine (a run store shared by a cluster) cannot be looked up here: a trainer there rewrites its status at
    every metrics row, so one silent for REMOTE_SILENCE_SECONDS while "running" has gone."""
    if not status.is_active:
        return False
    if status.host and status.host != socket.gethostname():
        return status.state == "running" and time.time() - status.updated > REMOTE_SILENCE_SECONDS
    if not status.pid:
        return time.time() - status.updated > NEVER_STARTED_SECONDS
    return not process_alive(status.pid)


def refresh_all(runs_dir: Path | str = DEFAULT_RUNS_DIR) -> list[Run]:
    """Check every active run's process; returns the runs that are still active."""
    active = []
    for run in list_runs(runs_dir):
        refresh_status(run)
        if run.status.is_active:
            active.append(run)
    return active
