"""Waiting for the Playground's trainer: it writes a snapshot of every view after each change, which tests read."""

from __future__ import annotations

from gan_core.lab import playground_store
from support.waiting import wait_for


def wait_for_snapshot(run, condition, seconds: float = 120.0) -> playground_store.Snapshot:
    """The first snapshot meeting `condition`; fails the test after `seconds`, showing the trainer's log."""
    found = []

    def check() -> bool:
        snapshot = playground_store.read_snapshot(run)
        if snapshot is not None and condition(snapshot):
            found.append(snapshot)
            return True
        return False

    assert wait_for(check, seconds), f"the trainer wrote no such snapshot; its log:\n{run.tail_log(20)}"
    return found[0]
