"""The demo link's policy: the caps a public dashboard holds, read from the environment, and pure checks of them.

A dashboard shared as a public link (`GAN_DASHBOARD_DEMO=1`) is used by strangers at once, on a small machine.
Every limit here has a default that suits a 2-core machine with about 3 GB (README: measured memory) and a variable
that overrides it; every check raises ValueError with a message a visitor can act on. Nothing here touches the
disk or Streamlit, so each rule is tested on plain values.
"""

from __future__ import annotations

import dataclasses
import hmac
import math
import re
from dataclasses import dataclass
from collections.abc import Mapping, Sequence

from gan_core.spec.config import RunConfig
from gan_core.spec.settings import SettingError

DEMO_SWITCH = "GAN_DASHBOARD_DEMO"
TRUE_WORDS = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DemoLimits:
    """The caps of demo mode. Each field's environment variable is in ENVIRONMENT_NAMES."""

    max_trainers: int = 2  # trainer processes at once, for everyone (each holds about 0.6-0.9 GB)
    max_trainers_per_owner: int = 1  # trainer processes at once, for one visitor
    max_steps: int = 6000  # a run's total steps, "train more" included (fashion-dcgan's preset is 6000)
    max_seconds: int = 600  # a run's training time, over every resume; its trainer then stops with a checkpoint
    max_batch_size: int = 256  # the engine allows 4096; ring-mlp's preset uses 256 (2-D points are cheap)
    max_width: int = 128  # the engine allows 1024
    max_n_critic: int = 5  # the engine allows 100
    max_upload_file_megabytes: int = 20  # one uploaded file
    max_upload_total_megabytes: int = 50  # all files of one upload together
    # Every upload that runs use, together: only those stay (uploads.remove_unused_uploads removes the others), so
    # counting the others would let refused or abandoned uploads fill the space for everyone.
    max_uploads_stored_megabytes: int = 500
    max_runs: int = 30  # runs kept on disk; the oldest stopped visitor runs are deleted to make room
    max_sample_grids: int = 200  # fixed-noise grids one run saves (steps / sample_every), so disk use is bounded
    min_checkpoint_every: int = 100  # steps between checkpoints: each one writes both networks and optimizers
    max_gif_frames: int = 40  # frames of the Gallery's timeline GIF (built in the web server)
    max_evaluation_samples: int = 2000  # samples per side for an evaluation (computed in the web server)
    max_checkpoints_per_evaluation: int = 3  # checkpoints measured by one "Evaluate all checkpoints"
    showcase_seconds: int = 180  # how long the fashion-dcgan showcase trains; 0 starts no showcase


ENVIRONMENT_NAMES = {field.name: "GAN_DEMO_" + field.name.upper() for field in dataclasses.fields(DemoLimits)}


def demo_switched_on(environment: Mapping[str, str]) -> bool:
    """True when the environment asks for demo mode (GAN_DASHBOARD_DEMO=1, true, yes or on)."""
    return environment.get(DEMO_SWITCH, "").strip().lower() in TRUE_WORDS


def limits_from_environment(environment: Mapping[str, str]) -> DemoLimits:
    """The default limits with every GAN_DEMO_* variable that is set applied; ValueError for a bad value."""
    values = {}
    for name, variable in ENVIRONMENT_NAMES.items():
        text = environment.get(variable, "").strip()
        if not text:
            continue
        try:
            value = int(text)
        except ValueError:
            raise ValueError(f"{variable}={text!r} must be a whole number") from None
        # Only the showcase may be switched off with 0; a cap of 0 would make the demo unusable, not safe.
        smallest = 0 if name == "showcase_seconds" else 1
        if value < smallest:
            raise ValueError(f"{variable}={value} must be at least {smallest}")
        values[name] = value
    return DemoLimits(**values)


def check_config(config: RunConfig, limits: DemoLimits) -> None:
    """Refuse a run bigger than the demo allows, with a SettingError naming the field, as the engine's do."""
    tighter = (("steps", limits.max_steps), ("batch_size", limits.max_batch_size), ("width", limits.max_width),
               ("n_critic", limits.max_n_critic))
    for name, largest in tighter:
        value = getattr(config, name)
        if value > largest:
            raise SettingError(name, f"{name}={value} is above this demo's limit of {largest:,} "
                                     f"(set by {ENVIRONMENT_NAMES['max_' + name]}); "
                                     f"run the dashboard on your own machine for bigger runs")
    grids = math.ceil(config.steps / config.sample_every)
    if grids > limits.max_sample_grids:
        needed = math.ceil(config.steps / limits.max_sample_grids)
        raise SettingError("sample_every", f"sample_every={config.sample_every} would save {grids:,} sample grids; "
                                           f"this demo keeps at most {limits.max_sample_grids} per run "
                                           f"(set by {ENVIRONMENT_NAMES['max_sample_grids']}), "
                                           f"so sample every {needed:,} steps or more")
    if config.checkpoint_every < limits.min_checkpoint_every:
        raise SettingError("checkpoint_every", f"checkpoint_every={config.checkpoint_every} is below this demo's "
                                               f"minimum of {limits.min_checkpoint_every} steps "
                                               f"(set by {ENVIRONMENT_NAMES['min_checkpoint_every']}); "
                                               "a checkpoint is written whenever the run stops anyway")


