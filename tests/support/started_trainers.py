"""Ending the trainer process a page started, once a test has checked what it needs of the run and not of the
trainer: by SIGKILL, since a stop request is only seen by a trainer that has loaded TensorFlow and built its
networks, seconds of CPU spent for nothing (and taken from the tests running beside it). And holding one still
while a test checks what its run looks like to others."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from gan_core.store.runs import Run
from gan_core.workers import jobs
from support.waiting import wait_for


def end_trainer(run: Run, seconds: float = 120.0) -> None:
    """SIGKILL the trainer process of `run` (whoever started it) and wait until it is gone."""
    found = []

    def trainer_known() -> bool:
        # A run's folder is listed a moment before its status is written, the starter records the pid a moment
        # after writing the "queued" status, and the new process is a gan_core one (jobs.process_alive) only once
        # it has replaced the starter's program with the trainer's.
        if not (run.path / "status.json").exists():
            return False
        status = run.status
        if not status.is_active:
            found[:] = [None]
        elif status.pid and jobs.process_alive(status.pid):
            found[:] = [status.pid]
        elif status.pid and not live(status.pid):
            found[:] = [None]
        return bool(found)

    assert wait_for(trainer_known, seconds), run.status
    [pid] = found
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    assert wait_for(lambda: not jobs.process_alive(pid), seconds), f"trainer {pid} of {run.run_id} still runs"


def live(pid: int) -> bool:
    """Whether process `pid` exists and has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


@contextmanager
def held_still(*runs: Run, seconds: float = 180.0) -> Iterator[Run]:
    """Stop the trainer of the first of `runs` to report "running" (SIGSTOP), and let it go on (SIGCONT) after the
    block, which is given that run.

    Its process stays alive, so the run stays active and keeps its place under the trainer caps (or its slot), while
    the pages a test opens meanwhile get the CPU it would have trained with. The status files are read often, so that
    a trainer running for a second or two is still caught, and read again once it is held: it may have written its
    last status between the two.
    """
    running = []

    def one_running() -> bool:
        running[:] = [run for run in runs if run.status.state == "running"][:1]
        return bool(running)

    assert wait_for(one_running, seconds, interval=0.02), [run.status for run in runs]
    [run] = running
    pid = run.status.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        assert run.status.state == "running", f"the trainer of {run.run_id} ended before it was held: {run.status}"
        yield run
    finally:
        with suppress(ProcessLookupError):  # a trainer that died meanwhile has nothing to go on with
            os.kill(pid, signal.SIGCONT)
