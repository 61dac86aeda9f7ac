"""Data augmentation with a GAN, measured end to end rather than assumed.

A study takes a labelled dataset, a few labelled budgets (N examples of each class) and a few seeds. For each budget
and seed a conditional generator trains on those N x classes examples only: the default preset's recipe, made
conditional, with DiffAugment, which keeps a discriminator from memorising a few hundred images. Then the same small
classifier (the project's classifier network, trained for the same number of updates each time, so that only the
data differs) trains on
  (a) the few real examples alone,
  (b) the few real examples plus `generated_per_class` generated examples of each class,
  (c) every real training label, the ceiling,
and is tested on the real test split. Over seeds each gets a mean and a 95% interval (Student's t); so does the gain
of (b) over (a), paired by seed, and the verdict says that generated data helps only when that whole interval lies
above zero. Often it does not, and the study says so.

A study lives in `<runs>/augmentation/<id>/`: plan.json (written once), trials.jsonl (one line per finished trial),
status.json (what its driver last reported) and each trial's generated set as a zip with one folder per class. Its
generators are ordinary runs beside the others, so Monitor, Gallery and Evaluate show them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
import secrets
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from gan_core.inputs import data
from gan_core.spec.config import RunConfig, preset
from gan_core.store.files import write_text_atomically

AUGMENTATION_FOLDER = "augmentation"
GENERATOR_PRESET = "fashion-dcgan"
# The built-in image sets with class labels.
LABELLED_DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits")
DEFAULT_BUDGETS = (10, 50, 100)
DEFAULT_SEEDS = (0, 1, 2)
STATES = ("running", "finished", "failed")
CONFIDENCE = 0.95


@dataclass(frozen=True)
class AugmentationPlan:
    """What a study measures: the dataset, the labelled budgets (examples per class), the seeds, how long each
    generator trains, how many examples of each class it adds, and the classifier's training updates."""

    dataset: str
    budgets: tuple[int, ...] = DEFAULT_BUDGETS
    seeds: tuple[int, ...] = DEFAULT_SEEDS
    generator_steps: int = 2000
    generated_per_class: int = 500
    classifier_updates: int = 600

    def __post_init__(self) -> None:
        if self.dataset not in LABELLED_DATASETS:
            raise ValueError(f"dataset {self.dataset!r} is not allowed; augmentation needs a labelled image set: "
                             f"one of {', '.join(LABELLED_DATASETS)}")
        object.__setattr__(self, "budgets", tuple(sorted(set(map(int, self.budgets)))))
        object.__setattr__(self, "seeds", tuple(dict.fromkeys(map(int, self.seeds))))
        if not self.budgets or self.budgets[0] < 1:
            raise ValueError(f"labels per class {list(self.budgets)} are not allowed; give at least one positive count")
        if not self.seeds:
            raise ValueError("no seeds: give at least one (three or more give an interval worth reading)")
        for name in ("generator_steps", "generated_per_class", "classifier_updates"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} is not allowed; use a positive count")

    def trials(self) -> list[tuple[int, int]]:
        """(budget, seed) in the order a study trains them: every budget of a seed, then the next seed, so that the
        first seed's whole picture comes first."""
        return [(budget, seed) for seed in self.seeds for budget in self.budgets]

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "budgets": list(self.budgets), "seeds": list(self.seeds)}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> AugmentationPlan:
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in values.items() if name in known})


def generator_config(plan: AugmentationPlan, budget: int, seed: int) -> RunConfig:
    """The conditional generator of one trial: the default preset's recipe, conditional, with DiffAugment, trained
    on `budget` examples of each class drawn with `seed`. The 8x8 digits take the MLP, as their own preset does."""
    architecture = {"architecture": "mlp", "width": 128} if plan.dataset == "digits" else {}
    return preset(GENERATOR_PRESET, dataset=plan.dataset, conditional=True, augment="diffaugment",
                  labels_per_class=budget, seed=seed, steps=plan.generator_steps,
                  sample_every=plan.generator_steps, checkpoint_every=plan.generator_steps,
                  name=f"{plan.dataset} augmentation: {budget} labels per class, seed {seed}", **architecture)


def labelled_zip(images: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> bytes:
    """PNG files in one folder per class ("03-dress/000012.png"), as a zip: a labelled image set any tool reads."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (image, label) in enumerate(zip(images, labels)):
            name = class_names[label] if label < len(class_names) else str(label)
            folder = f"{label:02d}-{re.sub(r'[^A-Za-z0-9]+', '-', name).strip('-').lower() or 'class'}"
            png = io.BytesIO()
            Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(png, format="PNG")
            archive.writestr(f"{folder}/{index:06d}.png", png.getvalue())
    return buffer.getvalue()


# ---- the measures, as pure functions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A mean over seeds and the half-width of its 95% interval (Student's t); NaN half-width for one seed."""

    mean: float
    half_width: float
    count: int

    @property
    def lower(self) -> float:
        return self.mean - self.half_width

    @property
    def upper(self) -> float:
        return self.mean + self.half_width

    def text(self, scale: float = 100.0, unit: str = "%") -> str:
        if math.isnan(self.half_width):
            return f"{self.mean * scale:.1f}{unit}"
        return f"{self.mean * scale:.1f} ± {self.half_width * scale:.1f}{unit}"


def interval(values: Sequence[float]) -> Interval:
    """The mean of `values` and the half-width of its 95% t-interval (NaN for a single value)."""
    values = np.asarray(values, np.float64)
    if values.ndim != 1 or len(values) == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"an interval needs one or more finite numbers, not {values.tolist()}")
    if len(values) == 1:
        return Interval(float(values[0]), math.nan, 1)
    from scipy import stats

    spread = values.std(ddof=1) / math.sqrt(len(values))
    return Interval(float(values.mean()), float(stats.t.ppf(0.5 + CONFIDENCE / 2, len(values) - 1) * spread),
                    len(values))


