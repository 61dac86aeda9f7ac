"""The command line: `python -m gan_core train|resume|sample|evaluate|list ...`.

Bad arguments or configuration end with exit status 2 and one line saying what is wrong, so scripts can rely
on it. The run directory is the last line `train` prints.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gan_core.nets import augment, distribution
from gan_core.nets.tensorflow_import import import_tensorflow_quietly
from gan_core.inputs import data
from gan_core.measuring import evaluation
from gan_core.workers import feature_jobs, jobs, queue
from gan_core.sweeps import driver, halving, sweep_store
from gan_core.sweeps import plan as sweep_plan
from gan_core.workflows import augmentation
from gan_core.spec import registry
from gan_core.spec import config as config_module
from gan_core.inputs.data import Dataset
from gan_core.store.runs import (DEFAULT_RUNS_DIR, Run, create_run, describe_os_error, list_runs, open_run,
                                 resume_target, update_config, write_status)

if TYPE_CHECKING:
    import tensorflow as tf

USAGE_ERROR = 2

class ArgumentParser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage block) and exit status 2."""

    def error(self, message: str) -> None:
        raise UsageError(f"{self.prog}: {message}")


class UsageError(Exception):
    pass


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def build_parser() -> ArgumentParser:
    """The whole command line: each subcommand's options are added by a function of their own, in the order `--help`
    lists them, so that one subcommand can be read (and changed) without the others."""
    parser = ArgumentParser(prog="python -m gan_core", description="Train, sample and evaluate GANs.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    add_train_command(commands)
    add_create_command(commands)
    add_resume_command(commands)
    add_sample_command(commands)
    add_evaluate_command(commands)
    add_prepare_features_command(commands)
    add_list_command(commands)
    add_sweep_command(commands)
    add_trial_command(commands)
    add_trial_worker_command(commands)
    add_augment_command(commands)
    return parser


def add_limits(command: argparse.ArgumentParser, steps_help: str) -> None:
    """How long to train, as --steps or as --max-seconds: one or the other, so that the parser refuses both at once."""
    limits = command.add_mutually_exclusive_group()
    limits.add_argument("--steps", type=positive_int, help=steps_help)
    limits.add_argument("--max-seconds", type=positive_float, help="stop (with a checkpoint) after this long")


def add_run_settings(command: argparse.ArgumentParser) -> None:
    """The options that make a new run's config, shared by `train` and `create` so that both read them alike."""
    command.add_argument("--preset", default=config_module.DEFAULT_PRESET,
                         help=f"one of {', '.join(registry.presets())}")
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    command.add_argument("--data", help="a folder or .zip of your own images (sets dataset=folder)")
    command.add_argument("--runs-dir", default=str(DEFAULT_RUNS_DIR), help="where run directories are created")


def add_train_command(commands: argparse._SubParsersAction) -> None:
    """`train`: a new run, trained in this process until its steps or seconds are spent."""
    train = commands.add_parser("train", help="create a run from a preset and train it in the foreground")
    add_run_settings(train)
    add_limits(train, "total generator steps (overrides the preset's)")


def add_create_command(commands: argparse._SubParsersAction) -> None:
    """`create`: a new run left untrained, so that `resume` can train it, e.g. on several workers at once.

    It takes --steps alone: with nothing trained here, a time limit would have nothing to limit.
    """
    create = commands.add_parser("create", help="create a run from a preset without training it (train it with "
                                                "resume, e.g. on several workers at once)")
    add_run_settings(create)
    create.add_argument("--steps", type=positive_int, help="total generator steps (overrides the preset's)")


def add_resume_command(commands: argparse._SubParsersAction) -> None:
    """`resume`: an existing run continued from its latest checkpoint, optionally with gentler learning rates."""
    resume = commands.add_parser("resume", help="continue a run from its latest checkpoint")
    resume.add_argument("run_dir")
    resume.add_argument("--lower-learning-rate", action="store_true",
                        help="halve both learning rates first (saved in the run's config), e.g. after it diverged")
    add_limits(resume, "steps to train beyond the latest checkpoint (default: up to the run's own total)")
    add_slots(resume)


def add_slots(command: argparse.ArgumentParser) -> None:
    command.add_argument("--slots", type=positive_int,
                         help="wait in the run folder's queue until fewer than this many trainers train there")


def add_sweep_command(commands: argparse._SubParsersAction) -> None:
    """`sweep`: a group of runs that differ in a few settings, trained to one budget each and ranked by a measure."""
    sweep = commands.add_parser("sweep", help="train runs that differ in a few settings and rank them by a measure")
    sweep.add_argument("--preset", default=config_module.DEFAULT_PRESET,
                       help=f"the runs' starting point: one of {', '.join(registry.presets())}")
    sweep.add_argument("--name", help="the sweep's name (default: the preset's)")
    sweep.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                       help="a setting and its values; every combination of the grids is a trial")
    sweep.add_argument("--range", action="append", default=[], metavar="NAME=LOW:HIGH[:log]",
                       help="a number setting drawn between two bounds (with --random)")
    sweep.add_argument("--random", type=positive_int, metavar="N", help="N trials of random draws instead of the grid")
    budget = sweep.add_mutually_exclusive_group(required=True)
    budget.add_argument("--steps", type=positive_int, help="each trial's budget in steps")
    budget.add_argument("--seconds", type=positive_float, help="each trial's budget in seconds of training")
    sweep.add_argument("--measure", default="frechet_distance", help="the measure that ranks the trials")
    sweep.add_argument("--halving", type=positive_int, nargs="?", const=halving.DEFAULT_RUNGS, metavar="RUNGS",
                       help=f"successive halving in RUNGS rungs (default {halving.DEFAULT_RUNGS}: at 1/4, 1/2 and all "
                            "of the budget), the worse half stopped at each")
    sweep.add_argument("--slots", type=positive_int, help="trials that train at once on this machine "
                                                           f"(default: ${queue.SLOTS_VARIABLE}, or one per two cores)")
    sweep.add_argument("--ray", metavar="ADDRESS", default=sweep_plan.ray_address_from_environment(),
                       help=f"train on the Ray cluster at HOST:PORT (default: ${sweep_plan.RAY_ADDRESS_VARIABLE})")
    sweep.add_argument("--cpus-per-trial", type=positive_float, default=1.0, help="CPUs each trial asks Ray for")
    sweep.add_argument("--gpus-per-trial", type=float, default=0.0, help="GPUs each trial asks Ray for")
    sweep.add_argument("--samples", type=positive_int, help="generated and real samples per measure")
    sweep.add_argument("--seed", type=int, default=0, help="the seed of random draws and of the measures")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a setting every trial shares")
    sweep.add_argument("--runs-dir", default=str(DEFAULT_RUNS_DIR), help="where the trials' runs are created")
    sweep.add_argument("--detach", action="store_true", help="run the sweep in the background and print its folder")


