"""Fixtures every test module uses by name, without an import: a dashboard server and a browser to drive it, small
image folders and disks. Helpers the modules share live in tests/support/.

TensorFlow's logs are quietened here, before anything imports gan_core (and with it TensorFlow, which reads the
log level when first imported). So is the size of its pool of threads for one operation, for the same reason.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from streamlit.components.v2 import manifest_scanner

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# One TensorFlow thread in every process the tests start (trainers, servers and workers inherit the environment):
# two test processes share two cores, often each beside a trainer and a server, and TensorFlow's default pools of one
# thread per core then have more threads waiting for a core (spinning before they sleep) than there are cores
# (docs/benchmarks.md, "The test suite's time").
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

# After the log level: support.datasets imports gan_core, and support.browser does when a server stops.
from support.browser import CHROMIUM, CHROMIUM_ARGS, dashboard_server  # noqa: E402
from support.datasets import write_png_folder  # noqa: E402


# Every new AppTest scans the metadata of every installed package for Streamlit components (0.15-0.35 s each, over a
# hundred times in the suite); what is installed does not change while the tests run.
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


def pytest_collection_modifyitems(items):
    """Files with the most slow tests first. With `-n 2` each file goes whole to one of two processes, in this order
    (pyproject.toml turns off xdist's own, which puts the files with the most tests first): the long browser and
    training files start early, and the two processes end together on quick files instead of one finishing a long
    file while the other has nothing left."""
    slow_tests = Counter(item.path for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow_tests[item.path])  # a stable sort: each file's tests keep their order


@pytest.fixture(scope="session", autouse=True)
def warm_starter():
    """A warm starter in each test process, as the dashboard keeps one: the trainers and workers the tests start
    skip TensorFlow's import (gan_core.workers.warm_start)."""
    from gan_core.workers import jobs

    jobs.warm_up()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The address of a dashboard over an empty run store, shared by a module's browser tests."""
    with dashboard_server(tmp_path_factory.mktemp("browser-runs")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium through Playwright, started once per test process and shared by its browser tests: each
    test's pages live in a context of its own (the `page` fixture, or contexts a test makes), so no cookie or page
    carries over from one test to the next."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page in a context of its own (no cookies from another test), in a 1400x1000 window."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def png_folder(tmp_path) -> Path:
    """A folder of 24 random 32x32 colour PNGs, no classes: a person's own image collection."""
    return write_png_folder(tmp_path / "my_images", 24)


@pytest.fixture
def small_disk(tmp_path):
    """A function mounting a tmpfs of the given size (e.g. "8m") and returning its folder, to fill a disk or make it
    read-only for real; the test is skipped where mounting is not allowed (it needs root)."""
    mounted = []

    def mount(size: str) -> Path:
        disk = tmp_path / f"disk-{len(mounted)}"
        disk.mkdir()
        command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)]
        if subprocess.run(command, capture_output=True).returncode:
            pytest.skip("needs permission to mount a small tmpfs (root), to fill a disk or make it read-only for real")
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)
