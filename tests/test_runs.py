import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gan_core.spec.config import preset
from gan_core.store.runs import (METRIC_COLUMNS, MetricsWriter, create_run, delete_run, list_runs, open_run,
                                 read_status, update_config, write_status)


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
        from gan_core.store.runs import MetricsWriter
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


@pytest.mark.slow
def test_concurrent_status_writers_lose_no_write_and_readers_never_see_half_a_file(tmp_path):
    """Threads (the dashboard's sessions) and processes (trainers, the CLI) write status.json at once."""
    run = create_run(preset("digits-mlp"), tmp_path)
    writes_each = 40
    stop_reading = threading.Event()
    bad_reads = []

    def read_in_a_loop():
        while not stop_reading.is_set():
            try:
                json.loads((run.path / "status.json").read_text())
            except json.JSONDecodeError as error:
                bad_reads.append(str(error))

    def write_from_a_thread(writer):
        for number in range(writes_each):
            write_status(run.path, "running", f"thread {writer} write {number}", step=number)

    process_script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from gan_core.store.runs import write_status
        writer = sys.argv[1]
        for number in range({writes_each}):
            write_status(Path({str(run.path)!r}), "running", f"process {{writer}} write {{number}}", step=number)
    """)
    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    processes = [subprocess.Popen([sys.executable, "-c", process_script, str(writer)], stderr=subprocess.PIPE)
                 for writer in range(10)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        thread_results = [pool.submit(write_from_a_thread, writer) for writer in range(10)]
        thread_errors = [repr(result.exception()) for result in thread_results if result.exception()]
    process_errors = [process.stderr.read().decode() for process in processes if process.wait() != 0]
    stop_reading.set()
    reader.join()

    assert thread_errors == [] and process_errors == [], "every write completes"
    assert bad_reads == [], "a reader only ever sees a whole file"
    final = read_status(run.path)
    assert final.state == "running" and final.message.endswith(f"write {writes_each - 1}")
    assert sorted(entry.name for entry in run.path.iterdir()
                  if entry.name.startswith(".")) == [], "no stray temporary files"


def test_status_keeps_its_target_step_and_progress_never_reads_past_it(tmp_path):
    run = create_run(preset("digits-mlp", steps=2000), tmp_path)
    assert run.status.target_step == 2000
    write_status(run.path, "running", step=2100, target_step=4180)
    write_status(run.path, "stopping", "stop requested", step=2200)  # a writer that does not know the target
    assert run.status.target_step == 4180 and run.progress_target() == 4180
    write_status(run.path, "stopped", step=4180)
    assert run.progress_target() == 4180

    # A status file from before the target was recorded falls back to config.steps, or the step if beyond it.
    (run.path / "status.json").write_text(json.dumps({"state": "stopped", "step": 1500}))
    assert run.status.target_step is None and run.progress_target() == 2000
    (run.path / "status.json").write_text(json.dumps({"state": "finished", "step": 4180}))
    assert run.progress_target() == 4180


def test_a_run_cannot_be_created_in_a_folder_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match=f"cannot create a run in {blocker}/runs: .*not a folder"):
        create_run(preset("digits-mlp"), blocker / "runs")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; the test above covers this case")
def test_a_run_cannot_be_created_in_a_read_only_folder(tmp_path):
    read_only = tmp_path / "runs"
    read_only.mkdir()
    read_only.chmod(0o555)
    try:
        with pytest.raises(ValueError, match=f"cannot create a run in {read_only}: permission denied"):
            create_run(preset("digits-mlp"), read_only)
        assert list(read_only.iterdir()) == []
    finally:
        read_only.chmod(0o755)


def test_listing_skips_a_run_that_cannot_be_read(tmp_path):
    good = create_run(preset("digits-mlp", name="good"), tmp_path)
    damaged = create_run(preset("digits-mlp", name="damaged"), tmp_path)
    (damaged.path / "config.json").write_text('{"half a fi')
    no_database = create_run(preset("digits-mlp", name="no database"), tmp_path)
    (no_database.path / "metrics.sqlite").unlink()
    not_a_database = create_run(preset("digits-mlp", name="not a database"), tmp_path)
    (not_a_database.path / "metrics.sqlite").write_bytes(b"garbage, not SQLite")
    assert [run.run_id for run in list_runs(tmp_path)] == [good.run_id]


def test_a_config_change_is_validated_and_saved_whole(tmp_path):
    run = create_run(preset("digits-mlp"), tmp_path)
    write_status(run.path, "diverged", "losses became non-finite", step=40)
    updated = update_config(run, g_learning_rate=1e-4)
    assert run.config == updated and updated.g_learning_rate == 1e-4
    with pytest.raises(ValueError, match="g_learning_rate"):
        update_config(run, g_learning_rate=-1.0)
    assert run.config.g_learning_rate == 1e-4


def test_a_run_store_on_a_read_only_disk_is_still_readable(small_disk):
    disk = small_disk("4m")
    run = create_run(preset("digits-mlp"), disk)
    writer = MetricsWriter(run.database_path)
    writer.write([{"step": 10, "wall_time": 1.0, "d_loss": 0.5, "g_loss": 0.7}])
    writer.close()  # The last connection to close folds the WAL into the database and removes -wal and -shm.
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    [listed] = list_runs(disk)
    assert [row["step"] for row in listed.metrics_since()] == [10] and listed.latest_step() == 10
    with pytest.raises(ValueError, match=f"cannot create a run in {disk}: the file system is read-only"):
        create_run(preset("digits-mlp"), disk)
