"""The overview's cards (AppTest on app.py, over runs made on disk without training): a damaged run gets a card of
its own, a Playground run shows no bar towards steps it never aims for, and a demo says whose each run is."""

from pathlib import Path

import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from gan_core.store import ownership, runs
from gan_core.spec.config import preset

APP = Path(__file__).resolve().parents[1] / "app.py"
OWNER_TOKEN = "owner-" + "a" * 40


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_RUNS_DIR", str(tmp_path))
    monkeypatch.delenv("GAN_DASHBOARD_DEMO", raising=False)
    return tmp_path


def stopped_run(store: Path, config, step: int) -> runs.Run:
    run = runs.create_run(config, store)
    runs.write_status(run.path, "stopped", f"stopped on request at step {step}", step=step)
    return run


def open_overview(session_state: dict | None = None) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=30)
    for key, value in (session_state or {}).items():
        app.session_state[key] = value
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    return app


def main_markdown(app: AppTest) -> str:
    return "\n".join(element.value for element in app.main.markdown)


def progress_texts(app: AppTest) -> list[str]:
    return [bar.proto.text for bar in app.get("progress")]


def test_a_run_with_a_damaged_database_gets_a_damaged_card_and_the_others_are_shown_as_usual(store):
    sound = stopped_run(store, preset("digits-mlp"), step=1200)
    damaged = stopped_run(store, preset("digits-mlp"), step=300)
    # The right header, then garbage: the run is listed, and reading its metrics fails.
    (damaged.path / "metrics.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    app = open_overview()
    text = main_markdown(app)
    assert f"`{damaged.run_id}` :red-badge[damaged]" in text and "cannot be read" in text
    assert sound.run_id in text
    assert progress_texts(app) == ["step 1,200 / 3,000"], "only the sound run has a progress bar"


def test_a_playground_run_shows_its_step_without_a_bar_towards_steps_it_never_aims_for(store):
    stopped_run(store, preset("ring-playground", steps=100_000), step=945)
    stopped_run(store, preset("ring-mlp"), step=500)
    app = open_overview()
    assert progress_texts(app) == ["step 500 / 3,000"]
    assert "step 945  \n:gray[Playground run: trains while played, until paused]" in main_markdown(app)


def test_a_demo_says_whose_each_run_is_and_a_local_dashboard_does_not(store, monkeypatch):
    showcase_run = stopped_run(store, preset("digits-mlp"), step=100)
    ownership.record_owner(showcase_run, ownership.OwnerRecord(None, showcase=True))
    own_run = stopped_run(store, preset("digits-mlp", name="mine"), step=100)
    ownership.record_owner(own_run, ownership.OwnerRecord(ownership.owner_hash(OWNER_TOKEN)))
    other_run = stopped_run(store, preset("digits-mlp", name="theirs"), step=100)
    ownership.record_owner(other_run, ownership.OwnerRecord(ownership.owner_hash("other-" + "b" * 40)))

    local = main_markdown(open_overview())
    assert "showcase" not in local and "yours" not in local

    monkeypatch.setenv("GAN_DASHBOARD_DEMO", "1")
    monkeypatch.setenv("GAN_DEMO_SHOWCASE_SECONDS", "0")
    try:
        cards = main_markdown(open_overview({"demo_owner_token": OWNER_TOKEN}))
    finally:
        streamlit_config.set_option("client.showErrorDetails", "full")
        streamlit_config.set_option("client.toolbarMode", "auto")
    assert "**Digits MLP GAN** :gray-badge[stopped] · showcase" in cards
    assert "**mine** :gray-badge[stopped] · yours" in cards
    assert "**theirs** :gray-badge[stopped] · another visitor's" in cards
    assert str(store) not in cards


def test_a_card_names_the_variant_and_only_the_settings_it_reads(store):
    gan = stopped_run(store, preset("fashion-dcgan"), step=100)
    # The VAE's config still holds the shared loss field, at its default; a VAE has no adversarial loss to show.
    vae = stopped_run(store, preset("fashion-vae"), step=100)
    details = {run.run_id: [element.value for element in open_overview().main.markdown if run.run_id in element.value]
               for run in (gan, vae)}
    assert details[gan.run_id] == [f"**Fashion-MNIST DCGAN** :gray-badge[stopped]  \n`{gan.run_id}`  \n"
                                   "fashion_mnist · gan · dcgan · hinge"]
    assert vae.config.loss == "non_saturating"
    assert details[vae.run_id] == [f"**Fashion-MNIST VAE** :gray-badge[stopped]  \n`{vae.run_id}`  \n"
                                   "fashion_mnist · vae · dcgan"], "the VAE's card shows no loss"
