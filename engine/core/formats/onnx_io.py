"""ONNX in and out for sequential networks of the engine's layers (needs the `onnx` package: the `formats` extra).

Import walks the graph as a chain, node after node, each reading the previous one's output, and maps each
operator onto a layer: Gemm or MatMul(+Add) → dense, Conv → conv2d, MaxPool / AveragePool → pooling,
Flatten / Reshape to (batch, features) → flatten, Relu / Tanh / Sigmoid / Softmax → activations (Identity and
Constant nodes add nothing). The first operator, attribute or tensor that falls outside that is refused with an
EngineError that names it. Tensors stored outside the file (external data) are refused: an upload never makes
the server read a path.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from engine.core.errors import EngineError
from engine.core.network import Sequential

OPSET = 17
SUPPORTED = ("Gemm", "MatMul", "Add", "Relu", "Tanh", "Sigmoid", "Softmax", "Conv", "MaxPool", "AveragePool",
             "Flatten", "Reshape", "Identity", "Constant")
ACTIVATION_OPS = {"Relu": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softmax": "softmax", "Identity": None}
EXPORT_OPS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "softmax": "Softmax", "linear": "Identity"}


def _onnx() -> Any:
    try:
        import onnx
    except ModuleNotFoundError:
        raise EngineError("ONNX needs the onnx package: pip install 'glassbox-nn[formats]'") from None
    return onnx


# --- import --------------------------------------------------------------------------------------------------


class _Graph:
    def __init__(self, model: Any) -> None:
        onnx = _onnx()
        self.numpy_helper = onnx.numpy_helper
        self.graph = model.graph
        self.values: dict[str, np.ndarray] = {}
        for tensor in self.graph.initializer:
            self.values[tensor.name] = self.array(tensor)

    def array(self, tensor: Any) -> np.ndarray:
        if tensor.data_location == 1 or len(tensor.external_data):  # TensorProto.EXTERNAL
            raise EngineError(f"tensor '{tensor.name}' is stored outside the file (external data); save the model "
                              "with its weights inside (onnx.save(model, path, save_as_external_data=False))")
        try:
            value = self.numpy_helper.to_array(tensor)
        except Exception as exc:  # noqa: BLE001 - onnx raises several kinds for a malformed tensor
            raise EngineError(f"tensor '{tensor.name}' cannot be read: {exc}") from None
        return np.asarray(value)

    def constant(self, name: str, node: Any) -> np.ndarray:
        if name not in self.values:
            raise EngineError(f"node '{node.name or node.op_type}' ({node.op_type}) reads '{name}', which is neither "
                              "the previous layer's output nor a stored tensor")
        return self.values[name]


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _check_attrs(node: Any, attrs: dict[str, Any], allowed: dict[str, Any]) -> None:
    """Refuse an attribute the engine does not model, or one set to a value other than the one it supports."""
    for key, value in attrs.items():
        if key not in allowed:
            raise EngineError(f"unsupported attribute '{key}' of {node.op_type} node '{node.name}'")
        ok = allowed[key]
        if ok is not None and not ok(value):
            shown = value.decode() if isinstance(value, bytes) else value
            raise EngineError(f"unsupported {node.op_type} {key}={shown!r} (node '{node.name}')")


def load_model(data: bytes) -> Any:
    onnx = _onnx()
    try:
        return onnx.load_model_from_string(data)
    except Exception as exc:  # noqa: BLE001 - protobuf's DecodeError and friends
        raise EngineError(f"not an ONNX model: {exc}") from None


def glassbox_export(model: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The spec and engine-layout weights of a model Glassbox exported (its features computed in the graph), or
    None for any other model."""
    props = {p.key: p.value for p in model.metadata_props}
    if "glassbox_spec" not in props or model.producer_name != "glassbox":
        return None
    try:
        spec = json.loads(props["glassbox_spec"])
    except json.JSONDecodeError as exc:
        raise EngineError(f"the model's glassbox_spec is not JSON: {exc}") from None
    g = _Graph(model)
    return spec, {name: value for name, value in g.values.items() if name.split(".")[-1] in ("weight", "bias")}


def read_onnx(data: bytes) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], tuple[int, ...]]:
    """Layer specs, the engine's state for them ('<layer>.<name>'), and the input shape of an ONNX file."""
    return read_graph(load_model(data))


def read_graph(model: Any) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], tuple[int, ...]]:
    """Layer specs, the engine's state and the input shape of a model's graph (a chain of supported nodes)."""
    return _ChainReader(_Graph(model)).read()


