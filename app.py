"""The dashboard's entry point (`streamlit run app.py`): it only routes to the pages and draws the sidebar."""

import streamlit as st

from app_pages.common import active_runs_sidebar_ui

st.set_page_config(page_title="GAN dashboard", page_icon=":material/blur_on:", layout="wide")

navigation = st.navigation([
    st.Page("app_pages/home.py", title="Runs overview", icon=":material/dashboard:", default=True),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/monitor.py", title="Monitor", icon=":material/monitoring:"),
    st.Page("app_pages/gallery.py", title="Gallery", icon=":material/photo_library:"),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("app_pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("app_pages/human_test.py", title="Real or fake?", icon=":material/visibility:"),
    st.Page("app_pages/runs.py", title="Runs", icon=":material/folder_open:"),
])
with st.sidebar:
    active_runs_sidebar_ui()
navigation.run()