def add_augment_command(commands: argparse._SubParsersAction) -> None:
    """`augment`: does a GAN's generated data help a classifier with few labels? Measured end to end."""
    augment_parser = commands.add_parser(
        "augment", help="train conditional generators on a few labels per class, then a classifier on the real "
                        "examples with and without generated ones; print test accuracies with intervals")
    augment_parser.add_argument("--dataset", choices=augmentation.LABELLED_DATASETS,
                                help="the labelled dataset (required unless --study is given)")
    augment_parser.add_argument("--labels-per-class", type=positive_int, nargs="+",
                                default=list(augmentation.DEFAULT_BUDGETS), metavar="N",
                                help="labelled budgets: examples of each class the generator and classifier get")
    augment_parser.add_argument("--seeds", type=int, nargs="+", default=list(augmentation.DEFAULT_SEEDS),
                                help="seeds; each draws its own labelled examples (three or more give intervals)")
    defaults = augmentation.AugmentationPlan("mnist")
    augment_parser.add_argument("--steps", type=positive_int, default=defaults.generator_steps,
                                help="each generator's training steps")
    augment_parser.add_argument("--generated-per-class", type=positive_int, default=defaults.generated_per_class,
                                help="generated examples of each class added to the real ones")
    augment_parser.add_argument("--classifier-updates", type=positive_int, default=defaults.classifier_updates,
                                help="training batches of every classifier, the same for all three")
    augment_parser.add_argument("--runs-dir", default=str(DEFAULT_RUNS_DIR), help="where the generators' runs go")
    augment_parser.add_argument("--study", help="carry on with this study's folder (its plan.json) instead")


