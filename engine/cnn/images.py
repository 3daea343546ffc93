"""Images for the convolution explorer: checked arrays from JSON, grayscale, and built-in samples.

The samples are drawn here from shapes and a seeded noise texture (no photo is
shipped, so there is no licence to track): a small landscape with a house,
whose straight edges, corners, texture and smooth sky show what each kernel
does, and a zone plate of rings, whose frequencies rise towards the edges.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.errors import EngineError

# ITU-R BT.601 luma weights, as JPEG and Pillow's "L" mode use.
LUMA = np.array([0.299, 0.587, 0.114])

SAMPLE_SIZE = 128


def as_array(value: Any, name: str, ranks: tuple[int, ...]) -> np.ndarray:
    """A float64 array from nested JSON lists, or an EngineError saying what is wrong with them."""
    try:
        arr = np.array(value)
    except ValueError:
        raise EngineError(f"{name} rows must all have the same length (a rectangular array of numbers)") from None
    if arr.dtype.kind not in "biuf":
        raise EngineError(f"{name} must contain only numbers (nested lists of numbers)")
    if arr.ndim not in ranks:
        shapes = " or ".join({2: "rows × columns", 3: "channels × rows × columns"}[r] for r in ranks)
        raise EngineError(f"{name} must be {shapes} nested lists, got {arr.ndim} dimension(s) {list(arr.shape)}")
    if arr.size == 0:
        raise EngineError(f"{name} is empty; send at least one number per row")
    arr = arr.astype(np.float64)
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        raise EngineError(f"{name} has a NaN or infinite number at index {bad[0].tolist()}; send finite numbers")
    return arr


def as_image(value: Any, name: str = "image") -> np.ndarray:
    """(C, H, W) float64 from H×W or C×H×W nested lists."""
    arr = as_array(value, name, (2, 3))
    return arr[None] if arr.ndim == 2 else arr


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """(1, H, W) luminance of a (C, H, W) image: one channel stays, RGB/RGBA are weighted (alpha ignored)."""
    channels = image.shape[0]
    if channels == 1:
        return image.copy()
    if channels not in (3, 4):
        raise EngineError(f"grayscale needs 1, 3 (RGB) or 4 (RGBA) channels, the image has {channels}")
    return np.tensordot(LUMA, image[:3], axes=1)[None]


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def _scene(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) * (128.0 / n)  # drawn in 128-unit coordinates
    img = 180 + 0.55 * y  # sky, brighter towards the horizon
    sun = np.hypot(x - 98, y - 24)
    img = np.where(sun < 11, 255.0, img + 40 * np.exp(-np.maximum(sun - 11, 0) / 6))
    far_ridge = 58 + 7 * np.sin(x / 11) + 4 * np.sin(x / 4.3 + 1)
    img = np.where(y > far_ridge, 150 - 0.3 * (y - far_ridge), img)
    near_ridge = 78 + 5 * np.sin(x / 17 + 2)
    img = np.where(y > near_ridge, 105.0, img)
    ground = y > 96
    img = np.where(ground, 80 + rng.normal(0, 9, img.shape), img)
    # Fence: posts and two rails on the right.
    fence = (x > 66) & (y > 86) & (y < 104)
    posts = fence & ((x.astype(int) % 7) < 2)
    rails = fence & (x > 66) & ((np.abs(y - 91) < 1) | (np.abs(y - 99) < 1))
    img = np.where(posts | rails, 235.0, img)
    # House: walls, roof, door and two windows with crossbars.
    walls = (x >= 20) & (x < 58) & (y >= 70) & (y < 106)
    img = np.where(walls, 225.0, img)
    roof = (y >= 46) & (y < 70) & (np.abs(x - 39) < (y - 46) * 1.05 + 1)
    img = np.where(roof, 55.0, img)
    img = np.where((x >= 35) & (x < 43) & (y >= 86) & (y < 106), 45.0, img)
    for left in (24, 46):
        window = (x >= left) & (x < left + 9) & (y >= 75) & (y < 84)
        bars = window & ((np.floor(x) == left + 4) | (np.floor(y) == 79))
        img = np.where(window, 35.0, img)
        img = np.where(bars, 225.0, img)
    # Tree: trunk and a round, textured crown.
    img = np.where((np.abs(x - 112) < 2.5) & (y > 70) & (y < 100), 60.0, img)
    crown = np.hypot((x - 112) / 11, (y - 64) / 13)
    img = np.where(crown < 1, 70 + 25 * _smoothstep(0.4, 1.0, crown) + rng.normal(0, 10, img.shape), img)
    return np.clip(np.rint(img), 0, 255)


def _rings(n: int) -> np.ndarray:
    """A zone plate: cos(π r² / 2n) rings whose frequency grows with the radius, plus a checkerboard corner."""
    y, x = np.mgrid[0:n, 0:n].astype(np.float64) - (n - 1) / 2
    img = 127.5 + 127.5 * np.cos(np.pi * (x * x + y * y) / (2 * n))
    checker = ((np.arange(n)[:, None] // 8 + np.arange(n)[None, :] // 8) % 2) * 255.0
    corner = (x > n / 4) & (y > n / 4)
    return np.rint(np.where(corner, checker, img))


SAMPLES = {
    "scene": ("Landscape", "A house, a fence, a tree and hills: straight edges, corners, texture and smooth sky.",
              _scene),
    "rings": ("Rings", "A zone plate (rings finer towards the edge) and a checkerboard corner.", _rings),
}


def sample_image(name: str, size: int = SAMPLE_SIZE) -> np.ndarray:
    """A built-in grayscale sample, (1, size, size), whole numbers 0–255."""
    if name not in SAMPLES:
        raise EngineError(f"unknown sample image '{name}'; use one of: {', '.join(SAMPLES)}")
    if not 8 <= size <= 1024:
        raise EngineError(f"sample size must be between 8 and 1024, got {size}")
    return SAMPLES[name][2](size)[None]


def sample_list() -> list[dict[str, str]]:
    return [{"name": name, "title": title, "description": text} for name, (title, text, _) in SAMPLES.items()]
