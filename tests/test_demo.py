"""Demo mode's policy: the caps read from the environment, the pure checks, ownership, pruning and the showcase."""

import os
import signal
import time

import pytest

from gan_core.demo_mode import demo, demo_jobs, showcase
from gan_core.workers import jobs
from gan_core.store import ownership, runs, uploads
from gan_core.spec import registry
from gan_core.spec.config import preset
from gan_core.demo_mode.demo import DemoLimits, StoredRun
from support.showcase import stop_showcase
from support.started_trainers import end_trainer
from support.waiting import wait_for

VISITOR_A = ownership.owner_hash("a" * 43)
VISITOR_B = ownership.owner_hash("b" * 43)


def test_demo_mode_is_off_unless_the_environment_switches_it_on():
    assert not demo.demo_switched_on({})
    assert not demo.demo_switched_on({"GAN_DASHBOARD_DEMO": "0"})
    assert demo.demo_switched_on({"GAN_DASHBOARD_DEMO": "1"})
    assert demo.demo_switched_on({"GAN_DASHBOARD_DEMO": " True "})


def test_every_limit_has_a_default_and_its_own_environment_variable():
    assert demo.limits_from_environment({}) == DemoLimits()
    limits = demo.limits_from_environment({"GAN_DEMO_MAX_TRAINERS": "4", "GAN_DEMO_MAX_TRAINERS_PER_OWNER": "2",
                                           "GAN_DEMO_SHOWCASE_SECONDS": "0", "GAN_DEMO_MAX_UPLOAD_TOTAL_MEGABYTES": ""})
    assert (limits.max_trainers, limits.max_trainers_per_owner, limits.showcase_seconds) == (4, 2, 0)
    assert limits.max_upload_total_megabytes == DemoLimits().max_upload_total_megabytes
    assert len(set(demo.ENVIRONMENT_NAMES.values())) == len(demo.ENVIRONMENT_NAMES)


@pytest.mark.parametrize("variable, text, reason", [
    ("GAN_DEMO_MAX_STEPS", "lots", "must be a whole number"),
    ("GAN_DEMO_MAX_TRAINERS", "0", "must be at least 1"),
    ("GAN_DEMO_SHOWCASE_SECONDS", "-5", "must be at least 0"),
])
def test_a_bad_limit_in_the_environment_is_refused_by_name(variable, text, reason):
    with pytest.raises(ValueError, match=f"{variable}=.*{reason}"):
        demo.limits_from_environment({variable: text})


def test_runs_within_the_demo_ranges_pass_and_bigger_ones_are_refused_naming_the_field():
    limits = DemoLimits()
    demo.check_config(preset("digits-mlp"), limits)
    for name in registry.presets():  # every preset runs in a demo as it is
        demo.check_config(preset(name), limits)
    for field, value in (("batch_size", 512), ("width", 512), ("n_critic", 10), ("steps", 100_000)):
        with pytest.raises(ValueError, match=rf"^{field}={value} is above this demo's limit "
                                             rf".*GAN_DEMO_MAX_{field.upper()}"):
            demo.check_config(preset("digits-mlp", **{field: value}), limits)


def test_disk_use_per_run_is_bounded_through_its_sample_grids_and_checkpoints():
    limits = DemoLimits(max_sample_grids=100, min_checkpoint_every=100)
    demo.check_config(preset("digits-mlp", steps=3000, sample_every=30), limits)
    with pytest.raises(ValueError, match=r"^sample_every=1 would save 3,000 sample grids; .* at most 100 per run "
                                         r"\(set by GAN_DEMO_MAX_SAMPLE_GRIDS\), so sample every 30 steps or more"):
        demo.check_config(preset("digits-mlp", steps=3000, sample_every=1), limits)
    with pytest.raises(ValueError, match=r"^checkpoint_every=10 is below this demo's minimum of 100 steps"):
        demo.check_config(preset("digits-mlp", checkpoint_every=10), limits)


def test_train_more_stops_at_the_demos_total_steps():
    limits = DemoLimits(max_steps=3000)
    demo.check_extra_steps(2000, 1000, limits)
    with pytest.raises(ValueError, match="at most 3,000 steps .* at step 2,500, so at most 500 more"):
        demo.check_extra_steps(2500, 1000, limits)


