"""What a run's variant adds to the pages: its extra pictures (InfoGAN's traversals, a VAE's reconstructions, ...)
and its extra measures, drawn the same way for every variant."""

from __future__ import annotations

from typing import Any

import streamlit as st

from gan_core.spec import registry
from gan_core.store import runs
from gan_core.store.runs import Run
from gan_core.variants.base import Picture


@st.cache_data(max_entries=16, show_spinner="Drawing…")
def view_pictures(run_path: str, step: int, view_key: str, seed: int) -> list[Picture]:
    """The pictures of one of the variant's views; a checkpoint never changes, so they are drawn once."""
    run = runs.open_run(run_path)
    view = next(view for view in registry.of(run.config).views() if view.key == view_key)
    return view.draw(run, step, seed)


def variant_views_ui(run: Run, step: int, page: str, seed: int = 0) -> None:
    """Every view the run's variant shows on `page` ("gallery" or "evaluate"), each under its own heading."""
    for view in registry.of(run.config).views():
        if view.page != page:
            continue
        st.subheader(view.title)
        st.caption(view.caption)
        try:
            pictures = view_pictures(str(run.path), step, view.key, seed)
        except ValueError as error:
            st.error(str(error))
            continue
        for picture in pictures:
            st.image(picture.image, caption=picture.caption, output_format="PNG")


def variant_measure_rows(run: Run, results: dict[str, Any]) -> list[dict[str, str]]:
    """Rows of the metrics table for the variant's own measures found in `results`.

    A measure made of several numbers (the Classification Accuracy Score trained on generated, real, and both)
    gets a row for each; lists (per-class values) are left to the variant's views.
    """
    rows = []
    for measure in registry.of(run.config).measures:
        value = results.get(measure.name)
        parts = value.items() if isinstance(value, dict) else [("", value)]
        reference = results.get(measure.reference)
        for part, number in parts:
            if is_number(number):
                name = measure.label or measure.name
                rows.append({"Measure": f"{name}, {part.replace('_', ' ')}" if part else name,
                             "This checkpoint": f"{number:.3g}",
                             "Real vs real": f"{reference:.3g}" if is_number(reference) else "—",
                             "Better": measure.better, "Meaning": measure.description})
    return rows


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
