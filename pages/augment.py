"""Augment: does a GAN's generated data help a classifier that has only a few labels? A study trains a conditional
generator on a few labelled examples of each class, then the same classifier on those examples alone, on them plus
generated ones, and on every label, and shows the test accuracies with intervals over seeds."""

import streamlit as st

from gan_core.workflows import augmentation
from views.augmentation_views import (REFRESH_SECONDS, results_ui, study_form_ui, study_picker_ui, study_progress_ui,
                                      study_state)
from views.common import AUGMENT_PAGE, page_frame_ui, runs_dir
from views.demo_views import demo_mode

page_frame_ui(AUGMENT_PAGE)
st.title("Augment")
st.caption("Generated images are often said to help when labels are few. Measure it: a conditional generator (the "
           "default recipe with DiffAugment) learns from a few labelled examples of each class only; then the same "
           "small classifier trains on those examples, on them plus generated ones, and on every label (the "
           "ceiling), and is tested on the real test set. The verdict says plainly when generated data does not "
           "help.")
if demo_mode():
    st.info("Studies train many generators and classifiers, so the demo does not start them; run the dashboard on "
            "your own machine, or `python -m gan_core augment --dataset fashion_mnist`.")
else:
    study_form_ui(runs_dir())

studies = augmentation.list_studies(runs_dir())
if not studies:
    st.info("No study yet. Start one above, or run `python -m gan_core augment --dataset mnist` in a terminal.")
    st.stop()
study = study_picker_ui(studies)


@st.fragment(run_every=REFRESH_SECONDS if study_state(study).state == "running" else None)
def study_live_ui() -> None:
    """Everything that changes while the study runs; redrawn every few seconds until it ends."""
    status = study_state(study)
    study_progress_ui(study, status)
    results_ui(study)
    if status.state != "running" and st.session_state.get(f"study_seen_running_{study.study_id}"):
        st.session_state.pop(f"study_seen_running_{study.study_id}")
        st.rerun()  # the page's refresh timer stops with the study
    if status.state == "running":
        st.session_state[f"study_seen_running_{study.study_id}"] = True


study_live_ui()
