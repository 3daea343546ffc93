"""A drawn digit in, an MNIST-like 28x28 input out.

MNIST's own recipe (LeCun et al.): each NIST digit was scaled so that its
longer side fits a 20x20 box, keeping the aspect ratio, with anti-aliasing,
then placed in a 28x28 field so that its centre of mass sits at the centre.
Measured on the shipped digits, the centre of mass (row, column), counted in
pixel indices from 0, lies within half a pixel of (14, 14) and the ink's
bounding box is 20 pixels on its longer side in 9,970 of 10,000 images;
`preprocess_digit` reproduces both.

`decode_png_data_url` turns what a browser canvas gives (`toDataURL()`)
into the ink image `preprocess_digit` takes.
"""

from __future__ import annotations

import base64
import binascii
import io
import math

import numpy as np
from PIL import Image, UnidentifiedImageError

from engine.core.errors import EngineError, SizeLimitError

MNIST_SIDE = 28
DIGIT_BOX = 20
# Centre of mass target in pixel indices (pixel i covers [i, i + 1), so its centre is at i + 0.5 in
# continuous coordinates): MNIST digits have their mass centred on pixel (14, 14) within +-0.5.
MNIST_CENTRE = 14.0
MAX_IMAGE_SIDE = 1024
MAX_DATA_URL_CHARS = 8 * 1024 * 1024
PNG_DATA_URL_PREFIX = "data:image/png;base64,"


def _check_side(height: int, width: int) -> None:
    if height > MAX_IMAGE_SIDE or width > MAX_IMAGE_SIDE:
        raise SizeLimitError(f"image of {height}x{width} pixels is larger than {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}")


def _check_ink_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 2:
        raise EngineError(f"a digit image must be 2-D (height, width), got shape {list(image.shape)}")
    _check_side(*image.shape)
    if image.size == 0:
        raise EngineError("a digit image needs at least one pixel")
    if not np.issubdtype(image.dtype, np.number) or np.issubdtype(image.dtype, np.complexfloating):
        raise EngineError(f"image values must be real numbers, got {image.dtype}")
    image = image.astype(np.float32, copy=False)
    if not np.all(np.isfinite(image)):
        raise EngineError("image values must be finite numbers (found NaN or infinity)")
    lo, hi = float(image.min()), float(image.max())
    if lo < 0.0 or hi > 1.0:
        raise EngineError(f"image values must lie in 0..1 (ink high), found {lo:g}..{hi:g}")
    return image


def ink_from_values(values: object, max_value: float = 1.0, invert: bool = False) -> np.ndarray:
    """Rows of grey levels in 0..max_value (an API's nested lists) -> float32 ink image in 0..1, ink high.

    `invert` is for dark ink on light paper. Ragged rows, non-numbers, NaN and values outside 0..max_value are
    EngineErrors that say which.
    """
    try:
        image = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EngineError("an image must be rows of numbers, every row the same length") from exc
    if image.ndim != 2:
        raise EngineError(f"an image must be 2-D (rows of numbers), got shape {list(image.shape)}")
    _check_side(*image.shape)
    if not np.all(np.isfinite(image)):
        raise EngineError("image values must be finite numbers (found NaN or infinity)")
    if image.size and (image.min() < 0 or image.max() > max_value):
        raise EngineError(f"image values must lie in 0..{max_value:g}, found {image.min():g}..{image.max():g}"
                          + ("; set max_value to 255 for 8-bit grey levels" if max_value == 1 else ""))
    ink = (image / max_value).astype(np.float32)
    return np.ascontiguousarray(1.0 - ink if invert else ink, dtype=np.float32)


