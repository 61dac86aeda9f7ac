"""Compare: real and generated examples side by side, laid out alike, and the checkpoint's stored metrics."""

import streamlit as st

from gan_core.inputs import comparison, data
from gan_core.store import runs
from views.charts import scatter_figure
from views.common import (COMPARE_PAGE, checkpoint_picker_ui, generated_samples, generator_ready_ui, grid_picture,
                          no_runs_ui, page_frame_ui, real_examples, run_picker_ui, runs_dir)
from views.evaluate_views import stored_metrics_ui
from views.gallery_views import MAX_SEED

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
    seed_column, count_column = st.columns(2)
    seed = seed_column.number_input("Seed", 0, MAX_SEED, 0, key="compare_seed",
                                    help="Chooses both the real examples and the generator's noise.")
    if names:
        columns = count_column.number_input("Examples per class", 1, 16, 6, key="compare_per_class")
        labels = tuple(comparison.grid_labels(len(names), columns).tolist())
        rows = len(names)
        st.caption(f"One row per class on both sides, top to bottom: {', '.join(names)}.")
    else:
        count = count_column.number_input("Examples per side", 1, 5000 if config.is_points else 256,
                                          1000 if config.is_points else 64, key="compare_count")
        labels, (rows, columns) = None, comparison.grid_shape(count)
    count = len(labels) if labels else count
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
