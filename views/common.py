"""Widgets and cached readers shared by the dashboard's pages. Widget-drawing helpers end in `_ui`.

Nothing here imports TensorFlow at module level: pages that only read the run store must stay light, so the
generator cache imports `gan_core.nets.sampling` inside the function that needs it.
"""

from __future__ import annotations

import collections
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from gan_core.spec import config as config_module
from gan_core.inputs import images
from gan_core.workers import jobs, queue
from gan_core.measuring import measures
from gan_core.spec import registry
from gan_core.store import runs, uploads
from gan_core.store.runs import Run
from views.demo_views import demo_frame_ui, demo_mode
from views.server_heap import freeze_imported_libraries

# The dashboard's pages in the order the sidebar lists them: (script, title, icon). Streamlit routes the scripts
# in pages/ itself (the address of pages/monitor.py is /monitor), so any first request, even to a sub-page with
# ?run=..., runs the right script; every page then draws this navigation with `page_frame_ui`.
HOME_PAGE = "app.py"
TRAIN_PAGE = "pages/train.py"
MONITOR_PAGE = "pages/monitor.py"
GALLERY_PAGE = "pages/gallery.py"
COMPARE_PAGE = "pages/compare.py"
EVALUATE_PAGE = "pages/evaluate.py"
HUMAN_TEST_PAGE = "pages/human_test.py"
RUNS_PAGE = "pages/runs.py"
PLAYGROUND_PAGE = "pages/playground.py"
SWEEPS_PAGE = "pages/sweeps.py"
AUGMENT_PAGE = "pages/augment.py"
PAGES = (
    (HOME_PAGE, "Runs overview", ":material/dashboard:"),
    (TRAIN_PAGE, "Train", ":material/model_training:"),
    (MONITOR_PAGE, "Monitor", ":material/monitoring:"),
    (GALLERY_PAGE, "Gallery", ":material/photo_library:"),
    (COMPARE_PAGE, "Compare", ":material/compare:"),
    (EVALUATE_PAGE, "Evaluate", ":material/analytics:"),
    (HUMAN_TEST_PAGE, "Real or fake?", ":material/visibility:"),
    (RUNS_PAGE, "Runs", ":material/folder_open:"),
    (SWEEPS_PAGE, "Sweeps", ":material/tune:"),
    (AUGMENT_PAGE, "Augment", ":material/library_add:"),
    (PLAYGROUND_PAGE, "Playground", ":material/scatter_plot:"),
)

STATE_COLOURS = {
    "queued": "blue", "running": "green", "stopping": "orange", "stopped": "gray",
    "finished": "violet", "failed": "red", "diverged": "red",
}
# Click tokens remembered per tab: far more than the buttons of one page.
DELIVERED_TOKENS = 200
# Evaluation results where a lower number is better, in order of preference for the overview's "best metric",
# with how each is named when the evaluation does not name it itself.
def page_frame_ui(script: str) -> None:
    """What every page starts with: the browser tab's title, the wide layout, and the sidebar; and, after new
    imports, the heap frozen so that Streamlit's collection after every rerun stays short (views/server_heap.py).

    The sidebar holds the navigation (Streamlit's own list of pages/ is turned off in .streamlit/config.toml,
    since it would name pages after their file names and leave out the overview) and the runs training now.
    """
    title, icon = next((title, icon) for page, title, icon in PAGES if page == script)
    freeze_imported_libraries()
    st.set_page_config(page_title=f"{title} · GAN dashboard", page_icon=icon, layout="wide")
    unused_uploads_removed_at_start(str(runs_dir().resolve()))
    with st.sidebar:
        for page, page_title, page_icon in PAGES:
            st.page_link(page, label=page_title, icon=page_icon)
        if demo_mode():
            demo_frame_ui(runs_dir())
        st.divider()
        active_runs_sidebar_ui()


@st.cache_resource(show_spinner=False)
def unused_uploads_removed_at_start(runs_folder: str) -> tuple[str, ...]:
    """Once per server process (and runs folder), on its first page: remove the uploads no run uses that were left
    from before, so that they go even when nobody uploads again (every new upload sweeps them as well)."""
    return tuple(str(folder) for folder in uploads.remove_unused_uploads(runs_folder))


def runs_dir() -> Path:
    """The run store, read from GAN_RUNS_DIR on every call so that a test can point it elsewhere."""
    return Path(os.environ.get("GAN_RUNS_DIR", "runs"))


def run_title(run: Run) -> str:
    """How a run is named to people: its name (or dataset) and its id."""
    config = run.config
    return f"{config.name or config.dataset} · {run.run_id}"


def address_choice_ui(label: str, choices: list[str], key: str, help_text: str) -> str:
    """A chooser kept in the address as `?<key>=<choice>`, so that a reload or a shared link shows the same one;
    without one in the address it picks the first choice (the newest, as sweeps and studies are listed)."""
    requested = st.query_params.get(key)
    if requested in choices:
        st.session_state[key] = requested
    elif st.session_state.get(key) not in choices:
        st.session_state[key] = choices[0]
    chosen = st.selectbox(label, choices, key=key, help=help_text,
                          on_change=lambda: st.query_params.update({key: st.session_state[key]}))
    st.query_params[key] = chosen
    return chosen


