"""The Evaluate page's offer to train a dataset's feature classifier, and its progress while a worker trains it.

Opening the page never trains anything: a classifier that is not cached yet is trained on request, by a worker
process (gan_core.workers.feature_jobs), so the server stays responsive for every visitor while it trains. In a
demo the worker counts against the trainer caps, and the showcase trains its own runs' classifiers by itself.
"""

from __future__ import annotations

import streamlit as st

from gan_core.workers import feature_jobs
from gan_core.measuring import features
from gan_core.store import ownership
from gan_core.demo_mode import showcase
from gan_core.training import throughput
from gan_core.spec.config import DATASET_TITLES
from gan_core.store.runs import Run
from views.common import duration_text, runs_dir
from views.demo_views import demo_mode, start_preparation_as_visitor, status_text

POLL_SECONDS = 1.0


def feature_space_ready_ui(run: Run) -> bool:
    """True when the run's feature space can be loaded at once; otherwise shows the button, or the progress."""
    dataset = features.classifier_pending(run.config)
    if dataset is None:
        return True
    title = DATASET_TITLES.get(dataset, dataset)
    status = feature_jobs.preparation_status(dataset)
    if status.is_active:
        progress_ui(dataset)
        return False
    # A public demo does not tell its visitors where on the server it keeps its files.
    kept = "" if demo_mode() else f" (in {features.default_cache_dir()})"
    st.info(f"The measures are computed on the features of a small {title} classifier that the project trains "
            f"once for this dataset and keeps{kept}. It is not trained yet. Training runs in the background: this "
            "page stays usable, and so does every other.", icon=":material/info:")
    if status.state == "failed":
        st.error(f"The last attempt to train the {title} classifier failed: {status_text(status.message)}")
    if demo_mode() and showcase_prepares(run):
        st.caption(f"The demo's showcase trains the {title} classifier itself once its runs have trained: come back "
                   "in a few minutes.")
        return False
    if st.button(f"Train the feature classifier ({classifier_time_text(dataset)})", type="primary",
                 icon=":material/model_training:", key="evaluate_prepare_features"):
        try:
            start_preparation_as_visitor(dataset, runs_dir())
        except ValueError as error:  # a demo's trainer caps, which classifier workers count against
            st.error(str(error))
            return False
        st.rerun()
    return False


def classifier_time_text(dataset: str) -> str:
    """How long the classifier should take: from those already trained on this machine when there are any, else as
    measured on the reference CPU."""
    seconds = features.expected_classifier_seconds(dataset)
    if seconds is not None:
        return f"about {duration_text(seconds)} on this machine"
    reference = features.REFERENCE_CLASSIFIER_SECONDS.get(dataset)
    if reference is not None:
        return f"about {duration_text(reference)} on {throughput.REFERENCE_CPU}"
    return "one to a few minutes"


def showcase_prepares(run: Run) -> bool:
    """Whether the demo's showcase, still at work, will train this showcase run's classifier by itself."""
    record = ownership.read_owner(run.path)
    return record is not None and record.showcase and showcase.in_progress(run.path.parent)


@st.fragment(run_every=POLL_SECONDS)
def progress_ui(dataset: str) -> None:
    """The worker's progress, redrawn every second; the whole page is drawn again once it has finished."""
    status = feature_jobs.preparation_status(dataset)
    if status.is_active:
        label = "starting (loading TensorFlow and the data)…" if status.state == "starting" or status.fraction == 0 \
            else f"{status.fraction:.0%}"
        st.progress(status.fraction, text=f"Training the {DATASET_TITLES.get(dataset, dataset)} feature classifier: "
                                          f"{label}")
    else:
        st.rerun()
