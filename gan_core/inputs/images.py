"""Pictures from arrays: sample grids, 2-D scatter renderings, animated GIFs and PNG bytes (Pillow only)."""

from __future__ import annotations

import io
from pathlib import Path
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

GRID_PADDING = 2  # pixels of background between tiles, so neighbouring samples stay distinguishable
GRID_BACKGROUND = 40


def image_grid(images: np.ndarray, rows: int, columns: int, scale: int = 1) -> np.ndarray:
    """Tile uint8 NHWC images into one uint8 HxWxC picture, row by row; missing tiles stay background."""
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"image_grid needs uint8 images shaped (N, H, W, C), got {images.dtype} {images.shape}")
    if rows < 1 or columns < 1:
        raise ValueError(f"image_grid needs at least one row and column, got {rows}x{columns}")
    count, height, width, channels = images.shape
    if count > rows * columns:
        raise ValueError(f"{count} images do not fit a {rows}x{columns} grid")
    grid = np.full(
        (rows * (height + GRID_PADDING) + GRID_PADDING, columns * (width + GRID_PADDING) + GRID_PADDING, channels),
        GRID_BACKGROUND,
        dtype=np.uint8,
    )
    for index in range(count):
        row, column = divmod(index, columns)
        top = GRID_PADDING + row * (height + GRID_PADDING)
        left = GRID_PADDING + column * (width + GRID_PADDING)
        grid[top : top + height, left : left + width] = images[index]
    if scale > 1:
        grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    return grid


def grid_scale(image_side: int, target_tile: int = 56) -> int:
    """An integer upscale so small images (8x8 digits) are still visible in a grid."""
    return max(1, target_tile // image_side)


def scatter_image(
    fake_points: np.ndarray,
    real_points: np.ndarray | None = None,
    size: int = 320,
    extent: float = 5.0,
) -> np.ndarray:
    """Render 2-D points to a uint8 RGB picture: real points in grey, generated points in orange.

    The view is the fixed square [-extent, extent]^2, so pictures from different steps are comparable.
    """
    picture = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(picture)
    draw.line([(size / 2, 0), (size / 2, size)], fill=(225, 225, 225))
    draw.line([(0, size / 2), (size, size / 2)], fill=(225, 225, 225))

    def to_pixels(points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, dtype=np.float64) + extent) / (2 * extent) * (size - 1)

    for points, colour in ((real_points, (150, 150, 150)), (fake_points, (230, 120, 20))):
        if points is None:
            continue
        for x, y in to_pixels(points):
            if np.isfinite(x) and np.isfinite(y):
                # Flip y so that larger values are drawn higher, as on a chart.
                draw.ellipse([x - 1.5, size - 1 - y - 1.5, x + 1.5, size - 1 - y + 1.5], fill=colour)
    return np.asarray(picture)


def to_pil(picture: np.ndarray) -> Image.Image:
    """A Pillow image from uint8 HxWx1 or HxWx3."""
    if picture.ndim == 3 and picture.shape[2] == 1:
        return Image.fromarray(picture[:, :, 0], mode="L")
    return Image.fromarray(picture)


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    to_pil(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(picture: np.ndarray, path: Path) -> None:
    """Write a PNG atomically, so a reader polling the folder never opens half a file."""
    temporary = path.with_name(f".{path.name}.tmp")
    to_pil(picture).save(temporary, format="PNG")
    temporary.replace(path)


def gif_bytes(frame_paths: Sequence[Path], milliseconds_per_frame: int = 200) -> bytes:
    """An animated, looping GIF of the given image files (e.g. a run's fixed-noise timeline)."""
    if not frame_paths:
        raise ValueError("a GIF needs at least one frame")
    frames = [Image.open(path).convert("RGB") for path in frame_paths]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format="GIF", save_all=True, append_images=frames[1:], duration=milliseconds_per_frame, loop=0
    )
    return buffer.getvalue()
