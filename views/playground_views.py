"""The Playground page's pieces: setting up a run (with points drawn or uploaded), the controls, and the figures.

The figures are pure functions of a snapshot (see gan_core.lab.playground_store), so the page draws whatever the
trainer wrote last and never runs a network itself.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gan_core.demo_mode import demo
from gan_core.measuring import health
from gan_core.workers import jobs
from gan_core.lab import playground_store
from gan_core.inputs import point_sets
from gan_core.store import uploads
from gan_core.spec.config import SHARED_SETTINGS, TOY_DATASETS, RunConfig, preset
from gan_core.lab.playground_store import SPEEDS, Command, Snapshot
from gan_core.store.runs import Run, Status
from views.common import act_on_run, click_token, first_delivery, refusal_ui, subject_key
from views.demo_views import demo_limits, demo_mode, may_control_ui, resume_run_as_visitor, start_run_as_visitor

PRESET = "ring-playground"
# Generator updates a Playground run may take: play can go on for several minutes (a demo caps it lower).
PLAYGROUND_STEPS = 100_000
OWN_POINTS = "points"
DATASET_LABELS = {"ring": "ring of 8", "grid": "grid of 25", "spiral": "spiral", "moons": "two moons",
                  OWN_POINTS: "your own points (draw or upload)"}
# The fields the set-up form offers beside the dataset, in order; labels, help and ranges come from the settings.
MODEL_FIELDS = ("loss", "n_critic", "latent_dim", "width", "batch_size")
OPTIMISER_FIELDS = ("g_learning_rate", "d_learning_rate", "g_beta_1", "g_beta_2", "d_beta_1", "d_beta_2",
                    "gp_weight", "seed")
# The clickable canvas: invisible markers on a grid this fine over this square.
CANVAS_HALF_SIDE = 4.0
CANVAS_CELLS = 41
MAX_CSV_BYTES = 2_000_000
ARROW_SHARE = 0.08  # the longest gradient arrow spans this share of the view
FIGURE_CONFIG = {"displayModeBar": False}
CURVE_COLOURS = {"discriminator loss": "#2166ac", "generator loss": "#5e3c99", "KL": "#b2182b", "JS": "#7f7f7f"}
SPEED_LABELS = {0: "as fast as it goes", **{speed: f"{speed} steps/s" for speed in SPEEDS if speed}}


# ---- setting up a run ------------------------------------------------------------------------------------------


def new_run_ui(runs_dir: Path) -> Run | None:
    """The set-up form for a new Playground run; the run it created and started, or None."""
    defaults = preset(PRESET)
    dataset = st.radio("Data", (*TOY_DATASETS, OWN_POINTS), format_func=DATASET_LABELS.get, horizontal=True,
                       key="playground_dataset")
    points = own_points_ui() if dataset == OWN_POINTS else None
    values = {}
    columns = st.columns(len(MODEL_FIELDS))
    for column, name in zip(columns, MODEL_FIELDS):
        with column:
            values[name] = setting_input_ui(name, getattr(defaults, name))
    with st.expander("Optimisers (Adam) and seed"):
        columns = st.columns(4)
        for index, name in enumerate(OPTIMISER_FIELDS):
            with columns[index % 4]:
                values[name] = setting_input_ui(name, getattr(defaults, name))
    if not st.button("Create and start", type="primary", icon=":material/add_circle:", key="playground_create"):
        return None
    try:
        if dataset == OWN_POINTS and points is None:
            raise ValueError("draw at least two points on the canvas, or upload a CSV of x,y, before starting")
        data_name = "your own points" if dataset == OWN_POINTS else DATASET_LABELS[dataset]
        settings = dict(name=f"{data_name.capitalize()} (Playground, {values['loss']})", steps=PLAYGROUND_STEPS,
                        **values)
        preset(PRESET, **settings)  # The settings are checked first, so that refused settings store no points.
        data_path = store_points(points, runs_dir) if dataset == OWN_POINTS else ""
        config = preset(PRESET, dataset=dataset, data_path=str(data_path), **settings)
        if demo_mode():
            config = within_demo_limits(config)
        return start_run_as_visitor(config, runs_dir)
    except ValueError as error:
        st.error(f"The run was not started: {error}", icon=":material/error:")
        return None


def within_demo_limits(config: RunConfig) -> RunConfig:
    """The run shortened to the demo's step cap, saving no more sample grids than the demo keeps."""
    limits = demo_limits()
    steps = min(config.steps, limits.max_steps)
    sample_every = max(config.sample_every, math.ceil(steps / limits.max_sample_grids))
    return config.replace(steps=steps, sample_every=sample_every,
                          checkpoint_every=max(config.checkpoint_every, limits.min_checkpoint_every))


