"""Sweeps on this machine: the search space and its refusals, successive halving's arithmetic, and the trainer
queue's slots, order and cancelling (a whole halved sweep runs in tests/test_browser_sweeps.py, on a cluster in
tests/test_sweep_cluster.py)."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from gan_core.spec import search
from gan_core.spec.config import preset
from gan_core.store import runs
from gan_core.sweeps import halving, sweep_store
from gan_core.sweeps.plan import SweepPlan
from gan_core.workers import jobs, queue
from support.cli import gan_core_here
from support.waiting import wait_for


def plan(**changes) -> SweepPlan:
    values = dict(name="lr sweep", preset="digits-mlp", dimensions=("g_learning_rate=3e-4,1e-3", "width=32,64"),
                  budget_steps=100)
    return SweepPlan(**{**values, **changes})


# The search space

def test_a_grid_gives_every_combination_in_order():
    space = search.build_space(preset("digits-mlp"), ["g_learning_rate=3e-4,1e-3", "width=32,64,128"])
    settings = search.trial_settings(space)
    assert len(settings) == 6
    assert settings[0] == {"g_learning_rate": 3e-4, "width": 32}
    assert settings[-1] == {"g_learning_rate": 1e-3, "width": 128}


def test_random_draws_stay_in_their_ranges_and_repeat_with_the_seed():
    space = search.build_space(preset("digits-mlp"), ["g_learning_rate=1e-4:1e-2:log", "width=32,64"], 10)
    drawn = search.trial_settings(space, seed=3)
    assert drawn == search.trial_settings(space, seed=3) != search.trial_settings(space, seed=4)
    assert all(1e-4 <= trial["g_learning_rate"] <= 1e-2 and trial["width"] in (32, 64) for trial in drawn)


@pytest.mark.parametrize("line, named", [
    ("learning_speed=1,2", "unknown config field 'learning_speed'"),
    ("width=", "the grid of width is empty"),
    ("width=32,99999", "width=99999 is not allowed"),
    ("g_learning_rate=-1,1e-3", "g_learning_rate=-1.0 is not allowed"),
    ("dataset=mnist,digits", "a sweep cannot vary dataset"),
    ("info_lambda_categorical=1,2",
     "info_lambda_categorical (a setting of variant 'infogan') cannot be used with variant 'gan'"),
    ("g_learning_rate=1e-2:1e-4", "must go from low to high"),
    ("loss=hinge:lsgan", "is not a range"),
])
def test_a_bad_line_is_refused_with_the_setting_named(line, named):
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(")", r"\)")):
        search.build_space(preset("digits-mlp"), [line])


def test_a_range_needs_random_trials_and_a_grid_its_limit():
    with pytest.raises(ValueError, match="a range needs a number of random trials"):
        search.build_space(preset("digits-mlp"), ["g_learning_rate=1e-4:1e-2"])
    with pytest.raises(ValueError, match=f"at most {search.MAX_TRIALS}"):
        search.build_space(preset("digits-mlp"), ["width=16,32,48,64,80,96,112,128",
                                                  "latent_dim=8,16,32,64,100,128,256,512,1000"])


# Successive halving

def test_rungs_double_the_budget_up_to_the_whole():
    assert halving.rung_fractions(3) == [0.25, 0.5, 1.0]
    assert halving.rung_budgets(1000, 3, whole=True) == [250, 500, 1000]
    assert halving.rung_budgets(120.0, 2, whole=False) == [60.0, 120.0]
    with pytest.raises(ValueError, match="too small for 3 rungs"):
        halving.rung_budgets(2, 3, whole=True)


def test_the_better_half_goes_on_and_the_ranking_puts_later_rungs_first():
    assert halving.survivors({"a": 3.0, "b": 1.0, "c": None, "d": 2.0}, "lower") == ["b", "d"]
    assert halving.survivors({"a": 0.3, "b": 0.9, "c": 0.5}, "higher") == ["b", "c"]
    scores = {"a": [5.0], "b": [4.0, 3.5], "c": [4.5, 2.0], "d": []}
    assert halving.ranking(scores, "lower") == ["c", "b", "a", "d"]


# The plan's refusals, before anything is made

def test_a_bad_plan_is_refused_and_leaves_nothing_behind(tmp_path):
    refusals = {
        "unknown setting": (plan(dimensions=("speed=1,2",)), "speed"),
        "empty grid": (plan(dimensions=("width=",)), "the grid of width is empty"),
        "no dimension": (plan(dimensions=()), "at least one setting to vary"),
        "value out of range": (plan(dimensions=("batch_size=64,0",)), "batch_size=0 is not allowed"),
        "measure": (plan(measure="beauty"), "measure 'beauty' cannot rank a sweep"),
        "budget": (plan(budget_steps=None), "as steps or as seconds"),
        "halving one trial": (plan(dimensions=("width=32",), rungs=3), "at least two trials"),
        "slots": (plan(slots=0), "slots=0 is not allowed"),
        "random trials": (plan(random_count=-2), "random trials must be 0"),
    }
    for bad, message in refusals.values():
        with pytest.raises(ValueError, match=message):
            sweep_store.create_sweep(bad, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_ray_address_is_refused_at_once(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(ValueError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        sweep_store.create_sweep(plan(ray_address=f"127.0.0.1:{port}"), tmp_path)
    with pytest.raises(ValueError, match="must look like HOST:PORT"):
        sweep_store.create_sweep(plan(ray_address="headnode"), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_command_line_names_what_it_refuses(tmp_path):
    result = gan_core_here("sweep", "--preset", "digits-mlp", "--grid", "widht=32,64", "--steps", "10",
                           "--runs-dir", tmp_path)
    assert result.returncode == 2
    assert "unknown config field 'widht'" in result.stderr
    result = gan_core_here("sweep", "--preset", "digits-mlp", "--grid", "width=32,64", "--steps", "10",
                           "--ray", "127.0.0.1:1", "--runs-dir", tmp_path)
    assert result.returncode == 2 and "cannot reach the Ray cluster at 127.0.0.1:1" in result.stderr
    assert list(tmp_path.iterdir()) == []


# The queue

def test_queued_runs_take_the_slots_in_the_order_they_came_and_can_be_cancelled(tmp_path):
    made = [runs.create_run(preset("digits-mlp", name=f"run {number}"), tmp_path) for number in range(4)]
    first_admitted = threading.Event()
    release_first = threading.Event()
    admitted: list[str] = []

    def wait_in_queue(run, stop=lambda: False, hold=None):
        with queue.trainer_slot(run, 1, stop) as got_slot:
            if got_slot:
                admitted.append(run.run_id)
                if hold is not None:
                    first_admitted.set()
                    hold.wait(30)

    holder = threading.Thread(target=wait_in_queue, args=(made[0],), kwargs={"hold": release_first})
    holder.start()
    assert first_admitted.wait(30)
    cancelled = threading.Event()
    waiters = [threading.Thread(target=wait_in_queue, args=(made[1],)),
               threading.Thread(target=wait_in_queue, args=(made[2], cancelled.is_set))]
    for waiter, run in zip(waiters, made[1:3]):
        waiter.start()
        assert wait_for(lambda run=run: queue.position(run) is not None, 10)
    waiters.append(threading.Thread(target=wait_in_queue, args=(made[3],)))
    waiters[-1].start()
    assert wait_for(lambda: queue.position(made[3]) == (3, 3), 10)
    assert queue.position(made[1]) == (1, 3)
    assert wait_for(lambda: "place 2 of 3" in made[2].status.message, 10), made[2].status.message

    cancelled.set()
    assert wait_for(lambda: queue.position(made[3]) == (2, 2), 10)
    release_first.set()
    for thread in [holder, *waiters]:
        thread.join(30)
    assert admitted == [made[0].run_id, made[1].run_id, made[3].run_id]
    assert queue.waiting_tickets(tmp_path) == []


def test_the_default_slots_follow_the_cores_or_the_setting():
    assert queue.default_slots({}) == max(1, (os.cpu_count() or 2) // 2)
    assert queue.default_slots({"GAN_TRAINER_SLOTS": "3"}) == 3
    with pytest.raises(ValueError, match="GAN_TRAINER_SLOTS=0 must be at least 1"):
        queue.default_slots({"GAN_TRAINER_SLOTS": "0"})


def test_a_trainer_started_while_the_slot_is_taken_waits_and_stop_cancels_it(tmp_path):
    """The trainer process (`resume --slots 1`) waits before it loads TensorFlow; Stop ends it without training."""
    holder = runs.create_run(preset("digits-mlp"), tmp_path)
    waiting = runs.create_run(preset("digits-mlp", steps=100), tmp_path)
    slot_taken, release = threading.Event(), threading.Event()

    def hold_the_slot():
        with queue.trainer_slot(holder, 1, lambda: False):
            slot_taken.set()
            release.wait(60)

    thread = threading.Thread(target=hold_the_slot)
    thread.start()
    try:
        assert slot_taken.wait(30)
        pid = jobs.start_run(waiting, slots=1)
        assert wait_for(lambda: "place 1 of 1" in waiting.status.message, 60), waiting.status
        assert waiting.status.state == "queued" and waiting.status.pid == pid and queue.position(waiting) == (1, 1)
        jobs.refresh_status(waiting)
        assert waiting.status.state == "queued", "a waiting run is alive, not abandoned"
        jobs.stop_run(waiting)
        assert wait_for(lambda: waiting.status.state == "stopped", 60), waiting.status
        assert "cancelled while it waited in the queue" in waiting.status.message
        assert waiting.checkpoint_steps() == [] and waiting.status.step == 0
        assert wait_for(lambda: not jobs.process_alive(pid), 30)
    finally:
        release.set()
        thread.join(30)
    assert queue.waiting_tickets(tmp_path) == []
