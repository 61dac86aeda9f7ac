"""Ending the demo's showcase after a test, with everything it started, so that no trainer outlives the test."""

from __future__ import annotations

import os
from pathlib import Path

from gan_core.workers import jobs
from gan_core.store import runs
from gan_core.demo_mode import showcase
from support.processes import command_line, live_pids
from support.waiting import wait_for


def stop_showcase(runs_dir, cache_dir):
    """End the showcase process, then the classifier workers and trainers it started (by their pids).

    The showcase goes first, so that it cannot start another worker after the workers' pids were read: one started
    that way would train on through the next tests, loading the cores they time their waits on.
    """
    import signal

    from gan_core.workers import feature_jobs

    showcase_pid = showcase.showcase_pid(runs_dir)
    if showcase_pid and jobs.process_alive(showcase_pid):
        os.kill(showcase_pid, signal.SIGKILL)
        assert wait_for(lambda: not jobs.process_alive(showcase_pid), 30)
    pids = [feature_jobs.preparation_status(name, cache_dir).pid for name in ("digits", "fashion_mnist")]
    pids += [run.status.pid for run in runs.list_runs(runs_dir) if run.status.is_active]
    # A trainer the showcase launched just before it was killed has not written its pid yet; its command line names
    # its run, inside runs_dir.
    pids += processes_naming(runs_dir)
    for pid in set(filter(None, pids)):
        if jobs.process_alive(pid):
            os.kill(pid, signal.SIGKILL)


def processes_naming(folder) -> list[int]:
    """The pids of this machine's other processes whose command line names `folder` or a path inside it."""
    wanted = str(Path(folder).resolve())
    found = []
    for pid in live_pids():
        if pid != os.getpid() and any(argument == wanted or argument.startswith(wanted + os.sep)
                                      for argument in command_line(pid)):
            found.append(pid)
    return found
