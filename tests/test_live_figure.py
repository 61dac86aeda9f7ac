"""The folder the live figure component is served from: our page and the installed plotly.js, copied safely."""

from views import live_figure


def test_the_served_folder_holds_our_page_and_the_installed_plotly_js():
    folder = live_figure.served_folder()
    assert (folder / "index.html").read_bytes() == live_figure.FRONTEND_PAGE.read_bytes()
    assert (folder / "plotly.min.js").read_bytes() == live_figure.PLOTLY_JS.read_bytes()
    assert live_figure.LIVE_FIGURE.path == str(folder)


def test_a_changed_file_is_replaced_an_unchanged_one_left_alone_and_no_temporary_file_remains(tmp_path):
    source = tmp_path / "index.html"
    source.write_text("the new page")
    served = tmp_path / "served"
    served.mkdir()
    target = served / "index.html"
    target.write_text("an old page")

    live_figure.copy_if_changed(source, target)
    assert target.read_text() == "the new page"
    copied = target.stat()
    live_figure.copy_if_changed(source, target)
    assert target.stat().st_ino == copied.st_ino  # not copied again
    assert [path.name for path in served.iterdir()] == ["index.html"]
