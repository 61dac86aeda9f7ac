"""A Plotly figure updated in place in the browser, for a view redrawn several times a second.

`st.plotly_chart` gives its element an identity that includes the figure, so every changed figure mounts a new chart
and Plotly draws it from nothing (`Plotly.newPlot`). This custom component keeps one chart in its own frame and hands
each new figure to `Plotly.react`, which updates the drawing in place and keeps a person's zoom while the layout's
`uirevision` stays the same.

It is a Streamlit custom component of the first version (a page in an iframe that talks to the app by messages),
written by hand in `live_figure_frontend/index.html`. Streamlit serves a component's files only from inside its
folder, and plotly.js (about 5 MB) comes from the installed `plotly` package rather than from this repository, so the
served folder is put together in the temporary directory when this module is imported: nothing is downloaded.
"""

from __future__ import annotations

import filecmp
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io
from streamlit.components import v1 as components

FRONTEND_PAGE = Path(__file__).with_name("live_figure_frontend") / "index.html"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def served_folder() -> Path:
    """The folder Streamlit serves the component from, holding our page and the installed plotly.js.

    Its name carries the plotly version and a digest of our page, so servers of two different checkouts never
    overwrite each other's files; a file is copied only when it is missing or differs.
    """
    page_digest = hashlib.sha256(FRONTEND_PAGE.read_bytes()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"gan-dashboard-live-figure-plotly-{plotly.__version__}-{page_digest}"
    folder.mkdir(exist_ok=True)
    for source in (FRONTEND_PAGE, PLOTLY_JS):
        copy_if_changed(source, folder / source.name)
    return folder


def copy_if_changed(source: Path, target: Path) -> None:
    """Copy `source` to `target` unless it is there already; through a temporary name and an atomic rename, so a
    second server doing the same at the same time, or a browser reading meanwhile, never meets a half-written file."""
    if target.exists() and filecmp.cmp(source, target, shallow=False):
        return
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


LIVE_FIGURE = components.declare_component("live_figure", path=served_folder())


def live_figure_ui(figure: go.Figure, key: str, config: dict | None = None) -> None:
    """Draw `figure`, updating in place the chart drawn under the same `key` by the previous run.

    The figure travels as Plotly's own JSON: NumPy arrays as base64 binary (which keeps their NaN gaps), other NaN
    values as null (where Plotly breaks a line just the same).
    """
    LIVE_FIGURE(figure=json.loads(plotly.io.to_json(figure, validate=False)), config=config or {}, key=key,
                default=None)
