"""Finished runs for tests that read them (pages, workers, the browser), trained in the test's own process.

Training in process skips the command line's start-up (a fresh Python importing TensorFlow, seconds on 2 cores);
the tests of the command line itself run it as a person would, through tests/support/cli.py.
"""

from __future__ import annotations

from pathlib import Path

from gan_core.spec.config import preset
from gan_core.store.runs import Run, create_run, open_run
from gan_core.training.trainer import Trainer


def trained_run(runs_dir: Path, preset_name: str, **settings) -> Run:
    """A run of preset `preset_name` with `settings` in `runs_dir`, trained to its last step; read afresh."""
    run = create_run(preset(preset_name, **settings), Path(runs_dir))
    assert Trainer(run).train() == "finished", run.status.message
    return open_run(run.path)
