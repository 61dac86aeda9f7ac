"""What the image-to-image presets reach in a fixed training time on this machine (Pix2Pix and CycleGAN).

    GAN_DATA_DIR=../shared/datasets python3 bench/bench_translation.py [--seconds 600] [--samples 2000]
                                                    [--comparisons pix2pix cyclegan denoising colourising]

Each run trains from the command line, as a person would start it (`python -m gan_core train --preset P
--max-seconds S`, its step count set out of reach so that the time alone ends it), in a fresh process with nothing
else training; then `python -m gan_core evaluate` measures its last checkpoint on held-out examples, which no run
trains on. Two comparisons, each against a baseline measured by the same run of this script:

- pix2pix: fashion-edges2img against its L1-only ablation (`pix2pix_l1_only=true`) trained for the same time. The
  paper's finding is that L1 alone is blurry: the Fréchet distance of outputs to real targets (in the Fashion-MNIST
  classifier's feature space) should be lower with the adversarial loss, while L1 and PSNR may favour L1 alone.
- cyclegan: mnist2inverted-cyclegan, whose right answer is known (B = 255 - A, never shown as pairs): the mean
  absolute error of A -> B against the true inversion beside that of the identity mapping (the goal: at most a
  quarter of it), the share of translated digits (inverted back) the MNIST classifier gives the input's label
  (the goal: at least 95%), and the cycle errors of each direction.
- denoising: fashion-denoise (Gaussian noise of standard deviation 0.3, pixels on [0, 1]) tried on held-out images
  noised at several levels: the PSNR of its outputs against that of the noisy images, which is what doing nothing
  scores (the goal at 0.3: at least 6 dB above it).
- colourising: cifar10-colourise (grey to colour) on the CIFAR-10 images here (offline only a 200-image subset, of
  which a tenth is held out), and the same preset on a person's own colour photos: 32x32 tiles cut from the two
  photos scikit-learn bundles (`load_sample_images`), written as a folder of PNGs. Printed: the colourfulness of
  the outputs beside the real images' (the goal: within 30%) and their PSNR beside the grey input's (the goal:
  above it), measured on every held-out image by the variant's own evaluation (neither set has a feature
  classifier here).

The classifiers are prepared first when missing (`python -m gan_core prepare-features`), before any timing starts.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

# Run as a script, bench/ is on the import path: the command-line runner is bench_variants'.
from bench_clicks import cpu_name
from bench_variants import UNREACHABLE_STEPS, gan_core
from gan_core.measuring import evaluation
from gan_core.spec import registry
from gan_core.store import runs

COMPARISONS = ("pix2pix", "cyclegan", "denoising", "colourising")
NOISE_LEVELS = (0.1, 0.2, 0.3, 0.5)
DENOISING_GOAL_DB = 6.0
COLOURFULNESS_TOLERANCE = 0.3
TILE = 32


def train_and_evaluate(preset: str, seconds: float, samples: int, runs_dir: Path, *settings: str) -> dict:
    """Train `preset` (with `settings` as NAME=VALUE) for `seconds`, then evaluate it; the results and run facts."""
    extra = [argument for setting in settings for argument in ("--set", setting)]
    output = gan_core("train", "--preset", preset, "--max-seconds", str(seconds), "--runs-dir", str(runs_dir),
                      "--set", f"steps={UNREACHABLE_STEPS}", *extra)
    run = runs.open_run(output.strip().splitlines()[-1])
    results = json.loads(gan_core("evaluate", str(run.path), "--n", str(samples)).strip().splitlines()[-1])
    return {**results, "steps": run.status.step, "seconds": run.status.trained_seconds}


def pix2pix_rows(seconds: float, samples: int, runs_dir: Path) -> list[tuple[str, str, str, str]]:
    with_gan = train_and_evaluate("fashion-edges2img", seconds, samples, runs_dir)
    l1_only = train_and_evaluate("fashion-edges2img", seconds, samples, runs_dir, "pix2pix_l1_only=true")
    ratio = with_gan["frechet_distance"] / l1_only["frechet_distance"]
    rows = [("steps trained", f"{with_gan['steps']:,} in {with_gan['seconds']:.0f} s",
             f"{l1_only['steps']:,} in {l1_only['seconds']:.0f} s", ""),
            ("Fréchet distance to real targets", f"{with_gan['frechet_distance']:.2f}",
             f"{l1_only['frechet_distance']:.2f}", f"{ratio:.3f} (goal < 1)")]
    for name, label in (("l1", "L1 to the target"), ("psnr", "PSNR (dB)"), ("ssim", "SSIM"),
                        ("class_preserved", "class preserved")):
        rows.append((label, f"{with_gan[name]:.3f}", f"{l1_only[name]:.3f}", f"{with_gan[name] / l1_only[name]:.3f}"))
    return rows


def cyclegan_rows(seconds: float, samples: int, runs_dir: Path) -> list[tuple[str, str, str, str]]:
    results = train_and_evaluate("mnist2inverted-cyclegan", seconds, samples, runs_dir)
    ratio = results["translation_l1"] / results["identity_mapping_l1"]
    return [("steps trained", f"{results['steps']:,} in {results['seconds']:.0f} s", "", ""),
            ("A -> B error against the true inversion", f"{results['translation_l1']:.4f}",
             f"{results['identity_mapping_l1']:.4f}", f"{ratio:.3f} (goal <= 0.25)"),
            ("class kept (inverted back, MNIST classifier)", f"{results['class_preserved']:.3f}", "",
             "goal >= 0.95"),
            ("cycle error A -> B -> A", f"{results['cycle_l1_ab']:.4f}", "", ""),
            ("cycle error B -> A -> B", f"{results['cycle_l1_ba']:.4f}", "", ""),
            ("Fréchet distance to real B", f"{results['frechet_distance']:.2f}", "", "")]


def denoising_rows(seconds: float, samples: int, runs_dir: Path) -> list[tuple[str, str, str, str]]:
    output = gan_core("train", "--preset", "fashion-denoise", "--max-seconds", str(seconds), "--runs-dir",
                      str(runs_dir), "--set", f"steps={UNREACHABLE_STEPS}")
    run = runs.open_run(output.strip().splitlines()[-1])
    trained_level = run.config.pix2pix_noise_level
    denoiser = registry.of(run.config)
    rows = [("steps trained", f"{run.status.step:,} in {run.status.trained_seconds:.0f} s", "", "")]
    for level in NOISE_LEVELS:
        result = denoiser.denoising(run, run.status.step, level, samples, seed=0)
        gained = result.denoised_psnr - result.noisy_psnr
        goal = f" (goal >= {DENOISING_GOAL_DB:g} dB)" if level == trained_level else ""
        rows.append((f"PSNR at noise level {level:g}{' (trained on)' if level == trained_level else ''}",
                     f"{result.denoised_psnr:.2f} dB", f"{result.noisy_psnr:.2f} dB", f"{gained:+.2f} dB{goal}"))
    return rows


def write_photo_tiles(folder: Path) -> int:
    """32x32 tiles cut side by side from scikit-learn's two sample photos, as PNG files in `folder`; their count."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    folder.mkdir(parents=True)
    count = 0
    for photo_index, photo in enumerate(load_sample_images().images):
        for top in range(0, photo.shape[0] - TILE + 1, TILE):
            for left in range(0, photo.shape[1] - TILE + 1, TILE):
                tile = Image.fromarray(photo[top:top + TILE, left:left + TILE])
                tile.save(folder / f"{photo_index}-{top}-{left}.png")
                count += 1
    return count


