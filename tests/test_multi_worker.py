"""Training on several machines: two worker processes on this machine's loopback form a TF_CONFIG cluster and train
one run under MultiWorkerMirroredStrategy, from the command line as the README says to start it on several hosts.

The run trains, checkpoints and resumes; only the chief writes it (its metrics, samples and status); and its first
step equals one worker's alone, since each worker takes half of the same global batch and the same noise.
"""

import json
import os
import socket
import subprocess
import sys

import pytest

from gan_core.nets import distribution
from gan_core.store import runs
from support.cli import PROJECT_ROOT, gan_core

pytestmark = pytest.mark.slow

SETTINGS = ("--set", "batch_size=32", "--set", "log_every=1", "--set", "checkpoint_every=3", "--set",
            "sample_every=3", "--set", "max_examples=512")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for each in sockets:
        each.bind(("127.0.0.1", 0))
    ports = [each.getsockname()[1] for each in sockets]
    for each in sockets:
        each.close()
    return ports


def cluster_of_two() -> list[dict[str, str]]:
    """The environments of two workers of one cluster on loopback."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    return [{**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
             "TF_CONFIG": json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})}
            for index in range(2)]


def resume_on_two_workers(run_dir, steps: int, meanwhile=lambda: None) -> list[subprocess.CompletedProcess]:
    """`resume` of the run on two workers, to their end; `meanwhile` runs in this process while they train."""
    processes = [subprocess.Popen([sys.executable, "-m", "gan_core", "resume", str(run_dir), "--steps", str(steps)],
                                  cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
                 for environment in cluster_of_two()]
    finished = []
    try:
        meanwhile()
        for process in processes:
            stdout, stderr = process.communicate(timeout=300)
            finished.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    except BaseException:
        for each in processes:
            each.kill()
            each.wait()
        raise
    return finished


def test_tf_config_decides_the_cluster(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert distribution.cluster_spec() == {} and not distribution.is_multi_worker()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["a:1"]}, "task": {"type": "worker",
                                                                                      "index": 0}}))
    assert not distribution.is_multi_worker(), "one worker trains as one machine does"
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"chief": ["a:1"], "worker": ["b:2"]}}))
    assert distribution.is_multi_worker()
    monkeypatch.setenv("TF_CONFIG", "not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not a JSON object"):
        distribution.is_multi_worker()
    assert distribution.is_chief(None)


def test_two_workers_train_checkpoint_and_resume_one_run_that_the_chief_writes(tmp_path):
    created = gan_core("create", "--preset", "digits-mlp", "--steps", 3, *SETTINGS, "--runs-dir", tmp_path / "runs")
    assert created.returncode == 0, created.stderr[-2000:]
    run = runs.open_run(created.stdout.strip().splitlines()[-1])
    assert run.status.state == "queued" and run.checkpoint_steps() == []

    # The same run on one worker (this process, which has no TF_CONFIG), trained for one step while the cluster
    # trains: compared with the cluster's first step below.
    from gan_core.training.trainer import Trainer

    alone = runs.create_run(run.config.replace(steps=1), tmp_path / "alone")
    chief, worker = resume_on_two_workers(run.path, 3, meanwhile=lambda: Trainer(alone).train())
    assert chief.returncode == 0, chief.stderr[-3000:]
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert "worker; the chief writes the run" in worker.stdout
    assert run.status.state == "finished" and run.status.step == 3
    assert [row["step"] for row in run.metrics_since()] == [1, 2, 3]
    assert run.checkpoint_steps() == [3] and run.sample_steps() == [0, 3]
    assert sorted(path.name for path in tmp_path.joinpath("runs").iterdir()) == [run.run_id], "one run directory"

    chief, worker = resume_on_two_workers(run.path, 3)
    assert chief.returncode == 0 and worker.returncode == 0, (chief.stderr[-2000:], worker.stderr[-2000:])
    assert run.status.step == 6 and run.checkpoint_steps() == [3, 6]
    assert [row["step"] for row in run.metrics_since()] == [1, 2, 3, 4, 5, 6]

    # The first step's numbers agree with the run trained on one worker.
    assert alone.status.state == "finished", alone.status
    [first_alone] = alone.metrics_since()
    first_cluster = run.metrics_since()[0]
    for name in ("d_loss", "g_loss", "d_real", "d_fake"):
        assert first_cluster[name] == pytest.approx(first_alone[name], rel=1e-4, abs=1e-5), name
