"""How many training steps per second does each thread setting and number format give on this machine?

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_step_speed.py [--preset fashion-dcgan] [--set NAME=VALUE ...]
        [--steps 1500] [--rounds 3] [--only WORD ...]
    GAN_DATA_DIR=../shared/datasets python3 bench/bench_step_speed.py --roof [--presets NAME ...] [--profile-steps 50]

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

With --roof it measures how near the machine's limit the steps are instead. The roof is the machine's practical
float32 rate: the best of a few large matrix products (2048 and 4096 square), timed in a fresh process. Each preset's
step is then timed the same way, its floating-point operations counted by TensorFlow's profiler on the traced step
(`float_operation`: convolutions, their gradients, matrix products and element-wise arithmetic, two per
multiply-accumulate), and its rate given as a share of the roof. Last, the first preset's step is profiled
(`tf.profiler`) over --profile-steps steps and the time of each kind of operation printed, biggest first: where the
share below the roof goes.
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


def run_steps(trainer, first_step: int, steps: int) -> float:
    """Seconds the trainer's compiled step takes for `steps` steps from `first_step`, the last one waited for."""
    import tensorflow as tf

    started = time.perf_counter()
    for step in range(first_step, first_step + steps):
        outputs = trainer.compiled_step(tf.constant(step, tf.int64), *trainer.indices_for_step(step))
    float(next(iter(outputs.values())))
    return time.perf_counter() - started


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
        run_steps(trainer, 0, 2)  # trace and warm up
        return steps / run_steps(trainer, 2, steps)


ROOF_SIDES = (2048, 4096)
ROOF_SCRIPT = """
import os, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
best = 0.0
for side in SIDES:
    a, b = tf.random.normal((side, side)), tf.random.normal((side, side))
    product = tf.function(tf.matmul)
    product(a, b).numpy()
    repeats = max(3, int(4e11 / (2 * side ** 3)))
    started = time.perf_counter()
    for _ in range(repeats):
        c = product(a, b)
    c.numpy()
    best = max(best, 2 * side ** 3 * repeats / (time.perf_counter() - started))
print(best)
"""