def test_trainer_slots_are_capped_in_total_and_per_owner():
    limits = DemoLimits(max_trainers=2, max_trainers_per_owner=1)
    demo.check_trainer_slots([], VISITOR_A, limits)
    demo.check_trainer_slots([None], VISITOR_A, limits)  # a showcase run uses a slot but belongs to nobody
    with pytest.raises(ValueError, match="you already have 1 run"):
        demo.check_trainer_slots([VISITOR_A], VISITOR_A, limits)
    demo.check_trainer_slots([VISITOR_B], VISITOR_A, limits)
    with pytest.raises(ValueError, match="at most 2 run.* at once and 2 are training now"):
        demo.check_trainer_slots([VISITOR_B, None], VISITOR_A, limits)


def test_uploads_are_capped_per_file_and_in_total():
    limits = DemoLimits(max_upload_file_megabytes=2, max_upload_total_megabytes=3)
    megabyte = 1024 * 1024
    demo.check_upload_sizes({"a.png": megabyte, "b.png": megabyte}, limits)
    with pytest.raises(ValueError, match=r"big.zip is 2.5 MB; this demo takes files of at most 2 MB each"):
        demo.check_upload_sizes({"big.zip": int(2.5 * megabyte)}, limits)
    with pytest.raises(ValueError, match=r"add up to 4.0 MB; this demo takes at most 3 MB"):
        demo.check_upload_sizes({f"{index}.png": megabyte for index in range(4)}, limits)
    room = DemoLimits(max_uploads_stored_megabytes=10)
    demo.check_upload_sizes({"a.png": megabyte}, room, stored_bytes=9 * megabyte)
    with pytest.raises(ValueError, match=r"space for uploads \(10 MB\) is full"):
        demo.check_upload_sizes({"a.png": megabyte}, room, stored_bytes=9 * megabyte + 1)