def setting_input_ui(name: str, default):
    """A widget for one shared setting, with its label and help from config.SHARED_SETTINGS."""
    setting = SHARED_SETTINGS[name]
    key = f"playground_{name}"
    if setting.choices:
        return st.selectbox(setting.label, setting.choices, index=setting.choices.index(default), key=key,
                            help=setting.help)
    if setting.kind is int:
        return int(st.number_input(setting.label, value=int(default), step=int(setting.step or 1), key=key,
                                   help=setting.help))
    return float(st.number_input(setting.label, value=float(default), step=setting.step,
                                 format=setting.number_format or "%g", key=key, help=setting.help))


def store_points(points: np.ndarray, runs_dir: Path) -> Path:
    """Store the points of the run being created (in a demo, within the space for uploads that runs use)."""
    if demo_mode():
        size = len(point_sets.points_csv(points))
        demo.check_upload_sizes({point_sets.POINTS_FILE_NAME: size}, demo_limits(), uploads.bytes_in_use(runs_dir))
    return point_sets.save_points(points, runs_dir)


def own_points_ui() -> np.ndarray | None:
    """Points drawn by clicking on a canvas, or uploaded as a CSV; the points to train on, or None yet.

    The points stay in this tab until "Create and start" stores them for the run: a drawing changes with every
    click, and storing each version would leave a file per click behind.
    """
    drawn = st.session_state.setdefault("playground_drawn", [])
    draw_column, upload_column = st.columns([3, 2])
    with draw_column:
        st.caption("Click on the canvas to add points (each click adds one); the set trains as drawn.")
        event = st.plotly_chart(canvas_figure(np.asarray(drawn, np.float32).reshape(-1, 2)), key="playground_canvas",
                                on_select="rerun", selection_mode="points")
        # A click selects one marker, and the selection is reported again on every rerun until the next click, so
        # only a selection not seen before adds its point.
        picked = [[round(float(point["x"]), 3), round(float(point["y"]), 3)]
                  for point in (event.selection.points if event else [])]
        if picked and picked != st.session_state.get("playground_last_pick"):
            st.session_state["playground_last_pick"] = picked
            drawn.extend(picked)
            st.rerun()  # The canvas above was drawn before this click: draw it again with the new point on it.
        if st.button("Clear the drawing", key="playground_clear"):
            drawn.clear()
            st.rerun()
    with upload_column:
        upload = st.file_uploader("…or upload a CSV of x,y", type=["csv", "txt"], key="playground_csv",
                                  help=point_sets.ROW_RULE[0].upper() + point_sets.ROW_RULE[1:] +
                                  f"; from {point_sets.MIN_POINTS} to {point_sets.MAX_POINTS:,} rows.")
    try:
        if upload is not None:
            if upload.size > MAX_CSV_BYTES:
                raise ValueError(f"the file has {upload.size:,} bytes; at most {MAX_CSV_BYTES:,} are allowed")
            points = point_sets.parse_points_csv(upload.getvalue().decode("utf-8", errors="replace"))
        elif len(drawn) >= point_sets.MIN_POINTS:
            points = np.asarray(drawn, np.float32)
        else:
            return None
    except ValueError as error:
        st.error(f"These points cannot be used: {error}", icon=":material/error:")
        return None
    from_file = " from the uploaded file (remove it to train on the drawing)" if upload is not None and drawn else ""
    st.caption(f"{len(points):,} points ready{from_file}.")
    return points


def canvas_figure(drawn: np.ndarray) -> go.Figure:
    """A square of invisible clickable markers, with the points drawn so far on top."""
    steps = np.linspace(-CANVAS_HALF_SIDE, CANVAS_HALF_SIDE, CANVAS_CELLS)
    grid_x, grid_y = np.meshgrid(steps, steps)
    figure = go.Figure([
        go.Scatter(x=grid_x.ravel(), y=grid_y.ravel(), mode="markers", name="canvas", hoverinfo="none",
                   marker=dict(size=9, color="rgba(0,0,0,0.02)")),
        go.Scatter(x=drawn[:, 0], y=drawn[:, 1], mode="markers", name="drawn", hoverinfo="skip",
                   marker=dict(size=8, color="#2ca02c")),
    ])
    figure.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10), showlegend=False, clickmode="event+select",
                         dragmode=False, xaxis=dict(range=[-CANVAS_HALF_SIDE, CANVAS_HALF_SIDE]),
                         yaxis=dict(range=[-CANVAS_HALF_SIDE, CANVAS_HALF_SIDE], scaleanchor="x"))
    return figure


# ---- the controls -----------------------------------------------------------------------------------------------


