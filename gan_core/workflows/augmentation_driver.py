"""The process that runs an augmentation study (`python -m gan_core augment`): each trial's generator trained here,
its generated set written, and the three classifiers measured; kept apart from `augmentation` so that the pages,
which only read studies, never import a trainer."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable

import numpy as np

from gan_core.inputs import data
from gan_core.measuring import label_measures
from gan_core.nets import sampling
from gan_core.store.runs import Run, create_run
from gan_core.training.trainer import Trainer
from gan_core.workflows.augmentation import Study, Trial, generator_config, labelled_zip, write_status


def run_study(study: Study, pid: int | None = None, report: Callable[[str], None] = print) -> list[Trial]:
    """Train and measure every trial of the study in turn, writing each as it ends; the trials."""
    plan, finished = study.plan, study.trials()
    done = {(trial.budget, trial.seed) for trial in finished}
    all_real: dict[int, float] = {trial.seed: trial.all_real for trial in finished}
    try:
        for number, (budget, seed) in enumerate(plan.trials(), start=1):
            if (budget, seed) in done:
                continue
            message = f"trial {number} of {len(plan.trials())}: {budget} labels per class, seed {seed}"
            write_status(study, "running", message, pid)
            report(message)
            trial = run_trial(study, budget, seed, all_real)
            all_real[seed] = trial.all_real
            with (study.path / "trials.jsonl").open("a") as file:
                file.write(json.dumps(dataclasses.asdict(trial)) + "\n")
    except Exception as error:
        write_status(study, "failed", f"{type(error).__name__}: {error}", pid)
        raise
    trials = study.trials()
    write_status(study, "finished", f"{len(trials)} trials", pid)
    return trials


def generated_set(run: Run, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` samples of every class from a conditional run's generator, with their labels."""
    labels = np.repeat(np.arange(sampling.num_classes(run)), per_class).astype(np.int32)
    return sampling.sample(run, len(labels), seed=seed, labels=labels), labels


def run_trial(study: Study, budget: int, seed: int, all_real: dict[int, float]) -> Trial:
    """Train one budget and seed's generator, write its generated set, and measure the three classifiers (the
    all-real ceiling once per seed: it does not depend on the budget)."""
    plan, started = study.plan, time.monotonic()
    config = generator_config(plan, budget, seed)
    run = create_run(config, study.runs_dir)
    outcome = Trainer(run).train()
    if outcome != "finished":
        raise RuntimeError(f"the generator of {budget} labels per class, seed {seed} ended {outcome}: "
                           f"{run.status.message}")
    few, test = data.load_dataset(config, "train"), data.load_dataset(config, "test")
    generated, generated_labels = generated_set(run, plan.generated_per_class, seed)
    study.generated_zip(budget, seed).write_bytes(labelled_zip(generated, generated_labels, few.class_names))
    classes = len(few.class_names) or int(few.labels.max()) + 1

    def accuracy(images: np.ndarray, labels: np.ndarray) -> float:
        return label_measures.classifier_test_accuracy(images, labels, test.examples, test.labels, classes,
                                                       plan.classifier_updates, seed)

    if seed not in all_real:
        everything = data.load_dataset(config.replace(labels_per_class=0), "train")
        all_real[seed] = accuracy(everything.examples, everything.labels)
    return Trial(budget, seed, run.run_id, accuracy(few.examples, few.labels),
                 accuracy(np.concatenate([few.examples, generated]), np.concatenate([few.labels, generated_labels])),
                 all_real[seed], time.monotonic() - started)
