"""Schemas of the convolution explorer's API (/api/conv)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import ArrayJSON, FiniteFloat

Activation = Literal["none", "linear", "relu", "tanh", "sigmoid", "step"]

CLASSIC: dict[str, Any] = {
    "image": [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
    "kernel": [[1, 0, 1], [0, 1, 0], [1, 0, 1]]}


class ConvolutionInput(BaseModel):
    """An image, a kernel and how the kernel slides."""

    model_config = ConfigDict(extra="forbid")

    image: Any = Field(
        description="The image as numbers: H×W nested lists (one channel) or C×H×W (e.g. 3×H×W for RGB). "
                    "Every side at most GLASSBOX_MAX_CONV_IMAGE_SIZE.")
    kernel: Any = Field(
        description="k×k, or C×k×k with the image's C channels. A C×k×k kernel is one CNN filter: the "
                    "channels' window sums plus the bias make one feature map. A k×k kernel on a C-channel "
                    "image filters each channel on its own (C maps, as an image editor filters a photo).")
    stride: int = Field(1, ge=1, description="Step of the window in both directions")
    padding: int = Field(0, ge=0, description="Zeros added on every side before sliding")
    bias: FiniteFloat = Field(0.0, description="Added to every window's sum")
    divisor: FiniteFloat = Field(1.0, description="The kernel is divided by this first (a box blur is ones / 9)")
    activation: Activation = Field("none", description="Applied to every sum plus bias (none = identity)")
    grayscale: bool = Field(False, description="Turn an RGB(A) image into one luminance channel first "
                                               "(0.299 R + 0.587 G + 0.114 B); the response returns it as `input`")


class ApplyRequest(ConvolutionInput):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {**CLASSIC, "windows": True},
        {"image": [[10, 20, 30, 40], [50, 60, 70, 80], [90, 100, 110, 120], [130, 140, 150, 160]],
         "kernel": [[1, 2, 1], [2, 4, 2], [1, 2, 1]], "divisor": 16, "padding": 1},
    ]})

    windows: bool = Field(False, description="Also return every output position's window, products and sums "
                                             "(an animation needs no request per step); at most "
                                             "GLASSBOX_MAX_CONV_WINDOW_NUMBERS numbers in all")


class WindowRequest(ConvolutionInput):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{**CLASSIC, "row": 0, "col": 1}]})

    row: int = Field(ge=0, description="Output row")
    col: int = Field(ge=0, description="Output column")
    channel: int = Field(0, ge=0, description="Output map, when a k×k kernel filters each channel of a C-channel "
                                              "image (0 otherwise)")


class SizeReport(BaseModel):
    n: int = Field(description="Input size along this axis")
    k: int = Field(description="Kernel size")
    s: int = Field(description="Stride")
    p: int = Field(description="Padding")
    padded: int = Field(description="n + 2p")
    expression: str = Field(description="(n + 2p − k)/s + 1 with the numbers filled in")
    value: float = Field(description="Its value (not whole when the sizes do not fit)")
    fits: bool = Field(description="The kernel is no larger than the padded input")
    whole: bool = Field(description="The value is a whole number")
    ok: bool = Field(description="The sizes fit: the output size is a whole number >= 1")
    message: str | None = Field(description="When not ok, what is wrong and what to change")


class OutputSizes(BaseModel):
    height: SizeReport
    width: SizeReport


class OutputStats(BaseModel):
    min: float
    max: float
    below_0: int = Field(description="Outputs below 0 (clipping to 0–255 would hide them)")
    above_255: int = Field(description="Outputs above 255 (clipping to 0–255 would hide them)")
    count: int = Field(description="Number of outputs")
    abs_p99: float = Field(description="99th percentile of |output|: a colour range a few extreme pixels cannot "
                                       "wash out")


class Windows(BaseModel):
    top: list[int] = Field(description="First input row of each output row's window (negative inside padding)")
    left: list[int] = Field(description="First input column of each output column's window")
    window: ArrayJSON = Field(description="(maps, out_rows, out_cols, channels, k, k): the padded input under "
                                          "the kernel. maps is 1 for a filter, C for a k×k kernel per channel; "
                                          "channels is then C, or 1")
    products: ArrayJSON = Field(description="window × kernel, element-wise; same axes")
    channel_sums: ArrayJSON = Field(description="(maps, out_rows, out_cols, channels): each channel's sum")
    bias: float
    total: ArrayJSON = Field(description="(maps, out_rows, out_cols): sums plus bias (before the activation)")


class ApplyResult(BaseModel):
    mode: Literal["filter", "per_channel"] = Field(
        description="filter: one map summing all channels; per_channel: a k×k kernel applied to each channel")
    kernel: ArrayJSON = Field(description="The kernel used (after the divisor)")
    output: ArrayJSON = Field(description="The feature map: H'×W' for a filter, C×H'×W' per channel")
    pre_activation: ArrayJSON | None = Field(None, description="The map before the activation, when there is one")
    shape: list[int] = Field(description="Shape of `output`")
    activation: str
    output_size: OutputSizes = Field(description="Output height and width by (n + 2p − k)/s + 1")
    stats: OutputStats
    input: ArrayJSON | None = Field(None, description="The luminance image convolved, with grayscale=true")
    windows: Windows | None = Field(None, description="Every position's arithmetic, with windows=true")


class WindowResult(BaseModel):
    out_row: int
    out_col: int
    out_channel: int
    top: int = Field(description="Window's first input row (negative when it starts in the padding)")
    left: int = Field(description="Window's first input column")
    size: int = Field(description="Kernel size k")
    stride: int
    padding: int
    mode: Literal["filter", "per_channel"]
    window: list = Field(description="(channels, k, k) numbers under the kernel (zeros from padding)")
    kernel: list = Field(description="(channels, k, k): the kernel over those channels")
    products: list = Field(description="(channels, k, k) window × kernel")
    channel_sums: list[float] = Field(description="Each channel's sum of products")
    bias: float
    total: float = Field(description="Sum of the channel sums plus the bias")
    activation: str
    output: float = Field(description="activation(total): the output number")


class KernelEntry(BaseModel):
    name: str = Field(description="Identifier (kernel-preset-<name> on the page)")
    title: str
    description: str = Field(description="What the kernel does")
    size: int = Field(description="k")
    numerators: list[list[int]] = Field(description="The kernel as usually written, over `divisor`")
    divisor: int
    values: list[list[float]] = Field(description="numerators / divisor: what the convolution uses")


class Example(BaseModel):
    name: str
    title: str
    image: list = Field(description="H×W or C×H×W")
    kernel: list = Field(description="k×k or C×k×k")
    bias: float
    stride: int
    padding: int
    channels: list[str] | None = Field(None, description="Channel names of a multi-channel example")
    seed: int | None = Field(None, description="Seed that drew a generated example's numbers")


class Examples(BaseModel):
    classic: Example = Field(description="The 5×5 binary image and 3×3 kernel (output [[4,3,4],[2,4,3],[2,3,4]])")
    rgb: Example = Field(description="A 3×5×5 image, a 3×3×3 kernel, bias 1, padding 1, stride 2")


class SampleInfo(BaseModel):
    name: str
    title: str
    description: str


class SampleImage(SampleInfo):
    image: ArrayJSON = Field(description="H×W grayscale, whole numbers 0–255")
    shape: list[int]


class LayerCount(BaseModel):
    weights: int
    biases: int
    total: int
    formula: str = Field(description="The count written out")
    explanation: str


class ParameterCount(BaseModel):
    fc: LayerCount = Field(description="Fully connected layer: H·W·C·units + units")
    conv: LayerCount = Field(description="Convolutional layer: filters·(k·k·C + 1)")
    ratio: float = Field(description="fc total / conv total")


class ConvLimits(BaseModel):
    max_image_size: int = Field(description="Largest image side (413 past it)")
    max_kernel_size: int = Field(description="Largest kernel side")
    max_channels: int = Field(description="Most image channels")
    max_window_numbers: int = Field(description="Most window numbers (positions × channels × k × k) one apply "
                                                "with windows=true returns")
