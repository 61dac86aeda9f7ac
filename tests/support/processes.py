"""This machine's processes as Linux's /proc shows them: which are alive, their parents, sessions and command lines.

A process just forked shows its parent's command line until it execs, and one that has ended is a zombie, with an
empty command line, until its parent collects it; the callers say how they treat both.
"""

from __future__ import annotations

import os
from pathlib import Path


def live_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def stat_fields(pid: int | str) -> list[str] | None:
    """/proc/PID/stat's fields after the command's name (state, parent, group, session, ...); None once it has gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def session_of(pid: int) -> int | None:
    """The session id of a live (not zombie) process; None for one that has gone."""
    fields = stat_fields(pid)
    return None if fields is None or fields[0] == "Z" else int(fields[3])


def parent_of(pid: int) -> int | None:
    """The parent's pid of a process; None for one that has gone."""
    fields = stat_fields(pid)
    return None if fields is None else int(fields[1])


def command_line(pid: int | str) -> list[str]:
    """A process's command line, one argument each; empty for a zombie or one that has gone."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return []
    return [argument.decode(errors="replace") for argument in arguments if argument]
