"""The course's catalogue: twelve lessons in the lecture's order, each with its live widgets (a tool page's
own component and the state it opens in) and its exercises (checked by `engine.course.checks`).

Plain data: the lesson pages render their texts from templates/lessons/NN.html and their widgets and
exercises from here; GET /api/lessons serves the same records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from engine.course import surface
from engine.course.checks import LINEAR_POINTS, SCENARIOS, approximation_config

InputKind = Literal["widget", "number", "choice", "choices"]

FOOL_DIGIT_INDEX = 1400  # a test 7 the shipped LeNet reads as 7 (99 % sure)


@dataclass(frozen=True)
class Widget:
    id: str  # unique within its lesson
    kind: str  # which component: neuron, playground, surface, backprop, sliding-window, kernel-gallery, …
    tool: str | None  # the tool page it comes from (None: the course's own)
    preset: dict[str, Any]
    caption: str = ""
    parts: tuple[str, ...] = ()  # for components with several panels: the ones this lesson shows


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    prompt: str
    input: InputKind  # what the learner gives: the widget's state, a typed number, one choice, several choices
    widget: str | None = None  # the widget whose state is checked
    options: tuple[tuple[str, str], ...] = ()  # (value, label) for choice / choices
    questions: tuple[tuple[str, str], ...] = ()  # (key, question) for choices
    unit: str = ""  # shown after a typed number


@dataclass(frozen=True)
class Lesson:
    number: int
    slug: str
    title: str
    summary: str
    tools: tuple[str, ...]  # the tool pages this lesson introduces
    widgets: tuple[Widget, ...] = ()
    exercises: tuple[Exercise, ...] = ()
    links: tuple[tuple[str, str], ...] = field(default=())  # (path, label): further pages


KINDS_OPTIONS = (("supervised", "Supervised"), ("unsupervised", "Unsupervised"), ("reinforcement", "Reinforcement"))

LESSONS: tuple[Lesson, ...] = (
    Lesson(1, "neuron", "The biological and the artificial neuron",
           "A weighted sum, a bias, and a decision to fire.", ("/neuron",),
           widgets=(Widget("neuron", "neuron", "/neuron", {
               "activation": "step", "inputs": [1.0, 0.0, 0.0], "weights": [0.5, 0.5, 0.0], "bias": 0.2},
               "Inputs, weights and bias of one neuron; the step activation fires when z > 0.",
               parts=("analogy", "knobs")),),
           exercises=(Exercise(
               "fire-both-large", "An AND neuron",
               "Make the neuron fire only when both inputs x₁ and x₂ are large (1 or more) — silent when either of "
               "them is small (0.3 or less). Keep x₃'s weight at 0. Move the weights and the bias, then check.",
               "widget", "neuron"),)),
    Lesson(2, "activations", "Activation functions and their derivatives",
           "Step, sigmoid, tanh, ReLU: what they output and how steep they are.", (),
           widgets=(Widget("neuron", "neuron", "/neuron", {
               "activation": "sigmoid", "inputs": [1.0, 0.5, 0.0], "weights": [0.8, -0.4, 0.0], "bias": 0.1},
               "Choose an activation; the right plot is its slope g′(z), the factor backpropagation multiplies by.",
               parts=("knobs", "activation")),),
           exercises=(
               Exercise("saturate-sigmoid", "Saturate the sigmoid",
                        "With the sigmoid, set the neuron so that its slope g′(z) falls below 0.05.", "widget",
                        "neuron"),
               Exercise("dead-relu", "A silent ReLU",
                        "Switch to ReLU and make the neuron pass no gradient at all.", "widget", "neuron"))),
    Lesson(3, "linear-classifier", "A linear classifier: sign(wᵀx) and its decision line",
           "Two weights draw a straight line; the sign of wᵀx + b says which side a point is on.", (),
           widgets=(Widget("neuron", "neuron", "/neuron", {
               "activation": "step", "inputs": [1.0, 1.0, 0.0], "weights": [-0.6, 1.0, 0.0], "bias": 0.2,
               "points": [list(p) for p in LINEAR_POINTS]},
               "Drag the line's two handles, or move w₁, w₂ and b: the blue side is where wᵀx + b > 0.",
               parts=("plane", "knobs")),),
           exercises=(Exercise(
               "separate-points", "Separate the two classes",
               "Turn the decision line so that every blue point is on the positive side and every orange point on "
               "the negative side.", "widget", "neuron"),)),
    Lesson(4, "kernel-model", "The kernel model: fixed features against learned ones",
           "wᵀφ(x) is linear in φ: choose φ well and a line does; or let hidden layers learn φ.",
           ("/playground",),
           widgets=(Widget("playground", "playground", "/playground", {
               "config": {"dataset": "circle", "features": ["x1", "x2"], "hidden": [], "learning_rate": 0.03},
               "view": {"showTestData": False}},
               "The Playground with no hidden layer: the output neuron is sign(w·φ(x) + b) over the features you "
               "switch on."),),
           exercises=(
               Exercise("circle-features", "Separate the circle with no hidden layer",
                        "Keep zero hidden layers and pick the features that make the circle separable. The check "
                        "trains your configuration for 30 epochs and needs a test accuracy of 95 %.", "widget",
                        "playground"),
               Exercise("circle-hidden", "Now let a hidden layer learn φ",
                        "Use only x₁ and x₂ as features and add a hidden layer. The check trains your network "
                        "for 80 epochs and needs a test accuracy of 90 %.", "widget", "playground"))),
    Lesson(5, "supervised", "Supervised learning: data, a training and a test split, two errors",
           "Learn on part of the pairs, test on the rest; measure how wrong with E or H.", (),
           widgets=(
               Widget("split", "playground", "/playground", {
                   "config": {"dataset": "gauss", "noise": 0.35, "train_ratio": 0.3, "features": ["x1", "x2"],
                              "hidden": [4], "learning_rate": 0.03},
                   "view": {"showTestData": True}},
                   "Training points are filled, test points are hollow; slide the ratio and watch both losses."),
               Widget("losses", "neuron", "/neuron", {"target": 1, "prediction": 0.7, "activation": "sigmoid"},
                      "One prediction ŷ against its target: squared error and cross-entropy, and how hard each "
                      "pushes the neuron's z.", parts=("losses",))),
           exercises=(
               Exercise("squared-error", "The error of the worked example",
                        "The worked example predicts O = 0.191 for the target T = 1. What is E = ½(T − O)²? "
                        "(three decimals)", "number"),
               Exercise("confidently-wrong", "Confidently wrong",
                        "With target 1, move ŷ to where cross-entropy pushes z at least ten times harder than "
                        "squared error does.", "widget", "losses"))),
    Lesson(6, "gradient-descent", "Training is minimising E: gradient descent on a loss surface",
           "Two weights, the surface of E over them, and the paths SGD, momentum and Adam take.", (),
           widgets=(Widget("surface", "surface", None, {
               "learning_rate": 0.1, "momentum": 0.9, "start": [surface.CENTRE[0] - 2.5, surface.CENTRE[1] + 1.5],
               "steps": 50},
               "E(w₁, w₂) of one linear neuron on correlated inputs. Drag the start; change the learning rate."),),
           exercises=(
               Exercise("momentum-beats-sgd", "Where momentum wins",
                        "Find a learning rate (and start) at which momentum reaches the valley's floor within 50 "
                        "steps but plain SGD does not.", "widget", "surface"),
               Exercise("sgd-diverges", "Too large a step",
                        "Raise the learning rate until plain SGD's loss grows instead of shrinking.", "widget",
                        "surface"))),
    Lesson(7, "backpropagation", "Backpropagation on the worked example",
           "Inputs 2 and 3, six weights, target 1: one forward pass, the chain rule, one update.", ("/backprop",),
           widgets=(Widget("backprop", "backprop", "/backprop", {"preset": "worked-example"},
                           "Step through the training step: forward, the error, every gradient, the update."),),
           exercises=(
               Exercise("update-w5", "The new w₅", "After one step with α = 0.05, what is w₅? (four decimals)",
                        "number"),
               Exercise("update-w1", "The new w₁", "And w₁, one layer further back? (four decimals)", "number"))),
    Lesson(8, "universal-approximation", "Depth and universal approximation",
           "One hidden layer can follow any curve — given enough neurons.", (),
           widgets=(Widget("curve", "playground", "/playground", {"config": approximation_config(3)},
                           "x·sin x fitted by one hidden layer; the buttons below set 3, 6 or 20 neurons."),),
           exercises=(Exercise(
               "three-or-twenty", "3 or 20 neurons?",
               "Fit x·sin x with 3 hidden neurons, then with 20 (Adam, learning rate 0.03, 300 epochs). Which "
               "reaches a test loss under 0.01?", "choice",
               options=(("3", "3 neurons"), ("20", "20 neurons"), ("both", "both"), ("neither", "neither"))),)),
    Lesson(9, "kinds-of-learning", "The kinds of learning",
           "Supervised, unsupervised, reinforcement: where the signal to learn from comes from.",
           ("/autoencoder", "/qlearning"),
           widgets=(Widget("autoencoder", "autoencoder", "/autoencoder", {},
                           "An autoencoder's 2-D code of 2,000 test digits — learned without a single label. "
                           "Click the map to decode a point."),),
           exercises=(Exercise(
               "kinds-of-learning", "Which kind?", "Which kind of learning is each of these?", "choices",
               options=KINDS_OPTIONS,
               questions=(("digits", "LeNet learns to read digits from 8,000 images, each with its label."),
                          ("codes", "An autoencoder squeezes the same images through a 2-D code and back, "
                                    "with no labels."),
                          ("cliff", "An agent learns to walk along a cliff: −1 per step, −100 for falling."))),),
           links=(("/autoencoder", "Autoencoder: unsupervised learning"),
                  ("/qlearning", "Q-learning: reinforcement learning"))),
    Lesson(10, "convolution", "The convolution operator and image kernels",
           "A small matrix slides over the image; each position's weighted sum is one pixel of the feature map.",
           ("/convolution",),
           widgets=(
               Widget("sliding", "sliding-window", "/convolution", {"example": "classic"},
                      "The lecture's 5×5 image and 3×3 kernel, one window at a time."),
               Widget("gallery", "kernel-gallery", "/convolution", {"kernel": "identity"},
                      "A kernel applied to a real image; edit any cell of the kernel.")),
           exercises=(
               Exercise("feature-map-value", "One pixel of the feature map",
                        "What is the middle value of the 3×3 feature map?", "number"),
               Exercise("vertical-edges", "A vertical-edge finder",
                        "Edit the kernel (or pick a preset) so that it finds vertical edges — and only those.",
                        "widget", "gallery"))),
    Lesson(11, "lenet", "Dense against convolutional layers, then LeNet on your own digit",
           "A filter shares its weights over the whole image; LeNet stacks them to read digits.",
           ("/lenet",),
           widgets=(
               Widget("params", "param-calc", "/convolution",
                      {"height": 200, "width": 200, "channels": 3, "units": 300, "filters": 300, "kernel": 3},
                      "Parameters of a fully connected layer and of a convolutional layer on the same image."),
               Widget("lenet", "lenet", "/lenet", {"sample": FOOL_DIGIT_INDEX, "edit": True},
                      "A test 7, read by LeNet-5. Draw on it: every stroke adds ink and LeNet reads again.")),
           exercises=(
               Exercise("filter-parameters", "Count the filters' parameters",
                        "A convolutional layer with 300 filters of 3×3 on a 200×200 RGB image: how many "
                        "parameters (weights and biases)?", "number"),
               Exercise("fool-lenet", "Make LeNet misread a 7",
                        "Draw on the 7 until LeNet reads another digit — changing as few pixels as you can (fewer "
                        "than 150).", "widget", "lenet"))),
    Lesson(12, "attention", "Attention and the transformer",
           "Each position asks a question (Q), every position offers a key (K) and a value (V).", ("/attention",),
           widgets=(Widget("attention", "attention", "/attention", {"task": "reverse"},
                           "A small encoder-decoder transformer learning to reverse digits; train it and watch "
                           "its attention."),),
           exercises=(Exercise(
               "attention-weight", "One attention weight",
               "In the decoder's masked self-attention, the second position's query is q = [1, 1]; the three "
               "positions' keys are k₁ = [1, 0], k₂ = [2, 1], k₃ = [3, 3] (d_k = 2). What weight does the second "
               "position give to k₂? (three decimals)", "number"),)),
)

BY_NUMBER = {lesson.number: lesson for lesson in LESSONS}
EXERCISES = {ex.id: (lesson, ex) for lesson in LESSONS for ex in lesson.exercises}
assert set(SCENARIOS) == {key for key, _ in BY_NUMBER[9].exercises[0].questions}


def lesson_for_tool(path: str) -> Lesson | None:
    """The lesson that introduces a tool page (its first lesson)."""
    return next((lesson for lesson in LESSONS if path in lesson.tools), None)
