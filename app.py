"""The dashboard's entry point (`streamlit run app.py`) and its first page: every run in the store with its
progress, speed, latest samples and best evaluation. The other pages are the scripts in pages/, which Streamlit
routes by their file names (pages/monitor.py answers /monitor).
"""

import streamlit as st

from gan_core import jobs, runs, throughput
from views.common import (GALLERY_PAGE, HOME_PAGE, MONITOR_PAGE, TRAIN_PAGE, best_metric_text, no_runs_ui,
                          page_frame_ui, runs_dir, state_badge)
from views.demo_views import demo_mode

page_frame_ui(HOME_PAGE)
st.title("Runs overview")

all_runs = runs.list_runs(runs_dir())
if not all_runs:
    st.markdown("Welcome! This dashboard trains generative adversarial networks (GANs), shows them learning "
                "live, and lets you judge what they make against real data.")
    no_runs_ui("show")
    st.stop()

st.page_link(TRAIN_PAGE, label="Set up a new run", icon=":material/add_circle:")
# A public demo does not tell its visitors where on the server it keeps its files.
st.caption(f"{len(all_runs)} run(s){'' if demo_mode() else f' in `{runs_dir()}`'}, newest first.")

for run in all_runs:
    jobs.refresh_status(run)
    config, status = run.config, run.status
    recent_rows = run.metrics_since(status.step - throughput.RECENT_ROWS * config.log_every)
    speed = throughput.measured_images_per_second(recent_rows)
    thumbnail = run.latest_sample_path()
    with st.container(border=True, key=f"run_card_{run.run_id}"):
        picture, details, numbers, links = st.columns([1, 3, 2, 1], vertical_alignment="center")
        if thumbnail is not None:
            picture.image(str(thumbnail), width=120, output_format="PNG")
        else:
            picture.caption("no samples yet")
        details.markdown(f"**{config.name or config.dataset}** {state_badge(status.state)}  \n"
                         f"`{run.run_id}`  \n{config.dataset} · {config.architecture} · {config.loss}"
                         f"{' · conditional' if config.conditional else ''}")
        target_step = run.progress_target(status)
        numbers.progress(status.step / target_step, text=f"step {status.step:,} / {target_step:,}")
        numbers.markdown(f"{f'{speed:,.0f} images/s' if speed else '— images/s'}  \n"
                         f"best metric: {best_metric_text(run.evaluations())}")
        links.page_link(MONITOR_PAGE, label="Monitor", query_params={"run": run.run_id}, icon=":material/monitoring:")
        links.page_link(GALLERY_PAGE, label="Gallery", query_params={"run": run.run_id}, icon=":material/photo_library:")