def controls_ui(run: Run, status: Status, snapshot: Snapshot | None) -> None:
    """Play / pause, single updates, the speed and Stop for an active run; Resume for a stopped one.

    Drawn outside the page's view that redraws ten times a second, so that no redraw lands under a click. Every
    button writes its command in its callback, before the page reruns, and the views below show what the trainer
    made of it (within a few hundredths of a second). Play and Pause are two buttons, each meaning one thing
    whatever the page showed when it was clicked; the one in force is highlighted, as this tab last asked this
    trainer or else as its latest snapshot says. Keys carry the run, so a click never reaches another run.
    """
    if not may_control_ui(run):
        return
    if not status.is_active:
        st.button("Resume (starts paused)", type="primary", icon=":material/play_circle:",
                  key=subject_key("playground_resume", run), on_click=act_on_run,
                  args=(run, resume_run_as_visitor, click_token("resume")))
        refusal_ui(run)
        return
    playing = sent_playing(run, status, snapshot)
    columns = st.columns([1, 1, 1, 1, 1, 2, 1], vertical_alignment="bottom")
    columns[0].button("Play", type="primary" if playing else "secondary", key=subject_key("playground_play", run),
                      icon=":material/play_arrow:", on_click=send, args=(run, status, Command("play"),
                                                                          click_token("play")))
    columns[1].button("Pause", type="secondary" if playing else "primary", key=subject_key("playground_pause", run),
                      icon=":material/pause:", on_click=send, args=(run, status, Command("pause"),
                                                                     click_token("pause")))
    columns[2].button("D step", key=subject_key("playground_step_d", run), on_click=send,
                      args=(run, status, Command("step_d"), click_token("step_d")),
                      help="One discriminator update on the samples shown; the points stay where they are.")
    columns[3].button("G step", key=subject_key("playground_step_g", run), on_click=send,
                      args=(run, status, Command("step_g"), click_token("step_g")),
                      help="One generator update on the samples shown: they move along the arrows.")
    columns[4].button("Step both", key=subject_key("playground_step_both", run), on_click=send,
                      args=(run, status, Command("step_both"), click_token("step_both")),
                      help=f"One training step: {run.config.n_critic} discriminator update(s), then the generator's.")
    speed_key, speed_token = subject_key("playground_speed", run), click_token("speed")
    columns[5].select_slider("Speed", SPEEDS[1:] + SPEEDS[:1], value=int(snapshot.speed) if snapshot else 0,
                             format_func=SPEED_LABELS.get, key=speed_key,
                             on_change=lambda: send(run, status, Command("speed", st.session_state[speed_key]),
                                                    speed_token))
    columns[6].button("Stop", key=subject_key("playground_stop", run), icon=":material/stop_circle:",
                      disabled=status.state == "stopping", on_click=act_on_run,
                      args=(run, jobs.stop_run, click_token("stop")),
                      help="Checkpoint and end the trainer process; Resume continues from here.")
    refusal_ui(run)


def send(run: Run, status: Status, command: Command, token: str) -> None:
    """Button callback: queue the command for the trainer at once, and remember a play or pause sent to it."""
    if not first_delivery(token):
        return
    playground_store.send_command(run, command)
    if command.action in ("play", "pause"):
        st.session_state[subject_key("playground_playing", run)] = (status.pid, command.action == "play")


def sent_playing(run: Run, status: Status, snapshot: Snapshot | None) -> bool:
    """Whether the trainer plays: as this tab last told this trainer process, else as its latest snapshot says."""
    sent = st.session_state.get(subject_key("playground_playing", run))
    if sent is not None and sent[0] == status.pid:
        return sent[1]
    return bool(snapshot.playing) if snapshot is not None else False


# ---- the figures ------------------------------------------------------------------------------------------------