def add_trial_worker_command(commands: argparse._SubParsersAction) -> None:
    """`trial-worker`: stretches of trials read from standard input, trained one after another (a sweep's driver)."""
    worker = commands.add_parser("trial-worker", help="train the trial stretches a sweep's driver sends, one after "
                                                      "another in one process")
    worker.add_argument("--reply-fd", type=int, required=True, help="the file descriptor to answer on")


def add_trial_command(commands: argparse._SubParsersAction) -> None:
    """`trial`: one stretch of a sweep's trial, trained and then measured (a sweep starts these; see `sweep`)."""
    trial = commands.add_parser("trial", help="train one of a sweep's trials to a budget, then measure it")
    trial.add_argument("run_dir")
    budget = trial.add_mutually_exclusive_group(required=True)
    budget.add_argument("--until-step", type=positive_int, help="train until this step")
    budget.add_argument("--until-seconds", type=positive_float, help="train until this much training time in all")
    trial.add_argument("--samples", type=positive_int, required=True, help="generated and real samples to measure")
    trial.add_argument("--measure", default="frechet_distance", help="the measure to print")
    trial.add_argument("--seed", type=int, default=0)
    trial.add_argument("--held-by", type=int, metavar="PID", help="the process holding the run for this one")
    add_slots(trial)


def add_sample_command(commands: argparse._SubParsersAction) -> None:
    """`sample`: a checkpoint's outputs saved as a .npy file, for use outside the dashboard."""
    sample = commands.add_parser("sample", help="write samples from a run's latest checkpoint to a .npy file")
    sample.add_argument("run_dir")
    sample.add_argument("--n", type=positive_int, required=True, help="number of samples")
    sample.add_argument("--out", required=True, help="output .npy: uint8 NxHxWxC images or float32 Nx2 points")
    sample.add_argument("--seed", type=int, default=0)


def add_evaluate_command(commands: argparse._SubParsersAction) -> None:
    """`evaluate`: every measure of a checkpoint as one JSON object, so that scripts can compare runs.

    InceptionV3's weights are downloaded only on --download-weights: a measure must not fetch 84 MB unasked.
    """
    evaluate = commands.add_parser("evaluate", help="print every evaluation metric of a checkpoint as one JSON object")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--n", type=positive_int, required=True, help="generated and real samples to compare")
    evaluate.add_argument("--features", choices=("auto", "classifier", "inception"), default="auto",
                          help="feature space: the dataset's classifier, InceptionV3, or auto (the classifier if any)")
    evaluate.add_argument("--step", type=int, help="checkpoint step (default: the latest)")
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--download-weights", action="store_true",
                          help="allow downloading InceptionV3's ImageNet weights (about 84 MB, once)")


def add_prepare_features_command(commands: argparse._SubParsersAction) -> None:
    """`prepare-features`: a dataset's feature classifier trained ahead of time, so that evaluating waits for none."""
    prepare = commands.add_parser("prepare-features",
                                  help="train a dataset's feature classifier for evaluation (once; half a minute)")
    prepare.add_argument("dataset", choices=tuple(config_module.NATIVE_IMAGE_SHAPES))
    prepare.add_argument("--cache-dir", help="where classifiers are kept (default: $GAN_CACHE_DIR or "
                                             "~/.cache/gan_dashboard)")


def add_list_command(commands: argparse._SubParsersAction) -> None:
    """`list`: every run in a runs folder with its status, as the dashboard's overview shows them."""
    listing = commands.add_parser("list", help="list runs with their status")
    listing.add_argument("--runs-dir", default=str(DEFAULT_RUNS_DIR))


def main(arguments: list[str] | None = None) -> int:
    # gan_core's own notices (e.g. "training the classifier, once") go to standard error, keeping stdout for results.
    package_log = logging.getLogger("gan_core")
    package_log.setLevel(logging.INFO)
    package_log.addHandler(logging.StreamHandler(sys.stderr))
    return run_command(arguments)


