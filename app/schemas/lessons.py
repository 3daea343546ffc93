"""Schemas of the course API: the lessons, their widgets and exercises, an attempt and its verdict, and the
loss surface of lesson 6."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .common import FiniteFloat
from .playground import PlaygroundConfig


class WidgetInfo(BaseModel):
    id: str = Field(description="The widget's name within its lesson (exercises refer to it)")
    kind: str = Field(description="Which component: neuron, playground, surface, backprop, sliding-window, "
                                  "kernel-gallery, param-calc, lenet, autoencoder, attention")
    tool: str | None = Field(description="The tool page the component comes from (null: the course's own)")
    preset: dict[str, Any] = Field(description="The state the widget opens in (the tool page reads the same "
                                               "state from its URL)")
    caption: str
    parts: list[str] = Field(description="For a component with several panels, the ones shown (empty: all)")


class Choice(BaseModel):
    value: str
    label: str


class Question(BaseModel):
    key: str
    question: str


class ExerciseInfo(BaseModel):
    id: str
    title: str
    prompt: str
    input: Literal["widget", "number", "choice", "choices"] = Field(
        description="What an attempt sends: the widget's `state` (or its `session`), or an `answer` — a number, "
                    "one of `options`, or {question key: option} for `choices`")
    widget: str | None = Field(description="The widget whose state is checked")
    options: list[Choice]
    questions: list[Question]
    unit: str


class LessonInfo(BaseModel):
    number: int
    slug: str
    title: str
    summary: str
    path: str = Field(description="The lesson's page")
    tools: list[str] = Field(description="The tool pages this lesson introduces")
    widgets: list[WidgetInfo]
    exercises: list[ExerciseInfo]
    links: list[Choice] = Field(description="Further pages (value: path, label: text)")


class LessonList(BaseModel):
    lessons: list[LessonInfo]


class Attempt(BaseModel):
    """One attempt at an exercise. Send what its `input` asks for; the rest stays out."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"state": {"inputs": [1, 1, 0], "weights": [1, 1, 0], "bias": -1.5, "activation": "step"}},
        {"state": {"config": {"dataset": "circle", "features": ["x1sq", "x2sq"], "hidden": []}}},
        {"session": "a Playground session id"},
        {"answer": 0.327},
        {"answer": {"digits": "supervised", "codes": "unsupervised", "cliff": "reinforcement"}}]})

    state: dict[str, Any] | None = Field(None, description="The widget's state (see each exercise's widget)")
    session: str | None = Field(None, description="A Playground widget's session id: its configuration is checked")
    answer: FiniteFloat | str | dict[str, str] | None = Field(None, description="A typed number or the choice(s)")


class CheckResult(BaseModel):
    passed: bool
    message: str = Field(description="What was right, or what to look at")
    measured: dict[str, Any] = Field(description="The numbers the engine measured to decide")


# --- the widgets' states, as the checks read them ---------------------------------------------------------


class NeuronState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    inputs: list[FiniteFloat] = Field([1.0, 0.0, 0.0], min_length=1, max_length=3)
    weights: list[FiniteFloat] = Field([0.0, 0.0, 0.0], min_length=1, max_length=3)
    bias: FiniteFloat = 0.0
    activation: Literal["step", "sigmoid", "tanh", "relu", "linear", "softmax"] = "sigmoid"
    target: Literal[0, 1] = 1
    prediction: FiniteFloat = Field(0.5, ge=0.0, le=1.0)


class PlaygroundWidgetState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    config: PlaygroundConfig


class SurfaceState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    learning_rate: FiniteFloat = Field(gt=0, le=10)
    momentum: FiniteFloat = Field(0.9, ge=0, lt=1)
    start: list[FiniteFloat] = Field(min_length=2, max_length=2)


class KernelState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kernel: list[list[FiniteFloat]] = Field(min_length=3, max_length=7)
    divisor: FiniteFloat = 1.0


class DigitState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    image: list[list[FiniteFloat]] = Field(min_length=28, max_length=28,
                                           description="The edited digit, 28 rows of 28 ink levels 0..1")


# --- lesson 6's loss surface ------------------------------------------------------------------------------


class SurfaceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    learning_rate: FiniteFloat = Field(0.1, gt=0, le=10, description="Every optimiser's learning rate")
    momentum: FiniteFloat = Field(0.9, ge=0, lt=1, description="Momentum's β")
    start: list[FiniteFloat] = Field([-1.5, 1.0], min_length=2, max_length=2, description="[w1, w2] to start from")
    steps: int = Field(50, ge=1, le=500)
    resolution: int = Field(81, ge=11, le=161, description="Grid points per side of the surface")


class OptimizerPath(BaseModel):
    optimizer: Literal["sgd", "momentum", "adam"]
    points: list[list[float | None]] = Field(description="[w1, w2] after each step, the start first")
    losses: list[float | None] = Field(description="E at each of the points (null once it overflows)")
    diverged: bool
    steps_to_minimum: int | None = Field(description="First step within 0.01 of the lowest E, if any")


class SurfaceResult(BaseModel):
    w1: list[float] = Field(description="The grid's columns, left to right")
    w2: list[float] = Field(description="The grid's rows, top to bottom")
    loss: Any = Field(description="E on the grid (rows × columns): nested lists or, with ?encoding=base64, "
                                  "{dtype, shape, data}")
    minimum: list[float]
    min_loss: float
    curvatures: list[float] = Field(description="The Hessian's eigenvalues; SGD diverges above 2 / the largest")
    paths: list[OptimizerPath]
