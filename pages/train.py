"""Train: set up a run from a preset or a past run, check it, see how long it will take, and start it."""

import streamlit as st

from gan_core.demo_mode import demo
from gan_core.store import runs
from gan_core.training import throughput
from gan_core.workers import jobs
from gan_core.spec import promises
from gan_core.spec.config import DEFAULT_PRESET, RunConfig
from gan_core.spec.settings import SettingError
from views.common import MONITOR_PAGE, SWEEPS_PAGE, TRAIN_PAGE, duration_text, page_frame_ui, runs_dir
from views.demo_views import demo_limits, demo_mode, start_run_as_visitor
from views.train_form import (dataset_picker_ui, form_fields_ui, form_values, loss_picker_ui, preset_picker_ui,
                              start_from_run_values, upload_refusal, upload_ui, variant_picker_ui)
from views.sweep_views import start_sweep_from_form, sweep_options_ui
from views.train_start import start_refusal

page_frame_ui(TRAIN_PAGE)
# The runs started from here and from the other pages skip TensorFlow's import: a server that only shows runs never
# pays for the starter (gan_core.workers.warm_start).
jobs.warm_up()
st.title("Train")
st.markdown("Pick a preset, adjust what you like, and start. The run trains in its own process, so you can close "
            "this tab at any time; its progress is saved in the run store.")

starting_run_id = st.query_params.get("from_run")
if starting_run_id:
    # Opened from the Runs page: that run's settings fill the form once, then the person edits freely.
    del st.query_params["from_run"]
    starting_run = next((run for run in runs.list_runs(runs_dir()) if run.run_id == starting_run_id), None)
    if starting_run is None:
        st.warning(f"There is no run `{starting_run_id}` to start from; the form keeps its settings.")
    else:
        start_from_run_values(starting_run_id, starting_run.config.to_dict())
preset_picker_ui()
if st.session_state.get("train_started_from"):
    st.caption(f"The form was filled from run `{st.session_state['train_started_from']}`.")

st.header("Data")
dataset = dataset_picker_ui()
upload_message = st.empty()
limits = demo_limits() if demo_mode() else None  # None: no demo caps, on one's own machine
preview = upload_ui(runs_dir(), limits) if dataset == "folder" else None
refused_upload = upload_refusal() if dataset == "folder" else ""  # said beside the uploader already

st.header("Model")
variant = variant_picker_ui()
loss_placeholder = loss_picker_ui(variant)

with st.form("train_form", border=True):
    placeholders = {**loss_placeholder, **form_fields_ui(variant)}
    general_message = st.empty()
    check_column, start_column = st.columns([1, 3])
    check_column.form_submit_button("Check settings and estimate time", key="train_check")
    started = start_column.form_submit_button("Start training", type="primary", key="train_start",
                                              icon=":material/play_arrow:")
    start_message = start_column.empty()
    with st.expander("Sweep: train several runs that differ in a few settings, and rank them"):
        sweep_options = sweep_options_ui(variant.name)
        sweep_started = st.form_submit_button("Start sweep", key="train_sweep", icon=":material/tune:")
        sweep_message = st.empty()

settings_error = ""
try:
    config = RunConfig.from_dict(form_values())
    if limits is not None:
        demo.check_config(config, limits)
    if variant.uses_labels(config) and preview is not None and not preview.class_names:
        raise SettingError("conditional", "conditional=True is not allowed for images without classes; put them "
                           "in one sub-folder per class, or untick Conditional")
except ValueError as error:
    config, settings_error = None, str(error)
    field = getattr(error, "field", "")  # a SettingError names the setting at fault
    target = upload_message if field in ("data_path", "dataset") else placeholders.get(field, general_message)
    if not (field == "data_path" and refused_upload):
        target.error(str(error), icon=":material/error:")

if config is not None:
    estimate = throughput.estimate(config, throughput.measured_history(runs.list_runs(runs_dir())))
    total = estimate.seconds_per_1000_steps * config.steps / 1000
    promise = promises.promise_of(st.session_state.get("train_preset"))
    promised = "" if promise is None else (
        f"  \nWhat the preset promises with its own settings: {promise.sentence()}; on this machine about "
        f"{duration_text(estimate.seconds_per_1000_steps * promise.steps / 1000)}.")
    st.info(f"**About {duration_text(estimate.seconds_per_1000_steps)} per 1,000 steps**, so about "
            f"{duration_text(total)} for all {config.steps:,} steps on this machine.  \nHow this is estimated: "
            f"{estimate.source}.{promised}", icon=":material/timer:")
    st.caption(f"The run will be called **{config.name}**.")
if sweep_started:
    sweep, refusal = start_sweep_from_form(config, start_refusal(config, settings_error, refused_upload),
                                           limits is not None, st.session_state.get("train_preset") or DEFAULT_PRESET,
                                           sweep_options, runs_dir())
    if sweep is None:
        sweep_message.error(refusal, icon=":material/block:")
    else:
        st.switch_page(SWEEPS_PAGE, query_params={"sweep": sweep.sweep_id})
if started:
    refusal = start_refusal(config, settings_error, refused_upload)
    if refusal:
        start_message.error(refusal, icon=":material/block:")
    else:
        try:
            run = start_run_as_visitor(config, runs_dir())
        except ValueError as error:  # a demo cap, a full disk or a read-only runs folder
            start_message.error(f"The run was not started: {error}.", icon=":material/block:")
        else:
            st.switch_page(MONITOR_PAGE, query_params={"run": run.run_id})