def run_command(arguments: list[str] | None) -> int:
    """One command, its bad input answered with one line and exit status 2."""
    try:
        options = build_parser().parse_args(arguments)
        return COMMANDS[options.command](options)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except ValueError as error:
        print(f"error: {error}".replace("\n", " "), file=sys.stderr)
        return USAGE_ERROR


def build_config(options: argparse.Namespace) -> config_module.RunConfig:
    overrides = dict(config_module.parse_assignment(text) for text in options.set)
    if options.data:
        data_path = Path(options.data)
        if not data_path.exists():
            raise ValueError(f"--data {options.data}: no such folder or zip file")
        overrides.update(dataset="folder", data_path=str(data_path.resolve()))
    if options.steps:
        overrides["steps"] = options.steps
    template = config_module.preset(options.preset).to_dict()
    # A preset's name describes the preset's data; a run on other data is named after what it trains.
    overrides["name"] = config_module.name_following_data({**template, **overrides}, template)
    return config_module.preset(options.preset, **overrides)


def print_progress(total_steps: int, run_config: config_module.RunConfig):
    """A callback printing each logged row: its step, the variant's progress metrics and the images per second."""
    metric_names = registry.of(run_config).progress_metrics

    def report(row: dict[str, float]) -> None:
        metrics = "".join(f"  {name} {row[name]:.4f}" for name in metric_names if name in row)
        print(f"step {int(row['step'])}/{total_steps}{metrics}  {row['images_per_second']:.0f} images/s", flush=True)

    return report


def with_suggested_augmentation(run_config: config_module.RunConfig, options: argparse.Namespace,
                                image_count: int) -> config_module.RunConfig:
    """A person's small collection trains with DiffAugment unless `--set augment=...` says otherwise."""

    explicit = {config_module.parse_assignment(text)[0] for text in options.set}
    has_setting = registry.of(run_config).has_setting("augment")
    if not options.data or "augment" in explicit or not has_setting:
        return run_config
    policy = augment.suggested_policy(image_count)
    if policy != run_config.augment:
        print(f"{image_count:,} images: augment={policy} (DiffAugment keeps a discriminator from memorising a small "
              f"collection; --set augment=none turns it off)", flush=True)
    return run_config.replace(augment=policy)


def describe(run_config: config_module.RunConfig) -> str:
    """What a run trains, in the config's words, with only the fields its variant reads: "mnist, vae, dcgan"."""
    return ", ".join(config_module.settings_in_words(run_config.to_dict()).values())


def checked_config(options: argparse.Namespace):
    """The config the options ask for, with its data loaded and checked: (config, dataset).

    Checking and loading the data before creating the run means bad data leaves no half-made run behind.
    """

    run_config = build_config(options)
    dataset = data.load_dataset(run_config)
    for name, reason in dataset.skipped:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    return with_suggested_augmentation(run_config, options, len(dataset.examples)), dataset


def command_create(options: argparse.Namespace) -> int:
    run_config, _ = checked_config(options)
    print(create_run(run_config, options.runs_dir).path)
    return 0


def command_train(options: argparse.Namespace) -> int:
    run_config, dataset = checked_config(options)
    # Checking the config and reading the data need no TensorFlow, so bad options fail at once; the strategy still
    # comes before TensorFlow runs any operation.
    import_tensorflow_quietly()
    strategy = distribution.choose_strategy()
    run = create_run(run_config, options.runs_dir)
    write_status(run.path, "queued", "loading data and building the networks", pid=os.getpid())
    print(f"training {run.run_id}: {describe(run_config)}", flush=True)
    state = train_run(
        run, max_seconds=options.max_seconds, dataset=dataset, on_log=print_progress(run_config.steps, run_config),
        strategy=strategy,
    )
    print(f"{state}: {run.status.message}", flush=True)
    print(run.path)
    return 0 if state in ("finished", "stopped") else 1


def command_resume(options: argparse.Namespace) -> int:
    run = open_run(options.run_dir)
    with queue_turn(run, options.slots) as admitted:
        if not admitted:
            return 0
        state = resume_here(run, options.steps, options.max_seconds, options.lower_learning_rate)
    print(f"{state}: {run.status.message}", flush=True)
    print(run.path)
    return 0 if state in ("finished", "stopped") else 1


