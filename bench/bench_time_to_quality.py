"""How good are the samples after 30 s, 1, 2, 5 and 10 minutes of training on this machine?

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_time_to_quality.py [--marks 30 60 120 300 600]
        [--samples 2000] [--recipes tutorial default] [--set NAME=VALUE ...] [--plot docs/time-to-quality.png]

Two recipes train on Fashion-MNIST in one run of this script, one after the other with nothing else training:

- "tutorial": the recipe most people copy, TensorFlow's DCGAN tutorial (tensorflow.org/tutorials/generative/dcgan),
  written here from its description: a generator Dense(7*7*256) -> 5x5 transposed convolutions 128 (stride 1),
  64 (stride 2), 1 (stride 2, tanh), each but the last with batch norm and LeakyReLU, no biases; a discriminator of
  5x5 stride-2 convolutions 64 and 128, each with LeakyReLU and dropout 0.3, then one logit; cross-entropy losses,
  Adam 1e-4 for both, batch 256, noise of 100 normal values;
- "default": the dashboard's default preset (fashion-dcgan), trained by gan_core's own trainer as the Train page
  starts it (with `--set` applied to it: to try a change before it becomes the default).

At each mark the clock stops, and the Fréchet distance between 2,000 samples and 2,000 held-out test images is taken
in the project's Fashion-MNIST classifier's feature space (the `frechet_distance` of `python -m gan_core evaluate`);
then training continues. The time counted is training time only (the tutorial's tracing and the trainer's logging,
samples and checkpoints included, the measuring excluded). The table prints both recipes' FD at each mark, their
ratio (default / tutorial) and each recipe's images per second; --plot writes both curves as a PNG.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from project_paths import PROJECT_ROOT  # noqa: F401  (puts the project on sys.path)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

from gan_core.inputs import data  # noqa: E402
from gan_core.measuring import evaluation, features, metrics
from gan_core.nets import sampling
from gan_core.spec.config import DEFAULT_PRESET, RunConfig, preset  # noqa: E402
from gan_core.store.runs import create_run  # noqa: E402
from gan_core.training.trainer import Trainer  # noqa: E402

RECIPES = ("tutorial", "default")
NOISE_SIZE = 100
TUTORIAL_BATCH = 256
TUTORIAL_LEARNING_RATE = 1e-4
MEASURE_SEED = 0


class Judge:
    """The Fréchet distance of samples to a fixed held-out real set, in the Fashion-MNIST classifier's space."""

    def __init__(self, config: RunConfig, count: int) -> None:
        self.extractor = features.classifier_extractor("fashion_mnist")
        real, _ = evaluation.held_out_examples(config, count, MEASURE_SEED)
        self.real_features = self.extractor.features(real)
        self.count = count

    def frechet_distance(self, samples: np.ndarray) -> float:
        return metrics.frechet_distance(self.real_features, self.extractor.features(samples))


# ---- the tutorial's recipe ---------------------------------------------------------------------------------------


def chain(input_shape: tuple[int, ...], layers: list[keras.layers.Layer]) -> keras.Model:
    """The layers one after another, as a functional model (which, unlike Sequential, has an input at once)."""
    inputs = keras.Input(input_shape)
    outputs = inputs
    for layer in layers:
        outputs = layer(outputs)
    return keras.Model(inputs, outputs)


def tutorial_generator() -> keras.Model:
    return chain((NOISE_SIZE,), [
        keras.layers.Dense(7 * 7 * 256, use_bias=False), keras.layers.BatchNormalization(), keras.layers.LeakyReLU(),
        keras.layers.Reshape((7, 7, 256)),
        keras.layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
        keras.layers.BatchNormalization(), keras.layers.LeakyReLU(),
        keras.layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        keras.layers.BatchNormalization(), keras.layers.LeakyReLU(),
        keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False, activation="tanh"),
    ])


def tutorial_discriminator() -> keras.Model:
    return chain((28, 28, 1), [
        keras.layers.Conv2D(64, 5, strides=2, padding="same"), keras.layers.LeakyReLU(), keras.layers.Dropout(0.3),
        keras.layers.Conv2D(128, 5, strides=2, padding="same"), keras.layers.LeakyReLU(), keras.layers.Dropout(0.3),
        keras.layers.Flatten(), keras.layers.Dense(1),
    ])