def playground_figure(snapshot: Snapshot) -> go.Figure:
    """One figure: the plane on the left (the discriminator's heatmap, the manifold mesh, real and generated points
    and the gradient arrows), the losses and GAN Lab's KL / JS divergences against the step on the right.

    One figure rather than three, because the browser redraws the page's figure several times a second and each
    chart costs a redraw of its own (the page updates the figure in place, see views/live_figure.py). The curves are
    named by their colours in the axis titles, the plane's colours by `colour_key`.
    """
    x_min, x_max, y_min, y_max = (float(value) for value in snapshot.bounds)
    field = snapshot.field
    resolution = field.shape[0]
    xs = x_min + (x_max - x_min) * (np.arange(resolution) + 0.5) / resolution
    ys = y_min + (y_max - y_min) * (np.arange(resolution) + 0.5) / resolution
    is_probability = health.output_is_probability(str(snapshot.loss))
    # No colour bar and no legend: each took about a quarter of the figure's drawing time in Chromium.
    heatmap = go.Heatmap(x=xs, y=ys, z=field, name="discriminator", colorscale="RdBu",
                         zmid=None if is_probability else 0, zmin=0 if is_probability else None,
                         zmax=1 if is_probability else None, opacity=0.75, showscale=False,
                         hovertemplate="x %{x:.2f}, y %{y:.2f}: %{z:.3f}<extra></extra>")
    generated, arrows = snapshot.generated, snapshot.arrows
    longest = float(np.linalg.norm(arrows, axis=1).max()) if len(arrows) else 0.0
    scale = ARROW_SHARE * (x_max - x_min) / longest if longest > 0 else 0.0
    steps = snapshot.history_step
    curves = [go.Scatter(x=steps, y=getattr(snapshot, metric), mode="lines", name=label, xaxis="x2", yaxis=axis,
                         line=dict(color=CURVE_COLOURS[label], width=1.5))
              for metric, label, axis in (("history_d_loss", "discriminator loss", "y2"),
                                          ("history_g_loss", "generator loss", "y2"),
                                          ("history_kl", "KL", "y3"), ("history_js", "JS", "y3"))]
    figure = go.Figure([
        heatmap,
        go.Scatter(x=polyline(snapshot.mesh[..., 0]), y=polyline(snapshot.mesh[..., 1]), mode="lines",
                   name="manifold", line=dict(color="rgba(90,60,160,0.45)", width=1), hoverinfo="skip"),
        go.Scatter(x=snapshot.real[:, 0], y=snapshot.real[:, 1], mode="markers", name="real",
                   marker=dict(size=4, color="#1a9850"), hoverinfo="skip"),
        go.Scatter(x=segments(generated[:, 0], arrows[:, 0] * scale), y=segments(generated[:, 1], arrows[:, 1] * scale),
                   mode="lines", name="gradient", line=dict(color="#e66101", width=1), hoverinfo="skip"),
        go.Scatter(x=generated[:, 0], y=generated[:, 1], mode="markers", name="generated",
                   marker=dict(size=5, color="#5e3c99"), hoverinfo="skip"),
        *curves,
    ])
    # No `transition`: with one, Plotly.react animates data changes, and on that path the curves' axes stop
    # autoranging once `uirevision` (which keeps a zoom on the plane) stays the same.
    figure.update_layout(
        height=600, margin=dict(l=40, r=10, t=10, b=30), uirevision="playground", showlegend=False,
        xaxis=dict(range=[x_min, x_max], domain=[0.0, 0.6], constrain="domain"),
        yaxis=dict(range=[y_min, y_max], scaleanchor="x", constrain="domain"),
        xaxis2=dict(domain=[0.7, 1.0], anchor="y3", title="step"),
        yaxis2=dict(domain=[0.55, 1.0], anchor="x2",
                    title=f"loss: {coloured('discriminator loss', 'D')}, {coloured('generator loss', 'G')}"),
        yaxis3=dict(domain=[0.0, 0.42], anchor="x2",
                    title=f"{coloured('KL', 'KL')}, {coloured('JS', 'JS')} (grid)"),
    )
    return figure


def coloured(curve: str, text: str) -> str:
    """`text` in the colour of `curve`, for an axis title (Plotly's text takes this much HTML)."""
    return f"<span style='color:{CURVE_COLOURS[curve]}'>{text}</span>"


def colour_key(loss: str) -> str:
    """What the plane's colours mean, in the page's own colour markup."""
    belief = "the discriminator's probability that a point is real" if health.output_is_probability(loss) else \
        f"the discriminator's score (the {loss} loss has no probability; positive leans real)"
    return (f"Background: {belief}, :blue[blue] leaning real and :red[red] leaning generated. :green[Green] dots are "
            "real points, :violet[purple] dots generated ones.")


def polyline(coordinates: np.ndarray) -> np.ndarray:
    """Lines (one per row) as one array, separated by NaN gaps, so one trace draws them all.

    An array (rather than a list with None) travels to the browser as compact binary in Plotly's JSON, which keeps
    ten redraws a second cheap; Plotly breaks a line at NaN as at None.
    """
    rows = np.concatenate([coordinates, np.full((len(coordinates), 1), np.nan)], axis=1)
    return rows.ravel().astype(np.float32)


def segments(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """From each start to start + length, as one list with gaps, for one trace of arrows."""
    return polyline(np.stack([starts, starts + lengths], axis=1))


def summary_text(snapshot: Snapshot) -> str:
    """One line of numbers under the figure: the counts, divergences and modes covered."""
    parts = [f"step {int(snapshot.step):,}", f"{int(snapshot.d_updates):,} D updates",
             f"KL {float(snapshot.kl):.3f}", f"JS {float(snapshot.js):.3f}"]
    if int(snapshot.num_modes) > 0:
        parts.append(f"modes covered: {int(snapshot.modes_covered)} of {int(snapshot.num_modes)}")
    parts.append("playing" if snapshot.playing else "paused")
    parts.append(f"snapshot {int(snapshot.sequence):,}")
    return " · ".join(parts)
