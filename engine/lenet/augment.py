"""Random small affine distortions of image batches, for training on digits.

Each image gets its own rotation, scaling and shift, all drawn from one
`numpy.random.Generator`. The whole batch is warped in one vectorised gather:
every output pixel is mapped back through its image's inverse affine map and
the source is sampled bilinearly, with zeros (background) outside the image.
"""

from __future__ import annotations

import numpy as np

from engine.core.errors import EngineError


def _check_batch(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype not in (np.float32, np.float64):
        raise EngineError(
            f"images must be float32 or float64 of shape (N, C, H, W), got {images.dtype} {list(images.shape)}"
        )
    return images


def augment_batch(
    images: np.ndarray,
    rng: np.random.Generator,
    *,
    max_shift: float = 2.0,
    max_rotation_deg: float = 12.0,
    scale_range: tuple[float, float] = (0.9, 1.1),
) -> np.ndarray:
    """Randomly rotate, scale and shift each image of a (N, C, H, W) batch.

    Per image: a rotation angle uniform in +-max_rotation_deg and a scale
    uniform in scale_range, both about the image centre, then a shift uniform
    in +-max_shift pixels along each axis. All channels of an image move
    together. Returns a new contiguous array of the input's float dtype; with
    max_shift=0, max_rotation_deg=0 and scale_range=(1, 1) it equals the input.
    """
    images = _check_batch(images)
    lo, hi = (float(s) for s in scale_range)
    if not (0.0 < lo <= hi):
        raise EngineError(f"scale_range must be (low, high) with 0 < low <= high, got {scale_range}")
    if max_shift < 0 or max_rotation_deg < 0:
        raise EngineError("max_shift and max_rotation_deg must not be negative")
    n = images.shape[0]
    angle = np.asarray(np.deg2rad(rng.uniform(-max_rotation_deg, max_rotation_deg, size=n)))
    scale = np.asarray(rng.uniform(lo, hi, size=n))
    shift = np.asarray(rng.uniform(-max_shift, max_shift, size=(n, 2)))
    return affine_warp(images, angle, scale, shift)


def affine_warp(images: np.ndarray, angle: np.ndarray, scale: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Warp each image of a float (N, C, H, W) batch by its own rotation, scaling and shift.

    angle (N,) in radians, counter-clockwise as the image is seen (row 0 at
    the top), and scale (N,) both act about the image centre; shift (N, 2) is
    (down, right) in pixels, applied after them. Bilinear sampling, background
    zero outside the image.
    """
    images = _check_batch(images)
    n, channels, height, width = images.shape
    angle = np.asarray(angle, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    shift = np.asarray(shift, dtype=np.float64)
    if angle.shape != (n,) or scale.shape != (n,) or shift.shape != (n, 2):
        raise EngineError(
            f"for {n} images, angle and scale need shape [{n}] and shift [{n}, 2];"
            f" got {list(angle.shape)}, {list(scale.shape)}, {list(shift.shape)}"
        )
    if not (np.all(np.isfinite(angle)) and np.all(np.isfinite(shift)) and np.all(scale > 0)):
        raise EngineError("angles and shifts must be finite and scales positive")

    # Output pixel p = centre + scale * R(angle) (q - centre) + shift for source pixel q;
    # sample the source at q = centre + R(-angle) (p - centre - shift) / scale, every image at once.
    cos = (np.cos(angle) / scale)[:, None]
    sin = (np.sin(angle) / scale)[:, None]
    centre_y, centre_x = (height - 1) / 2.0, (width - 1) / 2.0
    grid_y, grid_x = np.meshgrid(np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64), indexing="ij")
    dy = grid_y.reshape(1, -1) - centre_y - shift[:, :1]  # (n, P)
    dx = grid_x.reshape(1, -1) - centre_x - shift[:, 1:]
    y = cos * dy + sin * dx + centre_y
    x = cos * dx - sin * dy + centre_x

    # Bilinear sampling from the images padded by one background pixel on every side; coordinates far
    # outside are clipped onto that border so they read zeros.
    y0, x0 = np.floor(y), np.floor(x)
    wy, wx = (y - y0).astype(images.dtype)[:, None, :], (x - x0).astype(images.dtype)[:, None, :]
    # Clip each corner on its own: far left of the image both x0 and x0 + 1 must land on the zero border.
    row0 = np.clip(y0, -1, height).astype(np.intp) + 1
    row1 = np.clip(y0 + 1, -1, height).astype(np.intp) + 1
    col0 = np.clip(x0, -1, width).astype(np.intp) + 1
    col1 = np.clip(x0 + 1, -1, width).astype(np.intp) + 1

    padded_height, padded_width = height + 2, width + 2
    flat = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1))).ravel()
    # Start of each (image, channel) plane in the flat padded batch: (n, C, 1).
    plane = (np.arange(n * channels) * (padded_height * padded_width)).reshape(n, channels, 1)

    def gather(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return flat[plane + (rows * padded_width + cols)[:, None, :]]

    one = images.dtype.type(1.0)
    out = (gather(row0, col0) * (one - wx) + gather(row0, col1) * wx) * (one - wy)
    out += (gather(row1, col0) * (one - wx) + gather(row1, col1) * wx) * wy
    return np.ascontiguousarray(out.reshape(n, channels, height, width))
