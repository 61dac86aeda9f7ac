"""The Evaluate and Real-or-fake pages against real short runs: each page file with AppTest, then both in a
real browser (`streamlit run app.py`, Debian's chromium through Playwright; screenshots in test-output/browser/).

The runs: an unconditional and a conditional digits run, a ring of 2-D points, a person's own images (which
have no learned feature space here), a run that has not trained yet, and a copy of the digits run that only the test
of "Evaluate all checkpoints" measures. The digits classifier that gives the feature space is trained ahead
(seconds, cached), since the page itself only offers to train it.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_core.workers import feature_jobs
from gan_core.measuring import features, judging
from gan_core.spec.config import RunConfig, preset
from gan_core.store.runs import create_run, open_run
from gan_core.training.trainer import Trainer
from support.browser import browser_test
from support.datasets import write_png_folder
from support.pages import widget_name
from support.waiting import wait_for
from views.common import EVALUATE_PAGE, HUMAN_TEST_PAGE, subject_key
from views.evaluate_data import sample_count_options
from views.evaluate_views import measure_rows

PROJECT_ROOT = Path(__file__).resolve().parents[1]
APP_SCRIPT = PROJECT_ROOT / "app.py"
# The first run of a page in a process imports TensorFlow and loads the feature classifier.
TIMEOUT = 120
IMAGE_VIEWS = ("Pixel intensities", "Feature projection", "Discriminator scores", "Nearest training images",
               "Classes")


def trained(config: RunConfig, runs_dir: Path):
    run = create_run(config, runs_dir)
    Trainer(run).train()
    return run


@pytest.fixture(scope="module")
def page_runs(tmp_path_factory):
    runs_dir = tmp_path_factory.mktemp("page-runs")
    features.classifier_extractor("digits")  # in the normal cache: the page offers to train it, never does
    quick = dict(sample_every=10, checkpoint_every=10)
    runs = {
        # Two checkpoints (10 and 20), so the metrics over training have a line to draw.
        "digits": trained(preset("digits-mlp", steps=20, **quick), runs_dir),
        "conditional": trained(preset("digits-mlp", name="Digits conditional", steps=20, conditional=True,
                                      **quick), runs_dir),
        "ring": trained(preset("ring-mlp", steps=20, **quick), runs_dir),
        "folder": trained(RunConfig(name="My images", dataset="folder",
                                    data_path=str(write_png_folder(runs_dir.parent / "my_images", 64)), image_size=16,
                                    architecture="mlp", width=16, latent_dim=16, batch_size=32, steps=20,
                                    sample_every=20, checkpoint_every=20, sample_grid=4), runs_dir),
        "untrained": create_run(preset("digits-mlp", name="Not started"), runs_dir),
    }
    # A copy of the digits run, made before any test measures it, in a store of its own (a run's folder is named by
    # its id): "Evaluate all checkpoints" measures every one of its checkpoints while the digits run itself is
    # measured once by another test.
    copy = shutil.copytree(runs["digits"].path, tmp_path_factory.mktemp("unmeasured-runs") / runs["digits"].run_id)
    runs["unmeasured_digits"] = open_run(copy)
    return runs_dir, runs


def open_page(path: str, runs_dir: Path, run, monkeypatch) -> AppTest:
    """The page file, run once for `run` (chosen through the address, as a shared link would)."""
    monkeypatch.setenv("GAN_RUNS_DIR", str(runs_dir))
    # Through the router, as a browser opens it: a page file alone cannot draw the sidebar's links to the others.
    app = AppTest.from_file(str(APP_SCRIPT), default_timeout=TIMEOUT).run()
    app.query_params["run"] = run.run_id
    return app.switch_page(path).run()


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [exception.value for exception in app.exception]
    assert not app.error, [error.value for error in app.error]


def chart_specs(app: AppTest) -> list[dict]:
    """The Plotly figures the page drew, as dicts."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def decoded(values) -> list:
    """A trace's values, which Plotly sends as base64 with a dtype when they came from a numpy array."""
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).tolist()
    return list(values)


def chart_titles(app: AppTest) -> list[str]:
    return [spec["layout"].get("title", {}).get("text", "") for spec in chart_specs(app)]