def roof_in_fresh_process() -> float:
    """The machine's practical float32 rate in FLOP/s: the best of large matrix products, with TensorFlow's threads."""
    script = ROOF_SCRIPT.replace("SIDES", repr(ROOF_SIDES))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_ROOT)
    if result.returncode != 0:
        raise SystemExit(f"the roof's process failed:\n{result.stderr[-3000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def step_flops(trainer) -> int:
    """Floating-point operations of one training step, as TensorFlow's profiler counts them on the traced graph."""
    import tensorflow as tf
    from tensorflow.python.profiler import model_analyzer, option_builder

    concrete = trainer.compiled_step.get_concrete_function(tf.constant(0, tf.int64), *trainer.indices_for_step(0))
    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return model_analyzer.profile(concrete.graph, options=options).total_float_ops


def profile_by_operation(trainer, first_step: int, steps: int) -> list[tuple[str, float]]:
    """Self-time in seconds of each kind of operation over `steps` steps (TensorFlow's profiler), biggest first;
    "IDLE" is time the profiler's threads waited."""
    import collections
    import glob
    import json

    import tensorflow as tf
    from tensorflow.python.profiler.internal import _pywrap_profiler_plugin

    with tempfile.TemporaryDirectory() as log_dir:
        tf.profiler.experimental.start(log_dir)
        run_steps(trainer, first_step, steps)
        tf.profiler.experimental.stop()
        traces = glob.glob(f"{log_dir}/**/*.xplane.pb", recursive=True)
        table, _ = _pywrap_profiler_plugin.xspace_to_tools_data(traces, "framework_op_stats", {})
    table = json.loads(table)[0]
    columns = [column["id"] for column in table["cols"]]
    seconds: collections.Counter = collections.Counter()
    for row in table["rows"]:
        cells = dict(zip(columns, (cell.get("v") if cell else None for cell in row["c"])))
        seconds[cells["type"].removeprefix("_MklNative").removeprefix("_Mkl")] += cells["total_self_time"] / 1e6
    return seconds.most_common()


def roof_worker(preset_name: str, steps: int, profile_steps: int) -> dict:
    """Steps per second and FLOPs per step of the preset's compiled step in this process; with `profile_steps`, also
    the time by kind of operation."""
    from gan_core.spec.config import preset
    from gan_core.store.runs import create_run
    from gan_core.training.trainer import Trainer

    with tempfile.TemporaryDirectory() as runs_dir:
        trainer = Trainer(create_run(preset(preset_name), runs_dir))
        run_steps(trainer, 0, 2)  # trace and warm up
        result = {"steps_per_second": steps / run_steps(trainer, 2, steps), "flops": step_flops(trainer),
                  "images_per_step": trainer.config.batch_size}
        if profile_steps:
            result["profile"] = profile_by_operation(trainer, 2 + steps, profile_steps)
        return result


def measure_roof(options: argparse.Namespace) -> None:
    """The roof, each preset's step as a share of it, and the first preset's time by kind of operation."""
    import json

    roof = roof_in_fresh_process()
    print(f"roof: {roof / 1e9:.1f} GFLOP/s (best of float32 matrix products {ROOF_SIDES})", flush=True)
    rows = []
    for index, name in enumerate(options.presets):
        command = [sys.executable, __file__, "--roof-worker", "--preset", name, "--steps", str(options.steps),
                   "--profile-steps", str(options.profile_steps if index == 0 else 0)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT)
        if result.returncode != 0:
            raise SystemExit(f"measuring {name} failed:\n{result.stderr[-3000:]}")
        rows.append((name, json.loads(result.stdout.strip().splitlines()[-1])))
        print(f"  {name}: {rows[-1][1]['steps_per_second']:.1f} steps/s", flush=True)
    print(f"\n{os.cpu_count()} cores, {platform.processor() or platform.machine()}; roof {roof / 1e9:.1f} GFLOP/s; "
          f"{options.steps:,} steps per preset; load average at the end {os.getloadavg()[0]:.1f}")
    print("| preset | steps per second | images per second | GFLOP per step | GFLOP/s | share of the roof |")
    print("|---|---|---|---|---|---|")
    for name, row in rows:
        rate = row["flops"] * row["steps_per_second"]
        print(f"| {name} | {row['steps_per_second']:.1f} | {row['steps_per_second'] * row['images_per_step']:,.0f} | "
              f"{row['flops'] / 1e9:.3f} | {rate / 1e9:.1f} | {rate / roof:.0%} |")
    name, row = rows[0]
    if row.get("profile"):
        total = sum(seconds for _, seconds in row["profile"])
        print(f"\n{name}, {options.profile_steps} steps under tf.profiler: self-time by kind of operation, summed over "
              f"threads ({total:.2f} s)")
        print("| operation | seconds | share |")
        print("|---|---|---|")
        for operation, seconds in row["profile"][:options.top]:
            print(f"| {operation} | {seconds:.3f} | {seconds / total:.1%} |")


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
    parser.add_argument("--roof", action="store_true",
                        help="measure the machine's float32 roof and each of --presets' steps as a share of it")
    parser.add_argument("--presets", nargs="+", default=["fashion-dcgan"], metavar="PRESET",
                        help="with --roof: the presets to measure (the first is also profiled)")
    parser.add_argument("--profile-steps", type=int, default=50, help="with --roof: steps profiled (0: none)")
    parser.add_argument("--top", type=int, default=15, help="with --roof: kinds of operation printed")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--roof-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--intra", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--inter", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--xla", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.roof_worker:
        import json

        print(json.dumps(roof_worker(options.preset, options.steps, options.profile_steps)))
        return
    if options.roof:
        measure_roof(options)
        return
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
