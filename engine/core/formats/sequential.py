"""Sequential networks as the ecosystem stores them: PyTorch's `nn.Sequential` state-dict layout, and the
layer specs and trainer spec a file's network becomes.

PyTorch numbers the modules of an `nn.Sequential` 0, 1, 2, … and names each parameter '<index>.weight' /
'<index>.bias'; the engine numbers its layers the same way when the dense+activation shorthand is expanded, so a
Glassbox network's parameter '3.weight' is the PyTorch module 3's. Only the layout differs: a dense weight is
(in, out) here and (out, in) in PyTorch (`nn.Linear`); a convolution's is (out, in, k, k) in both.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.core.network import Sequential, build_sequential

PARAM_KEY = re.compile(r"^(?P<prefix>.*?)(?P<index>\d+)\.(?P<name>weight|bias)$")
MNIST_SHAPE = (1, 28, 28)
ACTIVATION_HINTS = ("relu", "tanh", "sigmoid")
POOLING_HINTS = ("max", "avg")


def torch_state(net: Sequential) -> dict[str, np.ndarray]:
    """Every parameter in PyTorch's layout, keyed '<layer>.<name>' (loadable by an equal nn.Sequential)."""
    out = {}
    for param in net.named_params():
        value = param.value
        if net.layers[param.layer].type == "dense" and param.name == "weight":
            value = value.T
        out[param.key] = np.ascontiguousarray(value)
    return out