def open_view(app: AppTest, views: tuple[str, ...], name: str) -> AppTest:
    """Switch the lazy tabs of the Evaluate page to the view `name`."""
    app.session_state[f"evaluate_view_{len(views)}"] = name
    return app.run()


def table_rows(app: AppTest) -> dict[str, dict[str, str]]:
    """The metrics table as {measure: row}."""
    (table,) = app.table
    return {row["Measure"]: row for row in table.value.to_dict("records")}


# ---------------------------------------------------------------------------------------------------------------
# Pure helpers of the Evaluate page.


def test_the_table_has_a_row_per_measure_present_with_real_vs_real_beside_it():
    results = {"frechet_label": "FD (Digits classifier)", "frechet_distance": 21.13, "kid_mean": 0.5, "kid_std": 0.01,
               "precision": 0.7744, "memorisation_ratio": 1.4, "grid_js": None, "num_modes": 8}
    reference = {"frechet_distance": 5.306, "kid_mean": 0.02, "kid_std": 0.0, "precision": 0.9}
    rows = {row["Measure"]: row for row in measure_rows(results, reference)}
    assert list(rows) == ["FD (Digits classifier)", "KID", "Precision", "Memorisation ratio"]
    assert rows["FD (Digits classifier)"]["This checkpoint"] == "21.1"
    assert rows["FD (Digits classifier)"]["Real vs real"] == "5.31"
    assert rows["FD (Digits classifier)"]["Better"] == "lower"
    assert rows["KID"]["This checkpoint"] == "0.5 ± 0.01" and rows["KID"]["Real vs real"] == "0.02"
    assert rows["Precision"]["This checkpoint"] == "0.774" and rows["Precision"]["Better"] == "higher"
    assert rows["Memorisation ratio"]["Real vs real"] == "1 (by definition)"
    assert all(row["Meaning"] for row in rows.values())
    assert {row["Real vs real"] for row in measure_rows(results, None)} == {"…"}


@pytest.mark.slow
def test_evaluate_offers_to_train_a_missing_classifier_in_a_worker_and_shows_its_progress(page_runs, tmp_path,
                                                                                          monkeypatch):
    runs_dir, runs = page_runs
    cache_dir = tmp_path / "empty-cache"
    monkeypatch.setenv("GAN_CACHE_DIR", str(cache_dir))
    app = open_page(EVALUATE_PAGE, runs_dir, runs["digits"], monkeypatch)
    assert_clean(app)
    # Opening the page trained nothing: it offers the button, and the views below fall back on pixels.
    assert not list(cache_dir.glob("classifiers/*.keras"))
    assert "It is not trained yet" in app.info[0].value
    assert not [button for button in app.button if widget_name(button.key) == "evaluate_compute"]
    app.button(key="evaluate_prepare_features").click().run()
    assert_clean(app)
    status = feature_jobs.preparation_status("digits", cache_dir)
    assert status.is_active, status
    assert any("feature classifier" in bar.proto.text for bar in app.get("progress"))
    wait_for(lambda: not feature_jobs.preparation_status("digits", cache_dir).is_active, 240)
    assert feature_jobs.preparation_status("digits", cache_dir).state == "done"
    assert len(list(cache_dir.glob("classifiers/digits-*.keras"))) == 1
    app.run()
    assert_clean(app)
    step = runs["digits"].checkpoint_steps()[-1]
    assert app.button(key=subject_key("evaluate_compute", runs["digits"], step)), \
        "the metrics can be computed once the classifier is there"


def test_sample_counts_offered_fit_the_held_out_data():
    assert sample_count_options(10_000) == [500, 1000, 2000, 5000, 10_000]
    assert sample_count_options(20_000) == [500, 1000, 2000, 5000, 10_000]
    assert sample_count_options(1500) == [500, 1000, 1500]
    assert sample_count_options(297) == [297]


# ---------------------------------------------------------------------------------------------------------------
# The Evaluate page.