def colourising_rows(seconds: float, samples: int, runs_dir: Path) -> list[tuple[str, str, str, str]]:
    tiles = runs_dir / "photo-tiles"
    tile_count = write_photo_tiles(tiles)
    rows = []
    for label, data in (("CIFAR-10 here", None), (f"{tile_count} photo tiles", tiles)):
        # Neither set has a feature classifier here (200 CIFAR-10 images are too few to train one), so the
        # colouriser's own measures are taken directly rather than through `evaluate`, which needs one.
        extra = ["--data", str(data), "--set", "image_size=32", "--set", "channels=3"] if data else []
        output = gan_core("train", "--preset", "cifar10-colourise", "--max-seconds", str(seconds), "--runs-dir",
                          str(runs_dir), "--set", f"steps={UNREACHABLE_STEPS}", *extra)
        run = runs.open_run(output.strip().splitlines()[-1])
        count = min(samples, evaluation.largest_sample_count(run.config))
        results = {**registry.of(run.config).evaluate(run, run.status.step, count, seed=0), "steps": run.status.step,
                   "seconds": run.status.trained_seconds, "held_out": count}
        ratio = results["colourfulness"] / results["real_colourfulness"]
        within = abs(ratio - 1) <= COLOURFULNESS_TOLERANCE
        rows += [(f"{label}: steps trained", f"{results['steps']:,} in {results['seconds']:.0f} s",
                  f"{results['held_out']} held-out images measured", ""),
                 (f"{label}: colourfulness, output against real", f"{results['colourfulness']:.1f}",
                  f"{results['real_colourfulness']:.1f}",
                  f"{ratio:.2f} ({'within' if within else 'outside'} {COLOURFULNESS_TOLERANCE:.0%})"),
                 (f"{label}: PSNR, output against the grey input", f"{results['psnr']:.2f} dB",
                  f"{results['input_psnr']:.2f} dB", f"{results['psnr'] - results['input_psnr']:+.2f} dB"),
                 (f"{label}: SSIM", f"{results['ssim']:.3f}", "", "")]
    return rows


MEASURED = {"pix2pix": (pix2pix_rows, ("fashion-edges2img", "Pix2Pix", "L1 only", "ratio")),
            "cyclegan": (cyclegan_rows, ("mnist2inverted-cyclegan", "CycleGAN", "identity mapping", "ratio / goal")),
            "denoising": (denoising_rows, ("fashion-denoise", "denoised", "noisy input", "gained")),
            "colourising": (colourising_rows, ("cifar10-colourise", "output", "real / grey input", "ratio / gain"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600, help="training time of each run")
    parser.add_argument("--samples", type=int, default=2000, help="held-out examples each evaluation translates")
    parser.add_argument("--comparisons", nargs="+", choices=COMPARISONS, default=list(COMPARISONS))
    options = parser.parse_args()

    for dataset in ("mnist", "fashion_mnist"):
        gan_core("prepare-features", dataset)
    started = time.strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory() as runs_dir:
        for comparison in options.comparisons:
            measure, (title, *columns) = MEASURED[comparison]
            rows = measure(options.seconds, options.samples, Path(runs_dir))
            print(f"\n{title}: {options.seconds:.0f} s of training, {options.samples:,} held-out examples")
            print(f"| measure | {' | '.join(columns)} |")
            print("|---|---|---|---|")
            for row in rows:
                print(f"| {' | '.join(row)} |")
    print(f"\n{started}, {cpu_name()}, {os.cpu_count()} cores, "
          f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
