"""The Augment page's parts: the form that starts a study, the study chooser, its progress, and its results as a
table, a plot of test accuracy against the labelled budget, the verdicts and the generated sets to download."""

from __future__ import annotations

import sys
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from gan_core.workers import jobs
from gan_core.workflows import augmentation
from gan_core.workflows.augmentation import AugmentationPlan, BudgetSummary, Study
from views.common import MONITOR_PAGE, address_choice_ui, duration_text

REFRESH_SECONDS = 3.0
BUDGET_CHOICES = (5, 10, 20, 50, 100, 200, 500)
DATASET_LABELS = {"mnist": "MNIST digits", "fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10",
                  "digits": "scikit-learn's 8x8 digits"}
# The three training sets, as the table, the plot and the trials name them.
SERIES = (("real_only", "real only"), ("real_plus_generated", "real + generated"), ("all_real", "all real labels"))


def study_form_ui(runs_dir: Path) -> None:
    """The study's settings and its Start button; a started study is chosen on the page below."""
    with st.form("augment_form"):
        dataset = st.selectbox("Dataset", augmentation.LABELLED_DATASETS, format_func=DATASET_LABELS.get,
                               key="augment_dataset")
        budgets = st.multiselect("Labels per class", BUDGET_CHOICES, default=list(augmentation.DEFAULT_BUDGETS),
                                 key="augment_budgets", help="Each budget is a separate trial: that many labelled "
                                 "examples of each class for the generator and for the classifier.")
        columns = st.columns(4)
        defaults = AugmentationPlan("mnist")
        seeds = columns[0].number_input("Seeds", 1, 10, len(augmentation.DEFAULT_SEEDS), key="augment_seeds",
                                        help="Each seed draws other labelled examples; three or more give intervals.")
        steps = columns[1].number_input("Generator steps", 10, 100_000, defaults.generator_steps, step=500,
                                        key="augment_steps")
        generated = columns[2].number_input("Generated per class", 1, 10_000, defaults.generated_per_class,
                                            step=100, key="augment_generated")
        updates = columns[3].number_input("Classifier updates", 1, 100_000, defaults.classifier_updates, step=100,
                                          key="augment_updates", help="Training batches of every classifier, the "
                                          "same for all three, so that only their data differs.")
        started = st.form_submit_button("Start study", type="primary")
    if not started:
        return
    try:
        plan = AugmentationPlan(dataset, tuple(budgets), tuple(range(int(seeds))), int(steps), int(generated),
                                int(updates))
        study = augmentation.create_study(plan, runs_dir)
    except ValueError as error:
        st.error(f"The study was not started: {error}", icon=":material/error:")
        return
    command = [sys.executable, "-m", "gan_core", "augment", "--study", str(study.path.resolve())]
    augmentation.write_status(study, "running", "starting", jobs.start_background_process(command, study.log_path))
    st.query_params["study"] = study.study_id
    st.rerun()


def study_picker_ui(studies: list[Study]) -> Study:
    """A study chooser kept in the address as `?study=<id>`; without one it picks the newest."""
    study_ids = [study.study_id for study in studies]
    chosen = address_choice_ui("Study", study_ids, "study", "Newest first; each id starts with its start time.")
    return studies[study_ids.index(chosen)]


def study_state(study: Study) -> augmentation.StudyStatus:
    """The study's status, as failed when it says running but its process has gone."""
    status = study.status
    if status.state == "running" and status.pid and not jobs.process_alive(status.pid):
        return augmentation.StudyStatus("failed", f"its process (pid {status.pid}) ended before the study finished; "
                                        f"its log is {study.log_path}", status.pid, status.updated)
    return status


def study_progress_ui(study: Study, status: augmentation.StudyStatus) -> None:
    plan, trials = study.plan, study.trials()
    st.markdown(f"**{DATASET_LABELS[plan.dataset]}**: {', '.join(map(str, plan.budgets))} labels per class, "
                f"{len(plan.seeds)} seed{'s' * (len(plan.seeds) > 1)}; generators of {plan.generator_steps:,} steps, "
                f"{plan.generated_per_class:,} generated examples of each class, classifiers of "
                f"{plan.classifier_updates:,} updates.")
    total = len(plan.trials())
    if status.state == "running":
        st.progress(len(trials) / total, text=f"{len(trials)} of {total} trials done · {status.message}")
    elif status.state == "failed":
        st.error(f"The study failed: {status.message}")
    else:
        spent = sum(trial.seconds for trial in trials)
        st.success(f"Finished: {total} trial{'s' * (total > 1)} in {duration_text(spent)}.")


def results_ui(study: Study) -> None:
    """The summaries so far: a table, the verdicts, the plot, and each trial with its generated set."""
    trials = study.trials()
    if not trials:
        st.caption("Results appear here as each trial ends.")
        return
    summaries = augmentation.summarise(trials)
    st.subheader("Test accuracy")
    st.caption("Mean over seeds ± the half-width of its 95% interval (Student's t). Every classifier is the same "
               "network trained for the same number of updates; only its training data differs.")
    st.dataframe([{"labels per class": summary.budget,
                   **{label: getattr(summary, name).text() for name, label in SERIES},
                   "verdict": summary.verdict} for summary in summaries], hide_index=True)
    for summary in summaries:
        st.markdown(f"- **{summary.budget} labels per class**: {summary.verdict}.")
    st.plotly_chart(accuracy_figure(summaries), key=f"augment_plot_{study.study_id}")
    st.subheader("Trials")
    for trial in trials:
        columns = st.columns([3, 2])
        columns[0].markdown(f"{trial.budget} labels per class, seed {trial.seed}: real only "
                            f"{trial.real_only:.1%}, real + generated {trial.real_plus_generated:.1%}, all real "
                            f"{trial.all_real:.1%}")
        columns[0].page_link(MONITOR_PAGE, label=f"its generator, {trial.run_id}", query_params={"run": trial.run_id})
        archive = study.generated_zip(trial.budget, trial.seed)
        if archive.exists():
            columns[1].download_button("Download the generated set (zip, a folder per class)", archive.read_bytes(),
                                       archive.name, "application/zip", key=f"augment_zip_{trial.budget}_{trial.seed}")


def accuracy_figure(summaries: list[BudgetSummary]) -> go.Figure:
    """Test accuracy against the labelled budget, one line per training set, with the intervals as error bars."""
    figure = go.Figure()
    budgets = [summary.budget for summary in summaries]
    for name, label in SERIES:
        intervals = [getattr(summary, name) for summary in summaries]
        figure.add_trace(go.Scatter(
            x=budgets, y=[value.mean for value in intervals], name=label, mode="lines+markers",
            error_y=dict(type="data", array=[0 if value.count < 2 else value.half_width for value in intervals])))
    figure.update_layout(xaxis=dict(title="labelled examples per class", type="log", tickvals=budgets),
                         yaxis=dict(title="test accuracy", tickformat=".0%"), height=420,
                         margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"))
    return figure