@pytest.mark.slow
def test_evaluate_computes_once_then_shows_the_stored_metrics(page_runs, monkeypatch):
    runs_dir, runs = page_runs
    run = runs["digits"]
    app = open_page(EVALUATE_PAGE, runs_dir, run, monkeypatch)
    assert_clean(app)
    compute = subject_key("evaluate_compute", run, run.checkpoint_steps()[-1])
    assert not app.table and app.button(key=compute).label == "Compute"

    app.button(key=compute).click().run()
    assert_clean(app)
    rows = table_rows(app)
    fd = rows["FD (Digits classifier)"]
    # Real against real is what a perfect generator scores; 20 steps of training are far from it.
    assert float(fd["Real vs real"]) < float(fd["This checkpoint"])
    for name in ("KID", "Precision", "Recall", "Coverage", "Classifier score", "Memorisation ratio"):
        assert rows[name]["Real vs real"] not in ("", "…"), name
    assert [entry["step"] for entry in run.evaluations()] == [20]

    # A second visit shows the stored results at once, with nothing to compute.
    again = open_page(EVALUATE_PAGE, runs_dir, run, monkeypatch)
    assert_clean(again)
    assert table_rows(again) == rows
    assert not [button for button in again.button if widget_name(button.key) == "evaluate_compute"]
    assert len(run.evaluations()) == 1


@pytest.mark.slow
def test_evaluate_all_checkpoints_stores_each_and_charts_them(page_runs, monkeypatch):
    _, runs = page_runs
    run = runs["unmeasured_digits"]
    assert run.evaluations() == []
    app = open_page(EVALUATE_PAGE, run.path.parent, run, monkeypatch)
    app.button(key=subject_key("evaluate_all", run)).click().run()
    assert_clean(app)
    assert sorted({entry["step"] for entry in run.evaluations()}) == run.checkpoint_steps() == [10, 20]
    assert not [button for button in app.button if widget_name(button.key) == "evaluate_all"]
    (figure,) = [spec for spec in chart_specs(app) if any(trace.get("name") == "KID" for trace in spec["data"])]
    lines = {trace["name"]: trace for trace in figure["data"]}
    assert decoded(lines["FD (Digits classifier)"]["x"]) == [10, 20]
    stored = {entry["step"]: entry["results"]["frechet_distance"] for entry in run.evaluations()}
    assert decoded(lines["FD (Digits classifier)"]["y"]) == [stored[10], stored[20]]
    assert {"Precision", "Recall", "real vs real"} <= set(lines)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits", "conditional"])
def test_every_view_of_an_image_run_draws(page_runs, monkeypatch, name):
    runs_dir, runs = page_runs
    app = open_page(EVALUATE_PAGE, runs_dir, runs[name], monkeypatch)
    assert_clean(app)
    assert "Pixel intensities" in chart_titles(app)  # the first tab, open by default
    expected = {"Feature projection": "Principal components of the Digits classifier features",
                "Discriminator scores": "The discriminator's scores",
                "Classes": "Classes, as the classifier sees them"}
    for view in IMAGE_VIEWS[1:]:
        open_view(app, IMAGE_VIEWS, view)
        assert_clean(app)
        if view == "Nearest training images":
            captions = [caption for image in app.get("image") for caption in image.captions]
            assert len(captions) == 8 and all(caption.startswith("distance ") for caption in captions)
        else:
            assert expected[view] in chart_titles(app), view
    if name == "conditional":
        (agreement,) = app.metric
        assert agreement.label.startswith("Generated samples classified as the class")


@pytest.mark.slow
def test_a_ring_run_shows_modes_and_grid_divergences(page_runs, monkeypatch):
    runs_dir, runs = page_runs
    app = open_page(EVALUATE_PAGE, runs_dir, runs["ring"], monkeypatch)
    assert_clean(app)
    titles = chart_titles(app)
    assert any(title.startswith("Real (grey) and generated (orange) points") for title in titles)
    assert "Generated points near each mode" in titles
    app.button(key=subject_key("evaluate_compute", runs["ring"], runs["ring"].checkpoint_steps()[-1])).click().run()
    assert_clean(app)
    rows = table_rows(app)
    assert rows["Modes covered"]["Real vs real"] == "8 of 8"
    assert rows["Modes covered"]["This checkpoint"].endswith("of 8")
    assert {"FD (2-D points)", "Grid KL", "Grid JS", "High-quality share"} <= set(rows)
    open_view(app, ("Points and modes", "Discriminator scores"), "Discriminator scores")
    assert_clean(app)
    assert "The discriminator's scores" in chart_titles(app)