def duration_text(seconds: float) -> str:
    """A duration rounded the way people say it: 40 s, 12 min, 2.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def state_badge(state: str) -> str:
    """Markdown for a coloured badge showing a run's state."""
    return f":{STATE_COLOURS.get(state, 'gray')}-badge[{state}]"


def subject_key(name: str, run: Run, step: int | None = None) -> str:
    """A widget key that belongs to one run (and checkpoint): its state never carries over to another subject.

    A widget whose meaning depends on the selection (a delete confirmation, a checkpoint choice, a control) keyed
    by its name alone would keep a tick given for one run when the picker moves to another.
    """
    return f"{name}:{run.run_id}" if step is None else f"{name}:{run.run_id}@{step}"


def click_token(name: str) -> str:
    """A token for one button as drawn in this page run, for its callback to pass to `first_delivery`."""
    return f"{name}:{secrets.token_hex(8)}"


def first_delivery(token: str) -> bool:
    """True the first time a callback brings `token`, False after: the same click delivered again.

    Streamlit 1.67 was seen to run a button's callback twice for one click, 1 to 120 ms apart, when the click's rerun
    met the rerun of a view that refreshes itself ten times a second. Every click reruns the page, which draws the
    button afresh with a new token, so each click a person makes on the page they see counts once; a second click
    landing before the page has drawn the button again (a few tenths of a second) is taken for the same click.
    """
    delivered = st.session_state.setdefault("delivered_click_tokens", collections.deque(maxlen=DELIVERED_TOKENS))
    if token in delivered:
        return False
    delivered.append(token)
    return True


def act_on_run(run: Run, action, token: str, **options) -> None:
    """Button callback that stops or resumes `run` at once, before the page reruns; a refusal (another tab resumed
    it first, a demo's cap) is kept for `refusal_ui` to show when the page is drawn again."""
    if not first_delivery(token):
        return
    try:
        action(run, **options)
    except ValueError as error:
        st.session_state[subject_key("refused", run)] = str(error)


def refusal_ui(run: Run) -> None:
    """Why the last action on `run` from this tab was refused, once."""
    refusal = st.session_state.pop(subject_key("refused", run), None)
    if refusal:
        st.error(refusal, icon=":material/error:")


def run_picker_ui(all_runs: list[Run], label: str = "Run", key: str = "run") -> Run | None:
    """A run chooser kept in the address as `?run=<run id>`, so a reload or a shared link shows the same run.

    Without `run` in the address it picks the newest active run, else the newest run.
    """
    if not all_runs:
        return None
    run_ids = [run.run_id for run in all_runs]
    requested = st.query_params.get("run")
    if requested in run_ids:
        st.session_state[key] = requested
    elif st.session_state.get(key) not in run_ids:
        active = [run.run_id for run in all_runs if run.status.is_active]
        st.session_state[key] = (active or run_ids)[0]
    chosen = st.selectbox(label, run_ids, key=key, on_change=copy_run_to_address, args=(key,),
                          help="Runs are listed newest first; each id starts with the time it was created.")
    st.query_params["run"] = chosen
    run = all_runs[run_ids.index(chosen)]
    config = run.config
    words = config_module.settings_in_words(config.to_dict()).values()
    st.caption(f"**{config.name or config.dataset}**: {', '.join(words)}, {config.steps:,} steps")
    return run


def copy_run_to_address(key: str) -> None:
    """Callback of the run chooser: the address follows the person's choice before the page reads it."""
    st.query_params["run"] = st.session_state[key]


def no_runs_ui(what: str) -> None:
    """The message a page shows when the store holds no run yet, with a way to the Train page."""
    default = config_module.DEFAULT_PRESET
    st.info(f"There are no runs yet, so there is nothing to {what}. Set one up on the Train page, which starts from "
            f"the default preset, {registry.presets()[default]['name']} ({default}).")
    st.page_link(TRAIN_PAGE, label="Set up a run", icon=":material/model_training:")


@st.fragment(run_every=5.0)
def active_runs_sidebar_ui() -> None:
    """The runs training now, each linking to its live view; refreshed every few seconds. Call it in the sidebar."""
    st.subheader("Training now")
    active = jobs.refresh_all(runs_dir())
    if not active:
        st.caption("Nothing is training. Start a run on the Train page.")
    for run in active:
        status = run.status
        place = queue.position(run) if status.state == "queued" else None
        waiting = f" ({place[0]} of {place[1]})" if place else ""
        st.page_link(MONITOR_PAGE, label=f"{run.config.name or run.run_id} · step {status.step:,}/"
                     f"{run.progress_target(status):,} · {status.state}{waiting}", query_params={"run": run.run_id},
                     icon=":material/monitoring:")


