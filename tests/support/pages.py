"""Opening the dashboard's pages with Streamlit's AppTest, through app.py as a browser would, and reading them."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_core.store.runs import Run

PROJECT = Path(__file__).resolve().parents[2]
APP = PROJECT / "app.py"


def open_page(page: str, run: Run | None = None, timeout: float = 30, session_state: dict | None = None,
              secrets: dict | None = None) -> AppTest:
    """The app with `page` open (optionally with ?run=<id>), after a first run of the router; `session_state` and
    `secrets` are set before that first run."""
    app = AppTest.from_file(str(APP), default_timeout=timeout)
    for key, value in (session_state or {}).items():
        app.session_state[key] = value
    for key, value in (secrets or {}).items():
        app.secrets[key] = value
    app.run()
    if run is not None:
        app.query_params["run"] = run.run_id
    app.switch_page(f"pages/{page}.py").run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def texts(app: AppTest) -> str:
    """All markdown, captions, info and warning text on the page, joined, for substring checks."""
    parts = [element.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "subheader")
             for element in getattr(app, kind)]
    return "\n".join(str(part) for part in parts)


def widget_name(key: str) -> str:
    """A widget's key without the run (and checkpoint) it belongs to: "runs_delete:20260101-..." -> "runs_delete"."""
    return key.split(":", 1)[0]
