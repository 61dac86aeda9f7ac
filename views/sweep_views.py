"""The Sweeps page's parts: the sweep chooser, what a sweep is, its trials as a table and as parallel coordinates,
the best trial, and the Train form's sweep options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from gan_core.measuring import measures
from gan_core.spec.config import RunConfig
from gan_core.sweeps import driver, halving, sweep_store
from gan_core.sweeps.plan import SweepPlan, ranking_measures, ray_address_from_environment
from gan_core.sweeps.sweep_store import Sweep
from gan_core.workers import jobs, queue
from views.common import MONITOR_PAGE, address_choice_ui, duration_text, state_badge

# How often the live part of a sweep redraws while it is running.
REFRESH_SECONDS = 2.0


def sweep_picker_ui(sweeps: list[Sweep]) -> Sweep:
    """A sweep chooser kept in the address as `?sweep=<id>`; without one it picks the newest sweep."""
    sweep_ids = [sweep.sweep_id for sweep in sweeps]
    chosen = address_choice_ui("Sweep", sweep_ids, "sweep", "Sweeps are listed newest first; each id starts with the "
                               "time it was made.")
    return sweeps[sweep_ids.index(chosen)]


def plan_text(plan: SweepPlan, trial_count: int) -> str:
    """What the sweep is, in one paragraph."""
    budget = (f"{plan.budget_steps:,} steps" if plan.budget_steps else
              f"{duration_text(plan.budget_seconds)} of training")
    rungs = ", ".join(f"{rung:g}" for rung in plan.rung_budgets())
    halving_text = f"successive halving in {plan.rungs} rungs ({rungs})" if plan.rungs > 1 else "every trial to the end"
    where = (f"on the Ray cluster at `{plan.ray_address}`" if plan.ray_address else
             f"on this machine, {plan.slots} at a time")
    return (f"**{plan.name}**: {trial_count} trials of `{plan.preset}` varying "
            f"{', '.join(f'`{line}`' for line in plan.dimensions)}; {budget} each, {halving_text}, ranked by "
            f"**{measure_label(plan.measure)}** ({plan.better()} is better), {where}.")


def measure_label(name: str) -> str:
    try:
        return measures.standard(name).label or name
    except ValueError:
        return name


def sweep_header_ui(sweep: Sweep) -> None:
    """The sweep's plan, its state and its Stop button."""
    state = driver.refresh_sweep(sweep)
    st.markdown(plan_text(sweep.plan, len(sweep.trials())))
    st.markdown(f"{state_badge(state.state)} {state.message}")
    if state.is_active:
        st.button("Stop the sweep", key=f"sweep_stop_{sweep.sweep_id}", icon=":material/stop:", on_click=stop,
                  args=(sweep,), help="Every trial checkpoints and stops; queued ones are cancelled.")


def stop(sweep: Sweep) -> None:
    try:
        driver.stop_sweep(sweep)
    except ValueError as error:
        st.toast(str(error))


def trial_rows(sweep: Sweep) -> list[dict[str, Any]]:
    """One row per trial: its place, settings, state, step, score at each rung and the link to its Monitor."""
    state = sweep.state
    plan = sweep.plan
    places = {run_id: place for place, run_id in enumerate(state.ranking, start=1)}
    rows = []
    for run, settings in sweep.trials():
        jobs.refresh_status(run)
        status = run.status
        scores = state.scores.get(run.run_id, [])
        rows.append({
            "place": places.get(run.run_id), "trial": run.run_id, **settings,
            "state": status.state, "status": status.message,
            "step": status.step, plan.measure: scores[-1] if scores else None, "rungs": len(scores),
            "halved after rung": (state.halted[run.run_id] + 1) if run.run_id in state.halted else None,
            "monitor": f"{MONITOR_PAGE.removeprefix('pages/').removesuffix('.py')}?run={run.run_id}",
        })
    return rows


def trial_states_ui(sweep: Sweep, rows: list[dict[str, Any]]) -> None:
    """One line per trial: what it varies, its state (with its place while it waits), its step and its measure."""
    names = list(dict.fromkeys(line.partition("=")[0] for line in sweep.plan.dimensions))
    lines = []
    for number, row in enumerate(rows, start=1):
        score = row[sweep.plan.measure]
        measured = f" · {measure_label(sweep.plan.measure)} {score:.4g}" if score is not None else ""
        waiting = f" {row['status']}" if row["state"] == "queued" else ""  # with its place in the queue
        lines.append(f"{number}. {' '.join(f'`{name}={row[name]}`' for name in names)} "
                     f"{state_badge(row['state'])}{waiting} · step {row['step']:,}{measured}")
    st.markdown("\n".join(lines))


def trials_table_ui(sweep: Sweep, rows: list[dict[str, Any]]) -> None:
    st.dataframe(rows, key=f"sweep_table_{sweep.sweep_id}", hide_index=True, width="stretch", column_config={
        "monitor": st.column_config.LinkColumn("Monitor", display_text="open"),
        sweep.plan.measure: st.column_config.NumberColumn(measure_label(sweep.plan.measure), format="%.4g"),
    })


def parallel_coordinates_figure(plan: SweepPlan, rows: list[dict[str, Any]]) -> go.Figure:
    """Each trial as a line through its settings and its measure, coloured by the measure (measured trials only)."""
    measured = [row for row in rows if row[plan.measure] is not None]
    names = list(dict.fromkeys(line.partition("=")[0] for line in plan.dimensions))
    dimensions = [axis(name, [row[name] for row in measured]) for name in names]
    scores = [row[plan.measure] for row in measured]
    dimensions.append(dict(label=measure_label(plan.measure), values=scores))
    reverse = plan.better() == "lower"
    figure = go.Figure(go.Parcoords(dimensions=dimensions, line=dict(
        color=scores, colorscale="Viridis", reversescale=reverse, showscale=True,
        colorbar=dict(title=measure_label(plan.measure)))))
    figure.update_layout(height=360, margin=dict(l=60, r=60, t=50, b=20))
    return figure