@contextmanager
def queue_turn(run: Run, slots: int | None) -> Iterator[bool]:
    """With `slots`, wait in the run store's queue for a free trainer slot and hold it for the block; yields False
    when the run was cancelled while it waited (its status then says so). Without, yields True at once."""
    if slots is None:
        yield True
        return
    write_status(run.path, "queued", "joining the queue", pid=os.getpid(), step=run.status.step)
    with queue.trainer_slot(run, slots, run.stop_request_path.exists) as admitted:
        if not admitted:
            run.stop_request_path.unlink(missing_ok=True)
            write_status(run.path, "stopped", "cancelled while it waited in the queue; resume it to queue it again",
                         pid=None, step=run.status.step)
            print(f"{run.run_id}: cancelled while it waited in the queue", flush=True)
        yield admitted


def resume_here(run: Run, extra_steps: int | None, max_seconds: float | None,
                lower_learning_rate: bool = False, handed_over_by: int | None = None) -> str:
    """Continue `run` in this process from its latest checkpoint, `extra_steps` beyond it (default: to its target);
    returns the state it ended in. `handed_over_by` is a process that holds the run for this one (a sweep's driver
    while the trial waits for a node of its cluster)."""
    import_tensorflow_quietly()
    strategy = distribution.choose_strategy()  # before TensorFlow runs any operation
    if not distribution.is_chief(strategy):
        return train_as_worker(run, strategy, extra_steps, max_seconds)
    # The same lock as the dashboard's Resume button, so a resume here and one in a browser start one trainer.
    with jobs.run_directory_lock(run):
        status = run.status
        started_by_a_job = status.pid == os.getpid()
        if not started_by_a_job:
            jobs.refresh_status(run)
            status = run.status
            if status.is_active and status.pid != handed_over_by and jobs.process_alive(status.pid):
                raise ValueError(f"run {run.run_id} is already {status.state} in process {status.pid}")
            if lower_learning_rate:
                changed = update_config(run, **config_module.lower_learning_rates(run.config))
                print(f"learning rates halved: g_learning_rate={changed.g_learning_rate:g}, "
                      f"d_learning_rate={changed.d_learning_rate:g}", flush=True)
        # A stop asked for while this process was starting up still counts; any other stop request is stale.
        if status.state != "stopping":
            run.stop_request_path.unlink(missing_ok=True)
        target = resume_target(run, extra_steps)
        if not started_by_a_job:
            # Claim the run before the networks are built, so that the dashboard sees it taken.
            write_status(run.path, "queued", "resuming from the command line", pid=os.getpid(), step=status.step,
                         target_step=target)
    return train_run(run, target_step=target, max_seconds=max_seconds, on_log=print_progress(target, run.config),
                     strategy=strategy)


def command_trial_worker(options: argparse.Namespace) -> int:
    """Stretches of a sweep's trials, one after another in this process, so that TensorFlow loads once, not once per
    stretch: each line on standard input is a `trial` command's arguments (JSON); each is answered on --reply-fd with
    its exit status, its output appended to its run's log. Ends when standard input closes."""
    import_tensorflow_quietly()
    import keras

    with os.fdopen(options.reply_fd, "w", buffering=1) as replies:
        for line in sys.stdin:
            arguments = json.loads(line)
            with output_appended_to(open_run(arguments[1]).log_path):
                try:
                    status = run_command(arguments)
                except Exception:  # a crash of one stretch (its run's status says so) must not end the others
                    traceback.print_exc()
                    status = 1
            keras.backend.clear_session()  # the networks of that run, no longer needed
            replies.write(json.dumps({"run": arguments[1], "exit": status}) + "\n")
    return 0


