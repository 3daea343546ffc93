"""The Playground's configuration: what a person sets on the page, turned into a network spec and data.

A configuration is a flat dict (the page keeps it in the URL hash):
    dataset, noise, train_ratio, data_seed   which points (noise 0–0.5, ratio 0.1–0.9)
    features                                 input features (x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2)
    hidden, activation, activations          hidden layer sizes, the activation (per layer when given)
    loss                                     "mse" (½(t − o)²) or "cross_entropy"
    optimizer, learning_rate, batch_size, regularization, reg_rate, seed
The output layer follows from the data: one tanh neuron learning ±1 for two classes with squared error (as
TensorFlow Playground), one sigmoid neuron with binary cross-entropy, three softmax neurons for the
three-class spiral, one linear neuron for regression and curve fitting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.core.activations import canonical_activation
from engine.core.errors import EngineError
from engine.dense.datasets import CURVE_FORMULAS, CURVES, DATASETS, Dataset, grid, make_dataset
from engine.dense.features import FEATURES, ONE_D_FEATURES, check_features
from engine.dense.neuron_maps import NeuronMaps, dense_outputs, quantize
from engine.dense.presets import register_preset
from engine.dense.trainer import Trainer, dataset_from_config

MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 8  # the page's "+" stops here, as TensorFlow Playground's does
MAX_NEURONS_PRESET = 32  # presets and links may go wider (the gallery's layer of 20)
MAX_BATCH_SIZE = 30
HIDDEN_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
LOSSES = ("mse", "cross_entropy")
OPTIMIZERS = ("sgd", "momentum", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
# The page's choices, as TensorFlow Playground offers them.
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
REG_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
# TensorFlow Playground's starting weights: uniform(−0.5, 0.5), every bias 0.1.
WEIGHT_INIT = {"init": "uniform", "bias_init": 0.1}

DEFAULT_CONFIG: dict[str, Any] = {
    "dataset": "circle",
    "noise": 0.0,
    "train_ratio": 0.5,
    "data_seed": 0,
    "features": ["x1", "x2"],
    "hidden": [4, 2],
    "activation": "tanh",
    "activations": None,
    "loss": "mse",
    "optimizer": "sgd",
    "learning_rate": 0.03,
    "batch_size": 10,
    "regularization": "none",
    "reg_rate": 0.0,
    "seed": 0,
}

TITLES = {
    "circle": "Circle", "xor": "Exclusive or", "gauss": "Gaussian", "spiral": "Spiral",
    "spiral3": "Three-class spiral", "plane": "Plane", "multigauss": "Multi-Gaussian",
    "sin": "sin x", "abs": "|x|", "step": "Step", "xsinx": "x · sin x", "custom": "Your data",
}


def task_of(dataset: str) -> str:
    if dataset not in DATASETS:
        raise EngineError(f"unknown data set '{dataset}'; use one of: {', '.join(DATASETS)}")
    return DATASETS[dataset][1]


def is_curve(dataset: str) -> bool:
    """1-D curve fitting (x ↦ y), drawn as a line plot rather than a heatmap."""
    return dataset in CURVES


def input_dim_of(dataset: str) -> int:
    return 1 if is_curve(dataset) else 2


def kind_of(input_dim: int) -> str:
    """How the page draws data of this dimension: "curve" (a line plot) or "plane" (a heatmap)."""
    return "curve" if input_dim == 1 else "plane"


def normalize_config(config: dict[str, Any]) -> dict[str, Any]:
    """Fill defaults and check every field, with messages that say what to fix."""
    unknown = set(config) - set(DEFAULT_CONFIG)
    if unknown:
        raise EngineError(f"unknown Playground settings {sorted(unknown)}; known: {sorted(DEFAULT_CONFIG)}")
    out = {**DEFAULT_CONFIG, **{k: v for k, v in config.items() if v is not None or k == "activations"}}
    task = task_of(out["dataset"])
    features = list(out["features"])
    check_features(features, input_dim_of(out["dataset"]))
    out["features"] = [name for name in FEATURES if name in features]  # the page's order, always
    _check_layers(out)
    _check_choices(out, task)
    for key, low, high in (("noise", 0.0, 0.5), ("train_ratio", 0.1, 0.9), ("learning_rate", 1e-7, 10.0),
                           ("reg_rate", 0.0, 10.0)):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise EngineError(f"{key} must be a number from {low:g} to {high:g}, got {value!r}")
        out[key] = float(value)
    for key in ("seed", "data_seed"):
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise EngineError(f"{key} must be a whole number from 0 to 2³² − 1, got {value!r}")
    return out


def _check_layers(out: dict[str, Any]) -> None:
    """Hidden layer sizes and their activations, in place (one activation for all is stored as None)."""
    hidden = out["hidden"]
    if not isinstance(hidden, list) or len(hidden) > MAX_HIDDEN_LAYERS:
        raise EngineError(f"hidden must be a list of at most {MAX_HIDDEN_LAYERS} layer sizes, got {hidden!r}")
    for units in hidden:
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_NEURONS_PRESET:
            raise EngineError(f"each hidden layer has 1 to {MAX_NEURONS_PRESET} neurons, got {units!r}")
    out["activation"] = _hidden_activation(out["activation"])
    if out["activations"] is not None:
        acts = out["activations"]
        if not isinstance(acts, list) or len(acts) != len(hidden):
            raise EngineError(f"activations must list one activation per hidden layer ({len(hidden)}), got {acts!r}")
        out["activations"] = [_hidden_activation(a) if a else out["activation"] for a in acts]
        if all(a == out["activation"] for a in out["activations"]):
            out["activations"] = None


def _check_choices(out: dict[str, Any], task: str) -> None:
    """The loss, optimiser, regularisation and batch size."""
    if out["loss"] not in LOSSES:
        raise EngineError(f"loss must be one of {list(LOSSES)}, got {out['loss']!r}")
    if out["loss"] == "cross_entropy" and task == "regression":
        raise EngineError("cross-entropy compares classes; regression and curve data use squared error ('mse')")
    if out["optimizer"] not in OPTIMIZERS:
        raise EngineError(f"optimizer must be one of {list(OPTIMIZERS)}, got {out['optimizer']!r}")
    if out["regularization"] not in REGULARIZATIONS:
        raise EngineError(f"regularization must be one of {list(REGULARIZATIONS)}, got {out['regularization']!r}")
    batch = out["batch_size"]
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH_SIZE:
        raise EngineError(f"batch_size must be a whole number from 1 to {MAX_BATCH_SIZE}, got {batch!r}")


def _hidden_activation(name: Any) -> str:
    key = canonical_activation(str(name))
    if key not in HIDDEN_ACTIVATIONS:
        raise EngineError(f"hidden layers use one of {list(HIDDEN_ACTIVATIONS)}, got {name!r}")
    return key


def layer_activations(config: dict[str, Any]) -> list[str]:
    return config["activations"] or [config["activation"]] * len(config["hidden"])


def output_layer(task: str, loss: str) -> tuple[dict[str, Any], str]:
    """The output layer and the engine loss for a task and the page's loss choice."""
    if task == "multiclass":
        return {"type": "dense", "units": 3, "activation": "softmax", **WEIGHT_INIT}, (
            "cross_entropy" if loss == "cross_entropy" else "mse")
    if task == "binary" and loss == "cross_entropy":
        return {"type": "dense", "units": 1, "activation": "sigmoid", **WEIGHT_INIT}, "bce"
    activation = "tanh" if task == "binary" else "linear"
    return {"type": "dense", "units": 1, "activation": activation, **WEIGHT_INIT}, "mse"


