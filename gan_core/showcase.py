"""The demo's showcase: small runs the demo trains by itself, so that its very first visitor sees a run learn.

On the first start of a demo whose store holds no finished run, the dashboard launches this module as one
detached process (`python -m gan_core.showcase RUNS_DIR`). It trains digits-mlp, then fashion-dcgan for a few
minutes, one after the other so that they never compete for the CPU, each in its usual trainer process. The runs
are owned by nobody, so no visitor can stop or delete them. A marker file in the runs folder, created
exclusively, makes the start happen once across server restarts and concurrent sessions.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from gan_core import demo, jobs, ownership, runs
from gan_core.config import preset
from gan_core.demo import DemoLimits

MARKER_NAME = ".showcase-started"
PRESETS = ("digits-mlp", "fashion-dcgan")
POLL_SECONDS = 2.0


def marker_path(runs_dir: Path) -> Path:
    return Path(runs_dir) / MARKER_NAME


def claim(runs_dir: Path, note: str = "showcase started") -> bool:
    """Create the marker file; True for the one caller that created it (O_EXCL makes this atomic)."""
    Path(runs_dir).mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(marker_path(runs_dir), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as marker:
        marker.write(f"{note} at {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    return True


def ensure_started(runs_dir: Path, limits: DemoLimits) -> bool:
    """Launch the showcase process on the demo's first start; True when this call did.

    The decision is taken once, by whoever creates the marker: a store that already holds a finished run needs no
    showcase, and the marker then records that, so that later page views only check that the marker exists.
    """
    if limits.showcase_seconds <= 0 or marker_path(runs_dir).exists():
        return False
    if any(run.status.state == "finished" for run in runs.list_runs(runs_dir)):
        claim(runs_dir, note="no showcase needed: a run had already finished")
        return False
    if not claim(runs_dir):
        return False
    project_root = Path(__file__).resolve().parents[1]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(project_root), os.environ.get("PYTHONPATH")]))}
    with open(marker_path(runs_dir), "a") as log:
        subprocess.Popen([sys.executable, "-m", "gan_core.showcase", str(Path(runs_dir).resolve())],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=project_root,
                         env=environment, start_new_session=True)
    return True


def train_showcase(runs_dir: Path, limits: DemoLimits) -> list[runs.Run]:
    """Create and train the showcase runs one after the other; returns them once the last has stopped."""
    made = []
    for name in PRESETS:
        config = preset(name)
        config = config.replace(steps=min(config.steps, limits.max_steps))
        run = runs.create_run(config, runs_dir)
        ownership.record_owner(run, ownership.OwnerRecord(owner_hash=None, showcase=True))
        # digits-mlp finishes in well under a minute; the DCGAN stops with a checkpoint after showcase_seconds.
        jobs.start_run(run, max_seconds=limits.showcase_seconds if name != PRESETS[0] else limits.max_seconds)
        while True:
            jobs.refresh_status(run)
            if not run.status.is_active:
                break
            time.sleep(POLL_SECONDS)
        print(f"{run.run_id}: {run.status.state}: {run.status.message}", flush=True)
        made.append(run)
    return made


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gan_core.showcase", description=__doc__.splitlines()[0])
    parser.add_argument("runs_dir", type=Path)
    options = parser.parse_args(arguments)
    train_showcase(options.runs_dir, demo.limits_from_environment(os.environ))


if __name__ == "__main__":
    main()