def _input_shape(g: _Graph) -> tuple[str, tuple[int, ...]]:
    inputs = [i for i in g.graph.input if i.name not in g.values]
    if len(inputs) != 1:
        raise EngineError(f"a sequential network has one input; this graph has {len(inputs)} "
                          f"({', '.join(i.name for i in inputs)})")
    dims = inputs[0].type.tensor_type.shape.dim
    shape = [d.dim_value if d.HasField("dim_value") else None for d in dims][1:]
    if not dims or not shape or any(s is None or s < 1 for s in shape):
        raise EngineError(f"input '{inputs[0].name}' needs fixed sizes after the batch axis, got "
                          f"{[d.dim_param or d.dim_value for d in dims]}")
    return inputs[0].name, tuple(int(s or 0) for s in shape)


class _ChainReader:
    """Walks the nodes in order, each reading the previous one's output, turning each into a layer."""

    def __init__(self, g: _Graph) -> None:
        self.g = g
        self.current, input_shape = _input_shape(g)
        self.input_shape = input_shape
        self.flat = len(input_shape) == 1
        self.layers: list[dict[str, Any]] = []
        self.state: dict[str, np.ndarray] = {}
        self.nodes = list(g.graph.node)
        self.skip: set[int] = set()

    def read(self) -> tuple[list[dict[str, Any]], dict[str, np.ndarray], tuple[int, ...]]:
        handlers = {"Gemm": self._dense, "MatMul": self._dense, "Conv": self._conv, "MaxPool": self._pool,
                    "AveragePool": self._pool, "Flatten": self._flatten, "Reshape": self._reshape}
        for n, node in enumerate(self.nodes):
            if n in self.skip:
                continue
            where = f"node '{node.name}'" if node.name else f"node {n}"
            self._check_supported(node, where)
            if node.op_type == "Constant":
                self._constant(node, where)
                continue
            if node.input[0] != self.current:
                raise EngineError(f"the graph is not a chain: {node.op_type} {where} reads '{node.input[0]}' instead "
                                  f"of the previous layer's output '{self.current}'")
            attrs = _attributes(node)
            if node.op_type in ACTIVATION_OPS:
                self._activation(node, attrs, where)
            else:
                handlers[node.op_type](node, attrs, where, n)
        outputs = [o.name for o in self.g.graph.output]
        if outputs != [self.current]:
            raise EngineError(f"the graph's output {outputs} is not the last layer's output '{self.current}'")
        if not self.layers:
            raise EngineError("the graph has no layers")
        return self.layers, self.state, self.input_shape

    @staticmethod
    def _check_supported(node: Any, where: str) -> None:
        if node.domain not in ("", "ai.onnx") or node.op_type not in SUPPORTED:
            raise EngineError(f"unsupported operator '{node.op_type}' ({where}); Glassbox imports "
                              f"{', '.join(s for s in SUPPORTED if s not in ('Identity', 'Constant'))}")
        if node.op_type == "Add":
            raise EngineError(f"unsupported operator 'Add' ({where}) that is not a MatMul's bias")

    def _constant(self, node: Any, where: str) -> None:
        attrs = _attributes(node)
        if "value" not in attrs:
            raise EngineError(f"unsupported Constant form ({where}): only 'value' tensors")
        self.g.values[node.output[0]] = self.g.array(attrs["value"])

    def _add_weights(self, weight: np.ndarray, bias: np.ndarray | None) -> None:
        index = len(self.layers) - 1
        self.state[f"{index}.weight"] = weight
        if bias is not None:
            self.state[f"{index}.bias"] = np.array(bias)

    def _dense(self, node: Any, attrs: dict[str, Any], where: str, n: int) -> None:
        op = node.op_type
        if not self.flat:
            raise EngineError(f"{op} {where} reads a {len(self.input_shape)}-D tensor; flatten it first")
        if op == "Gemm":
            _check_attrs(node, attrs, {"alpha": lambda v: v == 1.0, "beta": lambda v: v == 1.0,
                                       "transA": lambda v: v == 0, "transB": None})
        weight = self.g.constant(node.input[1], node)
        out_name = node.output[0]
        if op == "Gemm":
            weight = weight.T if attrs.get("transB", 0) else weight
            bias = self.g.constant(node.input[2], node) if len(node.input) > 2 and node.input[2] else None
        else:
            bias = None
            follower = self.nodes[n + 1] if n + 1 < len(self.nodes) else None
            if follower is not None and follower.op_type == "Add" and out_name in follower.input:
                bias = self.g.constant([i for i in follower.input if i != out_name][0], follower)
                out_name = follower.output[0]
                self.skip.add(n + 1)
        if weight.ndim != 2:
            raise EngineError(f"unsupported tensor '{node.input[1]}' of shape {list(weight.shape)} for {op}")
        if bias is not None and bias.size not in (1, weight.shape[1]):
            raise EngineError(f"{op} {where}: its bias does not match its {weight.shape[1]} outputs")
        self.layers.append({"type": "dense", "units": int(weight.shape[1]), "bias": bias is not None})
        self._add_weights(weight, None if bias is None else np.broadcast_to(bias, (weight.shape[1],)))
        self.current = out_name

    def _activation(self, node: Any, attrs: dict[str, Any], where: str) -> None:
        op = node.op_type
        if op == "Softmax":
            axis = attrs.get("axis", -1)
            if not self.flat or axis not in (-1, 1):
                raise EngineError(f"unsupported Softmax over axis {axis} ({where}): the engine's softmax runs "
                                  "over a flat layer's units")
        elif attrs:
            raise EngineError(f"unsupported attribute '{next(iter(attrs))}' of {op} ({where})")
        if ACTIVATION_OPS[op] is not None:
            self.layers.append({"type": ACTIVATION_OPS[op]})
        self.current = node.output[0]

    def _images_only(self, node: Any, where: str) -> None:
        if self.flat:
            raise EngineError(f"{node.op_type} {where} reads a flat tensor; the engine's {node.op_type} reads "
                              "images (C, H, W)")

    def _conv(self, node: Any, attrs: dict[str, Any], where: str, n: int) -> None:
        self._images_only(node, where)
        weight = self.g.constant(node.input[1], node)
        if weight.ndim != 4 or weight.shape[2] != weight.shape[3]:
            raise EngineError(f"unsupported tensor '{node.input[1]}' of shape {list(weight.shape)}: the "
                              "engine's convolutions have square 2-D kernels (out, in, k, k)")
        _check_attrs(node, attrs, {
            "kernel_shape": lambda v, k=list(weight.shape[2:]): list(v) == k, "group": lambda v: v == 1,
            "dilations": lambda v: all(d == 1 for d in v), "pads": lambda v: len(set(v)) == 1,
            "strides": lambda v: len(set(v)) == 1, "auto_pad": lambda v: v in (b"NOTSET", b"VALID")})
        bias = self.g.constant(node.input[2], node) if len(node.input) > 2 and node.input[2] else None
        self.layers.append({"type": "conv2d", "out_channels": int(weight.shape[0]),
                            "kernel_size": int(weight.shape[2]), "stride": int(attrs.get("strides", [1])[0]),
                            "padding": int(attrs.get("pads", [0])[0]), "bias": bias is not None})
        self._add_weights(weight, bias)
        self.current = node.output[0]

    def _pool(self, node: Any, attrs: dict[str, Any], where: str, n: int) -> None:
        self._images_only(node, where)
        _check_attrs(node, attrs, {
            "kernel_shape": lambda v: len(v) == 2 and v[0] == v[1], "strides": lambda v: len(set(v)) == 1,
            "pads": lambda v: not any(v), "ceil_mode": lambda v: v == 0,
            "dilations": lambda v: all(d == 1 for d in v), "storage_order": lambda v: v == 0,
            "count_include_pad": None, "auto_pad": lambda v: v in (b"NOTSET", b"VALID")})
        if len(node.output) > 1 and node.output[1]:
            raise EngineError(f"unsupported MaxPool indices output ({where})")
        self.layers.append({"type": "maxpool2d" if node.op_type == "MaxPool" else "avgpool2d",
                            "size": int(attrs.get("kernel_shape", [0])[0]),
                            "stride": int(attrs.get("strides", [1])[0])})
        self.current = node.output[0]

    def _flatten(self, node: Any, attrs: dict[str, Any], where: str, n: int) -> None:
        _check_attrs(node, attrs, {"axis": lambda v: v == 1})
        self.layers.append({"type": "flatten"})
        self.flat = True
        self.current = node.output[0]

    def _reshape(self, node: Any, attrs: dict[str, Any], where: str, n: int) -> None:
        target = [int(v) for v in self.g.constant(node.input[1], node).reshape(-1)]
        _check_attrs(node, attrs, {"allowzero": lambda v: v == 0})
        if len(target) != 2 or target[0] not in (-1, 0, 1) or target[1] == 0:
            raise EngineError(f"unsupported Reshape to {target} ({where}): only a flatten to (batch, features)")
        self._flatten(node, {}, where, n)


