"""The convolution explorer: apply a kernel to an image, explain any output number, the kernel gallery."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from engine.cnn.examples import examples
from engine.cnn.explain import apply_kernel, explain_position, size_report, window_numbers
from engine.cnn.images import as_array, as_image, sample_image, sample_list
from engine.cnn.kernels import gallery
from engine.cnn.param_count import dense_vs_conv

from ..arrays import encode
from ..errors import too_large
from ..pages import render
from ..schemas.conv import (
    ApplyRequest,
    ApplyResult,
    ConvLimits,
    ConvolutionInput,
    Examples,
    KernelEntry,
    ParameterCount,
    SampleImage,
    SampleInfo,
    SizeReport,
    WindowRequest,
    WindowResult,
)
from ..settings import Settings
from .deps import Config, Enc

PAGE = {"path": "/convolution", "title": "Convolution", "order": 4,
        "blurb": "Slide a kernel over an image and watch the feature map fill in, cell by cell, with the arithmetic "
                 "of every window; try edge, blur and sharpen kernels on a real image."}

router = APIRouter(tags=["convolution"])


def checked_arrays(body: ConvolutionInput, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The image (C, H, W) and kernel as arrays, within the settings' limits (413 past them)."""
    image = as_image(body.image)
    kernel = as_array(body.kernel, "kernel", (2, 3))
    channels, height, width = image.shape
    if max(height, width) > settings.max_conv_image_size:
        raise too_large("image side", max(height, width), settings.max_conv_image_size, "max_conv_image_size")
    if channels > settings.max_conv_channels:
        raise too_large("image channels", channels, settings.max_conv_channels, "max_conv_channels")
    if max(kernel.shape[-2:]) > settings.max_conv_kernel_size:
        raise too_large("kernel side", max(kernel.shape[-2:]), settings.max_conv_kernel_size, "max_conv_kernel_size")
    return image, kernel


def options(body: ConvolutionInput) -> dict[str, Any]:
    return {"stride": body.stride, "padding": body.padding, "bias": body.bias, "divisor": body.divisor,
            "activation": body.activation, "grayscale": body.grayscale}


@router.post("/api/conv/apply", response_model=ApplyResult, summary="Convolve an image with a kernel")
def apply(body: ApplyRequest, settings: Config, encoding: Enc = "json") -> dict[str, Any]:
    """The feature map of a kernel slid over an image (cross-correlation, as deep-learning libraries define
    convolution), the output size by (n + 2p − k)/s + 1, and with `windows` every position's arithmetic.
    422 when the sizes do not fit (the message shows the formula) or the input is not numbers; 413 past the
    size limits (GET /api/conv/limits)."""
    image, kernel = checked_arrays(body, settings)
    if body.windows:
        shape = (1, *image.shape[1:]) if body.grayscale else image.shape
        count = window_numbers(shape, kernel.shape, body.stride, body.padding)
        if count > settings.max_conv_window_numbers:
            raise too_large("window numbers to return (positions × channels × k × k, windows=true)", count,
                            settings.max_conv_window_numbers, "max_conv_window_numbers")
    result = apply_kernel(image, kernel, windows=body.windows, **options(body))
    return encode(result, encoding)


@router.post("/api/conv/window", response_model=WindowResult, summary="Explain one output number")
def window(body: WindowRequest, settings: Config) -> dict[str, Any]:
    """For one output position: the window of the (padded) input under the kernel, the element-wise products,
    each channel's sum, the bias, the total and the output after the activation."""
    image, kernel = checked_arrays(body, settings)
    return explain_position(image, kernel, body.row, body.col, channel=body.channel, **options(body))


@router.get("/api/conv/output-size", response_model=SizeReport, summary="Output size along one axis")
def output_size(
    n: Annotated[int, Query(ge=1, le=100_000, description="Input size")],
    k: Annotated[int, Query(ge=1, le=100_000, description="Kernel size")],
    s: Annotated[int, Query(ge=1, le=100_000, description="Stride")] = 1,
    p: Annotated[int, Query(ge=0, le=100_000, description="Padding")] = 0,
) -> dict[str, Any]:
    """(n + 2p − k)/s + 1 written out. Never an error: `ok` is false, with a `message`, when the sizes do not
    fit (the hyperparameter controls show it inline)."""
    return size_report(n, k, s, p)


@router.get("/api/conv/kernels", response_model=list[KernelEntry], summary="The kernel gallery")
def kernels() -> list[dict[str, Any]]:
    """Named image kernels (identity, edge detectors, sharpen, blurs, emboss, Sobel), as integers over a divisor."""
    return gallery()


@router.get("/api/conv/examples", response_model=Examples, summary="The page's worked examples")
def worked_examples(seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Seed of the RGB example")] = 11
                    ) -> dict[str, Any]:
    return examples(seed)


@router.get("/api/conv/samples", response_model=list[SampleInfo], summary="Built-in sample images")
def samples() -> list[dict[str, str]]:
    return sample_list()


@router.get("/api/conv/samples/{name}", response_model=SampleImage, summary="One built-in sample image")
def sample(name: str, settings: Config,
           size: Annotated[int, Query(ge=8, description="Side in pixels")] = 128,
           encoding: Enc = "json") -> dict[str, Any]:
    """A grayscale image drawn by the engine (no shipped photo), whole numbers 0–255."""
    if size > settings.max_conv_image_size:
        raise too_large("sample size", size, settings.max_conv_image_size, "max_conv_image_size")
    image = sample_image(name, size)[0]
    info = next(s for s in sample_list() if s["name"] == name)
    return {**info, "image": encode(image, encoding), "shape": list(image.shape)}


@router.get("/api/conv/parameters", response_model=ParameterCount,
            summary="Parameters: fully connected vs convolutional")
def parameters(
    height: Annotated[int, Query(ge=1, le=1_000_000, description="Image height")] = 200,
    width: Annotated[int, Query(ge=1, le=1_000_000, description="Image width")] = 200,
    channels: Annotated[int, Query(ge=1, le=100_000, description="Image channels (3 for RGB)")] = 3,
    units: Annotated[int, Query(ge=1, le=1_000_000, description="Hidden units of the dense layer")] = 300,
    filters: Annotated[int, Query(ge=1, le=1_000_000, description="Filters of the convolutional layer")] = 300,
    kernel: Annotated[int, Query(ge=1, le=1_000, description="Kernel side k")] = 3,
) -> dict[str, Any]:
    """A dense layer from an H×W×C image to `units` units against `filters` k×k×C filters. The default is the
    classic comparison: 36,000,300 against 8,400."""
    return dense_vs_conv(height, width, channels, units, filters, kernel)


@router.get("/api/conv/limits", response_model=ConvLimits, summary="Size limits of /api/conv")
def limits(settings: Config) -> dict[str, int]:
    return {"max_image_size": settings.max_conv_image_size, "max_kernel_size": settings.max_conv_kernel_size,
            "max_channels": settings.max_conv_channels, "max_window_numbers": settings.max_conv_window_numbers}


@router.get("/convolution", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> HTMLResponse:
    return render(request, "convolution.html", title="Convolution")