def read_metrics(run: Run) -> list[dict[str, Any]]:
    """All logged rows of `run`, read incrementally: each call fetches only the rows added since the last one.

    The rows are kept per browser tab. The last row already held is read again and compared, which detects a
    resume that rewrote the log from an earlier checkpoint; the cache is then rebuilt from scratch.
    """
    cache = st.session_state.setdefault("metrics_cache", {})
    held = cache.get(str(run.path))
    if held:
        last = held[-1]
        fresh = run.metrics_since(last["step"] - 1)
        if fresh and fresh[0]["step"] == last["step"] and fresh[0]["wall_time"] == last["wall_time"]:
            held.extend(fresh[1:])
            return held
    held = cache[str(run.path)] = run.metrics_since(-1)
    return held


def best_metric_text(evaluations: list[dict[str, Any]]) -> str:
    """The run's best checkpoint by the ranking measure, e.g. "FID 12.3 (step 2,000)", or "—" when none is
    measured."""
    best = measures.best_checkpoint(evaluations)
    if best is None:
        return "—"
    measure, entry = best
    return f"{measure.label_in(entry['results'])} {entry['results'][measure.name]:.3g} (step {entry['step']:,})"


def samples_at(run: Run, step: int) -> np.ndarray | None:
    """The fixed-noise samples saved at `step` as an array: grid tiles for image runs, raw points for 2-D runs."""
    config = run.config
    try:
        return samples_from_file(str(run.sample_path(step)), config.is_points, config.sample_grid, config.data_shape[0])
    except (OSError, ValueError):
        return None  # Unreadable this time (e.g. deleted meanwhile); errors are not cached, so the next call retries.


@st.cache_data(max_entries=32, show_spinner=False)
def samples_from_file(path: str, is_points: bool, columns: int, image_side: int) -> np.ndarray:
    """Samples saved at one step; cached by path, since a step's grid is written once (atomically)."""
    from PIL import Image

    from gan_core.measuring import health

    if is_points:
        return np.load(Path(path).with_suffix(".npy"))
    with Image.open(path) as picture:
        return health.split_grid(np.asarray(picture), columns, image_side)


@st.cache_resource(max_entries=8, show_spinner="Loading the generator (the first one takes a few seconds)…")
def cached_generator(run_path: str, step: int):
    """The generator of a run at a checkpoint step. Weights at a step never change, so every visitor can share it."""
    from gan_core.nets import sampling  # Imported here: it loads TensorFlow, which store-only pages must not.

    return sampling.load_generator(runs.open_run(run_path), step)


def generator_ready_ui(run: Run, step: int) -> bool:
    """Load (and cache) the generator of a checkpoint; False, with the reason shown, when it cannot be loaded."""
    try:
        cached_generator(str(run.path), step)
    except ValueError as error:
        st.error(f"This checkpoint cannot be used: {error}", icon=":material/error:")
        return False
    return True


@st.cache_data(max_entries=32, show_spinner="Generating samples…")
def generated_samples(run_path: str, step: int, count: int, seed: int,
                      labels: tuple[int, ...] | None = None) -> np.ndarray:
    """`count` samples of a checkpoint from the noise of `seed` (uint8 images or float32 points), one label each if
    given."""
    from gan_core.nets import sampling

    latents = sampling.latent_vectors(runs.open_run(run_path).config, count, seed)
    return sampling.generate(cached_generator(run_path, step), latents, None if labels is None else np.array(labels))


@st.cache_data(max_entries=16, show_spinner="Walking through the noise space…")
def interpolated_samples(run_path: str, step: int, seed_a: int, seed_b: int, count: int,
                         label: int | None) -> np.ndarray:
    """`count` samples on the path between the noise vectors of two seeds, all of class `label` if given."""
    from gan_core.nets import sampling

    config = runs.open_run(run_path).config
    start, end = (sampling.latent_vectors(config, 1, seed)[0] for seed in (seed_a, seed_b))
    labels = None if label is None else np.full(count, label)
    return sampling.generate(cached_generator(run_path, step), sampling.interpolate(start, end, count), labels)


def grid_picture(samples: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Images tiled into one picture, small images scaled up so they stay visible."""
    return images.image_grid(samples, rows, columns, scale=images.grid_scale(samples.shape[1]))


@st.cache_data(max_entries=16, show_spinner="Loading real examples…")
def real_examples(config_json: str, count: int, seed: int, labels: tuple[int, ...] | None = None) -> np.ndarray:
    """Real training examples for a run's config, matched to `labels` when given (cached by the config's JSON)."""
    from gan_core.inputs import comparison, data
    from gan_core.spec.config import RunConfig

    dataset = data.load_dataset(RunConfig.from_json(config_json))
    return comparison.matching_real_examples(dataset, count, seed, None if labels is None else np.array(labels))


def checkpoint_picker_ui(run: Run, key: str) -> int | None:
    """A choice among the run's checkpoints (latest first); None, with a note, when there is none yet."""
    steps = run.checkpoint_steps()
    if not steps:
        st.info("This run has no checkpoint yet. A checkpoint is written every "
                f"{run.config.checkpoint_every:,} steps and whenever the run stops.")
        return None
    return st.selectbox("Checkpoint (step)", steps[::-1], key=subject_key(key, run),
                        format_func=lambda step: f"{step:,}",
                        help="Older checkpoints show what the generator made earlier in training.")