def verdict(gain: Interval) -> str:
    """What the gain of adding generated data (paired by seed) says, in words."""
    if gain.count < 2:
        return "one seed cannot tell; run more seeds"
    if gain.lower > 0:
        return f"generated data helps: {gain.text(unit=' points')} of accuracy"
    if gain.upper < 0:
        return f"generated data hurts: {gain.text(unit=' points')} of accuracy"
    return f"generated data does not help here: {gain.text(unit=' points')} of accuracy, an interval that holds 0"


@dataclass(frozen=True)
class Trial:
    """One budget and seed, finished: its generator run and the three test accuracies."""

    budget: int
    seed: int
    run_id: str
    real_only: float
    real_plus_generated: float
    all_real: float
    seconds: float = 0.0


@dataclass(frozen=True)
class BudgetSummary:
    budget: int
    real_only: Interval
    real_plus_generated: Interval
    all_real: Interval
    gain: Interval

    @property
    def verdict(self) -> str:
        return verdict(self.gain)


def summarise(trials: Sequence[Trial]) -> list[BudgetSummary]:
    """Each budget's accuracies over its seeds, and the gain of generated data paired by seed."""
    summaries = []
    for budget in sorted({trial.budget for trial in trials}):
        mine = [trial for trial in trials if trial.budget == budget]
        summaries.append(BudgetSummary(
            budget,
            interval([trial.real_only for trial in mine]),
            interval([trial.real_plus_generated for trial in mine]),
            interval([trial.all_real for trial in mine]),
            interval([trial.real_plus_generated - trial.real_only for trial in mine])))
    return summaries


def summary_table(summaries: Sequence[BudgetSummary]) -> str:
    """The summaries as a Markdown table: test accuracy of each training set with its 95% interval, and the
    verdict."""
    lines = ["| labels per class | real only | real + generated | all real labels | verdict |", "|---|---|---|---|---|"]
    lines += [f"| {summary.budget} | {summary.real_only.text()} | {summary.real_plus_generated.text()} | "
              f"{summary.all_real.text()} | {summary.verdict} |" for summary in summaries]
    return "\n".join(lines)


# ---- a study on disk --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyStatus:
    state: str  # one of STATES
    message: str = ""
    pid: int | None = None
    updated: float = 0.0


@dataclass(frozen=True)
class Study:
    path: Path

    @property
    def study_id(self) -> str:
        return self.path.name

    @property
    def runs_dir(self) -> Path:
        return self.path.parent.parent

    @property
    def plan(self) -> AugmentationPlan:
        return AugmentationPlan.from_dict(json.loads((self.path / "plan.json").read_text()))

    @property
    def status(self) -> StudyStatus:
        try:
            return StudyStatus(**json.loads((self.path / "status.json").read_text()))
        except (OSError, ValueError, TypeError):
            return StudyStatus("failed", "its status file is missing or damaged")

    def trials(self) -> list[Trial]:
        path = self.path / "trials.jsonl"
        if not path.exists():
            return []
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        return [Trial(**json.loads(line)) for line in lines]

    @property
    def log_path(self) -> Path:
        """Where the study's process writes what it prints, when the dashboard started it."""
        return self.path / "log.txt"

    def generated_zip(self, budget: int, seed: int) -> Path:
        return self.path / f"generated-{budget}-per-class-seed-{seed}.zip"


def create_study(plan: AugmentationPlan, runs_dir: Path | str) -> Study:
    """A new study's folder with its plan, refused (ValueError) before anything is written when a budget asks for
    more labels than a class of the training split has."""
    labels = data.load_dataset(generator_config(plan, plan.budgets[0], plan.seeds[0]).replace(labels_per_class=0),
                               "train").labels
    data.labelled_budget(labels, plan.budgets[-1], plan.seeds[0])
    folder = Path(runs_dir) / AUGMENTATION_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{plan.dataset.replace('_', '-')}-{secrets.token_hex(2)}"
    path.mkdir()
    write_text_atomically(path / "plan.json", json.dumps(plan.to_dict(), indent=2))
    write_status(Study(path), "running", "starting")
    return Study(path)


def open_study(path: Path | str) -> Study:
    study = Study(Path(path))
    if not (study.path / "plan.json").exists():
        raise ValueError(f"{path} is not an augmentation study (it has no plan.json)")
    return study


def list_studies(runs_dir: Path | str) -> list[Study]:
    """The studies under `runs_dir`, newest first."""
    folder = Path(runs_dir) / AUGMENTATION_FOLDER
    if not folder.is_dir():
        return []
    return [Study(path) for path in sorted(folder.iterdir(), reverse=True) if (path / "plan.json").exists()]


def write_status(study: Study, state: str, message: str = "", pid: int | None = None) -> None:
    if state not in STATES:
        raise ValueError(f"state {state!r} is not allowed; use one of {', '.join(STATES)}")
    status = StudyStatus(state, message, pid, time.time())
    write_text_atomically(study.path / "status.json", json.dumps(dataclasses.asdict(status)))
