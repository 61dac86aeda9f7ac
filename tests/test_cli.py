"""The command-line contract, run as a person or a script would: a real `python -m gan_core` process."""

import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from gan_core.store.runs import open_run
from support.cli import gan_core, last_line
from support.trained import trained_run


@pytest.fixture(scope="module")
def trained_digits_run(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("cli-runs")
    result = gan_core("train", "--preset", "digits-mlp", "--steps", "4", "--set", "checkpoint_every=2",
                      "--set", "log_every=2", "--runs-dir", runs_dir)
    assert result.returncode == 0, result.stderr[-2000:]
    return result, runs_dir


@pytest.fixture
def digits_run_dir(trained_digits_run) -> str:
    """The trained run's directory, as `train` printed it."""
    return last_line(trained_digits_run[0])


@pytest.mark.slow
def test_train_prints_the_run_directory_last(trained_digits_run):
    result, runs_dir = trained_digits_run
    run = open_run(last_line(result))
    assert run.path.parent == runs_dir
    assert run.status.state == "finished" and run.status.step == 4
    assert run.config.steps == 4
    assert "step 4/4" in result.stdout


@pytest.mark.slow
def test_sample_writes_uint8_images(digits_run_dir, tmp_path):
    out = tmp_path / "samples.npy"
    sampled = gan_core("sample", digits_run_dir, "--n", 25, "--out", out)
    assert sampled.returncode == 0, sampled.stderr
    samples = np.load(out)
    assert samples.shape == (25, 8, 8, 1) and samples.dtype == np.uint8
    assert samples.std() > 0


@pytest.mark.slow
def test_resume_trains_more_steps_and_list_shows_the_run(trained_digits_run):
    result, runs_dir = trained_digits_run
    run_dir = last_line(result)
    resumed = gan_core("resume", run_dir, "--steps", 2)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert last_line(resumed) == run_dir
    run = open_run(run_dir)
    assert run.status.step == 6 and run.checkpoint_steps()[-1] == 6
    listed = gan_core("list", "--runs-dir", runs_dir)
    assert listed.returncode == 0
    assert run.run_id in listed.stdout and "finished" in listed.stdout


@pytest.mark.slow
def test_sample_of_a_point_run_writes_float_pairs(tmp_path):
    # The run is trained in this process: `train` itself is the module fixture's test; `sample` is this one's.
    run = trained_run(tmp_path / "runs", "ring-mlp", steps=10)
    out = tmp_path / "points.npy"
    assert gan_core("sample", run.path, "--n", 100, "--out", out).returncode == 0
    points = np.load(out)
    assert points.shape == (100, 2) and points.dtype == np.float32


@pytest.mark.slow
def test_train_on_a_zip_of_own_images(tmp_path):
    archive = tmp_path / "faces.zip"
    random = np.random.default_rng(0)
    with zipfile.ZipFile(archive, "w") as bundle:
        for index in range(40):
            picture = Image.fromarray(random.integers(0, 255, (20, 24, 3), dtype=np.uint8))
            path = tmp_path / f"{index}.png"
            picture.save(path)
            bundle.write(path, f"pictures/{index}.png")
        bundle.writestr("pictures/readme.txt", "not a picture")
    result = gan_core("train", "--preset", "digits-mlp", "--data", archive, "--steps", 4,
                      "--set", "image_size=16", "--runs-dir", tmp_path / "runs")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "readme.txt" in result.stderr, "skipped files are reported"
    run = open_run(last_line(result))
    assert run.config.dataset == "folder" and run.config.data_shape == (16, 16, 3)
    assert run.config.name == "faces.zip MLP", "named after the data, not after the digits preset"
    # A small collection trains with DiffAugment on (tests/test_augment.py tells the command line otherwise).
    assert "40 images: augment=diffaugment" in result.stdout and run.config.augment == "diffaugment"
    assert run.status.state == "finished" and run.status.step == 4


@pytest.mark.parametrize(
    "arguments, expected",
    [
        (["train", "--preset", "nope"], "preset 'nope' does not exist"),
        (["train", "--set", "batch_size=0"], "batch_size=0 is not allowed"),
        (["train", "--set", "colour=blue"], "unknown config field 'colour'"),
        (["train", "--set", "batch_size"], "must look like key=value"),
        (["train", "--steps", "0"], "must be at least 1"),
        (["train", "--steps", "10", "--max-seconds", "5"], "not allowed with argument"),
        (["train", "--data", "/no/such/folder"], "no such folder or zip file"),
        (["resume", "/no/such/run"], "is not a run directory"),
        (["sample", "/no/such/run", "--n", "5", "--out", "x.npy"], "is not a run directory"),
        (["sample", "somewhere", "--n", "five", "--out", "x.npy"], "'five' is not a whole number"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(arguments, expected, tmp_path):
    result = gan_core(*arguments, "--runs-dir", tmp_path) if arguments[:1] == ["train"] else gan_core(*arguments)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert not list(tmp_path.iterdir()), "a rejected command creates no run"


@pytest.mark.slow
def test_train_refuses_a_text_file_named_zip_before_creating_a_run(tmp_path):
    fake = tmp_path / "holiday.zip"
    fake.write_text("these are words, not a zip")
    result = gan_core("train", "--preset", "digits-mlp", "--data", fake, "--runs-dir", tmp_path / "runs")
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "holiday.zip" in lines[0], result.stderr
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


@pytest.mark.slow
def test_evaluate_prints_one_json_object_with_every_metric(digits_run_dir):
    evaluated = gan_core("evaluate", digits_run_dir, "--n", 200)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    results = json.loads(evaluated.stdout)
    assert results["feature_space"] == "digits classifier"
    for name in ("frechet_distance", "kid_mean", "precision", "recall", "density", "coverage", "classifier_score"):
        assert isinstance(results[name], float), name
    assert results["sample_count"] == 200


def test_evaluate_refuses_a_feature_space_it_does_not_know():
    result = gan_core("evaluate", "somewhere", "--n", "10", "--features", "pixels")
    assert result.returncode == 2
    assert "invalid choice: 'pixels'" in result.stderr


def test_list_describes_each_run_by_the_settings_its_variant_reads(tmp_path):
    created = gan_core("create", "--preset", "fashion-vae", "--runs-dir", tmp_path)
    assert created.returncode == 0, created.stderr[-2000:]
    listed = gan_core("list", "--runs-dir", tmp_path)
    assert listed.returncode == 0, listed.stderr[-2000:]
    # A VAE has no adversarial loss: its line names the variant and the architecture its networks follow, no loss.
    assert "  fashion_mnist, vae, dcgan  " in listed.stdout and "non_saturating" not in listed.stdout


def test_tensorflow_is_imported_without_keras_extras_and_they_stay_importable():
    """A trainer loads TensorFlow and Keras without the notebook, data-frame and scikit-learn extras Keras would
    import; the project's own use of scikit-learn afterwards (the two-moons points) imports it as usual."""
    import subprocess
    import sys

    from support.cli import PROJECT_ROOT

    script = ("import sys; import gan_core.__main__; from gan_core.nets import tensorflow_import; "
              "tensorflow_import.import_tensorflow_quietly(); "
              "print(sorted(name for name in tensorflow_import.KERAS_EXTRAS if name in sys.modules)); "
              "import keras, sklearn.datasets; print(len(sklearn.datasets.make_moons(10)[0]))")
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_ROOT,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert finished.stdout.split() == ["[]", "10"], finished.stdout
