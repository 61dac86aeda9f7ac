"""Tests for gan_core.measuring.judging: image keys, the order of the questions, and the summary of a person's
answers."""

import pytest

from gan_core.measuring import judging


def answer(step: int, is_real: bool, index: int, answered_real: bool) -> dict:
    """One answer as Run.judgements() returns it."""
    return {"wall_time": 0.0, "image_key": judging.image_key(step, is_real, index), "is_real": is_real,
            "answered_real": answered_real}


def test_image_keys_round_trip_and_bad_keys_are_refused():
    assert judging.image_key(600, True, 7) == "step-600/real/7"
    assert judging.parse_image_key("step-600/generated/42") == (600, False, 42)
    for step, is_real, index in ((0, True, 0), (12345, False, 99)):
        assert judging.parse_image_key(judging.image_key(step, is_real, index)) == (step, is_real, index)
    for bad in ("real/7", "step-1/fake/2", "step-x/real/1", "step-1/real/"):
        with pytest.raises(ValueError, match="is not of the form"):
            judging.parse_image_key(bad)
    with pytest.raises(ValueError, match="at least 0"):
        judging.image_key(-1, True, 0)


def test_question_order_shows_every_image_once_half_of_them_real():
    order = judging.question_order(seed=3, pool_size=50)
    assert sorted(order) == sorted([(True, index) for index in range(50)] + [(False, index) for index in range(50)])
    assert sum(is_real for is_real, _ in order) == 50
    assert judging.question_order(3, 50) == order  # the same seed gives the same order
    assert judging.question_order(4, 50) != order
    # Shuffled, not real-then-generated: both kinds appear among the first ten questions.
    assert 0 < sum(is_real for is_real, _ in order[:10]) < 10
    with pytest.raises(ValueError, match="at least one image"):
        judging.question_order(0, 0)


def test_answers_are_kept_apart_per_checkpoint():
    answers = [answer(100, True, 1, True), answer(200, False, 2, True), answer(100, False, 3, False),
               {"wall_time": 0.0, "image_key": "written by something else", "is_real": True, "answered_real": True}]
    assert judging.checkpoint_judgements(answers, 100) == [answers[0], answers[2]]
    assert judging.checkpoint_judgements(answers, 200) == [answers[1]]
    assert judging.checkpoint_judgements(answers, 300) == []


def test_summary_counts_errors_on_each_kind_of_image():
    # Four generated images, three taken for real; two real images, one taken for generated: 4 errors in 6.
    answers = [answer(1, False, index, index < 3) for index in range(4)]
    answers += [answer(1, True, 0, True), answer(1, True, 1, False)]
    summary = judging.judgement_summary(answers)
    assert summary["count"] == 6 and summary["error_rate"] == pytest.approx(4 / 6)
    assert summary["low"] < 4 / 6 < summary["high"]
    assert summary["generated_count"] == 4 and summary["generated_error"] == pytest.approx(0.75)
    assert summary["real_count"] == 2 and summary["real_error"] == pytest.approx(0.5)


def test_summary_without_answers_or_without_one_kind():
    assert judging.judgement_summary([]) is None
    summary = judging.judgement_summary([answer(1, True, 0, True), answer(1, True, 1, True)])
    assert summary["error_rate"] == 0 and summary["real_error"] == 0
    assert summary["generated_count"] == 0 and summary["generated_error"] is None
