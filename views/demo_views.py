"""Demo mode in the pages: whether it is on, the visitor's owner token, and the notes shown where controls would be.

The policy (caps, checks, who may control a run) lives in gan_core (`demo`, `ownership`, `demo_jobs`); this
module holds only what needs Streamlit: the secrets, the session, the browser's cookie and the widgets.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

import streamlit as st

from gan_core.demo_mode import demo, demo_jobs, showcase
from gan_core.workers import feature_jobs, jobs, queue
from gan_core.store import ownership, runs
from gan_core.spec.config import RunConfig
from gan_core.demo_mode.demo import DemoLimits
from gan_core.store.runs import Run

# The visitor's token lives in this tab's session and in a first-party cookie, so that a reload keeps it. It is
# never put in the address: a link someone copies and shares must not carry control of their runs.
TOKEN_KEY = "demo_owner_token"
COOKIE_NAME = "gan_dashboard_owner"
COOKIE_MAX_AGE_SECONDS = 30 * 24 * 3600
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,100}")


def demo_mode() -> bool:
    """True when GAN_DASHBOARD_DEMO=1 is set, or `demo = true` is in the app's secrets (a missing file is fine).

    The secrets are read first in any case: reading them exports their root-level text and numbers as environment
    variables, which is how a Community Cloud deployment sets the GAN_DEMO_* caps.
    """
    try:
        value = st.secrets.get("demo", False)
    except (FileNotFoundError, OSError, ValueError):
        # No secrets.toml anywhere (StreamlitSecretNotFoundError is a FileNotFoundError), or one that does not parse.
        value = False
    return demo.demo_switched_on(os.environ) or value is True or str(value).strip().lower() in demo.TRUE_WORDS


def demo_limits() -> DemoLimits:
    """The caps, read from GAN_DEMO_* on every call so that a test (or a restart) can change them."""
    return demo.limits_from_environment(os.environ)


def visitor_token() -> str:
    """This visitor's owner token: the tab's, else the browser's cookie, else a new random one."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        from_cookie = st.context.cookies.get(COOKIE_NAME, "")
        token = from_cookie if TOKEN_PATTERN.fullmatch(from_cookie) else secrets.token_urlsafe(32)
        st.session_state[TOKEN_KEY] = token
    return token


def visitor_hash() -> str:
    return ownership.owner_hash(visitor_token())


def remember_token_ui() -> None:
    """Store the token in a cookie when the browser does not hold it yet, so that a reload keeps this visitor.

    Streamlit reads cookies but cannot set them, so a line of JavaScript does. SameSite=Strict keeps the cookie
    out of requests other sites start; it is not in the address, so sharing a link never shares it.
    """
    token = visitor_token()
    if st.context.cookies.get(COOKIE_NAME) == token:
        return
    cookie = json.dumps(f"{COOKIE_NAME}={token}; path=/; max-age={COOKIE_MAX_AGE_SECONDS}; SameSite=Strict")
    st.html(f"<script>document.cookie = {cookie} + (location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True)


def demo_frame_ui(runs_dir: Path) -> None:
    """What every page does in demo mode, in the sidebar: hide error details, keep the visitor, start the showcase."""
    # Uncaught errors show a short message only; the server log keeps the traceback. "none" also hides the
    # exception's type and message (False, the legacy value, would still show the traceback).
    st.set_option("client.showErrorDetails", "none")
    # Visitors get the viewer's menu only: no Deploy, Rerun or Clear cache (clearing would evict every visitor's
    # cached generators at once).
    st.set_option("client.toolbarMode", "viewer")
    limits = demo_limits()
    showcase.ensure_started(runs_dir, limits)
    remember_token_ui()
    st.caption(f"Demo: at most {limits.max_trainers} run(s) train at once ({limits.max_trainers_per_owner} per "
               f"visitor), each up to {limits.max_steps:,} steps and {limits.max_seconds / 60:.3g} min. You can "
               "control only the runs you started.")


def may_control_ui(run: Run) -> bool:
    """Whether this visitor may control `run`; when not, says why in place of the controls."""
    if not demo_mode():
        return True
    record = ownership.read_owner(run.path)
    if ownership.may_control(record, visitor_hash(), demo=True):
        return True
    st.caption(ownership.why_not_controllable(record))
    return False


def owner_text(run: Run) -> str:
    """Whose `run` is, said to this visitor ("showcase", "yours", "another visitor's"); "" outside demo mode."""
    return ownership.owner_label(ownership.read_owner(run.path), visitor_hash()) if demo_mode() else ""


def start_run_as_visitor(config: RunConfig, runs_dir: Path) -> Run:
    """Create and start a run; in demo mode under the caps and owned by this visitor (ValueError when refused), on
    one's own machine through the queue, which holds it while the machine's trainer slots are taken."""
    if demo_mode():
        return demo_jobs.start_owned_run(config, runs_dir, visitor_hash(), demo_limits())
    run = runs.create_run(config, runs_dir)
    jobs.start_run(run, slots=queue.default_slots())
    return run


def resume_run_as_visitor(run: Run, extra_steps: int | None = None, config_changes: dict | None = None) -> None:
    """Resume or train more (with `config_changes` to the run's config if given); in demo mode only the owner's
    run, under the caps (ValueError when refused)."""
    if demo_mode():
        demo_jobs.resume_owned_run(run, visitor_hash(), demo_limits(), extra_steps=extra_steps,
                                   config_changes=config_changes)
    else:
        jobs.resume_run(run, extra_steps=extra_steps, config_changes=config_changes, slots=queue.default_slots())


def start_preparation_as_visitor(dataset_name: str, runs_dir: Path) -> None:
    """Start the worker that trains a dataset's feature classifier; in demo mode under the trainer caps, which it
    counts against (ValueError when refused)."""
    if demo_mode():
        demo_jobs.start_owned_preparation(dataset_name, runs_dir, visitor_hash(), demo_limits())
    else:
        feature_jobs.start_preparation(dataset_name)


def start_run_job_as_visitor(run: Run, kind: str, steps: list[int], options: tuple[str, ...] = ()) -> None:
    """Start a worker doing `kind` (gan_core.workers.run_jobs.KINDS) on `steps` of `run` under the demo's trainer caps
    (ValueError when refused)."""
    demo_jobs.start_owned_run_job(run, kind, steps, visitor_hash(), demo_limits(), options)


def status_text(message: str) -> str:
    """A run's status message as this visitor may read it: in demo mode without log lines or server paths."""
    return demo.public_text(message) if demo_mode() else message
