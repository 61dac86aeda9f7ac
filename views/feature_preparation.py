"""The Evaluate page's offer to train a dataset's feature classifier, and its progress while a worker trains it.

Opening the page never trains anything: a classifier that is not cached yet is trained on request, by a worker
process (gan_core.feature_jobs), so the server stays responsive for every visitor while it takes its minute.
"""

from __future__ import annotations

import streamlit as st

from gan_core import feature_jobs, features
from gan_core.config import DATASET_TITLES, RunConfig

POLL_SECONDS = 1.0


def feature_space_ready_ui(config: RunConfig) -> bool:
    """True when the run's feature space can be loaded at once; otherwise shows the button, or the progress."""
    dataset = features.classifier_pending(config)
    if dataset is None:
        return True
    title = DATASET_TITLES.get(dataset, dataset)
    status = feature_jobs.preparation_status(dataset)
    if status.is_active:
        progress_ui(dataset)
        return False
    st.info(f"The measures are computed on the features of a small {title} classifier that the project trains "
            f"once for this dataset and keeps (in {features.default_cache_dir()}). It is not trained yet. Training "
            "runs in the background: this page stays usable, and so does every other.", icon=":material/info:")
    if status.state == "failed":
        st.error(f"The last attempt to train the {title} classifier failed: {status.message}")
    if st.button("Train the feature classifier (about a minute)", type="primary", icon=":material/model_training:",
                 key="evaluate_prepare_features"):
        feature_jobs.start_preparation(dataset)
        st.rerun()
    return False


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