@pytest.mark.slow
def test_own_images_without_a_feature_space_say_so_and_show_what_still_holds(page_runs, monkeypatch):
    runs_dir, runs = page_runs
    app = open_page(EVALUATE_PAGE, runs_dir, runs["folder"], monkeypatch)
    assert_clean(app)
    (info,) = app.info
    assert info.value.startswith("No feature space is available to judge this run (your own images")
    assert "Measures that still hold" in info.value
    assert not app.table and not [button for button in app.button if widget_name(button.key) == "evaluate_compute"]
    assert "Pixel intensities" in chart_titles(app)
    open_view(app, IMAGE_VIEWS, "Feature projection")
    assert "Principal components of the pixel features" in chart_titles(app)
    open_view(app, IMAGE_VIEWS, "Nearest training images")
    assert_clean(app)
    assert any("Distances in pixel space" in caption.value for caption in app.caption)
    open_view(app, IMAGE_VIEWS, "Discriminator scores")
    assert_clean(app)
    assert "The discriminator's scores" in chart_titles(app)


@pytest.mark.slow
@pytest.mark.parametrize("page", [EVALUATE_PAGE, HUMAN_TEST_PAGE])
def test_a_run_without_a_checkpoint_gets_a_friendly_message(page_runs, monkeypatch, page):
    runs_dir, runs = page_runs
    app = open_page(page, runs_dir, runs["untrained"], monkeypatch)
    assert_clean(app)
    assert any("has no checkpoint yet" in info.value for info in app.info)


# ---------------------------------------------------------------------------------------------------------------
# The human real-or-fake test.


@pytest.mark.slow
@pytest.mark.parametrize("name", ["digits", "conditional", "folder"])
def test_answers_are_stored_scored_listed_and_reset(page_runs, monkeypatch, name):
    runs_dir, runs = page_runs
    run = runs[name]
    step = run.checkpoint_steps()[-1]
    app = open_page(HUMAN_TEST_PAGE, runs_dir, run, monkeypatch)
    assert_clean(app)
    assert any(info.value.startswith("No answers yet") for info in app.info)

    for button in ("human_answer_real", "human_answer_generated", "human_answer_generated"):
        app.button(key=subject_key(button, run, step)).click().run()
        assert_clean(app)
    answers = run.judgements()
    assert [answer["answered_real"] for answer in answers] == [True, False, False]
    assert all(judging.parse_image_key(answer["image_key"])[0] == step for answer in answers)
    # The three questions showed three different images.
    assert len({answer["image_key"] for answer in answers}) == 3
    summary = judging.judgement_summary(answers)
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Human error rate"] == f"{summary['error_rate']:.0%}"
    assert any(caption.value.startswith("95% confidence interval") and "from 3 answers" in caption.value
               for caption in app.caption)
    (table,) = app.dataframe
    # Newest first.
    assert list(table.value["You said"]) == ["generated", "generated", "real"]
    assert list(table.value["Right"]) == ([not answer["is_real"] for answer in reversed(answers[1:])]
                                          + [answers[0]["is_real"]])

    app.button(key=subject_key("human_reset", run)).click().run()
    assert_clean(app)
    assert run.judgements() == []
    assert any(info.value.startswith("No answers yet") for info in app.info)


