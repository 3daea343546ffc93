"""LeNet-5 in its modern form, built from the engine's layers, and what a page needs to look inside it.

input 1×28×28 → conv1 Conv2D(1→6, 5×5, padding 2) → activation → pool1 2×2
→ conv2 Conv2D(6→16, 5×5) → activation → pool2 2×2 → flatten (400)
→ fc1 Dense(400→120) → activation → fc2 Dense(120→84) → activation → logits Dense(84→10),
trained with softmax cross-entropy. Activation: ReLU or tanh; pooling: max or average.

`DigitNetwork` gives any LeNet-like `Sequential` (1×28×28 in, conv / pool / flatten / dense layers, ten
logits out; e.g. a PyTorch model imported from safetensors or ONNX) names for its layers (conv1, pool1, …,
fc1, …, logits), every layer's output for one image and the arithmetic behind any single unit (via
`conv_window` / `pool_window`). `LeNet5` is the shipped architecture, with saving / loading its weights as
`.npz` in the same format as `engine.serialize` (so an exported LeNet also imports as a generic network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.cnn.conv import conv_window
from engine.cnn.pool import pool_window
from engine.core.activations import ACTIVATIONS, softmax
from engine.core.errors import EngineError
from engine.core.network import Sequential, build_sequential
from engine.core.serialize import read_npz, write_npz

INPUT_SHAPE = (1, 28, 28)
ACTIVATION_CHOICES = ("relu", "tanh")
POOLING_CHOICES = ("max", "avg")
CLASSES = 10
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "lenet5.npz"

# The named outputs a page shows for LeNet-5, in order (`digit_parts` derives them, with the Sequential layers
# producing them, for any LeNet-like network; a test checks they agree).
LAYER_NAMES = ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "logits")
PREVIOUS = {"conv1": "input", "pool1": "conv1", "conv2": "pool1", "pool2": "conv2", "fc1": "pool2",
            "fc2": "fc1", "logits": "fc2"}
OUTPUT_SHAPES = {"input": (1, 28, 28), "conv1": (6, 28, 28), "pool1": (6, 14, 14), "conv2": (16, 10, 10),
                 "pool2": (16, 5, 5), "fc1": (120,), "fc2": (84,), "logits": (10,)}
# (kernel, stride, padding) of the spatial layers, for receptive fields.
GEOMETRY = {"conv1": (5, 1, 2), "pool1": (2, 2, 0), "conv2": (5, 1, 0), "pool2": (2, 2, 0)}


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise EngineError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def lenet5_layers(activation: str = "relu", pooling: str = "max") -> list[dict[str, Any]]:
    """The layer specs for `build_sequential` (dense+activation shorthand expanded by it)."""
    _check_choice("activation", activation, ACTIVATION_CHOICES)
    pool = {"type": f"{_check_choice('pooling', pooling, POOLING_CHOICES)}pool2d", "size": 2}
    # He initialisation suits ReLU; Glorot keeps tanh units out of saturation at the start.
    init = "he" if activation == "relu" else "xavier"
    return [
        {"type": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2, "init": init},
        {"type": activation},
        dict(pool),
        {"type": "conv2d", "out_channels": 16, "kernel_size": 5, "init": init},
        {"type": activation},
        dict(pool),
        {"type": "flatten"},
        {"type": "dense", "units": 120, "init": init, "activation": activation},
        {"type": "dense", "units": 84, "init": init, "activation": activation},
        {"type": "dense", "units": CLASSES, "init": "xavier"},
    ]


def lenet5_spec(activation: str = "relu", pooling: str = "max", *, learning_rate: float = 1e-3,
                batch_size: int = 64, seed: int = 0) -> dict[str, Any]:
    """A network spec (as `engine.dense.trainer` and the networks API read it) for LeNet-5."""
    return {
        "name": f"lenet5-{activation}-{pooling}",
        "input_shape": list(INPUT_SHAPE),
        "layers": lenet5_layers(activation, pooling),
        "loss": "softmax_cross_entropy",
        "optimizer": {"type": "adam", "learning_rate": learning_rate},
        "batch_size": batch_size,
        "seed": seed,
        "dtype": "float32",
        "shuffle": True,
    }


@dataclass(frozen=True)
class Part:
    """One named output a page shows: a convolution or dense layer after its activation, a pooling layer, or
    the logits; `sum_layer` is the Sequential layer computing its weighted sums, `output_layer` the one whose
    output is shown, `geometry` (kernel, stride, padding) of a spatial layer."""

    name: str
    kind: str  # conv, pool, dense (logits is a dense part)
    sum_layer: int
    output_layer: int
    shape: tuple[int, ...]
    previous: str
    geometry: tuple[int, int, int] | None = None
    activation: str | None = None
    pooling: str | None = None

    def caption(self) -> str:
        if self.kind == "conv" and self.geometry:
            k, s, _ = self.geometry
            return f"{k}×{k} conv{f' /{s}' if s != 1 else ''} · {self.activation}"
        if self.kind == "pool" and self.geometry:
            k, s, _ = self.geometry
            return f"{k}×{k} {self.pooling}{f' · stride {s}' if s != k else ''}"
        return "softmax" if self.name == "logits" else f"dense · {self.activation}"


def digit_parts(net: Sequential) -> list[Part]:
    """The named parts of a LeNet-like network: 1×28×28 in, convolutions / pooling / flatten / dense layers
    (each weighted layer optionally followed by an element-wise activation), ten logits out (optionally through
    a softmax). Named conv1, pool1, …, fc1, …, logits. Anything else raises an EngineError saying what."""
    if tuple(net.input_shape) != INPUT_SHAPE:
        raise EngineError(f"a digit network reads 1×28×28 images; this one takes {list(net.input_shape)}")
    layers = net.layers
    end = len(layers) - 1 if layers[-1].type == "softmax" else len(layers)
    if end == 0 or layers[end - 1].type != "dense" or layers[end - 1].output_shape != (CLASSES,):
        raise EngineError("a digit network ends on a dense layer of 10 units (the logits), optionally with a softmax")
    parts: list[Part] = []
    counts = {"conv": 0, "pool": 0, "dense": 0}
    i = 0
    while i < end:
        layer: Any = layers[i]  # Conv2D's kernel_size/stride/padding, the pools' size/stride
        kind = {"conv2d": "conv", "maxpool2d": "pool", "avgpool2d": "pool", "dense": "dense"}.get(layer.type)
        if layer.type == "flatten":
            i += 1
            continue
        if kind is None:
            raise EngineError(f"layer {i} ({layer.type}) does not follow a convolution or dense layer; a digit "
                              "network is conv/pool/flatten/dense layers, each weighted one with its activation")
        previous = parts[-1].name if parts else "input"
        if kind == "pool":
            counts["pool"] += 1
            parts.append(Part(f"pool{counts['pool']}", "pool", i, i, tuple(layer.output_shape), previous,
                              (layer.size, layer.stride, 0), pooling="max" if layer.type == "maxpool2d" else "avg"))
            i += 1
            continue
        follows = layers[i + 1].type if i + 1 < end else None
        activation = follows if follows in ACTIVATIONS else None
        output = i + 1 if activation else i
        if kind == "dense" and i == end - 1:
            parts.append(Part("logits", "dense", i, i, (CLASSES,), previous, activation="softmax"))
            break
        counts[kind] += 1
        name = f"conv{counts['conv']}" if kind == "conv" else f"fc{counts['dense']}"
        geometry = (layer.kernel_size, layer.stride, layer.padding) if kind == "conv" else None
        parts.append(Part(name, kind, i, output, tuple(layers[output].output_shape or ()), previous, geometry,
                          activation or "linear"))
        i = output + 1
    return parts


def receptive_field(layer: str, row: int, col: int, on: str,
                    parts: dict[str, Part] | None = None) -> dict[str, int]:
    """The window of layer `on` (an earlier spatial layer, or 'input') that unit (row, col) of `layer` reads.

    Returned as {top, left, bottom, right} inclusive, possibly reaching into the padding (negative or past the
    edge); callers clip it for drawing. `parts`: a digit network's (default: the shipped LeNet-5's layout).
    """
    if parts is None:
        parts = {name: Part(name, "conv" if name.startswith("conv") else "pool", 0, 0, OUTPUT_SHAPES[name],
                            PREVIOUS[name], GEOMETRY[name]) for name in GEOMETRY}
    chain = [layer]
    while chain[-1] in parts and parts[chain[-1]].geometry is not None:
        chain.append(parts[chain[-1]].previous)
    if layer not in parts or parts[layer].geometry is None or on not in chain[1:]:
        raise EngineError(f"no receptive field of {layer} on {on}: both must be spatial layers, {on} the earlier")
    top, bottom, left, right = row, row, col, col
    for current in chain[:chain.index(on)]:
        k, s, p = parts[current].geometry  # type: ignore[misc]
        top, left = top * s - p, left * s - p
        bottom, right = bottom * s - p + k - 1, right * s - p + k - 1
    return {"top": top, "left": left, "bottom": bottom, "right": right}


class DigitNetwork:
    """A LeNet-like Sequential network (see `digit_parts`) with names for its parts, every part's output for
    one image and the arithmetic behind any unit. One instance must not run two passes at once (its conv layers
    reuse work buffers): callers sharing it guard it with a lock."""

    net: Sequential
    meta: dict[str, Any]

    def __init__(self, net: Sequential, meta: dict[str, Any] | None = None) -> None:
        self.net = net
        self.meta = meta or {}
        self._parts: list[Part] | None = None

    @property
    def parts(self) -> dict[str, Part]:
        if getattr(self, "_parts", None) is None:
            self._parts = digit_parts(self.net)
        return {part.name: part for part in self._parts or []}

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(self.parts)

    def output_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"input": INPUT_SHAPE, **{name: part.shape for name, part in self.parts.items()}}

    def layout(self) -> list[dict[str, Any]]:
        """What a page draws: each part's name, kind, shape and caption, the input first."""
        return [{"name": "input", "kind": "input", "shape": list(INPUT_SHAPE), "caption": "preprocessed"}] + [
            {"name": p.name, "kind": p.kind, "shape": list(p.shape), "caption": p.caption()}
            for p in self.parts.values()]

    # --- passes -------------------------------------------------------------------------------

    def logits(self, images: np.ndarray, batch: int = 500) -> np.ndarray:
        """Logits (N, 10) for images (N, 1, 28, 28) or (N, 28, 28) in 0..1, without keeping a trace."""
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[:, None]
        softmax_last = self.net.layers[-1].type == "softmax"

        def run(chunk: np.ndarray) -> np.ndarray:
            if not softmax_last:
                return self.net.forward(chunk, keep_trace=False)
            return self.net.forward_untraced(self.net.check_input(chunk))[0]

        return np.concatenate([run(x[i:i + batch]) for i in range(0, len(x), batch)]
                              or [np.zeros((0, CLASSES), dtype=self.net.dtype)])

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.logits(images).argmax(axis=1)

    def classify(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The predicted digits (N,) and the ten softmax probabilities of each (N, 10)."""
        probabilities = softmax(self.logits(images))
        return probabilities.argmax(axis=1), probabilities

    def layer_outputs(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Every named part's output for one (28, 28) image, plus 'input', 'probabilities' and 'digit' (the
        predicted one, a 0-d array)."""
        x = np.asarray(image)
        if x.shape != (28, 28):
            raise EngineError(f"a digit network reads one 28×28 image, got shape {list(x.shape)}")
        self.net.forward(x.reshape(1, *INPUT_SHAPE))
        trace = self.net.trace
        out = {"input": trace[0].input[0]}
        for name, part in self.parts.items():
            out[name] = trace[part.output_layer].output[0]
        out["probabilities"] = softmax(out["logits"])
        out["digit"] = np.asarray(out["probabilities"].argmax())
        return out

    # --- inspection ---------------------------------------------------------------------------

    def layer(self, name: str) -> Any:
        return self.net.layers[self.parts[name].sum_layer]

    def filters(self) -> dict[str, dict[str, np.ndarray]]:
        """The learned kernels of every convolution (LeNet-5: conv1 (6, 1, 5, 5), conv2 (16, 6, 5, 5)), with their
        biases (zeros for a convolution without one)."""
        out = {}
        for name, part in self.parts.items():
            if part.kind == "conv":
                params = self.layer(name).params
                bias = params.get("bias", np.zeros(params["weight"].shape[0], dtype=params["weight"].dtype))
                out[name] = {"weight": params["weight"], "bias": bias}
        return out

    def unit(self, image: np.ndarray, layer: str, index: int = 0, row: int = 0, col: int = 0) -> dict[str, Any]:
        """The arithmetic behind one unit for one (28, 28) image, in float64 from the float32 numbers the
        network holds (so it reproduces the network's own output to float32 precision).

        conv: unit (channel `index`, row, col): its window on the layer before, the kernel, the products, the
        per-channel sums, the bias, the sum z and the activation. pool: the window and its max or mean. dense
        and logits: unit `index`: the inputs, the weights into it, the products, bias, z, activation (logits:
        softmax probability).
        """
        parts = self.parts
        if layer not in parts:
            raise EngineError(f"layer must be one of {', '.join(parts)}, got {layer!r}")
        part = parts[layer]
        outputs = self.layer_outputs(image)
        shape = part.shape
        channels = shape[0]
        if not 0 <= index < channels:
            raise EngineError(f"{layer} has {channels} {'maps' if len(shape) == 3 else 'units'}; "
                              f"index must be between 0 and {channels - 1}, got {index}")
        prev_name = part.previous
        prev = outputs[prev_name].astype(np.float64)
        if len(shape) == 3 and not (0 <= row < shape[1] and 0 <= col < shape[2]):
            raise EngineError(f"{layer} maps are {shape[1]}×{shape[2]}; row and col must be between 0 and "
                              f"{shape[1] - 1} and {shape[2] - 1}, got ({row}, {col})")
        value = float(outputs[layer][index][row, col] if len(shape) == 3 else outputs[layer][index])
        report: dict[str, Any] = {"layer": layer, "index": index, "previous": prev_name, "value": value}
        if len(shape) == 3:
            report.update(row=row, col=col, receptive_field={
                on: receptive_field(layer, row, col, on, parts) for on in {prev_name, "input"}
                if on == "input" or parts[on].geometry is not None})
        if part.kind == "conv":
            params = self.layer(layer).params
            k, s, p = part.geometry  # type: ignore[misc]
            bias = params.get("bias")
            window = conv_window(prev, params["weight"].astype(np.float64),
                                 None if bias is None else bias.astype(np.float64), s, p, row, col, index)
            report.update(kind="conv", activation=part.activation, z=window["total"], **_window_fields(window),
                          sum=float(np.sum(window["channel_sums"])))
            report["activation_value"] = _activate(part.activation or "linear", window["total"])
        elif part.kind == "pool":
            k, s, _ = part.geometry  # type: ignore[misc]
            window = pool_window(prev, k, s, part.pooling or "max", row, col, index)
            report.update(kind="pool", mode=part.pooling, window=window["window"], pooled=window["value"],
                          top=window["top"], left=window["left"], size=k, argmax=window.get("argmax"))
        else:
            params = self.layer(layer).params
            inputs = prev.reshape(-1)
            weights = params["weight"][:, index].astype(np.float64)
            products = inputs * weights
            bias_value = float(params["bias"][index]) if "bias" in params else 0.0
            z = float(products.sum() + bias_value)  # in float64, like conv_window
            report.update(kind="dense", inputs=inputs.tolist(), weights=weights.tolist(), products=products.tolist(),
                          sum=float(products.sum()), bias=bias_value, z=z)
            if layer == "logits":
                report.update(activation="softmax", probability=float(outputs["probabilities"][index]),
                              logits=outputs["logits"].astype(np.float64).tolist())
            else:
                report.update(activation=part.activation, activation_value=_activate(part.activation or "linear", z))
        return report

    def copy_weights_from(self, other: DigitNetwork) -> None:
        for (_, _, mine), (_, _, theirs) in zip(self.net.named_params(), other.net.named_params(), strict=True):
            np.copyto(mine, theirs)

    def describe(self) -> dict[str, str | None]:
        """The activation and pooling shared by all its layers ('mixed' when they differ; None when absent)."""
        acts = {p.activation for p in self.parts.values() if p.kind in ("conv", "dense") and p.name != "logits"}
        pools = {p.pooling for p in self.parts.values() if p.kind == "pool"}

        def one(values: set) -> str | None:
            return None if not values else next(iter(values)) if len(values) == 1 else "mixed"

        return {"activation": one(acts), "pooling": one(pools)}


@dataclass
class LeNet5(DigitNetwork):
    """LeNet-5 (see the module's docstring) as a digit network."""

    activation: str = "relu"
    pooling: str = "max"
    seed: int = 0
    net: Sequential = field(init=False)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.net = build_sequential(INPUT_SHAPE, lenet5_layers(self.activation, self.pooling), seed=self.seed)
        self._parts = None

    # --- weights ------------------------------------------------------------------------------

    def spec(self) -> dict[str, Any]:
        return lenet5_spec(self.activation, self.pooling, seed=self.seed)

    def to_npz(self) -> bytes:
        """`.npz` bytes in `engine.serialize`'s format, with the LeNet settings and `meta` beside the spec."""
        return write_npz(self.net.get_state(), {
            "spec": self.spec(), "step": int(self.meta.get("steps", 0)),
            "lenet": {"activation": self.activation, "pooling": self.pooling, **self.meta}})

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(self.to_npz())

    @classmethod
    def from_npz(cls, data: bytes, source: str = "weights") -> LeNet5:
        meta, state = read_npz(data, f"a LeNet-5 .npz ({source})")
        info = dict(meta.get("lenet") or {})
        if not info:
            raise EngineError(f"{source}: a network .npz without LeNet-5 settings")
        model = cls(info.pop("activation", "relu"), info.pop("pooling", "max"))
        model.net.set_state(state)
        model.meta = info
        return model

    @classmethod
    def load(cls, path: str | Path | None = None) -> LeNet5:
        path = Path(path) if path is not None else DEFAULT_WEIGHTS
        if not path.is_file():
            raise EngineError(f"{path} does not exist; train it with `glassbox train lenet --out {path}`")
        return cls.from_npz(path.read_bytes(), str(path))


def _window_fields(window: dict[str, Any]) -> dict[str, Any]:
    keys = ("top", "left", "size", "stride", "padding", "window", "kernel", "products", "channel_sums", "bias")
    return {k: window[k] for k in keys}


def _activate(name: str, z: float) -> float:
    return float(ACTIVATIONS[name][0](np.array(z, dtype=np.float64)))