def train_tutorial(marks: list[float], judge: Judge) -> tuple[list[float], float]:
    """FD of the tutorial's recipe at each mark (seconds of training), and its images per second."""
    keras.utils.set_random_seed(0)
    images = data.load_builtin("fashion_mnist", "train").examples.astype(np.float32) / 127.5 - 1.0
    dataset = tf.data.Dataset.from_tensor_slices(images).shuffle(60_000, seed=0).batch(TUTORIAL_BATCH).repeat()
    generator, discriminator = tutorial_generator(), tutorial_discriminator()
    g_optimizer = keras.optimizers.Adam(TUTORIAL_LEARNING_RATE)
    d_optimizer = keras.optimizers.Adam(TUTORIAL_LEARNING_RATE)
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real: tf.Tensor) -> None:
        noise = tf.random.normal([TUTORIAL_BATCH, NOISE_SIZE])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_logits, fake_logits = discriminator(real, training=True), discriminator(fake, training=True)
            g_loss = cross_entropy(tf.ones_like(fake_logits), fake_logits)
            d_loss = cross_entropy(tf.ones_like(real_logits), real_logits) + \
                cross_entropy(tf.zeros_like(fake_logits), fake_logits)
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_variables),
                                        generator.trainable_variables))
        d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_variables),
                                        discriminator.trainable_variables))

    noise = np.random.default_rng(MEASURE_SEED).standard_normal((judge.count, NOISE_SIZE)).astype(np.float32)
    distances, trained, steps = [], 0.0, 0
    batches = iter(dataset)
    for mark in marks:
        started = time.perf_counter()
        while trained + time.perf_counter() - started < mark:
            train_step(next(batches))
            steps += 1
        trained += time.perf_counter() - started
        distances.append(judge.frechet_distance(sampling.generate(generator, noise)))
        print(f"  tutorial  {mark:5.0f} s  step {steps:6,}  FD {distances[-1]:8.2f}", flush=True)
    return distances, steps * TUTORIAL_BATCH / trained


# ---- the dashboard's default ---------------------------------------------------------------------------------------


def train_default(config: RunConfig, marks: list[float], judge: Judge, runs_dir: Path,
                  batch_statistics: bool = False) -> tuple[list[float], float]:
    """FD of gan_core's trainer on `config` at each mark, and its images per second.

    With `batch_statistics` it also prints the FD of the same samples drawn with the generator's batch-norm layers
    using each batch's own statistics instead of their moving averages (which lag behind early in training).
    """
    run = create_run(config.replace(steps=10_000_000), runs_dir)
    trainer = Trainer(run)
    distances = []
    latents = sampling.latent_vectors(config, judge.count, MEASURE_SEED)
    for mark in marks:
        trainer.train(max_seconds=mark - run.status.trained_seconds)
        generator = sampling.load_generator(run)
        distances.append(judge.frechet_distance(sampling.generate(generator, latents)))
        line = f"  default   {mark:5.0f} s  step {run.status.step:6,}  FD {distances[-1]:8.2f}"
        if batch_statistics:
            distance = batch_statistics_distance(generator, latents, judge, config.batch_size)
            line += f"  (batch statistics: FD {distance:.2f})"
        print(line, flush=True)
    return distances, run.status.step * config.batch_size / run.status.trained_seconds


def batch_statistics_distance(generator: keras.Model, latents: np.ndarray, judge: Judge, batch_size: int) -> float:
    """FD of samples drawn with batch norm using each batch's own statistics instead of their moving averages, on
    a copy of the generator (drawing in training mode moves the moving averages)."""
    copy = keras.models.clone_model(generator)
    copy.set_weights(generator.get_weights())
    batches = [copy(latents[start : start + batch_size], training=True).numpy()
               for start in range(0, len(latents), batch_size)]
    return judge.frechet_distance(data.to_uint8_images(np.concatenate(batches)))


# ---- the report --------------------------------------------------------------------------------------------------