@pytest.mark.slow
def test_the_image_number_and_the_answer_count_agree_and_say_what_they_count(page_runs, monkeypatch):
    runs_dir, runs = page_runs
    run = runs["digits"]
    step = run.checkpoint_steps()[-1]
    run.clear_judgements()
    try:
        # Two answers given earlier, in another session.
        for index in range(2):
            run.add_judgement(judging.image_key(step, True, index), True, False)
        app = open_page(HUMAN_TEST_PAGE, runs_dir, run, monkeypatch)
        assert_clean(app)
        assert app.image[0].captions == ["Image 1 in this session"]
        assert any("from 2 answers for this checkpoint, 0 of them in this session" in caption.value
                   for caption in app.caption)
        app.button(key=subject_key("human_answer_real", run, step)).click().run()
        assert_clean(app)
        assert app.image[0].captions == ["Image 2 in this session"]
        assert any("from 3 answers for this checkpoint, 1 of them in this session" in caption.value
                   for caption in app.caption)
        # The table lists the answers the score counts, from every session.
        assert "Answers for this checkpoint (3)" in [subheader.value for subheader in app.main.subheader]
        assert len(app.dataframe[0].value) == 3
        # After a reset the session counts from the start again, as the store does.
        app.button(key=subject_key("human_reset", run)).click().run()
        assert_clean(app)
        assert app.image[0].captions == ["Image 1 in this session"]
    finally:
        run.clear_judgements()


@pytest.mark.slow
def test_the_human_test_explains_why_points_cannot_be_judged(page_runs, monkeypatch):
    runs_dir, runs = page_runs
    app = open_page(HUMAN_TEST_PAGE, runs_dir, runs["ring"], monkeypatch)
    assert_clean(app)
    assert any("a single point cannot look real or fake" in info.value for info in app.info)
    assert not app.button


# ---------------------------------------------------------------------------------------------------------------
# Both pages in a real browser.


@pytest.fixture(scope="module")
def browser_app(tmp_path_factory):
    """`streamlit run app.py` on a free port over a store holding one freshly trained digits run."""
    from support.browser import dashboard_server
    from views.common import PAGES

    assert {"pages/evaluate.py", "pages/human_test.py"} <= {page for page, _, _ in PAGES}, \
        "the navigation must list the Evaluate and Real-or-fake pages"
    runs_dir = tmp_path_factory.mktemp("browser-evaluate-runs")
    run = trained(preset("digits-mlp", steps=20, checkpoint_every=20, sample_every=10), runs_dir)
    with dashboard_server(runs_dir) as url:
        yield url, run


@browser_test
def test_evaluate_and_judge_a_trained_run_in_a_browser(browser_app, browser):
    from support.browser import assert_no_exception, wait_for_app

    url, run = browser_app
    # A tall window, because Streamlit scrolls its main area itself and a screenshot shows only the window.
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    page = context.new_page()
    try:
        page.goto(f"{url}/evaluate?run={run.run_id}")
        wait_for_app(page)
        page.get_by_role("button", name="Compute").click()
        table = page.get_by_test_id("stTableStyledTable")
        table.get_by_text("Real vs real", exact=True).wait_for(timeout=120_000)
        table.get_by_text("FD (Digits classifier)", exact=True).wait_for()
        page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
        wait_for_app(page)
        assert_no_exception(page, "evaluate")
        screenshot(page, "evaluate-01-metrics")
        page.get_by_role("tab", name="Nearest training images").click()
        page.get_by_text("closest to a training image").wait_for(timeout=60_000)
        assert_no_exception(page, "evaluate, nearest training images")
        screenshot(page, "evaluate-02-nearest")

        page.goto(f"{url}/human_test?run={run.run_id}")
        wait_for_app(page)
        for number, answer in enumerate(("Real", "Generated", "Real"), start=2):
            # Anchored, because the score's help buttons also name "real" and "generated".
            page.get_by_role("button", name=re.compile(f"^{answer}")).click()
            page.get_by_text(f"Image {number} in this session", exact=True).wait_for(timeout=30_000)
        page.get_by_text("from 3 answers").wait_for(timeout=30_000)
        page.get_by_text("Human error rate").wait_for()
        # The answers table is drawn on a canvas; its accessible copy says when the three rows have arrived.
        page.locator('[data-testid="stDataFrame"] table[aria-rowcount="4"]').wait_for(state="attached")
        assert_no_exception(page, "real or fake")
        screenshot(page, "human-test-01-answered")
    finally:
        context.close()
    assert [answer["answered_real"] for answer in run.judgements()] == [True, False, True]


def screenshot(page, name: str) -> None:
    from support.browser import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
