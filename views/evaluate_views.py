"""The Evaluate page's numbers: the sample-count choice, the metrics table beside real-vs-real, and the metrics
over training.

Every result comes from gan_core.measuring.evaluation, which stores it in the run store: a checkpoint is measured once
per feature space, sample count and seed, and shown from the store afterwards without any computation. A demo measures
in a worker process under its trainer caps (views.run_job_views), never in the web server.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from gan_core.demo_mode import demo
from gan_core.measuring import evaluation, features, measures
from gan_core.workers import run_jobs
from gan_core.spec.config import RunConfig
from gan_core.store.runs import Run
from views.charts import Panel, panels_figure
from views.common import EVALUATE_PAGE, duration_text, subject_key
from views.demo_views import demo_limits, demo_mode
from views.run_job_views import in_worker, job_at_work, job_progress_ui, last_failure_ui, start_job_ui
from views.variant_views import variant_measure_rows
from views.evaluate_data import (DEFAULT_SAMPLE_COUNT, SEED, largest_sample_count, reference_scores,
                                     sample_count_options)


SHARES = ("precision", "recall", "coverage", "class_coverage", "near_copy_share", "high_quality_share")
# Real against real, these hold by definition: held-out samples are as far from the training set as themselves.
DEFINED_FOR_REAL = {"memorisation_ratio": "1 (by definition)", "near_copy_share": "0.01 (by definition)"}


def measure_rows(results: dict[str, Any], reference: dict[str, Any] | None) -> list[dict[str, str]]:
    """The metrics table: one row per measure present in `results`, with the real-vs-real value beside it."""
    rows = []
    for measure in measures.STANDARD:
        if results.get(measure.name) is None:
            continue
        if reference is None:
            real_value = "…"
        elif measure.name in DEFINED_FOR_REAL:
            real_value = DEFINED_FOR_REAL[measure.name]
        else:
            real_value = value_text(measure.name, reference)
        rows.append({
            "Measure": measure.label_in(results),
            "This checkpoint": value_text(measure.name, results),
            "Real vs real": real_value,
            "Better": measure.better,
            "Meaning": measure.description,
        })
    return rows


def value_text(key: str, results: dict[str, Any]) -> str:
    """A result as people read it: shares with three decimals, others with three significant digits."""
    value = results.get(key)
    if value is None:
        return "—"
    if key == "modes_covered":
        return f"{value} of {results['num_modes']}"
    if key == "kid_mean" and results.get("kid_std"):
        return f"{value:.3g} ± {results['kid_std']:.2g}"
    return f"{value:.3f}" if key in SHARES else f"{value:.3g}"


def sample_count_ui(config: RunConfig) -> int:
    """The number of generated and real samples to compare, among the counts the held-out data allows."""
    largest = largest_sample_count(config.to_json())
    options = sample_count_options(largest)
    if demo_mode():  # An evaluation holds a CPU for as long as it runs: a demo keeps them short for everyone's sake.
        options = demo.allowed_sample_counts(options, demo_limits())
    default = DEFAULT_SAMPLE_COUNT if DEFAULT_SAMPLE_COUNT in options else options[-1]
    return st.selectbox("Samples per side", options, index=options.index(default), format_func=lambda n: f"{n:,}",
                        key=f"evaluate_sample_count_{largest}",
                        help="How many generated and held-out real samples are compared. 10,000 is usual for "
                             "FD / FID, 1,000 is quicker but noisier; every measure depends on the count, so "
                             "compare runs at the same one.")


def no_feature_space_ui(reason: str) -> None:
    """The plain explanation shown instead of the feature-space measures."""
    st.info(reason, icon=":material/info:")


def metrics_ui(run: Run, step: int, sample_count: int, extractor: features.FeatureExtractor) -> dict | None:
    """The stored results of this checkpoint, or a Compute button; then the table. Returns real-vs-real, if shown."""
    results = evaluation.cached_evaluation(run, step, extractor, sample_count, SEED)
    measuring = job_at_work(run, "evaluation")
    if measuring:
        job_progress_ui(run, "evaluation")
    else:
        last_failure_ui(run, "evaluation")
    if results is None:
        st.caption(f"Not measured yet at step {step:,} with {sample_count:,} samples per side. Each checkpoint is "
                   "measured once and the results are kept with the run.")
        if measuring or not st.button("Compute", type="primary", icon=":material/calculate:",
                                      key=subject_key("evaluate_compute", run, step)):
            return None
        if in_worker():
            start_job_ui(run, "evaluation", [step], run_jobs.evaluation_options(sample_count, SEED))
            return None
        with st.status(f"Comparing {sample_count:,} generated with {sample_count:,} real samples in the "
                       f"{extractor.name} feature space…") as status:
            try:
                evaluation.evaluate_run(run, sample_count, step=step, seed=SEED)
            except ValueError as error:
                status.update(label="The evaluation failed", state="error")
                st.error(str(error))
                return None
        st.rerun()  # The page is drawn again from the store, as on any later visit.
    reference = reference_scores(run.config.to_json(), sample_count)
    st.table(measure_rows(results, reference) + variant_measure_rows(run, results), hide_index=True)
    st.caption(feature_space_text(results))
    return reference


def stored_metrics_ui(run: Run, step: int) -> None:
    """The stored evaluation of this checkpoint beside real vs real, or a link to the Evaluate page to measure it."""
    results = evaluation.stored_evaluation(run, step)
    if results is None:
        st.info(f"Step {step:,} has not been evaluated yet: measure how close its samples come to real data on the "
                "Evaluate page, and the results show here too.", icon=":material/analytics:")
        st.page_link(EVALUATE_PAGE, label="Evaluate this run", icon=":material/analytics:",
                     query_params={"run": run.run_id})
        return
    reference = None
    # Real vs real needs the feature space at hand; a classifier still to be trained is not trained from here.
    if features.classifier_pending(run.config) is None:
        try:
            reference = reference_scores(run.config.to_json(), results["sample_count"],
                                         evaluation.feature_kind(results))
        except ValueError:
            reference = None
    st.table(measure_rows(results, reference) + variant_measure_rows(run, results), hide_index=True)
    st.caption(f"Step {step:,}, as stored by the Evaluate page. " + feature_space_text(results))
    st.page_link(EVALUATE_PAGE, label="More measures and views on the Evaluate page", icon=":material/analytics:",
                 query_params={"run": run.run_id})


def feature_space_text(results: dict[str, Any]) -> str:
    """Where the numbers come from, in one or two sentences."""
    count = f"{results['sample_count']:,}"
    if results["real_split"] == "test":
        text = (f"{count} generated samples against {count} held-out real ones (the test split); real vs real "
                f"compares {count} training with {count} held-out samples: what a perfect generator scores at this "
                "count. ")
    else:
        text = (f"{count} generated samples against {count} real ones from the collection; real vs real compares "
                f"two halves of it: what a perfect generator scores at this count. ")
    accuracy = results.get("classifier_test_accuracy")
    if accuracy is not None:
        text += (f"Features: the project's {results['feature_label']} ({accuracy:.1%} test accuracy), so the "
                 f"{results['frechet_label']} is not comparable with published FIDs. ")
    elif results["feature_space"] == "inception_v3":
        text += "Features: InceptionV3 with Keras' ImageNet weights, close to but not identical with published FIDs. "
    else:
        text += f"Measured on the {results['feature_label']} themselves. "
    measured = results.get("seconds")
    return text + (f"Measured in {duration_text(measured)}." if measured is not None else "")


def stored_curve(run: Run, extractor: features.FeatureExtractor, sample_count: int) -> list[dict[str, Any]]:
    """The valid stored results at this sample count for every step ever measured, oldest first.

    Steps whose checkpoint has since been deleted (the trainer keeps the last few) still count: their results
    remain in the store.
    """
    steps = sorted({row["step"] for row in run.evaluations(extractor.feature_space)})
    found = (evaluation.cached_evaluation(run, step, extractor, sample_count, SEED) for step in steps)
    return [results for results in found if results is not None]


def training_ui(run: Run, sample_count: int, extractor: features.FeatureExtractor, reference: dict | None) -> None:
    """A button that measures every checkpoint not measured yet, and the measures over training as a chart."""
    measured = {results["step"] for results in stored_curve(run, extractor, sample_count)}
    missing = [step for step in run.checkpoint_steps() if step not in measured]
    label = f"Evaluate all checkpoints ({len(missing):,} not measured yet)"
    if demo_mode() and len(missing) > demo_limits().max_checkpoints_per_evaluation:
        # Each checkpoint takes seconds of a worker's CPU: a demo measures a few, spread out, per click.
        missing = demo.evenly_chosen(missing, demo_limits().max_checkpoints_per_evaluation)
        label = f"Evaluate {len(missing):,} more checkpoints (this demo measures at most {len(missing):,} per click)"
    if missing and not job_at_work(run, "evaluation") and st.button(label, icon=":material/playlist_play:",
                                                                    key=subject_key("evaluate_all", run)):
        if in_worker():
            start_job_ui(run, "evaluation", missing, run_jobs.evaluation_options(sample_count, SEED))
            return
        with st.status(f"Measuring {len(missing):,} checkpoints…") as status:
            progress = st.progress(0.0)
            for done, step in enumerate(missing):
                progress.progress(done / len(missing), text=f"step {step:,}")
                try:
                    evaluation.evaluate_run(run, sample_count, step=step, seed=SEED)
                except ValueError as error:
                    status.update(label=f"Step {step:,} could not be measured", state="error")
                    st.error(str(error))
                    return
        st.rerun()
    curve = stored_curve(run, extractor, sample_count)
    if len(curve) < 2:
        st.caption(f"Measured with {sample_count:,} samples per side so far: {len(curve):,} checkpoint(s). The chart "
                   "appears once two are.")
        return
    st.plotly_chart(training_figure(curve, reference), key="evaluate_training_chart")
    st.caption(f"Each point is one checkpoint measured with {sample_count:,} samples per side"
               f"{'; the flat line is real vs real' if reference else ''}. Checkpoints the trainer has since "
               "deleted keep their results.")


def training_figure(curve: list[dict[str, Any]], reference: dict | None):
    """FD, KID and precision / recall against the step; FD and KID with their real-vs-real level when known."""
    steps = [results["step"] for results in curve]

    def lines(*keys: str) -> dict:
        drawn = {key_name(key, curve[-1]): (steps, [results[key] for results in curve]) for key in keys}
        if reference is not None and len(keys) == 1:
            drawn["real vs real"] = ([steps[0], steps[-1]], [reference[keys[0]]] * 2)
        return drawn

    fd, kid = measures.standard("frechet_distance"), measures.standard("kid_mean")
    return panels_figure([
        Panel(fd.label_in(curve[-1]), f"{fd.better} is better", lines(fd.name)),
        Panel(kid.label, f"{kid.better} is better", lines(kid.name)),
        Panel("Precision and recall", "higher is better", lines("precision", "recall"), y_range=(0.0, 1.0)),
    ])


def key_name(key: str, results: dict[str, Any]) -> str:
    """How a result key is named in charts."""
    return measures.standard(key).label_in(results)
