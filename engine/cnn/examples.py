"""The convolution page's worked examples, as plain data.

classic: the 5×5 binary image and 3×3 kernel that many CNN tutorials step
through (output [[4, 3, 4], [2, 4, 3], [2, 3, 4]]).
rgb: a 3-channel 5×5 image with a 3×3×3 kernel, padding 1, stride 2 and bias 1
(the layout of CS231n's convolution demo), with small whole numbers from a
seeded generator so every sum can be checked by eye.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CLASSIC_IMAGE = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
CLASSIC_KERNEL = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]


def rgb_example(seed: int = 11) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {
        "name": "rgb", "title": "RGB image, one 3×3×3 filter",
        "image": rng.integers(0, 3, size=(3, 5, 5)).tolist(),
        "kernel": rng.integers(-1, 2, size=(3, 3, 3)).tolist(),
        "bias": 1, "stride": 2, "padding": 1, "channels": ["R", "G", "B"], "seed": seed,
    }


def examples(seed: int = 11) -> dict[str, dict[str, Any]]:
    return {
        "classic": {"name": "classic", "title": "5×5 binary image, 3×3 kernel", "image": CLASSIC_IMAGE,
                    "kernel": CLASSIC_KERNEL, "bias": 0, "stride": 1, "padding": 0},
        "rgb": rgb_example(seed),
    }