# --- export --------------------------------------------------------------------------------------------------


def _feature_nodes(features: list[str], raw_inputs: int, dtype: np.dtype) -> tuple[list, list, str]:
    """Playground features (x1, x2, x1², x2², x1·x2, sin x1, sin x2) computed from the raw points in the graph,
    so the model reads what the engine's forward reads."""
    from onnx import helper, numpy_helper

    inits = [numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1")]
    nodes = []
    for j in range(raw_inputs):
        inits += [numpy_helper.from_array(np.array([j], dtype=np.int64), f"at{j}"),
                  numpy_helper.from_array(np.array([j + 1], dtype=np.int64), f"to{j}")]
        nodes.append(helper.make_node("Slice", ["input", f"at{j}", f"to{j}", "axis1"], [f"x{j + 1}"],
                                      name=f"column{j + 1}"))
    recipes = {"x1": ("Identity", ["x1"]), "x2": ("Identity", ["x2"]), "x1sq": ("Mul", ["x1", "x1"]),
               "x2sq": ("Mul", ["x2", "x2"]), "x1x2": ("Mul", ["x1", "x2"]), "sinx1": ("Sin", ["x1"]),
               "sinx2": ("Sin", ["x2"])}
    for feature in features:
        op, inputs = recipes[feature]
        nodes.append(helper.make_node(op, inputs, [f"feature_{feature}"], name=f"feature_{feature}"))
    nodes.append(helper.make_node("Concat", [f"feature_{f}" for f in features], ["features"], name="features",
                                  axis=1))
    return nodes, inits, "features"


def write_onnx(net: Sequential, spec: dict[str, Any], name: str, raw_inputs: int | None = None) -> bytes:
    """The network as an ONNX model (opset 17): input 'input' (batch, …input shape; the raw points when the
    network reads Playground features, which the graph computes), output 'output'."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    elem = TensorProto.DOUBLE if net.dtype == np.float64 else TensorProto.FLOAT
    nodes: list[Any] = []
    inits: list[Any] = []
    current = "input"
    input_shape: tuple[int, ...] = tuple(net.input_shape)
    if spec.get("features"):
        raw_inputs = raw_inputs or 2
        nodes, inits, current = _feature_nodes(spec["features"], raw_inputs, net.dtype)
        input_shape = (raw_inputs,)
    for i, built in enumerate(net.layers):
        out = f"layer{i}"
        kind = built.type
        layer: Any = built  # Conv2D's kernel_size/stride/padding, the pools' size/stride
        if kind == "dense":
            inits.append(numpy_helper.from_array(layer.params["weight"], f"{i}.weight"))
            inputs = [current, f"{i}.weight"]
            if "bias" in layer.params:
                inits.append(numpy_helper.from_array(layer.params["bias"], f"{i}.bias"))
                inputs.append(f"{i}.bias")
            nodes.append(helper.make_node("Gemm", inputs, [out], name=f"dense{i}"))
        elif kind == "conv2d":
            inits.append(numpy_helper.from_array(layer.params["weight"], f"{i}.weight"))
            inputs = [current, f"{i}.weight"]
            if "bias" in layer.params:
                inits.append(numpy_helper.from_array(layer.params["bias"], f"{i}.bias"))
                inputs.append(f"{i}.bias")
            k, s, p = layer.kernel_size, layer.stride, layer.padding
            nodes.append(helper.make_node("Conv", inputs, [out], name=f"conv{i}", kernel_shape=[k, k],
                                          strides=[s, s], pads=[p, p, p, p]))
        elif kind in ("maxpool2d", "avgpool2d"):
            op = "MaxPool" if kind == "maxpool2d" else "AveragePool"
            nodes.append(helper.make_node(op, [current], [out], name=f"pool{i}", kernel_shape=[layer.size] * 2,
                                          strides=[layer.stride] * 2))
        elif kind == "flatten":
            nodes.append(helper.make_node("Flatten", [current], [out], name=f"flatten{i}", axis=1))
        elif kind in EXPORT_OPS:
            extra: dict[str, Any] = {"axis": -1} if kind == "softmax" else {}
            nodes.append(helper.make_node(EXPORT_OPS[kind], [current], [out], name=f"{kind}{i}", **extra))
        else:
            raise EngineError(f"layer {i} ({kind}) has no ONNX operator; export json or npz instead")
        current = out
    nodes[-1].output[0] = "output"
    out_shape = net.layers[-1].output_shape
    assert out_shape is not None, "a network's layers are built with their shapes"
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("input", elem, ["batch", *input_shape])],
        [helper.make_tensor_value_info("output", elem, ["batch", *out_shape])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="glassbox")
    model.ir_version = 8
    helper.set_model_props(model, {"glassbox_spec": json.dumps(spec)})
    onnx.checker.check_model(model)
    return model.SerializeToString()
