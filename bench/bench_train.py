"""How fast does gan_core train on this machine, and what does the run store cost?

    python3 bench/bench_train.py [--steps N]

It reads the datasets the way the app does; mnist-cgan needs MNIST, so on an offline machine point GAN_DATA_DIR
at it first (e.g. `GAN_DATA_DIR=../shared/datasets python3 bench/bench_train.py`).

For each preset it times N steps of the full trainer (metrics to SQLite, TensorBoard, sample grids and
checkpoints on the preset's schedule) against, as the baseline measured in the same run, the same compiled
step called in a bare loop with nothing written. The ratio is the trainer's speed relative to that bare loop.
It also times the README's promise: `python -m gan_core train --preset digits-mlp --steps 300`, start to end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from project_paths import PROJECT_ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

from gan_core.training import throughput  # noqa: E402
from gan_core.spec.config import preset  # noqa: E402
from gan_core.store.runs import create_run  # noqa: E402
from gan_core.training.trainer import Trainer  # noqa: E402

PRESETS = ("digits-mlp", "ring-mlp", "fashion-dcgan", "fashion-wgan-gp", "mnist-cgan")


def bare_loop_seconds(trainer: Trainer, steps: int) -> float:
    """The compiled step alone: no metrics, samples or checkpoints."""
    for step in range(2):  # trace and warm up
        trainer.compiled_step(tf.constant(step, tf.int64), *trainer.indices_for_step(step))
    started = time.perf_counter()
    for step in range(steps):
        outputs = trainer.compiled_step(tf.constant(step, tf.int64), *trainer.indices_for_step(step))
    float(outputs["d_loss"])
    return time.perf_counter() - started


def trainer_seconds(name: str, steps: int, runs_dir: str) -> float:
    trainer = Trainer(create_run(preset(name, steps=steps + 2), runs_dir))
    trainer.train(target_step=2)  # trace and warm up, as the bare loop does
    started = time.perf_counter()
    trainer.train()
    return time.perf_counter() - started


def digits_command_seconds(runs_dir: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "gan_core", "train", "--preset", "digits-mlp", "--steps", "300", "--runs-dir", runs_dir],
        check=True, capture_output=True, cwd=PROJECT_ROOT,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs_dir:
        print(f"{'preset':<18}{'bare steps/s':>14}{'trainer steps/s':>17}{'images/s':>10}{'ratio':>8}")
        for name in PRESETS:
            config = preset(name)
            bare = options.steps / bare_loop_seconds(Trainer(create_run(config, runs_dir)), options.steps)
            full = options.steps / trainer_seconds(name, options.steps, runs_dir)
            images = full * throughput.images_per_step(config)
            print(f"{name:<18}{bare:>14.1f}{full:>17.1f}{images:>10.0f}{full / bare:>8.2f}")
        seconds = digits_command_seconds(runs_dir)
        print(f"\n`python -m gan_core train --preset digits-mlp --steps 300`: {seconds:.1f} s (target: under 60 s)")


if __name__ == "__main__":
    main()