def axis(name: str, values: list[Any]) -> dict[str, Any]:
    """A parallel-coordinates axis: numbers as they are, anything else as evenly spaced named ticks."""
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        return dict(label=name, values=values)
    labels = sorted({str(value) for value in values})
    return dict(label=name, values=[labels.index(str(value)) for value in values], tickvals=list(range(len(labels))),
                ticktext=labels)


def best_trial_ui(sweep: Sweep) -> None:
    """The best trial so far: its settings, its measure, its newest samples and a link to its Monitor."""
    state = sweep.state
    so_far = state.ranking or halving.ranking(state.scores, sweep.plan.better())
    ranked = [run_id for run_id in so_far if state.scores.get(run_id)]
    if not ranked:
        st.caption("No trial has been measured yet; the first measures come at the end of the first rung.")
        return
    best = ranked[0]
    trials = {run.run_id: (run, settings) for run, settings in sweep.trials()}
    if best not in trials:
        return
    run, settings = trials[best]
    score = state.scores[best][-1]
    st.markdown(f"**Best so far:** {', '.join(f'`{key}={value}`' for key, value in settings.items())}, "
                f"{measure_label(sweep.plan.measure)} {score:.4g}")
    st.page_link(MONITOR_PAGE, label=f"Open {best} in Monitor", query_params={"run": best},
                 icon=":material/monitoring:")
    sample = run.latest_sample_path()
    if sample is not None:
        st.image(str(sample), caption=f"{best}, step {run.status.step:,}", width=240)


def samples_row_ui(sweep: Sweep) -> None:
    """Each trial's newest fixed-noise samples, side by side."""
    trials = sweep.trials()
    columns = st.columns(min(len(trials), 8) or 1)
    for index, (run, _) in enumerate(trials):
        sample = run.latest_sample_path()
        with columns[index % len(columns)]:
            if sample is not None:
                st.image(str(sample), caption=f"{run.run_id[-4:]} · step {run.status.step:,}", width="stretch")
            else:
                st.caption(f"{run.run_id[-4:]}: no samples yet")


def sweep_options_ui(variant_name: str) -> dict[str, Any]:
    """The Train form's sweep options: the settings to vary, the measure, halving and the slots."""
    address = ray_address_from_environment()
    where = f"on the Ray cluster at `{address}`" if address else "on this machine, queued for its trainer slots"
    st.caption(f"A sweep trains one run per combination of the values below, each for the Steps above, {where}, and "
               "ranks them by a measure; the Sweeps page shows them live.")
    measures_here = list(ranking_measures(variant_name))
    return {
        "dimensions": st.text_area("Settings to vary, one per line", key="sweep_dimensions",
                                   placeholder="g_learning_rate=3e-4,1e-3\nwidth=32,64",
                                   help="name=value1,value2 for a grid; every combination is a trial."),
        "measure": st.selectbox("Rank by", measures_here, key="sweep_measure", format_func=measure_label),
        "halving": st.checkbox("Successive halving", key="sweep_halving",
                               help="Measure at a quarter and a half of the steps and stop the worse half each time."),
        # No minimum or maximum in the browser, as in the rest of the form: a number out of range is refused with a
        # message that says what is allowed.
        "random_count": st.number_input("Random trials", value=0, step=1, key="sweep_random",
                                        help="0 trains every combination; N draws N trials instead, where a line may "
                                             "also be a range: name=low:high, or name=low:high:log."),
        "slots": st.number_input("Trials at once", value=queue.default_slots(), step=1, key="sweep_slots",
                                 help="The others wait in the queue for a free slot."),
    }


def plan_from_form(config: RunConfig, preset: str, options: dict[str, Any]) -> SweepPlan:
    """The sweep the Train form asks for: the form's settings as the base, its steps as each trial's budget."""
    base = {key: value for key, value in config.to_dict().items() if key not in ("name", "steps")}
    lines = tuple(line.strip() for line in options["dimensions"].splitlines() if line.strip())
    return SweepPlan(name=config.name, preset=preset, dimensions=lines, budget_steps=config.steps, overrides=base,
                     measure=options["measure"], rungs=halving.DEFAULT_RUNGS if options["halving"] else 1,
                     slots=int(options["slots"]), random_count=int(options["random_count"]),
                     ray_address=ray_address_from_environment())


def start_sweep_from_form(config: RunConfig | None, refusal: str | None, in_demo: bool, preset: str,
                          options: dict[str, Any], runs_folder: Path) -> tuple[Sweep | None, str]:
    """(the sweep the Train form asks for, started, ""), or (None, why not) with nothing made: `refusal` is why the
    form's settings cannot train (as for Start), and a demo offers no sweeps."""
    if refusal:
        return None, refusal.replace("The run was not started", "The sweep was not started")
    if in_demo:
        return None, "The sweep was not started: sweeps are not offered in this demo, since each trains several runs."
    try:
        sweep = sweep_store.create_sweep(plan_from_form(config, preset, options), runs_folder)
    except ValueError as error:  # a setting, a value or a measure the sweep cannot use
        return None, f"The sweep was not started: {error}"
    driver.start_sweep(sweep)
    return sweep, ""
