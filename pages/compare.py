"""Compare: real and generated examples side by side, laid out alike, and the checkpoint's stored metrics."""

import streamlit as st

from gan_core.inputs import data
from gan_core.store import runs
from views.charts import scatter_figure
from views.common import (COMPARE_PAGE, checkpoint_picker_ui, generated_samples, generator_ready_ui, grid_picture,
                          no_runs_ui, page_frame_ui, real_examples, run_picker_ui, runs_dir)
from views.evaluate_views import stored_metrics_ui
from views.gallery_views import grid_choice_ui

page_frame_ui(COMPARE_PAGE)
st.title("Compare")
run = run_picker_ui(runs.list_runs(runs_dir()))
if run is None:
    no_runs_ui("compare")
    st.stop()
config = run.config
step = checkpoint_picker_ui(run, key="compare_checkpoint")

if step is not None and generator_ready_ui(run, step):
    names = data.class_names(run)
    largest, default = (5000, 1000) if config.is_points else (256, 64)
    choice = grid_choice_ui(names, "compare", "Chooses both the real examples and the generator's noise.",
                            per_class=("Examples per class", 6), count=("Examples per side", largest, default))
    seed, labels, rows, columns, count = choice.seed, choice.labels, choice.rows, choice.columns, choice.count
    if names:
        st.caption(f"One row per class on both sides, top to bottom: {', '.join(names)}.")
    real = real_examples(config.to_json(), count, seed, labels)
    fake = generated_samples(str(run.path), step, count, seed, labels)
    real_column, fake_column = st.columns(2)
    if config.is_points:
        real_column.plotly_chart(scatter_figure(real, real[:0], "Real points"), key="compare_real_chart")
        fake_column.plotly_chart(scatter_figure(real[:0], fake, f"Generated points (step {step:,})"),
                                 key="compare_fake_chart")
    else:
        real_column.subheader("Real")
        real_column.image(grid_picture(real, rows, columns), caption=f"{count:,} training examples", width="stretch",
                          output_format="PNG")
        fake_column.subheader("Generated")
        fake_column.image(grid_picture(fake, rows, columns), caption=f"{count:,} samples at step {step:,}",
                          width="stretch", output_format="PNG")

if step is not None:
    st.header("Metrics")
    stored_metrics_ui(run, step)
