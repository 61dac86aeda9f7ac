"""The augmentation workflow: labelled budgets drawn per class, the interval and verdict maths on hand values, the
plan's refusals, a real study on the digits (generators trained on a few labels, three classifiers, a labelled zip
of generated images) and the command line that runs one."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_core.inputs import data
from gan_core.spec.config import preset
from gan_core.workflows import augmentation
from gan_core.workflows.augmentation import AugmentationPlan, Interval, Trial
from support.cli import gan_core_here, last_line

# ---- labelled budgets -----------------------------------------------------------------------------------------


def test_a_labelled_budget_takes_that_many_of_each_class_and_a_larger_one_holds_the_smaller():
    labels = np.repeat(np.arange(3), [10, 20, 30])
    five = data.labelled_budget(labels, 5, seed=0)
    assert np.all(np.diff(five) > 0) and np.bincount(labels[five]).tolist() == [5, 5, 5]
    assert set(five) <= set(data.labelled_budget(labels, 8, seed=0)), "budgets of one seed are nested"
    assert not np.array_equal(five, data.labelled_budget(labels, 5, seed=1))
    with pytest.raises(ValueError, match="more than class 0 has \\(10 examples\\); use at most 10"):
        data.labelled_budget(labels, 11, seed=0)
    with pytest.raises(ValueError, match="needs a labelled dataset"):
        data.labelled_budget(None, 5, seed=0)


def test_a_run_with_labels_per_class_trains_on_its_budget_only():
    config = preset("digits-mlp", labels_per_class=7, seed=3)
    train = data.load_dataset(config, "train")
    assert np.bincount(train.labels).tolist() == [7] * 10
    whole = data.load_dataset(config.replace(labels_per_class=0), "train")
    np.testing.assert_array_equal(train.examples, whole.examples[data.labelled_budget(whole.labels, 7, 3)])
    assert len(data.load_dataset(config, "test").examples) == data.DIGITS_TEST_COUNT, "the test split is whole"


# ---- maths -----------------------------------------------------------------------------------------------------


def test_the_interval_is_students_t_and_one_seed_has_none():
    # Mean 0.5, standard error 0.1 / sqrt(3); t(0.975, 2 degrees of freedom) = 4.3027.
    result = augmentation.interval([0.4, 0.5, 0.6])
    assert result.mean == pytest.approx(0.5) and result.half_width == pytest.approx(4.302653 * 0.1 / math.sqrt(3))
    assert result.text() == "50.0 ± 24.8%"
    single = augmentation.interval([0.7])
    assert math.isnan(single.half_width) and single.text() == "70.0%"
    with pytest.raises(ValueError, match="finite numbers"):
        augmentation.interval([])


def test_the_verdict_says_helps_only_when_the_whole_interval_is_above_zero():
    assert augmentation.verdict(Interval(0.05, 0.02, 3)).startswith("generated data helps: 5.0 ± 2.0 points")
    assert augmentation.verdict(Interval(-0.05, 0.02, 3)).startswith("generated data hurts")
    assert augmentation.verdict(Interval(0.05, 0.08, 3)).startswith("generated data does not help here")
    assert augmentation.verdict(Interval(0.05, math.nan, 1)) == "one seed cannot tell; run more seeds"


def test_summaries_pair_the_gain_by_seed():
    trials = [Trial(10, 0, "a", 0.60, 0.70, 0.95), Trial(10, 1, "b", 0.50, 0.61, 0.96),
              Trial(10, 2, "c", 0.70, 0.79, 0.94), Trial(50, 0, "d", 0.80, 0.80, 0.95)]
    ten, fifty = augmentation.summarise(trials)
    assert ten.budget == 10 and ten.real_only.mean == pytest.approx(0.6)
    # Gains 0.10, 0.11, 0.09: tight, though the real-only accuracies themselves spread widely.
    assert ten.gain.mean == pytest.approx(0.10) and ten.gain.lower > 0
    assert ten.verdict.startswith("generated data helps")
    assert fifty.gain.count == 1 and fifty.verdict == "one seed cannot tell; run more seeds"
    table = augmentation.summary_table([ten, fifty])
    assert table.splitlines()[0].startswith("| labels per class | real only | real + generated | all real labels")
    assert "| 10 | 60.0 ± 24.8% |" in table


def test_a_plan_refuses_what_it_cannot_measure():
    with pytest.raises(ValueError, match="needs a labelled image set: one of mnist"):
        AugmentationPlan("ring")
    with pytest.raises(ValueError, match="give at least one positive count"):
        AugmentationPlan("mnist", budgets=(0, 10))
    with pytest.raises(ValueError, match="no seeds"):
        AugmentationPlan("mnist", seeds=())
    with pytest.raises(ValueError, match="generator_steps=0 is not allowed"):
        AugmentationPlan("mnist", generator_steps=0)
    plan = AugmentationPlan("mnist", budgets=(50, 10, 50), seeds=(2, 0, 2))
    assert plan.budgets == (10, 50) and plan.seeds == (2, 0)
    assert plan.trials() == [(10, 2), (50, 2), (10, 0), (50, 0)], "a seed's every budget, then the next seed"
    assert AugmentationPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


def test_the_generator_is_the_default_recipe_made_conditional_with_diffaugment():
    config = augmentation.generator_config(AugmentationPlan("fashion_mnist", generator_steps=1500), 50, 2)
    default = preset("fashion-dcgan")
    assert (config.conditional, config.augment, config.labels_per_class, config.seed, config.steps) == (
        True, "diffaugment", 50, 2, 1500)
    assert (config.loss, config.width, config.g_learning_rate) == (default.loss, default.width, default.g_learning_rate)
    assert augmentation.generator_config(AugmentationPlan("digits"), 5, 0).architecture == "mlp"


def test_a_labelled_zip_holds_one_folder_per_class():
    images = np.stack([np.full((4, 4, 1), value, np.uint8) for value in (10, 20, 30)])
    archive = zipfile.ZipFile(io.BytesIO(augmentation.labelled_zip(images, np.array([0, 1, 1]), ["T-shirt/top",
                                                                                                 "Trouser"])))
    assert archive.namelist() == ["00-t-shirt-top/000000.png", "01-trouser/000001.png", "01-trouser/000002.png"]
    np.testing.assert_array_equal(np.asarray(Image.open(archive.open("01-trouser/000002.png"))), images[2, ..., 0])


# ---- a real study --------------------------------------------------------------------------------------------

TINY = dict(budgets=(5, 20), seeds=(0,), generator_steps=30, generated_per_class=20, classifier_updates=40)


@pytest.fixture(scope="module")
def study_run(tmp_path_factory):
    """(the command line's result, its runs folder) for a tiny digits study run by `python -m gan_core augment`."""
    tmp_path = tmp_path_factory.mktemp("augmentation")
    result = gan_core_here("augment", "--dataset", "digits", "--labels-per-class", *map(str, TINY["budgets"]),
                           "--seeds", *map(str, TINY["seeds"]), "--steps", TINY["generator_steps"],
                           "--generated-per-class", TINY["generated_per_class"], "--classifier-updates",
                           TINY["classifier_updates"], "--runs-dir", tmp_path)
    return result, tmp_path


@pytest.mark.slow
def test_the_command_line_runs_a_study_and_prints_its_table(study_run):
    result, tmp_path = study_run
    assert result.returncode == 0, result.stderr[-2000:]
    study = augmentation.open_study(last_line(result))
    assert "study " in result.stdout and "trial 2 of 2: 20 labels per class, seed 0" in result.stdout
    assert study.status.state == "finished" and study.plan == AugmentationPlan("digits", **TINY)
    trials = study.trials()
    assert [(trial.budget, trial.seed) for trial in trials] == study.plan.trials()
    for trial in trials:
        assert 0 < trial.real_only <= 1 and 0 < trial.real_plus_generated <= 1 and 0 < trial.all_real <= 1
        archive = zipfile.ZipFile(study.generated_zip(trial.budget, trial.seed))
        assert len(archive.namelist()) == 10 * TINY["generated_per_class"]
        assert {name.split("/")[0] for name in archive.namelist()} == {f"{digit:02d}-{digit}" for digit in range(10)}
    # The ceiling is measured once per seed, whatever the budget; the generators are runs like any other.
    assert trials[0].all_real == trials[1].all_real
    runs_here = {path.name for path in tmp_path.iterdir() if (path / "config.json").exists()}
    assert {trial.run_id for trial in trials} == runs_here
    for summary in augmentation.summarise(trials):
        assert f"| {summary.budget} | {summary.real_only.text()} |" in result.stdout
    # A finished study carried on trains nothing more.
    again = gan_core_here("augment", "--study", study.path)
    assert again.returncode == 0 and "trial" not in again.stdout.replace("trials", ""), again.stdout


def test_the_command_line_refuses_a_study_without_a_dataset_in_one_line(tmp_path):
    result = gan_core_here("augment", "--runs-dir", tmp_path)
    assert result.returncode == 2 and result.stderr.strip() == "error: augment needs --dataset (or --study with " \
                                                               "a study's folder)"
    bad = gan_core_here("augment", "--dataset", "digits", "--labels-per-class", "10", "500", "--seeds", "0",
                        "--steps", "2", "--runs-dir", tmp_path)
    assert bad.returncode == 2 and "labels_per_class=500 is more than class" in bad.stderr
    assert not any(tmp_path.iterdir()), "refused before any study or run is written"


@pytest.mark.slow
def test_the_augment_page_shows_a_study_and_refuses_a_budget_the_data_cannot_give(study_run, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from support.pages import APP, texts

    result, runs_dir = study_run
    study = augmentation.open_study(last_line(result))
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs_dir))
    app = AppTest.from_file(str(APP), default_timeout=60).run()
    app.switch_page("pages/augment.py").run()
    assert not app.exception
    shown = texts(app)
    assert "Finished: 2 trials" in " ".join(element.value for element in app.success)
    assert app.selectbox(key="study").value == study.study_id
    table = app.dataframe[0].value
    assert table["labels per class"].tolist() == [5, 20]
    assert table["verdict"].tolist() == ["one seed cannot tell; run more seeds"] * 2
    assert "- **5 labels per class**: one seed cannot tell; run more seeds." in shown
    assert len(app.get("plotly_chart")) == 1 and len(app.get("download_button")) == 2

    # A budget the digits cannot give is refused in the form, before anything is written.
    app.selectbox(key="augment_dataset").set_value("digits")
    app.multiselect(key="augment_budgets").set_value([10, 500])
    app.button(key="FormSubmitter:augment_form-Start study").click().run()
    assert not app.exception
    assert [error.value for error in app.error] == [
        "The study was not started: labels_per_class=500 is more than class 0 has (151 examples); use at most 151"]
    assert augmentation.list_studies(runs_dir) == [study]
