"""Real or fake? A person judges one image at a time; their error rate says how realistic the generator is."""

import streamlit as st

from gan_core.measuring import judging
from gan_core.store import runs
from views.common import (HUMAN_TEST_PAGE, checkpoint_picker_ui, generator_ready_ui, no_runs_ui, page_frame_ui,
                          run_picker_ui, runs_dir)
from views.human_test_views import (answered_in_session, answers_ui, judgement_pool, question_ui, reset_ui,
                                    score_ui)

page_frame_ui(HUMAN_TEST_PAGE)
st.title("Real or fake?")
st.caption("Each image is a real one or a generated one, with equal chance. The more often you are wrong, the more "
           "realistic the generator: 50% error means you cannot tell them apart (HYPE∞).")
run = run_picker_ui(runs.list_runs(runs_dir()))
if run is None:
    no_runs_ui("judge")
    st.stop()
if run.config.is_points:
    st.info("This run makes 2-D points, and a single point cannot look real or fake. Its scatter against the "
            "real points is on the Evaluate page.", icon=":material/info:")
    st.stop()
step = checkpoint_picker_ui(run, key="human_checkpoint")
if step is None or not generator_ready_ui(run, step):
    st.stop()
try:
    pool = judgement_pool(run, step)
except ValueError as error:  # e.g. the dataset is no longer on this machine
    st.error(str(error))
    st.stop()


@st.fragment
def test_view() -> None:
    # A fragment, so that answering redraws only the question and the score, not the pickers above.
    question_column, score_column = st.columns([3, 2], gap="large")
    with question_column:
        question_ui(run, step, pool)
    answers = judging.checkpoint_judgements(run.judgements(), step)
    with score_column:
        score_ui(answers, answered_in_session(run, step))
        reset_ui(run)
    answers_ui(answers, pool)


test_view()
