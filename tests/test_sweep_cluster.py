"""A sweep on a Ray cluster of two nodes on loopback, one CPU each: its four digits-mlp trials take turns on the nodes,
one per node at a time; the second node is killed whole while its second trial trains there, and every trial still
ends, the interrupted one resumed from its checkpoint on the head with its metrics continuous."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from gan_core.store.runs import Run
from gan_core.sweeps import halving, sweep_store
from support.cached_classifiers import copy_of_the_digits_classifier
from support.processes import command_line, parent_of, session_of
from support.ray_cluster import PROJECT, Node, two_node_cluster, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

STEPS, CHECKPOINT_EVERY, LOG_EVERY, SAMPLES = 200, 50, 10, 100


def trial_processes(node: Node) -> list[int]:
    """The pids of the trainer processes (`python -m gan_core trial`) running on `node`.

    A process a trainer starts shows the trainer's command line until it has exec'd (Python's platform module runs
    `uname -p` through vfork, whose child shares the trainer's memory): only a trial whose parent is not one counts.
    """
    trials = {pid for pid in node.session_processes()
              if {"gan_core", "trial"} <= set(command_line(pid))}
    return [pid for pid in trials if parent_of(pid) not in trials]


def second_trial_past_its_checkpoint_on(node: Node, runs_dir: Path, most_at_once: dict) -> Run | None:
    """A trial training on `node` beyond its first checkpoint once the first two trials have finished (the node's
    second trial: the others then end on the head while it is retried), if there is one now; notes how many trials
    the node runs at once on the way."""
    most_at_once["node"] = max(most_at_once.get("node", 0), len(trial_processes(node)))
    trials = [Run(path.parent) for path in runs_dir.glob("*/status.json")]
    if sum(run.status.state == "finished" for run in trials) < 2:
        return None
    for run in trials:
        status = run.status
        if (status.state == "running" and status.pid and session_of(status.pid) == node.process.pid
                and run.checkpoint_steps() and status.step > min(run.checkpoint_steps())):
            return run
    return None


def test_a_sweep_on_two_nodes_survives_losing_one(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    copy_of_the_digits_classifier(cache)
    monkeypatch.setenv("GAN_CACHE_DIR", str(cache))  # the nodes and the sweep find the classifier there
    runs_dir = tmp_path / "runs"
    with two_node_cluster(tmp_path / "ray") as (address, head, second):
        sweep_process = subprocess.Popen(
            [sys.executable, "-m", "gan_core", "sweep", "--preset", "digits-mlp", "--grid", "g_learning_rate=3e-4,1e-3",
             "--grid", "width=32,64", "--steps", str(STEPS), "--set", f"checkpoint_every={CHECKPOINT_EVERY}",
             "--set", f"log_every={LOG_EVERY}", "--samples", str(SAMPLES), "--ray", address,
             "--runs-dir", str(runs_dir)], cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        most_at_once: dict[str, int] = {}
        found: list[Run] = []

        def victim_found() -> bool:
            assert sweep_process.poll() is None, sweep_process.communicate()[0]
            found.append(second_trial_past_its_checkpoint_on(second, runs_dir, most_at_once))
            return found[-1] is not None

        wait_until(victim_found, timeout=300, what="the second node's second trial past its first checkpoint")
        interrupted = found[-1]
        killed_at = time.time()
        second.kill()
        # Read once every process of the node has gone, and before Ray runs the stretch again: what it resumes from.
        resumed_from = max(interrupted.checkpoint_steps())
        output, _ = sweep_process.communicate(timeout=600)
    assert sweep_process.returncode == 0, output
    assert most_at_once["node"] <= 1, "one CPU on the node: one trial at a time"

    sweep = sweep_store.list_sweeps(runs_dir)[0]
    state = sweep.state
    assert state.state == "finished", state.message
    trials = [run for run, _ in sweep.trials()]
    assert len(trials) == 4
    for run in trials:
        assert run.status.state == "finished" and run.status.step == STEPS, (run.run_id, run.status, run.tail_log())

    # Resumed, not restarted: the rows up to the last checkpoint before the kill were written before it, the rest
    # after it, every logged step once.
    rows = interrupted.metrics_since(-1)
    steps = [int(row["step"]) for row in rows]
    assert steps == list(range(steps[0], STEPS + 1, LOG_EVERY)), steps
    assert CHECKPOINT_EVERY <= resumed_from < STEPS
    assert all(row["wall_time"] < killed_at for row in rows if row["step"] <= resumed_from)
    assert all(row["wall_time"] > killed_at for row in rows if row["step"] > resumed_from)

    # The sweep's ranking is the one the trials' own stored measures give.
    own_scores = {}
    for run in trials:
        measured = [entry for entry in run.evaluations() if entry["step"] == STEPS
                    and entry["results"]["sample_count"] == SAMPLES]
        assert len(measured) == 1, run.evaluations()
        own_scores[run.run_id] = [measured[0]["results"]["frechet_distance"]]
    assert state.ranking == halving.ranking(own_scores, "lower")
    assert state.ranking == sorted(own_scores, key=lambda run_id: own_scores[run_id][0])