def plot(path: Path, marks: list[float], curves: dict[str, list[float]]) -> None:
    """Both curves on log-log axes, drawn with Pillow (no plotting library needed)."""
    from PIL import Image, ImageDraw

    width, height, margin = 640, 400, 60
    picture = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(picture)
    values = [value for curve in curves.values() for value in curve if value > 0]
    low, high = np.log10(min(values)) - 0.1, np.log10(max(values)) + 0.1
    left, right = np.log10(min(marks)), np.log10(max(marks))

    def at(seconds: float, distance: float) -> tuple[float, float]:
        x = margin + (np.log10(seconds) - left) / max(right - left, 1e-9) * (width - 2 * margin)
        y = height - margin - (np.log10(distance) - low) / (high - low) * (height - 2 * margin)
        return float(x), float(y)

    draw.rectangle([margin, margin, width - margin, height - margin], outline=(180, 180, 180))
    for mark in marks:
        x, _ = at(mark, 10 ** low)
        draw.text((x - 10, height - margin + 8), f"{mark:g} s", fill="black")
    for exponent in range(int(np.floor(low)), int(np.ceil(high)) + 1):
        for tick in (10.0**exponent, 2 * 10.0**exponent, 5 * 10.0**exponent):
            if low <= np.log10(tick) <= high:
                _, y = at(marks[0], tick)
                draw.line([(margin, y), (width - margin, y)], fill=(230, 230, 230))
                draw.text((8, y - 6), f"{tick:g}", fill="black")
    colours = {"tutorial": (90, 90, 90), "default": (230, 120, 20)}
    for index, (name, curve) in enumerate(curves.items()):
        points = [at(mark, value) for mark, value in zip(marks, curve)]
        draw.line(points, fill=colours.get(name, (40, 90, 220)), width=3)
        for x, y in points:
            draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colours.get(name, (40, 90, 220)))
        # The key sits in one row above the plot, where no curve can run under it.
        draw.text((width - margin - 160 + 80 * index, margin - 16), f"{name}", fill=colours.get(name, "black"))
    # Pillow's built-in font has no accented letters.
    draw.text((margin, 20), "Frechet distance (Fashion-MNIST classifier space) against training time",
              fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path)


def parse_settings(pairs: list[str]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--set {pair!r} must look like NAME=VALUE")
        settings[name] = value
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--marks", type=float, nargs="+", default=[30, 60, 120, 300, 600],
                        help="seconds of training at which to measure")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--recipes", nargs="+", choices=RECIPES, default=list(RECIPES))
    parser.add_argument("--set", dest="settings", action="append", default=[],
                        help="a setting of the default preset to change, NAME=VALUE (repeatable)")
    parser.add_argument("--plot", type=Path, help="write both curves to this PNG")
    parser.add_argument("--batch-statistics", action="store_true",
                        help="also measure the default's samples drawn with batch statistics in batch norm")
    options = parser.parse_args()
    marks = sorted(options.marks)

    config = RunConfig.from_dict({**preset(DEFAULT_PRESET).to_dict(), **parse_settings(options.settings)})
    judge = Judge(config, options.samples)  # trains the classifier first if needed, before any clock starts
    started = time.strftime("%Y-%m-%d %H:%M")
    curves, speeds = {}, {}
    with tempfile.TemporaryDirectory() as runs_dir:
        for recipe in options.recipes:
            if recipe == "tutorial":
                curves[recipe], speeds[recipe] = train_tutorial(marks, judge)
            else:
                curves[recipe], speeds[recipe] = train_default(config, marks, judge, Path(runs_dir),
                                                               options.batch_statistics)

    changed = ", ".join(options.settings) or "as shipped"
    print(f"\nFashion-MNIST, FD of {options.samples:,} samples to as many held-out images; default = "
          f"{DEFAULT_PRESET} ({changed})")
    print("| training time | " + " | ".join(f"{recipe} FD" for recipe in curves) +
          (" | default / tutorial |" if len(curves) == 2 else " |"))
    print("|---" * (len(curves) + 1 + (len(curves) == 2)) + "|")
    for index, mark in enumerate(marks):
        cells = [f"{curves[recipe][index]:.2f}" for recipe in curves]
        if len(curves) == 2:
            cells.append(f"{curves['default'][index] / curves['tutorial'][index]:.3f}")
        print(f"| {mark:g} s | " + " | ".join(cells) + " |")
    print("| images per second | " + " | ".join(f"{speeds[recipe]:,.0f}" for recipe in curves) +
          (" | |" if len(curves) == 2 else " |"))
    print(f"\n{started}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    if options.plot:
        plot(options.plot, marks, curves)
        print(f"wrote {options.plot}")


if __name__ == "__main__":
    main()
