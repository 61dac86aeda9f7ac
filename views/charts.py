"""Plotly figures for the pages: line charts of logged metrics and scatter plots of 2-D points.

Figures are kept small (a few hundred points per line) because the live view redraws them every second in
the browser, on the same machine that trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

MAX_POINTS_PER_LINE = 400
CHART_HEIGHT = 280
# One colour per line, in order; the first two tell the discriminator (blue) from the generator (orange).
LINE_COLOURS = ("#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#e64980", "#5c940d")
REAL_COLOUR = "#868e96"
FAKE_COLOUR = "#e8590c"


def thin(steps: Sequence[float], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_POINTS_PER_LINE evenly spaced points of a line, always keeping the newest one."""
    steps, values = np.asarray(steps), np.asarray(values)
    if len(steps) <= MAX_POINTS_PER_LINE:
        return steps, values
    keep = np.unique(np.append(np.linspace(0, len(steps) - 1, MAX_POINTS_PER_LINE).astype(int), len(steps) - 1))
    return steps[keep], values[keep]


def line_figure(lines: dict[str, tuple[Sequence[float], Sequence[float]]], title: str, y_title: str,
                y_range: tuple[float, float] | None = None) -> go.Figure:
    """One chart with a line per entry of `lines` (name -> (steps, values)), steps on the x axis.

    The figure is built from one nested dict rather than with `update_layout` calls, which is several times
    faster; the live view builds three of these every second.
    """
    traces = []
    for index, (name, (steps, values)) in enumerate(lines.items()):
        x, y = thin(steps, values)
        traces.append(dict(type="scatter", x=x, y=y, mode="lines", name=name,
                           line=dict(color=LINE_COLOURS[index % len(LINE_COLOURS)])))
    y_axis = dict(title=dict(text=y_title)) | (dict(range=list(y_range)) if y_range is not None else {})
    return go.Figure(dict(data=traces, layout=dict(
        title=dict(text=title), height=CHART_HEIGHT + 20 * len(lines), margin=dict(l=10, r=10, t=40, b=10),
        # Under the plot, one entry per line, since run names are long.
        legend=dict(orientation="v", yanchor="top", y=-0.25, xanchor="left", x=0.0),
        xaxis=dict(title=dict(text="step")), yaxis=y_axis,
        # Streamlit's theme styles the chart, so Plotly's own template would only add weight to every update.
        template="none",
        # Keeps a person's zoom while new points arrive.
        uirevision="keep",
    )))


@dataclass(frozen=True)
class Panel:
    """One panel of a `panels_figure`: a title, a y axis and its lines (name -> (steps, values))."""

    title: str
    y_title: str
    lines: dict[str, tuple[Sequence[float], Sequence[float]]]
    y_range: tuple[float, float] | None = None


def panels_figure(panels: Sequence[Panel], height: int = 320) -> go.Figure:
    """Several line charts side by side in one figure, each with its own y axis and a title naming its lines.

    One figure costs the browser far less to redraw than one per panel, and the line names are written in
    their colours in the titles because legends are costly to redraw too.
    """
    gap = 0.07
    width = (1 - gap * (len(panels) - 1)) / len(panels)
    traces, annotations = [], []
    layout = dict(height=height, margin=dict(l=10, r=10, t=40, b=10), template="none", uirevision="keep",
                  showlegend=False)
    for index, panel in enumerate(panels):
        suffix = "" if index == 0 else str(index + 1)
        left = index * (width + gap)
        layout[f"xaxis{suffix}"] = dict(domain=[left, left + width], anchor=f"y{suffix}", title=dict(text="step"))
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", title=dict(text=panel.y_title)) | (
            dict(range=list(panel.y_range)) if panel.y_range is not None else {})
        names = []
        for line_index, (name, (steps, values)) in enumerate(panel.lines.items()):
            x, y = thin(steps, values)
            colour = LINE_COLOURS[line_index % len(LINE_COLOURS)]
            traces.append(dict(type="scatter", x=x, y=y, mode="lines", name=name, xaxis=f"x{suffix}",
                               yaxis=f"y{suffix}", line=dict(color=colour)))
            names.append(f'<span style="color:{colour}">{name}</span>')
        annotations.append(dict(text=f"<b>{panel.title}</b><br>{' · '.join(names)}", x=left, xanchor="left",
                                y=1.0, yanchor="bottom", xref="paper", yref="paper", showarrow=False, align="left"))
    layout["annotations"] = annotations
    return go.Figure(dict(data=traces, layout=layout))


def scatter_figure(real_points: np.ndarray, fake_points: np.ndarray, title: str, extent: float = 5.0) -> go.Figure:
    """Real points in grey and generated points in orange on the same square axes, [-extent, extent] each way."""
    traces = [dict(type="scatter", x=points[:, 0], y=points[:, 1], mode="markers", name=name,
                   marker=dict(size=4, color=colour, opacity=0.6))
              for name, points, colour in (("real", real_points, REAL_COLOUR), ("generated", fake_points, FAKE_COLOUR))]
    return go.Figure(dict(data=traces, layout=dict(
        title=dict(text=title), height=460, margin=dict(l=10, r=10, t=40, b=10), template="none",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0),
        # A square plot whose width shrinks to fit, rather than a stretched x range.
        xaxis=dict(range=[-extent, extent], constrain="domain"),
        yaxis=dict(range=[-extent, extent], scaleanchor="x", scaleratio=1),
    )))
