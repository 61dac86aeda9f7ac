"""The Real-or-fake page's parts: the image pools, the question, the score, the answers and the reset.

The pools (POOL_SIZE real training images and as many samples of the checkpoint) are made once per run and
checkpoint and cached, so answering costs no TensorFlow work. The order of the questions is shuffled per browser
session; answers go straight to the run store, so they survive a reload and add up across sessions.
"""

from __future__ import annotations

import base64
import secrets

import numpy as np
import streamlit as st

from gan_core.inputs import comparison, data, images
from gan_core.measuring import judging
from gan_core.store.runs import Run
from views.common import generated_samples, real_examples, subject_key
from views.demo_views import may_control_ui

POOL_SIZE = 100
POOL_SEED = 1  # other than the Evaluate page's seed 0, so the test does not show the samples measured there
DISPLAY_SIDE = 320  # pixels: images are scaled up by a whole factor (nearest neighbour) to about this size
THUMBNAIL_SIDE = 48
ANSWER_TEXT = {True: "real", False: "generated"}


def judgement_pool(run: Run, step: int) -> tuple[np.ndarray, np.ndarray]:
    """(real, generated): POOL_SIZE images each; a conditional generator is asked for every class in turn."""
    names = data.class_names(run)
    labels = tuple(comparison.cycled_labels(POOL_SIZE, len(names)).tolist()) if names else None
    generated = generated_samples(str(run.path), step, POOL_SIZE, POOL_SEED, labels)
    real = real_examples(run.config.to_json(), POOL_SIZE, POOL_SEED)
    return real, generated


def enlarged(image: np.ndarray, side: int) -> np.ndarray:
    """An image scaled up by the whole factor that brings it closest to `side` pixels, keeping hard pixel edges."""
    factor = max(1, round(side / image.shape[0]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def question_ui(run: Run, step: int, pool: tuple[np.ndarray, np.ndarray]) -> None:
    """The next image, large, with the two answer buttons and a word on the previous answer."""
    # The order is fixed per browser session, so a person does not see the images in the same order twice.
    seed = st.session_state.setdefault("human_test_seed", secrets.randbelow(2**32))
    order = judging.question_order(seed, POOL_SIZE)
    position_key = session_position_key(run, step)
    position = answered_in_session(run, step)
    is_real, index = order[position % len(order)]
    last = st.session_state.get("human_test_last")
    if last is not None and last["position_key"] == position_key:
        verdict = ":green[**Right.**]" if last["correct"] else ":red[**Wrong.**]"
        st.markdown(f"{verdict} The last image was {ANSWER_TEXT[last['is_real']]}.")
    else:
        st.markdown("Is this image **real** or **generated**?")
    st.image(enlarged(pool[0 if is_real else 1][index], DISPLAY_SIDE),
             caption=f"Image {position + 1:,} in this session")
    arguments = (run, step, is_real, index, position_key, position)
    real_column, generated_column = st.columns(2)
    real_column.button("Real", key=subject_key("human_answer_real", run, step), on_click=record_answer,
                       args=(*arguments, True), shortcut="Left", width="stretch", icon=":material/photo_camera:")
    generated_column.button("Generated", key=subject_key("human_answer_generated", run, step), on_click=record_answer,
                            args=(*arguments, False), shortcut="Right", width="stretch", icon=":material/memory:")


def session_position_key(run: Run, step: int) -> str:
    """Where this browser session counts its answers about one checkpoint of a run."""
    return f"{run.run_id}@{step}"


def answered_in_session(run: Run, step: int) -> int:
    """How many answers this browser session has given about the checkpoint (others' are counted in the store only)."""
    return st.session_state.get("human_test_positions", {}).get(session_position_key(run, step), 0)


def record_answer(run: Run, step: int, is_real: bool, index: int, position_key: str, position: int,
                  answered_real: bool) -> None:
    """Button callback: store the answer with the run, then move on to the next image.

    A second click that arrives before the next image was drawn carries the same question: it is not counted again.
    """
    positions = st.session_state.setdefault("human_test_positions", {})
    if positions.get(position_key, 0) != position:
        return
    run.add_judgement(judging.image_key(step, is_real, index), is_real, answered_real)
    positions[position_key] = position + 1
    st.session_state["human_test_last"] = {"position_key": position_key, "is_real": is_real,
                                           "correct": is_real == answered_real}


def score_ui(answers: list[dict], answered_here: int) -> None:
    """The human error rate with its 95% interval, and the error on each kind of image; `answered_here` of the
    answers were given in this session (the others in earlier or other sessions)."""
    summary = judging.judgement_summary(answers)
    if summary is None:
        st.info("No answers yet for this checkpoint. Your error rate appears after the first one.")
        return
    st.metric("Human error rate", f"{summary['error_rate']:.0%}", border=True,
              help="The share of wrong answers (HYPE∞). 50% means people cannot tell the generated images from "
                   "real ones; 0% that they always can.")
    st.caption(f"95% confidence interval {summary['low']:.0%} to {summary['high']:.0%}, from {summary['count']:,} "
               f"answers for this checkpoint, {answered_here:,} of them in this session. 50% error means "
               "indistinguishable from real.")
    generated_column, real_column = st.columns(2)
    for column, kind, label in ((generated_column, "generated", "Generated taken for real"),
                                (real_column, "real", "Real taken for generated")):
        error = summary[f"{kind}_error"]
        column.metric(label, "—" if error is None else f"{error:.0%}",
                      help=f"Out of {summary[f'{kind}_count']} {kind} images shown.")


def answers_ui(answers: list[dict], pool: tuple[np.ndarray, np.ndarray]) -> None:
    """Every answer for this checkpoint, newest first, with the image it was about."""
    if not answers:
        return
    # Every answer stored for the checkpoint, from any session: the same ones the score counts.
    st.subheader(f"Answers for this checkpoint ({len(answers):,})")
    rows = []
    for answer in reversed(answers):
        _, is_real, index = judging.parse_image_key(answer["image_key"])
        picture = enlarged(pool[0 if is_real else 1][index], THUMBNAIL_SIDE)
        rows.append({
            "Image": "data:image/png;base64," + base64.b64encode(images.png_bytes(picture)).decode(),
            "It was": ANSWER_TEXT[is_real],
            "You said": ANSWER_TEXT[answer["answered_real"]],
            "Right": answer["is_real"] == answer["answered_real"],
        })
    st.dataframe(rows, hide_index=True, key="human_answers_table",
                 column_config={"Image": st.column_config.ImageColumn("Image", width="small"),
                                "Right": st.column_config.CheckboxColumn("Right")})


def reset_ui(run: Run) -> None:
    """Forget the run's answers, after a confirmation in a pop-over; in demo mode only the run's owner may."""
    if not may_control_ui(run):
        return
    count = len(run.judgements())
    with st.popover("Reset answers", icon=":material/restart_alt:", disabled=count == 0):
        st.markdown(f"Forget all {count:,} answers given for this run, at every checkpoint? This cannot be undone.")
        st.button("Forget them", type="primary", key=subject_key("human_reset", run), on_click=forget_answers,
                  args=(run,))


def forget_answers(run: Run) -> None:
    run.clear_judgements()
    st.session_state.pop("human_test_last", None)
    # The session's count starts again with the store's, which now holds no answer for this run.
    positions = st.session_state.get("human_test_positions", {})
    for position_key in [key for key in positions if key.startswith(f"{run.run_id}@")]:
        del positions[position_key]