def preprocess_digit(image: np.ndarray) -> np.ndarray | None:
    """Crop, scale and centre a drawn digit like MNIST; None when there is no ink.

    `image`: 2-D, any size up to 1024x1024, values 0..1 with ink high. Any
    non-zero pixel counts as ink (no threshold), so faint anti-aliased edges of
    a stroke stay in the bounding box. The crop is resampled once, straight
    into the 28x28 field, by Pillow on a float ('F') image with its
    anti-aliasing bilinear filter; the source window is placed with
    sub-pixel precision so that the centre of mass lands on (14, 14), except
    that it is moved as little as needed to keep the whole 20-pixel box inside
    the field (a digit with most of its mass at one end is not cut off).
    Returns float32 (28, 28) in 0..1.
    """
    image = _check_ink_image(image)
    rows = np.flatnonzero(image.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(image.any(axis=0))
    crop = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    pixels_per_output = max(height, width) / DIGIT_BOX  # source pixels per output pixel
    window = MNIST_SIDE * pixels_per_output  # the 28x28 field, in source pixels

    # Centre of mass in continuous coordinates of the crop (pixel i spans [i, i + 1)).
    mass = float(crop.sum(dtype=np.float64))
    com_y = float(crop.sum(axis=1, dtype=np.float64) @ (np.arange(height) + 0.5)) / mass
    com_x = float(crop.sum(axis=0, dtype=np.float64) @ (np.arange(width) + 0.5)) / mass

    # Output index 14 has its centre at 14.5 in continuous output coordinates.
    centre = (MNIST_CENTRE + 0.5) * pixels_per_output
    top = min(max(com_y - centre, height - window), 0.0)
    left = min(max(com_x - centre, width - window), 0.0)

    # Pillow's resize wants the source box inside the image: pad the crop with background to cover it.
    pad_top, pad_left = math.ceil(-top) + 1, math.ceil(-left) + 1
    pad_bottom = max(0, math.ceil(top + window - height)) + 1
    pad_right = max(0, math.ceil(left + window - width)) + 1
    padded = np.zeros((pad_top + height + pad_bottom, pad_left + width + pad_right), dtype=np.float32)
    padded[pad_top : pad_top + height, pad_left : pad_left + width] = crop
    box = (left + pad_left, top + pad_top, left + pad_left + window, top + pad_top + window)

    # Pillow's bilinear resize widens its triangle filter by the shrink factor, so each output pixel
    # averages the source pixels it covers (the anti-aliasing), stays exact to a fraction of a pixel at any
    # scale and never rings: the ink spans MNIST's 20-pixel box plus a fringe of about one pixel.
    # (Lanczos leaves faint ink 2-3 px beyond it; Pillow's box filter degrades to nearest-neighbour near
    # scale 1 and loses the sub-pixel centring.)
    resample = Image.Resampling.BILINEAR
    resized = Image.fromarray(padded).resize((MNIST_SIDE, MNIST_SIDE), resample, box=box)
    return np.clip(np.asarray(resized, dtype=np.float32), 0.0, 1.0)  # float rounding only


def decode_png_data_url(data_url: str) -> np.ndarray:
    """A `data:image/png;base64,...` URL -> float32 (height, width) ink image in 0..1, ink high.

    Which pixels are ink: if the PNG has transparency that is used (some alpha
    below 255), ink is the alpha channel, whatever the stroke colour; that is
    what a canvas drawn on a transparent background gives. Otherwise ink is
    the luminance (ITU-R 601-2, Pillow's "L"), inverted when the image's border
    is light on average (dark ink on white paper) and taken as is when the
    border is dark (a white digit on black, like MNIST itself).
    """
    if not isinstance(data_url, str):
        raise EngineError("a PNG data URL must be a string")
    if len(data_url) > MAX_DATA_URL_CHARS:
        raise SizeLimitError(f"data URL of {len(data_url)} characters is longer than {MAX_DATA_URL_CHARS}")
    if not data_url.startswith(PNG_DATA_URL_PREFIX):
        raise EngineError(f"expected a PNG data URL starting with '{PNG_DATA_URL_PREFIX}'")
    try:
        png = base64.b64decode(data_url[len(PNG_DATA_URL_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EngineError(f"the data URL's payload is not valid base64 ({exc})") from exc
    try:
        with Image.open(io.BytesIO(png), formats=["PNG"]) as img:
            width, height = img.size
            _check_side(height, width)
            img.load()
            return _ink_from_image(img)
    except Image.DecompressionBombError:
        # Pillow refuses to open images of more than twice its MAX_IMAGE_PIXELS before reading their pixels.
        raise SizeLimitError(f"the PNG declares more pixels than an image may have; send at most "
                             f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, EngineError):
            raise
        raise EngineError(f"the data URL does not hold a readable PNG image ({exc})") from exc


def _ink_from_image(img: Image.Image) -> np.ndarray:
    if img.mode in ("I", "I;16", "I;16B", "I;16L"):  # 16-bit greyscale PNGs
        grey = np.asarray(img, dtype=np.float32) / np.float32(65535.0)
    else:
        if img.mode in ("LA", "PA") or (img.mode != "RGBA" and "transparency" in img.info):
            img = img.convert("RGBA")
        if img.mode == "RGBA":
            # One view of the decoded pixels, sliced: converting the alpha channel through Pillow first costs
            # four times as long, and a prediction's round trip is a few milliseconds.
            alpha = np.asarray(img)[..., 3]
            if alpha.min() < 255:
                return alpha.astype(np.float32) / np.float32(255.0)
        grey = np.asarray(img.convert("L"), dtype=np.float32) / np.float32(255.0)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    ink = grey if border.mean() < 0.5 else 1.0 - grey
    return np.ascontiguousarray(ink, dtype=np.float32)
