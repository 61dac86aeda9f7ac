"""The Gallery page's sections: the fixed-noise timeline, fresh samples, interpolation and 2-D scatter plots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from gan_core.inputs import comparison, data, images
from gan_core.demo_mode import demo
from gan_core.spec import registry
from gan_core.workers import run_jobs
from gan_core.store.runs import Run
from views.charts import scatter_figure
from views.common import generated_samples, grid_picture, interpolated_samples, subject_key
from views.demo_views import demo_limits, demo_mode
from views.run_job_views import in_worker, job_progress_ui, last_failure_ui, start_job_ui

MAX_SEED = 2**31 - 1


def png_download_ui(picture: np.ndarray, file_name: str, key: str) -> None:
    st.download_button("Download as PNG", data=images.png_bytes(picture), file_name=file_name, mime="image/png",
                       key=key, on_click="ignore", icon=":material/download:")


def timeline_ui(run: Run) -> None:
    """The grid of the same noise at a saved step chosen with a slider, beside the whole timeline playing as an
    animated GIF; both can be downloaded."""
    steps = run.sample_steps()
    if not steps:
        st.info(f"No sample grid yet: one is saved at the start and every {run.config.sample_every:,} steps.")
        return
    step = st.select_slider("Training step", options=steps, value=steps[-1],
                            key=subject_key("gallery_timeline_step", run),
                            format_func=lambda value: f"{value:,}",
                            help="The same fixed noise at each saved step: watch the samples take shape.")
    path = run.sample_path(step)
    # The GIF is built in the web server (once per set of grids, then cached) on one's own machine; a demo has a
    # worker process draw it on request, under its caps, with fewer frames.
    frames = demo.evenly_chosen(steps, demo_limits().max_gif_frames) if demo_mode() else steps
    shown = f"{len(frames):,} frames" if len(frames) == len(steps) else \
        f"{len(frames):,} of {len(steps):,} frames, the demo's limit"
    still_column, animation_column = st.columns(2)
    still_column.image(str(path), caption=f"{registry.of(run.config).grid_caption} at step {step:,}",
                       output_format="PNG")
    png_column, gif_column = st.columns(2)
    png_column.download_button("Download this grid as PNG", data=path.read_bytes(), mime="image/png",
                               file_name=f"{run.run_id}-step-{step}.png", key="gallery_timeline_png",
                               on_click="ignore", icon=":material/download:")
    if in_worker():
        worker_timeline_ui(run, frames, shown, animation_column, gif_column)
        return
    gif = timeline_gif(tuple((str(run.sample_path(each)), run.sample_path(each).stat().st_mtime_ns)
                             for each in frames))
    timeline_gif_ui(run, gif, frames, shown, animation_column, gif_column)


def timeline_gif_ui(run: Run, gif: bytes, frames: list[int], shown: str, animation_column, download_column) -> None:
    """The timeline playing, and its download."""
    animation_column.image(gif, caption=f"The timeline, playing: steps {frames[0]:,} to {frames[-1]:,} ({shown})")
    download_column.download_button(f"Download the timeline as a GIF ({shown})", mime="image/gif", data=gif,
                                    file_name=f"{run.run_id}-timeline.gif", key="gallery_timeline_gif",
                                    on_click="ignore", icon=":material/animation:")


def worker_timeline_ui(run: Run, frames: list[int], shown: str, animation_column, download_column) -> None:
    """The timeline GIF a worker process draws (in a demo): its progress, the last one drawn, and a button that asks
    for one holding the latest grids."""
    job = run_jobs.job_status(run, "timeline_gif")
    path = run_jobs.timeline_gif_path(run)
    drawn = list(job.steps)
    with animation_column:
        if job.is_active:
            job_progress_ui(run, "timeline_gif")
            return
        if job.state == "done" and path.exists():
            described = shown if drawn == frames else f"{len(drawn):,} frames, before the latest grids"
            timeline_gif_ui(run, path.read_bytes(), drawn, described, animation_column, download_column)
        else:
            last_failure_ui(run, "timeline_gif")
        if drawn != frames or job.state != "done":
            label = "Update the animation" if job.state == "done" else "Make the timeline's animation"
            if st.button(f"{label} ({shown})", icon=":material/animation:",
                         key=subject_key("gallery_make_timeline_gif", run)):
                start_job_ui(run, "timeline_gif", frames)


@st.cache_data(max_entries=4, show_spinner="Making the timeline's animation…")
def timeline_gif(frames: tuple[tuple[str, int], ...]) -> bytes:
    """The animated GIF of these sample grids ((path, modification time) each: a grid rewritten after a resume from
    an earlier checkpoint makes a new GIF)."""
    return images.gif_bytes([Path(path) for path, _ in frames])


@dataclass(frozen=True)
class GridChoice:
    """A seed and a grid of examples as a person chose them: one row per class (`labels`, one per tile, row by
    row) for a labelled run, else `count` examples laid out in `rows` x `columns`."""

    seed: int
    count: int
    labels: tuple[int, ...] | None
    rows: int
    columns: int


def grid_choice_ui(class_names: list[str], key: str, seed_help: str, per_class: tuple[str, int],
                   count: tuple[str, int, int]) -> GridChoice:
    """The seed and the grid's size, side by side; `per_class` is (label, default) for a labelled run and
    `count` (label, largest, default) otherwise. Widget keys start with `key`."""
    seed_column, count_column = st.columns(2)
    seed = seed_column.number_input("Seed", 0, MAX_SEED, 0, key=f"{key}_seed", help=seed_help)
    if class_names:
        label, default = per_class
        columns = count_column.number_input(label, 1, 16, default, key=f"{key}_per_class")
        labels = tuple(comparison.grid_labels(len(class_names), columns).tolist())
        return GridChoice(seed, len(labels), labels, len(class_names), columns)
    label, largest, default = count
    chosen = count_column.number_input(label, 1, largest, default, key=f"{key}_count")
    rows, columns = comparison.grid_shape(chosen)
    return GridChoice(seed, chosen, None, rows, columns)


def fresh_samples_ui(run: Run, step: int) -> None:
    """New samples from a seed: one row per class for conditional runs, a square grid otherwise."""
    names = data.class_names(run)
    choice = grid_choice_ui(names, "gallery", "The same seed gives the same samples.",
                            per_class=("Samples per class", 8), count=("Number of samples", 256, 64))
    samples = generated_samples(str(run.path), step, choice.count, choice.seed, choice.labels)
    picture = grid_picture(samples, choice.rows, choice.columns)
    caption = (f"Rows, top to bottom: {', '.join(names)}" if names
               else f"{len(samples):,} samples, seed {choice.seed}")
    st.image(picture, caption=caption, output_format="PNG")
    png_download_ui(picture, f"{run.run_id}-step-{step}-seed-{choice.seed}.png", "gallery_samples_png")


def interpolation_ui(run: Run, step: int) -> None:
    """Samples along the path between the noise of two seeds, which shows how smooth the generator is."""
    names = data.class_names(run)
    start_column, end_column, frames_column = st.columns(3)
    seed_a = start_column.number_input("From seed", 0, MAX_SEED, 1, key="gallery_seed_a")
    seed_b = end_column.number_input("To seed", 0, MAX_SEED, 2, key="gallery_seed_b")
    frames = frames_column.number_input("Frames", 2, 16, 8, key="gallery_frames")
    label = None
    if names:
        label = names.index(st.selectbox("Class", names, key=subject_key("gallery_class", run)))
    samples = interpolated_samples(str(run.path), step, seed_a, seed_b, frames, label)
    picture = grid_picture(samples, 1, frames)
    st.image(picture, caption=f"From the noise of seed {seed_a} to that of seed {seed_b}, along the sphere (slerp)",
             output_format="PNG")
    png_download_ui(picture, f"{run.run_id}-step-{step}-walk-{seed_a}-{seed_b}.png", "gallery_walk_png")


def scatter_ui(run: Run, step: int) -> None:
    """Generated 2-D points over real ones, as an interactive chart and a PNG."""
    seed_column, count_column = st.columns(2)
    seed = seed_column.number_input("Seed", 0, MAX_SEED, 0, key="gallery_seed")
    count = count_column.number_input("Number of points", 10, 5000, 1000, step=100, key="gallery_points")
    fake = generated_samples(str(run.path), step, count, seed)
    real = data.toy_points(run.config.dataset, count, seed)
    st.plotly_chart(scatter_figure(real, fake, f"Real (grey) and generated (orange) points at step {step:,}"),
                    key="gallery_scatter_chart")
    png_download_ui(images.scatter_image(fake, real), f"{run.run_id}-step-{step}-points.png", "gallery_scatter_png")