def seconds_left(trained_seconds: float, limits: DemoLimits) -> float:
    """The training time a run has left under the demo's cap; ValueError when it has used it all."""
    left = limits.max_seconds - trained_seconds
    if left < 1:
        raise ValueError(f"a run may train for at most {limits.max_seconds / 60:.3g} min in this demo, and this one "
                         f"has trained for {trained_seconds / 60:.3g} min; start a new run to train more")
    return left


def check_extra_steps(current_step: int, extra_steps: int, limits: DemoLimits) -> None:
    """Refuse "train more" beyond the demo's total steps per run."""
    if current_step + extra_steps > limits.max_steps:
        room = max(limits.max_steps - current_step, 0)
        raise ValueError(f"a run may train at most {limits.max_steps:,} steps in this demo; this one is at step "
                         f"{current_step:,}, so at most {room:,} more")


def check_trainer_slots(active_owners: Sequence[str | None], owner_hash: str, limits: DemoLimits) -> None:
    """Refuse a new trainer process when the demo, or this visitor, already has as many as allowed.

    `active_owners` holds the owner hash (None for nobody's runs) of every run training now.
    """
    # The visitor's own cap first: its message says what they can do about it.
    own = sum(1 for owner in active_owners if owner is not None and hmac.compare_digest(owner, owner_hash))
    if own >= limits.max_trainers_per_owner:
        raise ValueError(f"you already have {own} run(s) training, the most one visitor may have at once in this "
                         "demo; stop it on the Monitor page or wait until it finishes")
    if len(active_owners) >= limits.max_trainers:
        raise ValueError(f"this demo trains at most {limits.max_trainers} run(s) at once and {len(active_owners)} "
                         "are training now; watch them, and try again when one has finished")


def check_upload_sizes(sizes: Mapping[str, int], limits: DemoLimits, stored_bytes: int = 0) -> None:
    """Refuse an upload with a file, or a total, larger than the demo allows. `sizes` maps file name to bytes;
    `stored_bytes` is what the uploads that runs use already take on the server (see `uploads.bytes_in_use`)."""
    megabyte = 1024 * 1024
    for name, size in sizes.items():
        if size > limits.max_upload_file_megabytes * megabyte:
            raise ValueError(f"{name} is {size / megabyte:.1f} MB; this demo takes files of at most "
                             f"{limits.max_upload_file_megabytes} MB each")
    total = sum(sizes.values())
    if total > limits.max_upload_total_megabytes * megabyte:
        raise ValueError(f"these files add up to {total / megabyte:.1f} MB; this demo takes at most "
                         f"{limits.max_upload_total_megabytes} MB in one upload")
    if stored_bytes + total > limits.max_uploads_stored_megabytes * megabyte:
        raise ValueError(f"this demo's space for uploads ({limits.max_uploads_stored_megabytes} MB) is full; "
                         "try a built-in dataset, or again once older runs and their uploads have been deleted")


@dataclass(frozen=True)
class StoredRun:
    """What pruning needs to know of a run: when it was created, whether it trains, and whose it is."""

    run_id: str
    created: float  # seconds since the epoch; run ids only hold whole seconds, so they do not order within one
    is_active: bool
    is_visitor_run: bool  # started by a visitor of the demo (not a showcase run, not made outside the demo)


def runs_to_prune(stored: Sequence[StoredRun], limits: DemoLimits) -> list[str]:
    """The ids of the runs to delete so that one more fits under max_runs: the oldest stopped visitor runs.

    A run that is training is never chosen, nor a showcase run; ValueError when that leaves no room.
    """
    excess = len(stored) + 1 - limits.max_runs
    if excess <= 0:
        return []
    candidates = [run.run_id for run in sorted(stored, key=lambda run: (run.created, run.run_id))
                  if run.is_visitor_run and not run.is_active]
    if len(candidates) < excess:
        raise ValueError(f"this demo keeps at most {limits.max_runs} runs and the others are training or part of "
                         "the showcase; try again when a run has finished")
    return candidates[:excess]


def evenly_chosen(items: Sequence, largest: int) -> list:
    """At most `largest` of `items`, spread evenly and always keeping the first and the last."""
    if len(items) <= largest:
        return list(items)
    if largest == 1:
        return [items[-1]]
    positions = sorted({round(index * (len(items) - 1) / (largest - 1)) for index in range(largest)})
    return [items[position] for position in positions]


def allowed_sample_counts(options: Sequence[int], limits: DemoLimits) -> list[int]:
    """The evaluation sample counts within the demo's cap (the smallest option stays, whatever the cap)."""
    kept = [count for count in options if count <= limits.max_evaluation_samples]
    return kept or [min(options)]


# An absolute path of two or more parts (a server's folders, a traceback's files).
ABSOLUTE_PATH = re.compile(r"(?:/[\w.+@-]+){2,}/?")


def public_text(message: str) -> str:
    """A run's status message as a demo shows it to visitors: its first line, with server paths cut to file names.

    Later lines hold the end of the trainer's log (tracebacks); the server's log and the run directory keep them.
    """
    lines = message.strip().splitlines() or [""]
    first_line = ABSOLUTE_PATH.sub(lambda match: match.group(0).rstrip("/").rsplit("/", 1)[-1], lines[0])
    if len(lines) > 1 and first_line.endswith(":"):
        first_line += " kept in the server's log"  # The lines it announced are not shown.
    return first_line
