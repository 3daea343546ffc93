"""The neuron page and its API: activations and losses on lists of points, one neuron, its input plane."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.core.activations import ACTIVATIONS, ALIASES, activation_names, canonical_activation
from engine.core.losses import get_loss
from engine.dense import neuron

from ..arrays import encode
from ..errors import too_large
from ..pages import render
from ..schemas.neuron import (
    ActivationList,
    ActivationRequest,
    ActivationResult,
    LossRequest,
    LossResult,
    NeuronRequest,
    NeuronResult,
    PlaneRequest,
    PlaneResult,
)
from ..settings import Settings
from .deps import Config, Enc

PAGE = {
    "path": "/neuron",
    "title": "Neuron",
    "blurb": "Where it starts: one neuron weighs its inputs, adds a bias and fires through an activation. "
             "Turn every knob, compare step, sigmoid, tanh, ReLU and softmax, drag its decision line, "
             "and see why cross-entropy beats squared error.",
    "order": 1,
}

router = APIRouter()


def check_count(what: str, count: int, settings: Settings) -> None:
    if count > settings.max_function_points:
        raise too_large(what, count, settings.max_function_points, "max_function_points")


@router.get("/neuron", response_class=HTMLResponse, include_in_schema=False)
def neuron_page(request: Request) -> HTMLResponse:
    return render(request, "neuron.html", title=PAGE["title"])


@router.get("/api/functions/activations", response_model=ActivationList, tags=["neuron"],
            summary="The activations the engine knows (network layer types and hidden/output choices)")
def activations() -> dict[str, Any]:
    return {"activations": [{"name": name, "elementwise": name in ACTIVATIONS} for name in activation_names()],
            "aliases": ALIASES}


@router.post("/api/functions/activation", response_model=ActivationResult, tags=["neuron"],
             summary="An activation g and its derivative g′ at a list of points")
def activation(body: ActivationRequest, settings: Config) -> dict[str, Any]:
    count = sum(len(row) if isinstance(row, list) else 1 for row in body.z)
    check_count("the number of z values", count, settings)
    name, z, value, derivative = neuron.activation_points(body.activation, body.z)
    return encode({"activation": name, "z": z, "value": value, "derivative": derivative})


@router.post("/api/functions/loss", response_model=LossResult, tags=["neuron"],
             summary="A loss and its gradients at a list of predictions")
def loss(body: LossRequest, settings: Config) -> dict[str, Any]:
    """The loss per prediction (not averaged), ∂L/∂ŷ, and ∂L/∂z for a sigmoid output."""
    check_count("the number of predictions", len(body.predictions), settings)
    curve = neuron.loss_curve(body.loss, body.target, body.predictions)
    return encode({"loss": get_loss(body.loss).name, "target": body.target, "predictions": body.predictions,
                   "value": curve.value, "derivative": curve.derivative, "derivative_z": curve.derivative_z})


@router.post("/api/neuron/forward", response_model=NeuronResult, tags=["neuron"],
             summary="One neuron: weighted sum z = Σ xᵢwᵢ + b and output a = g(z)")
def neuron_forward(body: NeuronRequest, settings: Config) -> dict[str, Any]:
    check_count("the number of inputs", len(body.inputs), settings)
    check_count("the number of weights", len(body.weights), settings)
    check_count("the number of other_z values", len(body.other_z or []), settings)
    result = neuron.forward(body.inputs, body.weights, body.bias, body.activation, body.other_z)
    group = result.softmax
    return encode({
        "activation": canonical_activation(body.activation), "terms": result.terms, "z": result.z,
        "output": result.output, "derivative": result.derivative, "fires": result.fires,
        "softmax": None if group is None else {"z": group.z, "outputs": group.outputs, "total": group.total},
    })


@router.post("/api/neuron/plane", response_model=PlaneResult, tags=["neuron"],
             summary="A two-input neuron's output over the input plane, and its decision line")
def neuron_plane(body: PlaneRequest, settings: Config, encoding: Enc = "json") -> dict[str, Any]:
    """The output g(w₁x₁ + w₂x₂ + b) on a grid over [−extent, extent]² and the line where z = 0.

    With `through`, the line is moved through two points first (what dragging its handles does).
    """
    if body.resolution > settings.max_plane_resolution:
        raise too_large("resolution", body.resolution, settings.max_plane_resolution, "max_plane_resolution")
    check_count("the number of other_z values", len(body.other_z or []), settings)
    result = neuron.plane(body.weights, body.bias, body.activation, body.extent, body.resolution,
                          body.other_z, body.through)
    grids = encode({"z": result.z, "output": result.output}, encoding)
    return {
        "activation": canonical_activation(body.activation), "weights": result.weights.tolist(),
        "bias": result.bias, "extent": body.extent, "x1": result.x1.tolist(), "x2": result.x2.tolist(), **grids,
        "line": None if result.line is None else result.line.tolist(),
        "handles": None if result.handles is None else result.handles.tolist(),
    }
