"""The image-kernel gallery: named kernels as they are usually written, integers over a divisor.

Kept as integer numerators and a divisor (a box blur is "ones / 9", not
0.1111…) so the page can show and edit them exactly; `values` is the kernel
the convolution uses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.errors import EngineError

_BINOMIAL_5 = np.array([1, 4, 6, 4, 1])

# name → (title, what it does, numerators, divisor)
_GALLERY: dict[str, tuple[str, str, list[list[int]], int]] = {
    "identity": ("Identity", "Copies the image: only the centre weight is 1.",
                 [[0, 0, 0], [0, 1, 0], [0, 0, 0]], 1),
    "edge1": ("Edges (diagonal)", "Corners minus opposite corners: responds to diagonal edges.",
              [[1, 0, -1], [0, 0, 0], [-1, 0, 1]], 1),
    "edge2": ("Edges (4-neighbour)", "The Laplacian: a pixel against its four neighbours; flat areas give 0.",
              [[0, 1, 0], [1, -4, 1], [0, 1, 0]], 1),
    "edge3": ("Edges (outline)", "A pixel against all eight neighbours: outlines every edge; flat areas give 0.",
              [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], 1),
    "sharpen": ("Sharpen", "The pixel plus its difference from its neighbours: edges get more contrast.",
                [[0, -1, 0], [-1, 5, -1], [0, -1, 0]], 1),
    "boxblur": ("Box blur", "The plain mean of the 3×3 window.",
                [[1, 1, 1], [1, 1, 1], [1, 1, 1]], 9),
    "gauss3": ("Gaussian blur 3×3", "A weighted mean: near pixels count more (binomial weights 1-2-1).",
               [[1, 2, 1], [2, 4, 2], [1, 2, 1]], 16),
    "gauss5": ("Gaussian blur 5×5", "A wider weighted mean (binomial weights 1-4-6-4-1 in each direction).",
               np.outer(_BINOMIAL_5, _BINOMIAL_5).tolist(), 256),
    "emboss": ("Emboss", "Lit from the top left: one side of each edge brightens, the other darkens.",
               [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], 1),
    "sobelx": ("Sobel x", "Horizontal change (right minus left), smoothed vertically: finds vertical edges.",
               [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], 1),
    "sobely": ("Sobel y", "Vertical change (bottom minus top), smoothed horizontally: finds horizontal edges.",
               [[-1, -2, -1], [0, 0, 0], [1, 2, 1]], 1),
}

KERNEL_NAMES: tuple[str, ...] = tuple(_GALLERY)


def kernel_entry(name: str) -> dict[str, Any]:
    """One named kernel: title, description, size, numerators, divisor and the values (numerators / divisor)."""
    if name not in _GALLERY:
        raise EngineError(f"unknown kernel '{name}'; use one of: {', '.join(KERNEL_NAMES)}")
    title, description, numerators, divisor = _GALLERY[name]
    values = np.asarray(numerators, dtype=np.float64) / divisor
    return {"name": name, "title": title, "description": description, "size": len(numerators),
            "numerators": [list(row) for row in numerators], "divisor": divisor, "values": values.tolist()}


def gallery() -> list[dict[str, Any]]:
    """Every named kernel, in the gallery's order."""
    return [kernel_entry(name) for name in KERNEL_NAMES]
