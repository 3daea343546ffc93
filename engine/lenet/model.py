"""LeNet-5 in its modern form, built from the engine's layers, and what a page needs to look inside it.

input 1×28×28 → conv1 Conv2D(1→6, 5×5, padding 2) → activation → pool1 2×2
→ conv2 Conv2D(6→16, 5×5) → activation → pool2 2×2 → flatten (400)
→ fc1 Dense(400→120) → activation → fc2 Dense(120→84) → activation → logits Dense(84→10),
trained with softmax cross-entropy. Activation: ReLU or tanh; pooling: max or average.

`LeNet5` wraps the `Sequential` network with names for its layers, every layer's output for one image,
the arithmetic behind any single unit (via `conv_window` / `pool_window` for the convolution and
pooling units), and saving / loading its weights as `.npz` in the same format as `engine.serialize`
(so an exported LeNet also imports as a generic network session).
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

# The named outputs a page shows, in order, with the Sequential layer that produces each one (the activation
# after a conv / dense layer, so the map shows what the next layer reads) and the one computing its sum.
LAYER_NAMES = ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "logits")
OUTPUT_LAYER = {"conv1": 1, "pool1": 2, "conv2": 4, "pool2": 5, "fc1": 8, "fc2": 10, "logits": 11}
SUM_LAYER = {"conv1": 0, "conv2": 3, "fc1": 7, "fc2": 9, "logits": 11}
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


def receptive_field(layer: str, row: int, col: int, on: str) -> dict[str, int]:
    """The window of layer `on` (an earlier spatial layer, or 'input') that unit (row, col) of `layer` reads.

    Returned as {top, left, bottom, right} inclusive, possibly reaching into the padding (negative or past the
    edge); callers clip it for drawing.
    """
    order = ("input", "conv1", "pool1", "conv2", "pool2")
    if layer not in GEOMETRY or on not in order or order.index(on) >= order.index(layer):
        raise EngineError(f"no receptive field of {layer} on {on}: both must be spatial layers, {on} the earlier")
    top, bottom, left, right = row, row, col, col
    current = layer
    while current != on:
        k, s, p = GEOMETRY[current]
        top, left = top * s - p, left * s - p
        bottom, right = bottom * s - p + k - 1, right * s - p + k - 1
        current = PREVIOUS[current]
    return {"top": top, "left": left, "bottom": bottom, "right": right}


@dataclass
class LeNet5:
    """A LeNet-5 network with names for its parts. One instance must not run two passes at once
    (its conv layers reuse work buffers): callers sharing it guard it with a lock."""

    activation: str = "relu"
    pooling: str = "max"
    seed: int = 0
    net: Sequential = field(init=False)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.net = build_sequential(INPUT_SHAPE, lenet5_layers(self.activation, self.pooling), seed=self.seed)

    # --- passes -------------------------------------------------------------------------------

    def logits(self, images: np.ndarray, batch: int = 500) -> np.ndarray:
        """Logits (N, 10) for images (N, 1, 28, 28) or (N, 28, 28) in 0..1, without keeping a trace."""
        x = np.asarray(images)
        if x.ndim == 3:
            x = x[:, None]
        return np.concatenate([self.net.forward(x[i:i + batch], keep_trace=False) for i in range(0, len(x), batch)]
                              or [np.zeros((0, CLASSES), dtype=self.net.dtype)])

    def predict(self, images: np.ndarray) -> np.ndarray:
        return self.logits(images).argmax(axis=1)

    def classify(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The predicted digits (N,) and the ten softmax probabilities of each (N, 10)."""
        probabilities = softmax(self.logits(images))
        return probabilities.argmax(axis=1), probabilities

    def layer_outputs(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """Every named layer's output for one (28, 28) image, plus 'input', 'probabilities' and 'digit' (the
        predicted one, a 0-d array)."""
        x = np.asarray(image)
        if x.shape != (28, 28):
            raise EngineError(f"LeNet-5 reads one 28×28 image, got shape {list(x.shape)}")
        self.net.forward(x.reshape(1, *INPUT_SHAPE))
        trace = self.net.trace
        out = {"input": trace[0].input[0]}
        for name in LAYER_NAMES:
            out[name] = trace[OUTPUT_LAYER[name]].output[0]
        out["probabilities"] = softmax(out["logits"])
        out["digit"] = np.asarray(out["probabilities"].argmax())
        return out

    # --- inspection ---------------------------------------------------------------------------

    def layer(self, name: str) -> Any:
        return self.net.layers[SUM_LAYER[name]]

    def filters(self) -> dict[str, dict[str, np.ndarray]]:
        """The learned kernels: conv1 (6, 1, 5, 5), conv2 (16, 6, 5, 5), with their biases."""
        return {name: {"weight": self.layer(name).params["weight"], "bias": self.layer(name).params["bias"]}
                for name in ("conv1", "conv2")}

    def unit(self, image: np.ndarray, layer: str, index: int = 0, row: int = 0, col: int = 0) -> dict[str, Any]:
        """The arithmetic behind one unit for one (28, 28) image, in float64 from the float32 numbers the
        network holds (so it reproduces the network's own output to float32 precision).

        conv1/conv2: unit (channel `index`, row, col): its window on the layer before, the kernel, the products,
        the per-channel sums, the bias, the sum z and the activation. pool1/pool2: the 2×2 window and its max or
        mean. fc1/fc2/logits: unit `index`: the inputs, the weights into it, the products, bias, z, activation
        (logits: softmax probability).
        """
        if layer not in LAYER_NAMES:
            raise EngineError(f"layer must be one of {', '.join(LAYER_NAMES)}, got {layer!r}")
        outputs = self.layer_outputs(image)
        shape = OUTPUT_SHAPES[layer]
        channels = shape[0]
        if not 0 <= index < channels:
            raise EngineError(f"{layer} has {channels} {'maps' if len(shape) == 3 else 'units'}; "
                              f"index must be between 0 and {channels - 1}, got {index}")
        prev_name = PREVIOUS[layer]
        prev = outputs[prev_name].astype(np.float64)
        if len(shape) == 3 and not (0 <= row < shape[1] and 0 <= col < shape[2]):
            raise EngineError(f"{layer} maps are {shape[1]}×{shape[2]}; row and col must be between 0 and "
                              f"{shape[1] - 1}, got ({row}, {col})")
        value = float(outputs[layer][index][row, col] if len(shape) == 3 else outputs[layer][index])
        report: dict[str, Any] = {"layer": layer, "index": index, "previous": prev_name, "value": value}
        if len(shape) == 3:
            report.update(row=row, col=col, receptive_field={
                on: receptive_field(layer, row, col, on)
                for on in ("input", "conv1", "pool1", "conv2") if on == prev_name or on == "input"
            })
        if layer in ("conv1", "conv2"):
            params = self.layer(layer).params
            k, s, p = GEOMETRY[layer]
            window = conv_window(prev, params["weight"].astype(np.float64), params["bias"].astype(np.float64),
                                 s, p, row, col, index)
            report.update(kind="conv", activation=self.activation, z=window["total"], **_window_fields(window),
                          sum=float(np.sum(window["channel_sums"])))
            report["activation_value"] = _activate(self.activation, window["total"])
        elif layer in ("pool1", "pool2"):
            window = pool_window(prev, 2, 2, self.pooling, row, col, index)
            report.update(kind="pool", mode=self.pooling, window=window["window"], pooled=window["value"],
                          top=window["top"], left=window["left"], size=2, argmax=window.get("argmax"))
        else:
            params = self.layer(layer).params
            inputs = prev.reshape(-1)
            weights = params["weight"][:, index].astype(np.float64)
            products = inputs * weights
            z = float(products.sum() + float(params["bias"][index]))  # in float64, like conv_window
            report.update(kind="dense", inputs=inputs.tolist(), weights=weights.tolist(), products=products.tolist(),
                          sum=float(products.sum()), bias=float(params["bias"][index]), z=z)
            if layer == "logits":
                report.update(activation="softmax", probability=float(outputs["probabilities"][index]),
                              logits=outputs["logits"].astype(np.float64).tolist())
            else:
                report.update(activation=self.activation, activation_value=_activate(self.activation, z))
        return report

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

    def copy_weights_from(self, other: LeNet5) -> None:
        for (_, _, mine), (_, _, theirs) in zip(self.net.named_params(), other.net.named_params(), strict=True):
            np.copyto(mine, theirs)


def _window_fields(window: dict[str, Any]) -> dict[str, Any]:
    keys = ("top", "left", "size", "stride", "padding", "window", "kernel", "products", "channel_sums", "bias")
    return {k: window[k] for k in keys}


def _activate(name: str, z: float) -> float:
    return float(ACTIVATIONS[name][0](np.array(z, dtype=np.float64)))
