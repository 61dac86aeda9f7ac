import json
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from gan_core.config import preset
from gan_core.runs import (
    METRIC_COLUMNS,
    MetricsWriter,
    create_run,
    delete_run,
    list_runs,
    open_run,
    read_status,
    write_status,
)


def test_a_new_run_has_the_store_layout(tmp_path):
    config = preset("digits-mlp")
    run = create_run(config, tmp_path)
    for name in ("config.json", "status.json", "metrics.sqlite", "samples", "checkpoints"):
        assert (run.path / name).exists(), name
    assert run.config == config
    assert run.status.state == "queued"
    assert run.metrics_since() == []
    assert run.latest_step() == 0
    journal_mode = sqlite3.connect(run.database_path).execute("PRAGMA journal_mode").fetchone()[0]
    assert journal_mode == "wal"


def test_runs_are_listed_newest_first_and_strangers_ignored(tmp_path):
    first = create_run(preset("digits-mlp", name="first"), tmp_path)
    time.sleep(1.1)
    second = create_run(preset("ring-mlp", name="second"), tmp_path)
    (tmp_path / "not-a-run").mkdir()
    assert [run.run_id for run in list_runs(tmp_path)] == [second.run_id, first.run_id]
    assert list_runs(tmp_path / "missing") == []


def test_open_run_rejects_a_directory_that_is_not_a_run(tmp_path):
    with pytest.raises(ValueError, match="is not a run directory"):
        open_run(tmp_path)


def test_status_round_trips_and_unknown_states_are_refused(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    write_status(run.path, "running", "", pid=123, step=40)
    status = read_status(run.path)
    assert (status.state, status.pid, status.step, status.is_active) == ("running", 123, 40, True)
    with pytest.raises(ValueError, match="status 'exploded' is not one of queued"):
        write_status(run.path, "exploded")
    (run.path / "status.json").write_text("{broken")
    assert read_status(run.path).state == "failed"


def test_metrics_since_returns_only_newer_rows(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    writer = MetricsWriter(run.database_path)
    writer.write([{"step": step, "wall_time": 0.0, "d_loss": step / 10, "g_loss": 1.0} for step in (10, 20, 30)])
    assert [row["step"] for row in run.metrics_since(10)] == [20, 30]
    assert run.metrics_since(20)[0]["d_loss"] == pytest.approx(3.0)
    assert set(METRIC_COLUMNS) <= set(run.metrics_since()[0])
    writer.truncate_after(10)
    assert run.latest_step() == 10
    writer.close()


def test_the_store_is_read_while_another_process_writes(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    writer_script = textwrap.dedent(
        f"""
        import time
        from gan_core.runs import MetricsWriter
        writer = MetricsWriter({str(run.database_path)!r})
        for step in range(1, 301):
            writer.write([{{"step": step, "wall_time": time.time(), "d_loss": 0.5, "g_loss": 0.7}}])
            time.sleep(0.002)
        writer.close()
        """
    )
    process = subprocess.Popen([sys.executable, "-c", writer_script])
    seen, last_step, reads = [], -1, 0
    while process.poll() is None or last_step < 300:
        rows = run.metrics_since(last_step)
        reads += 1
        if rows:
            seen.extend(row["step"] for row in rows)
            last_step = rows[-1]["step"]
        if process.poll() is not None and process.returncode != 0:
            break
    assert process.wait() == 0
    assert seen == list(range(1, 301)), "every row is seen exactly once, in order"
    assert reads > 3, "the reader really overlapped with the writer"


def test_evaluations_and_judgements_are_kept_in_the_run(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    run.save_evaluation(100, "digits classifier", 500, {"fd": 3.5})
    run.save_evaluation(200, "digits classifier", 500, {"fd": 2.0})
    assert [entry["results"]["fd"] for entry in run.evaluations("digits classifier")] == [3.5, 2.0]
    run.add_judgement("real:4", is_real=True, answered_real=False)
    assert run.judgements()[0]["is_real"] is True
    run.clear_judgements()
    assert run.judgements() == []


def test_delete_refuses_an_active_run(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    with pytest.raises(ValueError, match="stop it before deleting"):
        delete_run(run)
    write_status(run.path, "stopped")
    delete_run(run)
    assert not run.path.exists()


def test_config_json_is_plain_json(tmp_path):
    run = create_run(preset("ring-mlp"), tmp_path)
    assert json.loads((run.path / "config.json").read_text())["dataset"] == "ring"
