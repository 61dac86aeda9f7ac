"""Waiting for what another process or thread does, with a deadline rather than a fixed sleep."""

from __future__ import annotations

import time


def wait_for(condition, seconds: float, interval: float = 0.25) -> bool:
    """Poll `condition` every `interval` seconds until it holds or `seconds` pass; returns whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