def spec_from_config(config: dict[str, Any]) -> dict[str, Any]:
    config = normalize_config(config)
    layers = [{"type": "dense", "units": units, "activation": act, **WEIGHT_INIT}
              for units, act in zip(config["hidden"], layer_activations(config), strict=True)]
    out_layer, loss = output_layer(task_of(config["dataset"]), config["loss"])
    optimizer: dict[str, Any] = {"type": config["optimizer"], "learning_rate": config["learning_rate"],
                                 "regularization": config["regularization"], "reg_rate": config["reg_rate"]}
    return {"name": f"playground-{config['dataset']}", "features": config["features"], "layers": [*layers, out_layer],
            "loss": loss, "optimizer": optimizer, "batch_size": config["batch_size"], "seed": config["seed"]}


def data_config(config: dict[str, Any]) -> dict[str, Any]:
    """The data set a configuration names, as POST /api/networks takes it."""
    return {"name": config["dataset"], "noise": config["noise"], "train_ratio": config["train_ratio"],
            "seed": config["data_seed"]}


def trainer_from_config(config: dict[str, Any], data: Dataset | None = None,
                        max_params: int | None = None) -> Trainer:
    """A fresh network for a configuration, on `data` or else on the data set the configuration names."""
    config = normalize_config(config)
    return Trainer(spec_from_config(config), data if data is not None else dataset_from_config(data_config(config)),
                   max_params)


