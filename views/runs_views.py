"""The Runs page's sections: curves of several runs overlaid, generator export, and deleting a run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from gan_core.measuring import health
from gan_core.spec import registry
from gan_core.store import runs
from gan_core.store.runs import METRIC_COLUMNS, Run
from views.charts import line_figure
from views.common import checkpoint_picker_ui, run_title, subject_key
from views.demo_views import may_control_ui

DELETED_KEY = "runs_deleted_note"
CURVE_NAMES = {
    "d_loss": "discriminator loss", "g_loss": "generator loss", "d_real": "discriminator output on real (raw)",
    "d_fake": "discriminator output on generated (raw)", "d_grad_norm": "discriminator gradient norm",
    "g_grad_norm": "generator gradient norm", "gradient_penalty": "gradient penalty", "images_per_second": "images/s",
}


def curve_names(chosen: list[Run]) -> dict[str, str]:
    """metric -> how it is named, for every curve the chosen runs' variants chart (the GAN's when none is chosen)."""
    names = {}
    for run in chosen:
        for chart in registry.of(run.config).charts(run.config):
            for series in chart.series:
                names.setdefault(series.metric, CURVE_NAMES.get(series.metric, f"{chart.title}: {series.label}"))
    if not names:
        names = {metric: CURVE_NAMES[metric] for metric in METRIC_COLUMNS}
    names["images_per_second"] = CURVE_NAMES["images_per_second"]
    return names


def overlay_ui(all_runs: list[Run]) -> None:
    """One metric of several runs on one chart."""
    by_id = {run.run_id: run for run in all_runs}
    chosen = st.multiselect("Runs to overlay", list(by_id), default=list(by_id)[:3], key="runs_overlay",
                            format_func=lambda run_id: run_title(by_id[run_id]))
    names = curve_names([by_id[run_id] for run_id in chosen])
    metric_column, smoothing_column = st.columns(2)
    metric = metric_column.selectbox("Curve", list(names), format_func=names.get, key="runs_metric")
    smoothing = smoothing_column.slider("Smoothing", 0.0, 0.99, 0.6, step=0.01, key="runs_smoothing")
    lines = {}
    for run_id in chosen:
        rows = by_id[run_id].metrics_since(-1)
        values = [float("nan") if row.get(metric) is None else row[metric] for row in rows]
        lines[run_title(by_id[run_id])] = ([row["step"] for row in rows],
                                           health.exponential_moving_average(values, smoothing))
    st.plotly_chart(line_figure(lines, names[metric].capitalize(), names[metric]), key="runs_overlay_chart")


def export_ui(run: Run) -> None:
    """Save the generator of a checkpoint as a .keras file, then offer it for download."""
    step = checkpoint_picker_ui(run, key="runs_export_checkpoint")
    if step is None:
        return
    if st.button("Prepare the generator file (.keras)", key=subject_key("runs_export", run, step),
                 icon=":material/deployed_code:",
                 help="Saves the generator so that keras.models.load_model opens it without this project."):
        # Imported here: it loads TensorFlow, which this page otherwise does not need.
        from gan_core.nets import sampling

        with st.spinner("Saving the generator…"), tempfile.TemporaryDirectory() as folder:
            try:
                path = sampling.export_generator(run, Path(folder) / "generator.keras", step)
            except ValueError as error:
                st.error(f"This checkpoint cannot be exported: {error}", icon=":material/error:")
                return
            st.session_state["runs_export_file"] = {"run_id": run.run_id, "step": step, "data": path.read_bytes()}
    export = st.session_state.get("runs_export_file")
    if export and export["run_id"] == run.run_id and export["step"] == step:
        st.download_button(f"Download generator.keras ({len(export['data']) / 1024:,.0f} KiB)", data=export["data"],
                           file_name=f"{run.run_id}-step-{step}-generator.keras", mime="application/octet-stream",
                           key=subject_key("runs_export_download", run, step), on_click="ignore",
                           icon=":material/download:")


def delete_ui(run: Run) -> None:
    """Delete a run after an explicit confirmation; never while it trains, and in demo mode only by its owner."""
    if not may_control_ui(run):
        return
    active = run.status.is_active
    if active:
        st.caption("This run is training: stop it on the Monitor page before deleting it.")
    # Keyed by the run: a tick given for one run must not carry over when the picker moves to another.
    confirm_key = subject_key("runs_delete_confirm", run)
    title = run_title(run)  # read now: the note after a delete names the run whose config.json is then gone
    confirmed = st.checkbox(f"Yes, delete {title} and all its files", key=confirm_key, disabled=active)
    clicked = st.button("Delete run", key=subject_key("runs_delete", run), icon=":material/delete:",
                        disabled=active or not confirmed)
    if clicked and confirmed and not active:
        try:
            runs.delete_run(run)
        except ValueError as error:
            st.error(str(error))
            return
        st.session_state.pop(confirm_key, None)
        st.session_state[DELETED_KEY] = f"Deleted {title} and all its files."
        st.rerun()


def deleted_note_ui() -> None:
    """What the last delete did, shown once on the page drawn after it (a toast would be lost to the rerun)."""
    note = st.session_state.pop(DELETED_KEY, None)
    if note:
        st.success(note, icon=":material/delete:")