@contextmanager
def output_appended_to(log_path: Path) -> Iterator[None]:
    """This process's standard output and error (Python's and TensorFlow's own) appended to `log_path` for the
    block."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for descriptor, original in zip((1, 2), saved):
            os.dup2(original, descriptor)
            os.close(original)


def command_trial(options: argparse.Namespace) -> int:
    """One stretch of a sweep's trial: train to the rung's budget (unless a previous attempt got there), then measure
    the checkpoint it ended on; the measures go to the run store, where the sweep reads them."""
    run = open_run(options.run_dir)
    with queue_turn(run, options.slots) as admitted:
        if not admitted:
            return 0
        extra_steps, max_seconds = trial_stretch(run, options.until_step, options.until_seconds)
        if extra_steps or max_seconds:
            state = resume_here(run, extra_steps, max_seconds, handed_over_by=options.held_by)
            if state not in ("finished", "stopped"):
                print(f"{state}: {run.status.message}", flush=True)
                return 1
        import_tensorflow_quietly()
        results = evaluation.evaluate_run(run, options.samples, seed=options.seed)
    print(json.dumps({"step": results["step"], options.measure: results.get(options.measure)}), flush=True)
    return 0


def trial_stretch(run: Run, until_step: int | None, until_seconds: float | None) -> tuple[int | None, float | None]:
    """(extra steps, seconds) still to train for a trial to reach `until_step` or `until_seconds` of training in all;
    (None, None) when it is there already (an attempt that ended after training, before its measures)."""
    reached = max(run.checkpoint_steps(), default=0)
    if until_step is not None:
        return (until_step - reached, None) if until_step > reached else (None, None)
    seconds_left = until_seconds - run.status.trained_seconds
    if seconds_left < 1 or reached >= run.config.steps:
        return None, None
    return run.config.steps - reached, seconds_left


def train_run(
    run: Run,
    target_step: int | None = None,
    max_seconds: float | None = None,
    dataset: Dataset | None = None,
    on_log: Callable[[dict[str, float]], None] | None = None,
    strategy: tf.distribute.Strategy | None = None,
) -> str:
    """Train a run in this process and record any crash in its status, with the error's last line."""
    from gan_core.lab.playground_trainer import PlaygroundTrainer
    from gan_core.training.trainer import Trainer

    try:
        if run.config.playground:
            trainer = PlaygroundTrainer(run, dataset=dataset)
        else:
            trainer = Trainer(run, strategy=strategy, dataset=dataset)
        return trainer.train(target_step=target_step, max_seconds=max_seconds, on_log=on_log)
    except Exception as error:
        traceback.print_exc()
        reason = describe_os_error(error) if isinstance(error, OSError) else str(error)
        try:
            write_status(run.path, "failed", f"{type(error).__name__}: {reason}", pid=None, step=run.status.step)
        except OSError:
            # A full or read-only disk can refuse even this small file; the log above still says what happened,
            # and the dashboard marks the run failed once it sees the process gone.
            print(f"could not record the failure in {run.path / 'status.json'}", flush=True)
        raise


def train_as_worker(run, strategy, extra_steps: int | None, max_seconds: float | None) -> str:
    """A non-chief worker of a cluster: it trains beside the chief, which alone claims and writes the run."""
    from gan_core.training import trainer

    target = resume_target(run, extra_steps)
    state = trainer.Trainer(run, strategy=strategy).train(target_step=target, max_seconds=max_seconds)
    print(f"{state} (worker; the chief writes the run)", flush=True)
    return state


def command_sample(options: argparse.Namespace) -> int:
    run = open_run(options.run_dir)
    out = Path(options.out)
    if out.suffix != ".npy":
        raise ValueError(f"--out {options.out} must end in .npy")
    if not out.parent.is_dir():
        raise ValueError(f"--out {options.out}: folder {out.parent} does not exist")
    import_tensorflow_quietly()
    from gan_core.nets import sampling

    samples = sampling.sample(run, options.n, seed=options.seed)
    np.save(out, samples)
    print(f"wrote {samples.shape[0]} samples {samples.dtype} {tuple(samples.shape[1:])} to {out}")
    if not registry.of(run.config).draws_from_noise:
        # An image-to-image run's samples are translations of held-out inputs: those go beside them, in order.
        inputs = data.to_uint8_images(sampling.latent_vectors(run.config, options.n, options.seed))
        inputs_path = out.with_name(f"{out.stem}_inputs.npy")
        np.save(inputs_path, inputs)
        print(f"wrote the {len(inputs)} held-out inputs they translate, in the same order, to {inputs_path}")
    return 0


