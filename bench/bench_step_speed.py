"""How many training steps per second does each thread setting and number format give on this machine?

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_step_speed.py [--preset fashion-dcgan] [--set NAME=VALUE ...]
        [--steps 1500] [--rounds 3] [--only WORD ...]

Each setting runs in a fresh process (TensorFlow fixes its thread pools when it starts), builds the preset's trainer
and times its compiled step in a bare loop, after two steps of tracing. The settings take turns, round after round,
so that a machine whose speed drifts (a shared virtual machine, a laptop warming up) slows them all alike; the table
gives each one's median steps per second and its ratio to the baseline measured in the same run: TensorFlow's own
thread pools, computing in float32.

- threads "intra N": N threads inside one operation (a convolution split across cores);
- threads "inter N": N operations at once (the generator's and the discriminator's branches side by side);
- bfloat16: the preset with precision=bfloat16 (skipped where the processor lacks it: see gan_core/nets/precision.py);
- XLA: the same step compiled by XLA (`tf.function(jit_compile=True)`), which fuses small operations;
- updates: the GAN's step alternating (the discriminator's update, then the generator's) or simultaneous (both from
  one pass through the networks).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from project_paths import PROJECT_ROOT

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# (label, intra-op threads, inter-op threads, precision, XLA, updates); 0 threads leaves TensorFlow's choice (one
# per core); updates "" keeps the preset's own.
SETTINGS = (
    ("TensorFlow's threads, float32 (baseline)", 0, 0, "float32", False, ""),
    ("intra 1, inter 2", 1, 2, "float32", False, ""),
    ("intra 2, inter 1", 2, 1, "float32", False, ""),
    ("intra 1, inter 1", 1, 1, "float32", False, ""),
    ("TensorFlow's threads, bfloat16", 0, 0, "bfloat16", False, ""),
    ("TensorFlow's threads, float32, XLA", 0, 0, "float32", True, ""),
    ("updates alternating", 0, 0, "float32", False, "alternating"),
    ("updates simultaneous", 0, 0, "float32", False, "simultaneous"),
)


def time_steps(preset_name: str, settings: dict[str, str], steps: int, intra: int, inter: int, xla: bool) -> float:
    """Steps per second of the preset's compiled step in this process, with the given thread pools."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)
    from gan_core.spec.config import preset
    from gan_core.store.runs import create_run
    from gan_core.training.trainer import Trainer

    with tempfile.TemporaryDirectory() as runs_dir:
        trainer = Trainer(create_run(preset(preset_name, **settings), runs_dir))
        if xla:
            trainer.compiled_step = tf.function(trainer.distributed_step, jit_compile=True)
        for step in range(2):  # trace and warm up
            trainer.compiled_step(tf.constant(step, tf.int64), *trainer.indices_for_step(step))
        started = time.perf_counter()
        for step in range(2, 2 + steps):
            outputs = trainer.compiled_step(tf.constant(step, tf.int64), *trainer.indices_for_step(step))
        float(outputs["d_loss"])
        return steps / (time.perf_counter() - started)


def measure_in_fresh_process(options: argparse.Namespace, intra: int, inter: int, number_format: str,
                             xla: bool, updates: str) -> float:
    command = [sys.executable, __file__, "--worker", "--preset", options.preset, "--steps", str(options.steps),
               "--intra", str(intra), "--inter", str(inter), "--set", f"precision={number_format}",
               *(["--xla"] if xla else [])]
    for pair in options.settings + ([f"updates={updates}"] if updates else []):
        command += ["--set", pair]
    result = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if result.returncode != 0:
        raise SystemExit(f"the measuring process failed:\n{result.stderr[-3000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="fashion-dcgan")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="+", default=[], metavar="WORD",
                        help="measure only the settings whose label holds one of these words (and the baseline)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--intra", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--inter", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--xla", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.worker:
        from bench_time_to_quality import parse_settings

        print(time_steps(options.preset, parse_settings(options.settings), options.steps, options.intra,
                         options.inter, options.xla))
        return

    from gan_core.nets import precision

    wanted = [each for index, each in enumerate(SETTINGS) if index == 0 or not options.only
              or any(word.lower() in each[0].lower() for word in options.only)]
    chosen = [each for each in wanted if each[3] != "bfloat16" or precision.cpu_has_bfloat16()]
    speeds: dict[str, list[float]] = {label: [] for label, *_ in chosen}
    for round_number in range(1, options.rounds + 1):
        for label, intra, inter, number_format, xla, updates in chosen:
            speeds[label].append(measure_in_fresh_process(options, intra, inter, number_format, xla, updates))
            print(f"  round {round_number}  {label:<42} {speeds[label][-1]:7.1f} steps/s", flush=True)
    changed = f" ({', '.join(options.settings)})" if options.settings else ""
    print(f"\n{options.preset}{changed}, {options.steps:,} steps per measure, median of {options.rounds} rounds; "
          f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    print("| setting | steps per second (median) | all rounds | ratio to baseline |")
    print("|---|---|---|---|")
    baseline = statistics.median(speeds[chosen[0][0]])
    for label, values in speeds.items():
        median = statistics.median(values)
        print(f"| {label} | {median:.1f} | {', '.join(f'{value:.1f}' for value in values)} | "
              f"{median / baseline:.3f} |")
    if len(chosen) < len(wanted):
        print("bfloat16 skipped: this processor has no bfloat16 instructions")


if __name__ == "__main__":
    main()