def reusable_data(data: Dataset | None, config: dict[str, Any]) -> Dataset | None:
    """The points a network rebuilt for `config` keeps: `data` (with any hand edits) when it is the same
    generated set, or uploaded points, and of the kind and task the configuration's data set has; else None."""
    if data is None:
        return None
    source = data.source
    same = source.get("name") == "custom" or all(source.get(k) == v for k, v in data_config(config).items())
    fits = data.input_dim == input_dim_of(config["dataset"]) and data.task == task_of(config["dataset"])
    return data if same and fits else None


def config_from_trainer(trainer: Trainer) -> dict[str, Any]:
    """Read a Playground configuration back from any network session built like one (also an imported one).

    Raises EngineError when the network is not Playground-shaped (no input features, layers that are not
    dense + activation pairs, more than the Playground's sizes).
    """
    spec, net = trainer.spec, trainer.net
    if not spec.get("features"):
        raise EngineError("this network takes raw inputs, not Playground features (x1, x2, …)")
    types = [layer.type for layer in net.layers]
    if len(types) % 2 or any(t != "dense" for t in types[::2]):
        raise EngineError("a Playground network alternates dense layers and activations; this one has "
                          f"{', '.join(types)}")
    units = [layer.out_features for layer in net.layers[::2]]  # type: ignore[attr-defined]
    acts = types[1::2]
    hidden, hidden_acts = units[:-1], acts[:-1]
    out_act, loss = acts[-1], trainer.loss.name
    loss_choice = {"mse": "mse", "bce": "cross_entropy", "cross_entropy": "cross_entropy"}.get(loss)
    if loss_choice is None:
        raise EngineError(f"the Playground has no loss '{loss}'")
    opt = trainer.optimizer
    source = trainer.data.source if trainer.data is not None else {}
    if source.get("name") in DATASETS:
        dataset = source["name"]
    else:  # no data or uploaded points: pick the built-in set of the same kind
        guess = {("sigmoid", 1): "circle", ("tanh", 1): "circle", ("softmax", 3): "spiral3",
                 ("linear", 1): "sin" if spec["features"] == ["x1"] else "plane"}
        dataset = guess.get((out_act, units[-1]), "circle")
    config = {
        "dataset": dataset,
        "noise": float(source.get("noise", 0.0)),
        "train_ratio": float(source.get("train_ratio", 0.5)),
        "data_seed": int(source.get("seed", 0)),
        "features": list(spec["features"]),
        "hidden": hidden,
        # The page's global choice is not stored in a network: take the commonest (ties: the last layer's).
        "activation": max(reversed(hidden_acts), key=hidden_acts.count) if hidden_acts else "tanh",
        "activations": hidden_acts if len(set(hidden_acts)) > 1 else None,
        "loss": loss_choice,
        "optimizer": opt.name,
        "learning_rate": opt.learning_rate,
        "batch_size": int(spec["batch_size"]),
        "regularization": opt.regularization,
        "reg_rate": opt.reg_rate,
        "seed": int(spec.get("seed", 0)),
    }
    normalized = normalize_config(config)
    expected, _ = output_layer(task_of(dataset), normalized["loss"])
    if (expected["units"], expected["activation"]) != (units[-1], out_act):
        raise EngineError(f"the output layer ({units[-1]} × {out_act}) does not suit '{dataset}' data")
    return normalized


def check_data_fits(trainer: Trainer, task: str, input_dim: int) -> None:
    """Data of this task and dimension can train this network (else say what to rebuild)."""
    features = trainer.spec.get("features")
    if features is not None and input_dim == 1 and any(f not in ONE_D_FEATURES for f in features):
        raise EngineError(f"1-D data can only feed the features {', '.join(ONE_D_FEATURES)}; this network uses "
                          f"{', '.join(features)}")
    out_units = trainer.net.output_shapes()[-1][0]
    need = 3 if task == "multiclass" else 1
    if out_units != need:
        raise EngineError(f"the network has {out_units} output neuron(s) but {task} data need {need}; rebuild it "
                          "for this data (PUT /api/playground/{id} with the new data set)")


# --- universal approximation gallery -------------------------------------------

GALLERY: dict[str, dict[str, Any]] = {}


