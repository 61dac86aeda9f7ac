"""The overview's cards: every run in the store with its state, whose it is, progress, speed, latest samples and best
evaluation, redrawn live while anything trains.

A card reads its run's files on every redraw; a run whose files cannot be read (a damaged metrics.sqlite) gets a
card saying so, and every other card is drawn as usual.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from gan_core.workers import jobs
from gan_core.store import runs
from gan_core.demo_mode import showcase
from gan_core.training import throughput
from gan_core.spec.config import RunConfig, settings_in_words
from gan_core.store.runs import Run, Status
from views.common import (GALLERY_PAGE, MONITOR_PAGE, TRAIN_PAGE, best_metric_text, no_runs_ui, runs_dir,
                          state_badge)
from views.demo_views import demo_mode, owner_text, status_text

# While a run trains (or the demo's showcase is between runs) the cards follow it every couple of seconds; otherwise
# they look now and then for a run started elsewhere (another tab, another visitor, the command line).
LIVE_REFRESH_SECONDS = 2.0
IDLE_REFRESH_SECONDS = 10.0


@dataclass(frozen=True)
class CardFacts:
    """What one card shows, read from the run store in one go (so a damaged file is noticed before drawing)."""

    config: RunConfig
    status: Status
    target_step: int
    images_per_second: float | None
    thumbnail: Path | None
    best_metric: str
    owner: str


def card_facts(run: Run) -> CardFacts:
    """The card's facts; sqlite3.DatabaseError, OSError or ValueError when the run's files cannot be read."""
    jobs.refresh_status(run)
    config, status = run.config, run.status
    recent_rows = run.metrics_since(status.step - throughput.RECENT_ROWS * config.log_every)
    return CardFacts(config, status, run.progress_target(status), throughput.measured_images_per_second(recent_rows),
                     run.latest_sample_path(), best_metric_text(run.evaluations()), owner_text(run))


def overview_ui() -> None:
    """Every run's card, newest first, live while anything trains; a welcome when the store holds no run."""
    folder = runs_dir()
    was_live = training_now(folder)

    @st.fragment(run_every=LIVE_REFRESH_SECONDS if was_live else IDLE_REFRESH_SECONDS)
    def cards_ui() -> None:
        if training_now(folder) != was_live:
            st.rerun()  # The whole page, so that the refresh rate follows.
        all_runs = runs.list_runs(folder)
        if not all_runs:
            st.markdown("Welcome! This dashboard trains generative adversarial networks (GANs), shows them learning "
                        "live, and lets you judge what they make against real data.")
            no_runs_ui("show")
            return
        st.page_link(TRAIN_PAGE, label="Set up a new run", icon=":material/add_circle:")
        # A public demo does not tell its visitors where on the server it keeps its files.
        st.caption(f"{len(all_runs):,} run(s){'' if demo_mode() else f' in `{folder}`'}, newest first.")
        for run in all_runs:
            run_card_ui(run)

    cards_ui()


def training_now(folder: Path) -> bool:
    """Whether the cards should follow training: a run is active, or the demo's showcase is about to start one."""
    return bool(jobs.refresh_all(folder)) or (demo_mode() and showcase.in_progress(folder))


def run_card_ui(run: Run) -> None:
    with st.container(border=True, key=f"run_card_{run.run_id}"):
        try:
            facts = card_facts(run)
        except (sqlite3.DatabaseError, OSError, ValueError) as error:
            damaged_card_ui(run, error)
            return
        picture, details, numbers, links = st.columns([1, 3, 2, 1], vertical_alignment="center")
        if facts.thumbnail is not None:
            picture.image(str(facts.thumbnail), width=120, output_format="PNG")
        else:
            picture.caption("no samples yet")
        config = facts.config
        whose = f" · {facts.owner}" if facts.owner else ""
        details.markdown(f"**{config.name or config.dataset}** {state_badge(facts.status.state)}{whose}  \n"
                         f"`{run.run_id}`  \n{' · '.join(settings_in_words(config.to_dict()).values())}")
        progress_ui(numbers, facts)
        numbers.markdown(f"{f'{facts.images_per_second:,.0f} images/s' if facts.images_per_second else '— images/s'}"
                         f"  \nbest metric: {facts.best_metric}")
        links.page_link(MONITOR_PAGE, label="Monitor", query_params={"run": run.run_id}, icon=":material/monitoring:")
        links.page_link(GALLERY_PAGE, label="Gallery", query_params={"run": run.run_id},
                        icon=":material/photo_library:")


def progress_ui(column, facts: CardFacts) -> None:
    """The run's progress: a bar towards its target, or for a Playground run (which trains while played, until
    paused, far from its nominal steps) the step alone."""
    step = facts.status.step
    if facts.config.playground:
        column.markdown(f"step {step:,}  \n:gray[Playground run: trains while played, until paused]")
    else:
        column.progress(min(step / facts.target_step, 1.0), text=f"step {step:,} / {facts.target_step:,}")


def damaged_card_ui(run: Run, error: BaseException) -> None:
    """The card of a run whose files cannot be read: its id and why."""
    st.markdown(f"`{run.run_id}` :red-badge[damaged]  \n"
                f"This run's files cannot be read ({status_text(str(error))}); the other runs are not affected.")
