"""Running the command line as a person or a script would: a real `python -m gan_core` process (`gan_core`), or
the same `main` in this test process (`gan_core_here`)."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def gan_core(*arguments, timeout=600):
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "gan_core", *map(str, arguments)],
        capture_output=True, text=True, timeout=timeout, env=environment, cwd=PROJECT_ROOT,
    )


def gan_core_here(*arguments):
    """The command line's `main` called here, its exit code and output returned as `gan_core` returns them.

    For what a command does with a variant's preset: a new process would spend about five seconds of CPU loading
    TensorFlow again. tests/test_cli.py runs the commands as processes of their own.
    """
    from gan_core.__main__ import main

    package_log = logging.getLogger("gan_core")
    handlers = list(package_log.handlers)
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            returncode = main([str(argument) for argument in arguments])
    except SystemExit as exit_request:  # argparse's answer to a bad option
        returncode = exit_request.code
    finally:
        package_log.handlers = handlers  # main adds one for its notices, bound to the output captured above
    return SimpleNamespace(returncode=returncode, stdout=stdout.getvalue(), stderr=stderr.getvalue())


def last_line(result) -> str:
    """What a command printed last: for train and resume, the run directory."""
    return result.stdout.strip().splitlines()[-1]