def engine_state(layers: list[dict[str, Any]], tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """PyTorch-layout tensors keyed '<layer>.<name>' as the engine's state for `layers` (expanded specs)."""
    state = {}
    for key, value in tensors.items():
        index = int(key.split(".")[0])
        state[key] = value.T if layers[index]["type"] == "dense" and key.endswith(".weight") else value
    return state


def trainer_spec(layers: list[dict[str, Any]], input_shape: tuple[int, ...], name: str) -> dict[str, Any]:
    """A trainer spec for imported layers: the loss that suits the last layer (softmax → cross-entropy, raw
    logits of several classes → softmax cross-entropy, sigmoid → binary cross-entropy, else squared error)."""
    last = layers[-1]["type"]
    units = next((spec.get("units") for spec in reversed(layers) if spec["type"] == "dense"), 1)
    if last == "softmax":
        loss = "cross_entropy"
    elif last == "sigmoid":
        loss = "bce"
    elif last == "dense" and units and units > 1:
        loss = "softmax_cross_entropy"
    else:
        loss = "mse"
    return {"name": name, "input_shape": list(input_shape), "layers": layers, "loss": loss,
            "optimizer": {"type": "adam", "learning_rate": 1e-3}, "batch_size": 64, "seed": 0, "dtype": "float32",
            "shuffle": True}


# --- a state dict without its architecture: what sits between the parameters ---------------------------------


Weighted = tuple[int, str, dict[str, np.ndarray]]  # (module index, "dense" | "conv2d", its tensors)


def infer_layers(tensors: dict[str, np.ndarray], hints: dict[str, str]) -> tuple[list[dict[str, Any]],
                                                                                  dict[str, np.ndarray],
                                                                                  tuple[int, ...]]:
    """Layer specs, the tensors keyed by layer index, and the input shape of an `nn.Sequential` state dict.

    Parameter-free modules leave gaps in the numbering; a gap is read as the conventional order (after a
    convolution: activation, pooling, flatten; between dense layers: activation), with the activation and
    pooling of `hints` ('activation': relu|tanh|sigmoid, 'pooling': max|avg, default relu and max 2×2), and each
    convolution's padding (0 or k//2) chosen so the sizes meet the first dense layer's inputs.
    """
    kinds, prefix = _weighted_modules(tensors)
    activation = hints.get("activation", "relu")
    pooling = hints.get("pooling", "max")
    if activation not in ACTIVATION_HINTS:
        raise EngineError(f"activation hint must be one of {', '.join(ACTIVATION_HINTS)}, got {activation!r}")
    if pooling not in POOLING_HINTS:
        raise EngineError(f"pooling hint must be one of {', '.join(POOLING_HINTS)}, got {pooling!r}")
    input_shape, lead = _input_of(kinds, hints, prefix)
    convs = [int(p["weight"].shape[2]) for _, k, p in kinds if k == "conv2d"]
    last_error = ""
    for paddings in itertools.product(*[(0, k // 2) for k in convs]):
        layers = lead + _chain(kinds, list(paddings), activation, pooling, prefix)
        try:
            net = build_sequential(input_shape, layers)
        except EngineError as exc:
            last_error = str(exc)
            continue
        weighted = _param_layers(layers)
        if all(tuple(net.layers[i].params["weight"].shape) == _engine_shape(p["weight"], kind)
               for i, (_, kind, p) in zip(weighted, kinds, strict=True)):
            state = {f"{i}.{name}": value for i, (_, _, p) in zip(weighted, kinds, strict=True)
                     for name, value in p.items()}
            return layers, state, input_shape
    where = f" with paddings 0 or k//2 for its {len(convs)} convolution(s)" if convs else ""
    raise EngineError(f"the tensors' sizes do not chain into a network on inputs of shape {list(input_shape)}{where}"
                      f"{': ' + last_error if last_error else ''}; export with torch.onnx.export, or give the "
                      "input_shape hint")


def _weighted_modules(tensors: dict[str, np.ndarray]) -> tuple[list[Weighted], str]:
    """The modules with weights, in order, each checked (2-D dense or square 4-D conv, a bias to match)."""
    params: dict[int, dict[str, np.ndarray]] = {}
    prefixes = set()
    for key, value in tensors.items():
        match = PARAM_KEY.match(key)
        if match is None:
            raise EngineError(f"unsupported tensor '{key}': Glassbox imports the weights and biases of a sequential "
                              "network of dense and convolutional layers ('0.weight', '0.bias', …)")
        prefixes.add(match["prefix"])
        params.setdefault(int(match["index"]), {})[match["name"]] = value
    if not params:
        raise EngineError("the file holds no tensors")
    if len(prefixes) > 1:
        raise EngineError(f"the tensors come from several modules ({', '.join(sorted(prefixes))}); Glassbox imports "
                          "one nn.Sequential")
    prefix = prefixes.pop()
    return [_weighted(index, params[index], prefix) for index in sorted(params)], prefix


def _weighted(index: int, p: dict[str, np.ndarray], prefix: str) -> Weighted:
    weight = p.get("weight")
    if weight is None:
        raise EngineError(f"unsupported tensor '{prefix}{index}.bias': a bias without a weight")
    kind = {2: "dense", 4: "conv2d"}.get(weight.ndim)
    if kind is None:
        raise EngineError(f"unsupported tensor '{prefix}{index}.weight' of shape {list(weight.shape)}: dense "
                          "weights are 2-D (out, in), convolution kernels 4-D (out, in, k, k)")
    if kind == "conv2d" and weight.shape[2] != weight.shape[3]:
        raise EngineError(f"unsupported tensor '{prefix}{index}.weight': the engine's kernels are square, "
                          f"this one is {weight.shape[2]}×{weight.shape[3]}")
    bias = p.get("bias")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise EngineError(f"tensor '{prefix}{index}.bias' has shape {list(bias.shape)}, expected "
                          f"[{weight.shape[0]}] for its weight")
    return index, kind, p


def _input_of(kinds: list[Weighted], hints: dict[str, str], prefix: str) -> tuple[tuple[int, ...], list[dict]]:
    """The input shape, and the layers before the first weighted one (a flatten, for nn.Flatten at 0)."""
    first_index, first_kind, first = kinds[0]
    if "input_shape" in hints:
        input_shape = tuple(int(s) for s in str(hints["input_shape"]).replace("x", ",").split(",") if s.strip())
    elif first_kind == "conv2d":
        input_shape = (int(first["weight"].shape[1]), 28, 28)
    elif first_index == 1 and first["weight"].shape[1] == 784:
        input_shape = MNIST_SHAPE
    else:
        input_shape = (int(first["weight"].shape[1]),)
    if first_index == 1 and len(input_shape) > 1 and first_kind == "dense":
        return input_shape, [{"type": "flatten"}]
    if first_index != 0:
        raise EngineError(f"cannot tell which {first_index} layer(s) come before '{prefix}{first_index}.weight'; "
                          "export with torch.onnx.export, or start the nn.Sequential with its first weighted layer")
    return input_shape, []


def _chain(kinds: list[Weighted], paddings: list[int], activation: str, pooling: str,
           prefix: str) -> list[dict[str, Any]]:
    layers: list[dict[str, Any]] = []
    pads = iter(paddings)
    for n, (index, kind, p) in enumerate(kinds):
        w = p["weight"]
        if kind == "conv2d":
            layers.append({"type": "conv2d", "out_channels": int(w.shape[0]), "kernel_size": int(w.shape[2]),
                           "padding": next(pads), "bias": "bias" in p})
        else:
            layers.append({"type": "dense", "units": int(w.shape[0]), "bias": "bias" in p})
        if n + 1 < len(kinds):
            gap = kinds[n + 1][0] - index - 1
            layers += _gap_layers(kind, kinds[n + 1][1], gap, activation, pooling, f"{prefix}{index}")
    return layers


def _gap_layers(kind: str, next_kind: str, gap: int, activation: str, pooling: str, after: str) -> list[dict]:
    pool: dict[str, Any] = {"type": f"{pooling}pool2d", "size": 2}
    act: dict[str, Any] = {"type": activation}
    options: dict[int, list[dict[str, Any]]]
    if kind == "conv2d" and next_kind == "dense":
        options = {1: [{"type": "flatten"}], 2: [act, {"type": "flatten"}], 3: [act, pool, {"type": "flatten"}]}
    elif kind == "conv2d":
        options = {0: [], 1: [act], 2: [act, pool]}
    elif next_kind == "dense":
        options = {0: [], 1: [act]}
    else:
        raise EngineError(f"a convolution after the dense layer '{after}' is not a sequential network Glassbox "
                          "can draw")
    if gap not in options:
        raise EngineError(f"cannot tell which {gap} layer(s) follow '{after}'; export with torch.onnx.export so "
                          "the file names every operator")
    return [dict(spec) for spec in options[gap]]


def _param_layers(layers: list[dict[str, Any]]) -> list[int]:
    return [i for i, spec in enumerate(layers) if spec["type"] in ("dense", "conv2d")]


def _engine_shape(weight: np.ndarray, kind: str) -> tuple[int, ...]:
    return tuple(weight.shape[::-1]) if kind == "dense" else tuple(weight.shape)
