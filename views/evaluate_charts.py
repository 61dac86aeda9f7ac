"""Plotly figures of the Evaluate page: real (grey) against generated (orange) histograms, projections and bars.

Histograms are binned with numpy and drawn as bars, so the browser receives a few dozen numbers per side
rather than every pixel or score.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from views.charts import CHART_HEIGHT, FAKE_COLOUR, REAL_COLOUR

PIXEL_BINS = 32
SCORE_BINS = 40
LAYOUT = dict(height=CHART_HEIGHT + 40, margin=dict(l=10, r=10, t=40, b=10), template="none",
              legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1.0))


def histogram_figure(real: np.ndarray, generated: np.ndarray, edges: np.ndarray, title: str, x_title: str,
                     y_title: str = "share") -> go.Figure:
    """The shares of real and generated values falling in each bin between `edges`, as overlaid bars."""
    centres = (edges[:-1] + edges[1:]) / 2
    figure = go.Figure()
    for name, values, colour in (("real", real, REAL_COLOUR), ("generated", generated, FAKE_COLOUR)):
        counts, _ = np.histogram(np.ravel(values), bins=edges)
        figure.add_trace(go.Bar(x=centres, y=counts / max(counts.sum(), 1), name=name, marker_color=colour,
                                opacity=0.6, width=np.diff(edges)))
    figure.update_layout(title=title, barmode="overlay", xaxis_title=x_title, yaxis_title=y_title, **LAYOUT)
    return figure


def pixel_histogram_figure(real: np.ndarray, generated: np.ndarray) -> go.Figure:
    """Shares of pixel values (all channels) of real and generated uint8 images."""
    edges = np.linspace(0, 256, PIXEL_BINS + 1)
    return histogram_figure(real, generated, edges, "Pixel intensities", "pixel value (0 black, 255 white)",
                            "share of pixels")


def score_histogram_figure(real_scores: np.ndarray, generated_scores: np.ndarray, x_title: str,
                           probabilities: bool) -> go.Figure:
    """The discriminator's scores on real and generated examples, on [0, 1] for probabilities."""
    if probabilities:
        edges = np.linspace(0.0, 1.0, SCORE_BINS + 1)
    else:
        both = np.concatenate([real_scores, generated_scores])
        low, high = float(both.min()), float(both.max())
        edges = np.linspace(low, high if high > low else low + 1.0, SCORE_BINS + 1)
    return histogram_figure(real_scores, generated_scores, edges, "The discriminator's scores", x_title,
                            "share of examples")


def projection_figure(real_points: np.ndarray, generated_points: np.ndarray, explained: Sequence[float],
                      space: str) -> go.Figure:
    """Real and generated samples on the first two principal axes of the real features."""
    figure = go.Figure()
    for name, points, colour in (("real", real_points, REAL_COLOUR), ("generated", generated_points, FAKE_COLOUR)):
        figure.add_trace(go.Scattergl(x=points[:, 0], y=points[:, 1], mode="markers", name=name,
                                      marker=dict(size=4, color=colour, opacity=0.5)))
    figure.update_layout(title=f"Principal components of the {space} features", **LAYOUT | dict(height=460))
    figure.update_xaxes(title=f"component 1 ({explained[0]:.0%} of the real variance)")
    figure.update_yaxes(title=f"component 2 ({explained[1]:.0%})")
    return figure


def class_bars_figure(class_names: Sequence[str], real_shares: Sequence[float],
                      generated_shares: Sequence[float]) -> go.Figure:
    """Each class's share of real and of generated samples, as grouped bars."""
    figure = go.Figure()
    for name, shares, colour in (("real", real_shares, REAL_COLOUR), ("generated", generated_shares, FAKE_COLOUR)):
        figure.add_trace(go.Bar(x=list(class_names), y=list(shares), name=name, marker_color=colour))
    figure.update_layout(title="Classes, as the classifier sees them", barmode="group", xaxis_title="class",
                         yaxis_title="share of samples", xaxis_type="category", **LAYOUT)
    return figure


def mode_bars_figure(mode_counts: Sequence[int]) -> go.Figure:
    """High-quality generated points per mode of a Gaussian mixture."""
    figure = go.Figure(go.Bar(x=[f"mode {index + 1}" for index in range(len(mode_counts))], y=list(mode_counts),
                              marker_color=FAKE_COLOUR, name="generated"))
    figure.update_layout(title="Generated points near each mode", yaxis_title="points within 3 std", **LAYOUT)
    return figure