def _gallery_entry(dataset: str, units: int) -> None:
    name = f"ua-{dataset}-{units}"
    # Adam at 0.01 lets the 20-neuron layer wind round the spiral within the gallery's epochs (SGD needs many
    # more); the same settings for every card, so only the width differs.
    config = normalize_config({"dataset": dataset, "hidden": [units], "activation": "tanh", "optimizer": "adam",
                               "learning_rate": 0.01, "noise": 0.0, "batch_size": 10})
    GALLERY[name] = config

    @register_preset(name, f"Universal approximation: one hidden layer of {units} tanh neurons on the "
                           f"{TITLES[dataset].lower()} data (Adam, learning rate 0.01).")
    def preset() -> dict[str, Any]:
        return {"spec": spec_from_config(config), "data": data_config(config)}


for _dataset in ("circle", "spiral"):
    for _units in (3, 6, 20):
        _gallery_entry(_dataset, _units)


# Epochs each gallery card trains: the circle is settled by 200, the spiral's wide layer needs about 500.
GALLERY_EPOCHS = {"circle": 200, "spiral": 500}
GALLERY_RESOLUTION = 50


def train_gallery_preset(name: str, epochs: int | None = None) -> dict[str, Any]:
    """Train a gallery preset from its seeds and return its losses and its output over the plane
    (GALLERY_RESOLUTION², uint8 over [−1, 1])."""
    if name not in GALLERY:
        raise EngineError(f"no gallery preset '{name}'; use one of: {', '.join(GALLERY)}")
    config = GALLERY[name]
    trainer = trainer_from_config(config)
    trainer.train(epochs=GALLERY_EPOCHS[config["dataset"]] if epochs is None else epochs)
    maps = NeuronMaps(config["features"], 2, trainer.net.dtype)
    points = maps.features_of(grid(GALLERY_RESOLUTION))
    out = dense_outputs(trainer.net, points)[-1][:, 0].reshape(GALLERY_RESOLUTION, GALLERY_RESOLUTION)
    last = trainer.history[-1]
    data = trainer.data
    assert data is not None  # trainer_from_config always gives a preset its data set
    return {"epochs": trainer.epoch, "train_loss": last["train_loss"], "test_loss": last["test_loss"],
            "test_accuracy": last["test_accuracy"], "output": quantize(out, -1.0, 1.0),
            "points": {"x": data.x_train, "y": data.y_train.astype(np.float64)}}


# --- what the page's pickers show ----------------------------------------------------------------------


def catalog() -> dict[str, Any]:
    """Each data set with a small noise-free preview, each input feature over the plane (and along x for the
    1-D ones), the allowed values of every setting, the defaults and the gallery. Arrays stay NumPy."""
    datasets = []
    for name, (_, task, _) in DATASETS.items():
        curve = is_curve(name)
        preview = make_dataset(name, seed=0, train_ratio=0.9, num_samples=120 if curve else 240)
        x = np.concatenate([preview.x_train, preview.x_test])
        y = np.concatenate([preview.y_train, preview.y_test]).astype(np.float64)
        datasets.append({"name": name, "title": TITLES[name], "task": task, "kind": kind_of(preview.input_dim),
                         "formula": CURVE_FORMULAS.get(name), "preview": {"x": x, "y": y}})
    plane = NeuronMaps(list(FEATURES), 2, np.dtype(np.float32)).feature_maps()
    line = NeuronMaps(list(ONE_D_FEATURES), 1, np.dtype(np.float32))
    curves = dict(zip(ONE_D_FEATURES, line.feature_maps(), strict=True))
    features = [{"name": name, "label": label, "map": plane[i], "curve": curves.get(name)}
                for i, (name, (label, _)) in enumerate(FEATURES.items())]
    choices = {"learning_rates": LEARNING_RATES, "reg_rates": REG_RATES, "activations": HIDDEN_ACTIVATIONS,
               "losses": LOSSES, "optimizers": OPTIMIZERS, "regularizations": REGULARIZATIONS,
               "max_hidden_layers": MAX_HIDDEN_LAYERS, "max_neurons": MAX_NEURONS, "max_batch_size": MAX_BATCH_SIZE,
               "one_d_features": ONE_D_FEATURES}
    gallery = [{"name": name, "title": f"{TITLES[c['dataset']]}, {c['hidden'][0]} neurons",
                "description": f"One hidden layer of {c['hidden'][0]} tanh neurons", "config": c}
               for name, c in GALLERY.items()]
    return {"datasets": datasets, "features": features, "axis": line.axis, "choices": choices,
            "defaults": DEFAULT_CONFIG, "gallery": gallery}
