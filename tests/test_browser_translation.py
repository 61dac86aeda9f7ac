"""A person's own pairs in a real browser: a zip of A/ and B/ folders trains Pix2Pix from the Train form, Monitor,
Gallery and Evaluate show every chart and view Pix2Pix declares, and the Gallery translates a single image of
theirs. Screenshots go to test-output/browser/translation-*.png and variant-pix2pix-*.png."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from playwright.sync_api import expect
from PIL import Image, ImageDraw

from gan_core.spec import registry
from gan_core.spec.config import preset
from support.browser import (BROWSER_MARKS, after_its_rerun, assert_no_exception, choose, screenshot, wait_for_app,
                             wait_for_text)
from support.variant_pages import check_monitor_charts, check_variant_views

pytestmark = BROWSER_MARKS

PAIRS = 30
PIX2PIX = registry.get("pix2pix")
# Enough for a checkpoint, a sample grid and metrics rows; starting the trainer costs far more than the steps.
STEPS = 5


def shape_pair(index: int) -> tuple[Image.Image, Image.Image]:
    """B: a coloured disc or square on black; A: its white outline, the kind of input an edges-to-image model reads."""
    random = np.random.default_rng(index)
    left, top = (int(value) for value in random.integers(2, 14, size=2))
    box = (left, top, left + int(random.integers(10, 16)), top + int(random.integers(10, 16)))
    colour = tuple(int(value) for value in random.integers(80, 256, size=3))
    target, outline = Image.new("RGB", (32, 32)), Image.new("RGB", (32, 32))
    draw_target, draw_outline = ImageDraw.Draw(target), ImageDraw.Draw(outline)
    if index % 2:
        draw_target.ellipse(box, fill=colour)
        draw_outline.ellipse(box, outline=(255, 255, 255))
    else:
        draw_target.rectangle(box, fill=colour)
        draw_outline.rectangle(box, outline=(255, 255, 255))
    return outline, target


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def pairs_zip(tmp_path):
    path = tmp_path / "shapes_pairs.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(PAIRS):
            outline, target = shape_pair(index)
            archive.writestr(f"shapes/A/{index:03d}.png", png_bytes(outline))
            archive.writestr(f"shapes/B/{index:03d}.png", png_bytes(target))
    return path


def test_a_persons_paired_zip_trains_pix2pix_and_their_image_is_translated(app_url, page, pairs_zip, tmp_path):
    page.goto(f"{app_url}/train")
    wait_for_app(page)
    choose(page, "Preset", "fashion-edges2img")
    wait_for_text(page, "Pix2Pix settings")
    choose(page, "Dataset", "your own images")
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    after_its_rerun(page, lambda: uploader.set_input_files(str(pairs_zip)))
    page.get_by_text("usable images in `shapes_pairs.zip`").or_(
        page.get_by_text(re.compile(r"image files \(the first"))).first.wait_for(timeout=60_000)
    wait_for_app(page)
    # A selectbox inside the form: typed keys filter its list and put "own" in focus, Enter picks it, and the box
    # shows it until the form goes to the server. (Enter before the filter had acted once picked the first option; a
    # click on the option can miss it while the page's sidebar refresh redraws the list.)
    pairs = page.locator('[data-testid="stSelectbox"]').filter(has_text="Pairs").locator("input")
    pairs.press_sequentially("own")
    expect(page.locator('[role="option"][data-focused="true"]')).to_have_text("own")
    pairs.press("Enter")
    expect(pairs).to_have_value("own")
    steps = page.get_by_label("Steps", exact=True)
    steps.fill(str(STEPS))
    after_its_rerun(page, lambda: steps.press("Enter"))  # Enter sends the form
    assert_no_exception(page, "train form")
    screenshot(page, "translation-01-form")
    page.get_by_role("button", name=re.compile("Start training")).click()

    page.wait_for_url(re.compile(r"/monitor\?run="), timeout=60_000)
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    page.get_by_text(f"reached step {STEPS}").wait_for(timeout=240_000)
    wait_for_text(page, "L1 to the target")
    check_monitor_charts(page, PIX2PIX, preset("fashion-edges2img"), "pix2pix")

    check_variant_views(page, app_url, run_id, PIX2PIX, "pix2pix", page_names=("gallery",))
    mine = tmp_path / "my_outline.png"
    shape_pair(1000)[0].resize((96, 96)).save(mine)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(mine))
    wait_for_app(page)
    page.get_by_text("Translated", exact=True).wait_for(timeout=60_000)
    assert page.locator('[data-testid="stImage"]').count() >= 3, "the held-out grid, the image and its translation"
    assert_no_exception(page, "gallery")
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 0, errors.first.inner_text()
    screenshot(page, "translation-03-gallery")
    check_variant_views(page, app_url, run_id, PIX2PIX, "pix2pix", page_names=("evaluate",))