def command_evaluate(options: argparse.Namespace) -> int:
    run = open_run(options.run_dir)
    import_tensorflow_quietly()
    results = evaluation.evaluate_run(
        run, options.n, kind=options.features, step=options.step, seed=options.seed, download=options.download_weights
    )
    print(json.dumps(results, sort_keys=True))
    return 0


def command_prepare_features(options: argparse.Namespace) -> int:
    import_tensorflow_quietly()
    feature_jobs.prepare_features(options.dataset, options.cache_dir)
    print(f"{options.dataset}: {feature_jobs.preparation_status(options.dataset, options.cache_dir).message}")
    return 0


def command_list(options: argparse.Namespace) -> int:
    runs = list_runs(options.runs_dir)
    if not runs:
        print(f"no runs in {options.runs_dir}")
        return 0
    for run in runs:
        jobs.refresh_status(run)
        status = run.status
        config = run.config
        print(
            f"{run.run_id}  {status.state:<9} step {status.step}/{run.progress_target(status)}  "
            f"{describe(config)}  {run.path}"
        )
    for sweep in sweep_store.list_sweeps(options.runs_dir):
        state = driver.refresh_sweep(sweep)
        print(f"sweep {sweep.sweep_id}  {state.state:<9} {len(sweep.trials())} trials  {state.message}  {sweep.path}")
    return 0


def command_sweep(options: argparse.Namespace) -> int:
    plan = sweep_plan.SweepPlan(
        name=options.name or config_module.preset(options.preset).name, preset=options.preset,
        dimensions=tuple(options.grid + options.range), budget_steps=options.steps, budget_seconds=options.seconds,
        overrides=dict(config_module.parse_assignment(text) for text in options.set),
        random_count=options.random or 0, measure=options.measure, rungs=options.halving or 1,
        slots=options.slots or queue.default_slots(), ray_address=options.ray or "",
        cpus_per_trial=options.cpus_per_trial, gpus_per_trial=options.gpus_per_trial, samples=options.samples or 0,
        seed=options.seed)
    sweep = sweep_store.create_sweep(plan, options.runs_dir)
    if options.detach:
        driver.start_sweep(sweep)
        print(sweep.path)
        return 0
    print(f"sweep {sweep.sweep_id}: {len(sweep.trials())} trials", flush=True)
    state = driver.run_sweep(sweep, on_report=lambda message: print(message, flush=True))
    for place, run_id in enumerate(state.ranking, start=1):
        scores = state.scores[run_id]
        score = f"{scores[-1]:.4g}" if scores and scores[-1] is not None else "not measured"
        print(f"{place:>3}. {run_id}  {plan.measure} {score}  (rungs reached: {len(scores)})")
    print(sweep.path)
    return 0 if state.state == "finished" else 1


def command_augment(options: argparse.Namespace) -> int:
    if options.study:
        study = augmentation.open_study(options.study)
    elif options.dataset is None:
        raise UsageError("augment needs --dataset (or --study with a study's folder)")
    else:
        plan = augmentation.AugmentationPlan(
            options.dataset, tuple(options.labels_per_class), tuple(options.seeds), options.steps,
            options.generated_per_class, options.classifier_updates)
        study = augmentation.create_study(plan, options.runs_dir)
    print(f"study {study.study_id}: {len(study.plan.trials())} trials", flush=True)
    import_tensorflow_quietly()
    from gan_core.workflows import augmentation_driver  # trains: TensorFlow, loaded only for this command

    trials = augmentation_driver.run_study(study, pid=os.getpid(),
                                           report=lambda message: print(message, flush=True))
    print(augmentation.summary_table(augmentation.summarise(trials)))
    print(study.path)
    return 0


COMMANDS = {
    "train": command_train,
    "resume": command_resume,
    "create": command_create,
    "sample": command_sample,
    "evaluate": command_evaluate,
    "prepare-features": command_prepare_features,
    "list": command_list,
    "sweep": command_sweep,
    "trial": command_trial,
    "trial-worker": command_trial_worker,
    "augment": command_augment,
}

if __name__ == "__main__":
    sys.exit(main())
