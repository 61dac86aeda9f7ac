"""Running the command line as a person or a script would: a real `python -m gan_core` process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def gan_core(*arguments, timeout=600):
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "gan_core", *map(str, arguments)],
        capture_output=True, text=True, timeout=timeout, env=environment, cwd=PROJECT_ROOT,
    )


def last_line(result) -> str:
    """What a command printed last: for train and resume, the run directory."""
    return result.stdout.strip().splitlines()[-1]