def test_the_space_for_uploads_counts_only_the_uploads_runs_use(tmp_path):
    megabyte = 1024 * 1024
    room = DemoLimits(max_uploads_stored_megabytes=2)
    assert uploads.bytes_in_use(tmp_path) == 0
    # 1.5 MB that no run uses (stored, and not yet swept): a visitor's abandoned upload must not take the space.
    unused = uploads.store_upload([("abandoned.zip", bytes(megabyte * 3 // 2))], tmp_path)
    assert uploads.bytes_in_use(tmp_path) == 0
    demo.check_upload_sizes({"next.zip": megabyte}, room, stored_bytes=uploads.bytes_in_use(tmp_path))

    used = uploads.store_upload([("cats.zip", bytes(megabyte + 1000))], tmp_path)
    runs.create_run(preset("digits-mlp", dataset="folder", data_path=str(used)), tmp_path)
    record_bytes = (used.parent.parent / uploads.RECORD_NAME).stat().st_size
    assert uploads.bytes_in_use(tmp_path) == megabyte + 1000 + record_bytes
    with pytest.raises(ValueError, match=r"space for uploads \(2 MB\) is full"):
        demo.check_upload_sizes({"next.zip": megabyte}, room, stored_bytes=uploads.bytes_in_use(tmp_path))
    assert unused.exists(), "an unused upload is kept for its grace period"


def test_pruning_deletes_the_oldest_stopped_visitor_runs_never_a_training_or_showcase_one():
    stored = [StoredRun("20260101-000000-x", 1.0, False, is_visitor_run=False),  # showcase
              StoredRun("20260101-000001-x", 2.0, True, is_visitor_run=True),  # training
              StoredRun("20260101-000002-b", 3.0, False, is_visitor_run=True),
              StoredRun("20260101-000002-a", 3.5, False, is_visitor_run=True)]  # same second, created later
    assert demo.runs_to_prune(stored, DemoLimits(max_runs=5)) == []
    assert demo.runs_to_prune(stored, DemoLimits(max_runs=4)) == ["20260101-000002-b"]
    assert demo.runs_to_prune(stored, DemoLimits(max_runs=3)) == ["20260101-000002-b", "20260101-000002-a"]
    with pytest.raises(ValueError, match="keeps at most 2 runs and the others are training or part of the showcase"):
        demo.runs_to_prune(stored, DemoLimits(max_runs=2))


def test_heavy_work_is_spread_over_at_most_the_allowed_count():
    assert demo.evenly_chosen([1, 2, 3], 5) == [1, 2, 3]
    assert demo.evenly_chosen(list(range(100)), 5) == [0, 25, 50, 74, 99]
    assert demo.evenly_chosen(list(range(10)), 1) == [9]
    assert demo.allowed_sample_counts([1000, 5000, 10000], DemoLimits(max_evaluation_samples=5000)) == [1000, 5000]
    assert demo.allowed_sample_counts([1797], DemoLimits(max_evaluation_samples=1000)) == [1797]


def test_visitors_read_status_messages_without_tracebacks_or_server_paths():
    message = ("the trainer process (pid 123) ended without finishing. Last log lines:\n"
               "Traceback (most recent call last):\n  File \"/srv/app/gan_core/trainer.py\", line 3")
    assert demo.public_text(message) == ("the trainer process (pid 123) ended without finishing. Last log lines: "
                                         "kept in the server's log")
    assert demo.public_text("no images in /srv/app/runs/uploads/ab12/cats.zip") == "no images in cats.zip"
    assert demo.public_text("stopped at step 40 after the 600 s time limit, 3/4 done") == \
        "stopped at step 40 after the 600 s time limit, 3/4 done"
    assert demo.public_text("") == ""


def test_only_the_owner_controls_a_run_in_demo_mode(tmp_path):
    run = runs.create_run(preset("digits-mlp"), tmp_path)
    assert ownership.read_owner(run.path) is None
    assert ownership.may_control(None, VISITOR_A, demo=False)
    assert not ownership.may_control(None, VISITOR_A, demo=True)

    ownership.record_owner(run, ownership.OwnerRecord(VISITOR_A))
    record = ownership.read_owner(run.path)
    assert ownership.may_control(record, VISITOR_A, demo=True)
    assert not ownership.may_control(record, VISITOR_B, demo=True)
    assert not ownership.may_control(record, None, demo=True)
    assert "Another visitor started this run" in ownership.why_not_controllable(record)
    # The run keeps the hash only, and its config stays a plain RunConfig.
    assert "a" * 43 not in (run.path / "owner.json").read_text()
    assert "owner" not in run.config.to_dict()

    showcase_record = ownership.OwnerRecord(None, showcase=True)
    assert not ownership.may_control(showcase_record, VISITOR_A, demo=True)
    assert "showcase" in ownership.why_not_controllable(showcase_record)
    with pytest.raises(ValueError, match="at least 16 characters"):
        ownership.owner_hash("short")


@pytest.mark.slow
def test_starting_under_the_caps_refuses_before_creating_anything_even_at_once_and_prunes_old_runs(tmp_path):
    """The caps on a run's size, per visitor and in total refuse a start before it creates anything; visitors
    pressing Start at once never exceed the trainer cap; a start that needs room prunes the oldest stopped run."""
    import threading

    limits = DemoLimits(max_trainers=2, max_trainers_per_owner=1, max_runs=3, max_seconds=60)
    config = preset("digits-mlp", steps=100_000, checkpoint_every=100_000)
    old = runs.create_run(preset("digits-mlp"), tmp_path)
    ownership.record_owner(old, ownership.OwnerRecord(VISITOR_B))
    runs.write_status(old.path, "stopped", "stopped on request")
    with pytest.raises(ValueError, match="steps=100000 is above"):
        demo_jobs.start_owned_run(config, tmp_path, VISITOR_A, limits)
    config = config.replace(steps=5000)
    started = []
    try:
        started.append(demo_jobs.start_owned_run(config, tmp_path, VISITOR_A, limits))
        assert ownership.read_owner(started[0].path).owner_hash == VISITOR_A
        with pytest.raises(ValueError, match="you already have 1 run"):
            demo_jobs.start_owned_run(config, tmp_path, VISITOR_A, limits)
        assert len(runs.list_runs(tmp_path)) == 2, "a refused start leaves no run behind"

        started.append(demo_jobs.start_owned_run(config, tmp_path, VISITOR_B, limits))  # the third run: room left
        assert len(runs.list_runs(tmp_path)) == 3
        with pytest.raises(ValueError, match="at most 2 run"):
            demo_jobs.start_owned_run(config, tmp_path, ownership.owner_hash("c" * 43), limits)
        with pytest.raises(ValueError, match="belongs to someone else"):
            demo_jobs.resume_owned_run(old, VISITOR_A, limits)
    finally:
        # Their trainers end at once (a stop request would wait for TensorFlow to load and a first step); the
        # store then records them as failed, which frees their slots as any ended trainer does.
        for run in started:
            end_trainer(run)

    def trainers_ended():
        for run in started:
            jobs.refresh_status(run)
        return not any(run.status.is_active for run in started)

    assert wait_for(trainers_ended, 60), [run.status for run in started]

    # Four visitors press Start at once under a cap of one trainer: one start goes through, the others are refused.
    # That fourth run needs room: the oldest stopped visitor run goes, the others stay.
    rush = DemoLimits(max_trainers=1, max_runs=3, max_seconds=60)
    outcomes = []

    def press_start(index):
        try:
            outcomes.append(demo_jobs.start_owned_run(config.replace(steps=20), tmp_path,
                                                      ownership.owner_hash(f"{index}" * 20), rush))
        except ValueError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=press_start, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fourth = [outcome for outcome in outcomes if isinstance(outcome, runs.Run)]
    assert len(outcomes) == 4 and len(fourth) == 1, outcomes
    assert all("at most 1 run(s) at once" in str(outcome) for outcome in outcomes if outcome not in fourth)
    fourth = fourth[0]
    assert not old.path.exists()
    assert {run.run_id for run in runs.list_runs(tmp_path)} == {started[0].run_id, started[1].run_id, fourth.run_id}
    assert wait_for(lambda: not fourth.status.is_active, 120), fourth.tail_log()


def test_a_runs_training_time_is_capped_over_all_its_resumes(tmp_path):
    limits = DemoLimits(max_seconds=600)
    assert demo.seconds_left(0, limits) == 600 and demo.seconds_left(450, limits) == 150
    with pytest.raises(ValueError, match="at most 10 min in this demo, and this one has trained for 9.99 min"):
        demo.seconds_left(599.5, limits)

    run = runs.create_run(preset("digits-mlp"), tmp_path)
    ownership.record_owner(run, ownership.OwnerRecord(VISITOR_A))
    runs.write_status(run.path, "stopped", "stopped at step 900 after the 600 s time limit", step=900,
                      trained_seconds=600.2)
    with pytest.raises(ValueError, match="start a new run to train more"):
        demo_jobs.resume_owned_run(run, VISITOR_A, limits)
    assert run.status.state == "stopped" and run.status.trained_seconds == 600.2, "no trainer was started"
    runs.write_status(run.path, "stopped", "stopped on request at step 900", step=900)
    assert run.status.trained_seconds == 600.2, "a writer that does not know the training time keeps it"


def test_the_showcase_is_not_started_when_a_run_has_finished_or_it_is_switched_off(tmp_path):
    assert not showcase.ensure_started(tmp_path, DemoLimits(showcase_seconds=0))
    assert not showcase.marker_path(tmp_path).exists()
    finished = runs.create_run(preset("digits-mlp"), tmp_path)
    runs.write_status(finished.path, "finished", "done", step=3000)
    assert not showcase.ensure_started(tmp_path, DemoLimits())
    assert "no showcase needed" in showcase.marker_path(tmp_path).read_text()
    runs.delete_run(finished)
    assert not showcase.ensure_started(tmp_path, DemoLimits()), "decided once, on the first start"


@pytest.mark.slow
def test_the_showcase_trains_its_runs_one_after_the_other_owned_by_nobody(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_DEMO_MAX_STEPS", "30")
    monkeypatch.setenv("GAN_DEMO_SHOWCASE_SECONDS", "60")
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    limits = demo.limits_from_environment(os.environ)
    assert showcase.ensure_started(tmp_path, limits)
    first = runs.list_runs(tmp_path)
    assert [run.config.dataset for run in first] == ["digits"], "the first run exists before the process starts"
    assert first[0].status.is_active
    assert not showcase.ensure_started(tmp_path, limits), "a second session does not start it again"
    assert not showcase.claim(tmp_path)

    def both_done():
        made = runs.list_runs(tmp_path)
        return len(made) == 2 and all(run.status.state in ("finished", "stopped") for run in made)

    try:
        assert wait_for(both_done, 240), showcase.marker_path(tmp_path).read_text()
        made = sorted(runs.list_runs(tmp_path), key=lambda run: run.run_id)
        assert [run.config.dataset for run in made] == ["digits", "fashion_mnist"]
        for run in made:
            record = ownership.read_owner(run.path)
            assert record.showcase and record.owner_hash is None
            assert run.status.step == 30
        # One after the other: the digits run finishes, and the DCGAN's first metrics come after the MLP's last.
        assert made[0].status.state == "finished", made[0].status
        assert made[1].metrics_since()[0]["wall_time"] > made[0].metrics_since()[-1]["wall_time"]
    finally:
        stop_showcase(tmp_path, tmp_path / "cache")


@pytest.mark.slow
def test_a_showcase_killed_mid_way_goes_on_after_a_server_restart(tmp_path, monkeypatch):
    import importlib

    # What is tested here is the digits run's resume: the test ends once it has finished, before the DCGAN that
    # follows it (tested above) has trained.
    monkeypatch.setenv("GAN_DEMO_SHOWCASE_SECONDS", "1")
    # A third of the digits preset's 3,000 steps: the first checkpoint (step 500) still comes 500 steps before the end.
    monkeypatch.setenv("GAN_DEMO_MAX_STEPS", "1000")
    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    limits = demo.limits_from_environment(os.environ)
    assert showcase.ensure_started(tmp_path, limits)
    digits = runs.list_runs(tmp_path)[0]
    assert wait_for(lambda: digits.checkpoint_steps(), 180), digits.tail_log()
    # The machine restarts: the showcase process and its trainer die at once, mid-run.
    first_pid, trainer_pid = showcase.showcase_pid(tmp_path), digits.status.pid
    for pid in (first_pid, trainer_pid):
        os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    assert wait_for(lambda: not jobs.process_alive(first_pid) and not jobs.process_alive(trainer_pid), 30)
    checkpoint_step = max(digits.checkpoint_steps())
    jobs.refresh_status(digits)
    assert digits.status.state == "failed" and digits.status.step < digits.config.steps

    restarted = importlib.reload(showcase)  # a new server: nothing remembered but the files
    # The lock is released once nothing holds it open (seen held a moment after the kill in one full run).
    assert wait_for(lambda: not restarted.in_progress(tmp_path), 60), "the killed showcase's lock stays held"
    assert restarted.ensure_started(tmp_path, limits), "the server goes on with the showcase"
    assert not restarted.ensure_started(tmp_path, limits), "once"
    assert showcase.showcase_pid(tmp_path) != first_pid

    try:
        assert wait_for(lambda: digits.status.state == "finished", 480), showcase.marker_path(tmp_path).read_text()
        assert digits.path.exists() and digits.status.step == digits.config.steps
        assert "showcase resumed" in showcase.marker_path(tmp_path).read_text()
        # Resumed from its checkpoint: the rows logged before it are the first trainer's, the later ones the new one's.
        rows = digits.metrics_since()
        assert all(row["wall_time"] < killed_at for row in rows if row["step"] <= checkpoint_step)
        assert all(row["wall_time"] > killed_at for row in rows if row["step"] > checkpoint_step)
    finally:
        stop_showcase(tmp_path, tmp_path / "cache")


def test_feature_classifier_workers_count_against_the_trainer_caps(tmp_path, monkeypatch):
    import subprocess
    import sys

    from gan_core.demo_mode import demo_classifiers
    from gan_core.workers import feature_jobs

    monkeypatch.setenv("GAN_CACHE_DIR", str(tmp_path / "cache"))
    runs_dir = tmp_path / "runs"
    limits = DemoLimits(max_trainers=2, max_trainers_per_owner=1)
    # Live processes whose command line names gan_core, standing in for workers (as process_alive requires).
    stand_ins = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "gan_core"]) for _ in range(2)]

    def working(dataset, pid, owner):
        path = feature_jobs.status_path(dataset)
        path.parent.mkdir(parents=True, exist_ok=True)
        feature_jobs.write_preparation(path, feature_jobs.Preparation("training", 0.1, "training: 10%", pid))
        demo_classifiers.record_owner(dataset, owner)

    try:
        working("mnist", stand_ins[0].pid, VISITOR_A)
        assert demo_jobs.active_owners(runs_dir) == [VISITOR_A]
        with pytest.raises(ValueError, match="you already have 1 run"):
            demo_jobs.start_owned_run(preset("digits-mlp"), runs_dir, VISITOR_A, limits)
        with pytest.raises(ValueError, match="you already have 1 run"):
            demo_jobs.start_owned_preparation("digits", runs_dir, VISITOR_A, limits)
        assert feature_jobs.preparation_status("digits").state == "none", "nothing was started"
        assert runs.list_runs(runs_dir) == []
        # Joining a worker already at it costs nothing, so it is never refused.
        assert demo_jobs.start_owned_preparation("mnist", runs_dir, VISITOR_B, limits) == stand_ins[0].pid

        working("fashion_mnist", stand_ins[1].pid, None)  # the showcase's: nobody's, but it takes a slot
        assert sorted(demo_jobs.active_owners(runs_dir), key=str) == sorted([VISITOR_A, None], key=str)
        with pytest.raises(ValueError, match="at most 2 run.* at once and 2 are training now"):
            demo_jobs.start_owned_preparation("digits", runs_dir, VISITOR_B, limits)
    finally:
        for stand_in in stand_ins:
            stand_in.send_signal(signal.SIGKILL)
            stand_in.wait()
    assert demo_jobs.active_owners(runs_dir) == [], "a worker that has gone takes no slot"


def test_xsrf_protection_stays_on_for_the_demo():
    import tomllib
    from pathlib import Path

    settings = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert settings["server"]["enableXsrfProtection"] is True
