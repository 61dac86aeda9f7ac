"""The dashboard's entry point (`streamlit run app.py`) and its first page: every run in the store with its
progress, speed, latest samples and best evaluation. The other pages are the scripts in pages/, which Streamlit
routes by their file names (pages/monitor.py answers /monitor).
"""

import streamlit as st

from views.common import HOME_PAGE, page_frame_ui
from views.overview_views import overview_ui

page_frame_ui(HOME_PAGE)
st.title("Runs overview")
overview_ui()
