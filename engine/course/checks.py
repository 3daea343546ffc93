"""The exercises' checks: each runs the engine on what the learner did and says what was right or what to
look at — never just "wrong".

Every check returns a `CheckResult`: `passed`, a `message` in plain words, and `measured`, the numbers the
engine computed (what the message talks about). Checks take plain values (the API validates their shapes);
bad values raise EngineError with a message that says what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from engine.cnn.examples import CLASSIC_IMAGE, CLASSIC_KERNEL
from engine.cnn.explain import apply_kernel
from engine.cnn.param_count import dense_vs_conv
from engine.core.activations import softmax
from engine.core.errors import EngineError
from engine.core.losses import get_loss
from engine.course import surface
from engine.dense import neuron
from engine.dense.presets import get_preset
from engine.dense.trainer import DivergedError, Trainer, dataset_from_config
from engine.playground import config as pg
from engine.transformer.layers import causal_mask

Measured = dict[str, Any]


@dataclass
class CheckResult:
    passed: bool
    message: str
    measured: Measured = field(default_factory=dict)


def _fmt(v: float, digits: int = 3) -> str:
    return f"{v:.{digits}f}".replace("-", "−")


def _point(p: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:g}".replace("-", "−") for v in p) + ")"


def _number(answer: object, what: str) -> float:
    try:
        value = float(str(answer).strip().replace("−", "-").replace(",", ""))
    except ValueError:
        raise EngineError(f"{what} must be a number, got {answer!r}") from None
    if not np.isfinite(value):
        raise EngineError(f"{what} must be a finite number, got {answer!r}")
    return value


# --- lesson 1: the neuron --------------------------------------------------------------------------------

# "Large" inputs are 1 or more; the neuron must fire when both are, and stay silent when either is small.
BOTH_LARGE = [(1.0, 1.0), (1.5, 1.0), (1.0, 1.5), (2.0, 2.0)]
ONE_SMALL = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 0.3), (0.3, 1.0), (2.0, -1.0), (-1.0, 2.0)]


def fire_both_large(weights: list[float], bias: float) -> CheckResult:
    """Fire (z > 0) for both inputs ≥ 1, stay silent when either is small: a two-input AND."""
    w = list(weights[:2]) + [0.0]  # the third input stays 0 in this exercise
    fires = {p: neuron.forward([p[0], p[1], 0.0], w, bias, "step").fires for p in BOTH_LARGE + ONE_SMALL}
    missed = [p for p in BOTH_LARGE if not fires[p]]
    false_alarms = [p for p in ONE_SMALL if fires[p]]
    measured = {"fires_when_both_large": len(BOTH_LARGE) - len(missed), "of_both_large": len(BOTH_LARGE),
                "fires_when_one_small": len(false_alarms), "of_one_small": len(ONE_SMALL),
                "weights": w[:2], "bias": bias}
    if not missed and not false_alarms:
        return CheckResult(True, f"Right: it fires for all {len(BOTH_LARGE)} pairs of large inputs and stays silent "
                           f"for all {len(ONE_SMALL)} pairs with a small one. Both weights are positive and the bias "
                           "is negative enough that one input alone cannot lift z above 0 — an AND gate.", measured)
    if false_alarms:
        p = false_alarms[0]
        z = w[0] * p[0] + w[1] * p[1] + bias
        hint = ("the bias alone is above 0, so it fires with no input at all — make the bias negative"
                if p == (0.0, 0.0) else
                "a negative weight lets a negative input switch it on; keep both weights positive"
                if min(w[0], w[1]) < 0 else
                "one large input alone is enough to cross 0: make the bias more negative (or the weights smaller), "
                "so that only the two together get z above 0")
        return CheckResult(False, f"It also fires for x = {_point(p)}, where z = {_fmt(z)} > 0: {hint}.", measured)
    p = missed[0]
    z = w[0] * p[0] + w[1] * p[1] + bias
    return CheckResult(False, f"It stays silent for x = {_point(p)}, where both inputs are large: z = {_fmt(z)} ≤ 0. "
                       "Raise both weights or make the bias less negative.", measured)


# --- lesson 2: activations and their slopes --------------------------------------------------------------


def _neuron_z(inputs: list[float], weights: list[float], bias: float, activation: str) -> neuron.NeuronForward:
    return neuron.forward(inputs, weights, bias, activation)


def saturate_sigmoid(inputs: list[float], weights: list[float], bias: float, activation: str) -> CheckResult:
    r = _neuron_z(inputs, weights, bias, activation)
    measured = {"activation": activation, "z": r.z, "output": r.output, "slope": r.derivative}
    if activation != "sigmoid":
        return CheckResult(False, f"This one is about the sigmoid: choose Sigmoid (the neuron uses {activation} "
                           "now), then push z far from 0.", measured)
    if r.derivative < 0.05:
        return CheckResult(True, f"Saturated: at z = {_fmt(r.z, 2)} the output is {_fmt(r.output)} and the slope "
                           f"g′(z) = {_fmt(r.derivative)}. Any gradient passing back through this neuron is "
                           f"multiplied by {_fmt(r.derivative)} — learning through it all but stops.", measured)
    return CheckResult(False, f"At z = {_fmt(r.z, 2)} the sigmoid is still steep: g′(z) = {_fmt(r.derivative)}. "
                       "Its slope is largest (0.25) at z = 0; push z beyond about ±3 with larger inputs, weights "
                       "or bias.", measured)


def dead_relu(inputs: list[float], weights: list[float], bias: float, activation: str) -> CheckResult:
    r = _neuron_z(inputs, weights, bias, activation)
    measured = {"activation": activation, "z": r.z, "output": r.output, "slope": r.derivative}
    if activation != "relu":
        return CheckResult(False, f"Choose ReLU first (the neuron uses {activation} now).", measured)
    if r.derivative == 0:
        return CheckResult(True, f"Right: z = {_fmt(r.z, 2)} ≤ 0, so ReLU outputs 0 and its slope is 0. No gradient "
                           "reaches the weights: a neuron that stays here for every input never learns again "
                           "(a “dead” ReLU).", measured)
    return CheckResult(False, f"z = {_fmt(r.z, 2)} > 0, where ReLU's slope is 1 and the gradient flows. Bring z "
                       "below 0 — a negative bias does it.", measured)


# --- lesson 3: a linear classifier -----------------------------------------------------------------------

# Two classes on the plane, drawn on the widget; sign(w₁x₁ + w₂x₂ + b) must give every point its label.
LINEAR_POINTS: list[tuple[float, float, int]] = [
    (2.0, 1.0, 1), (1.5, -1.0, 1), (0.5, 2.5, 1), (-1.0, -2.0, -1), (-2.0, 0.5, -1), (0.5, -2.5, -1)]


def separate_points(weights: list[float], bias: float) -> CheckResult:
    w = np.array(weights[:2], dtype=np.float64)
    wrong = []
    for x1, x2, label in LINEAR_POINTS:
        z = float(neuron.forward([x1, x2], w, bias, "linear").z)
        if np.sign(z) != label:
            wrong.append((x1, x2, label, z))
    measured = {"right": len(LINEAR_POINTS) - len(wrong), "of": len(LINEAR_POINTS), "weights": w.tolist(),
                "bias": bias}
    if not wrong:
        return CheckResult(True, f"All {len(LINEAR_POINTS)} points are on their side: wᵀx + b > 0 for the blue ones, "
                           "< 0 for the orange ones. The weight vector w points into the blue side, at right angles "
                           "to the line.", measured)
    x1, x2, label, z = wrong[0]
    side = "positive (blue, +1)" if label > 0 else "negative (orange, −1)"
    return CheckResult(False, f"{len(wrong)} of {len(LINEAR_POINTS)} points are on the wrong side — e.g. "
                       f"{_point((x1, x2))} should be {side} but wᵀx + b = {_fmt(z, 2)}. Turn the line (drag a "
                       "handle) so that it runs between the two groups.", measured)


# --- lesson 4: the kernel model, fixed features against learned ones -------------------------------------

KERNEL_EPOCHS = 30
LEARNED_EPOCHS = 80


def _train_playground(config: dict[str, Any], epochs: int) -> dict[str, float]:
    trainer = pg.trainer_from_config(config)
    try:
        trainer.train(epochs=epochs)
    except DivergedError:  # the chunk is undone: what it reached before is what counts (and it says so)
        pass
    m = trainer.metrics()
    return {"test_accuracy": float(m.test_accuracy or 0.0), "test_loss": float(m.test_loss or np.inf),
            "epochs": epochs, "diverged": trainer.diverged}


def circle_features(config: dict[str, Any]) -> CheckResult:
    config = pg.normalize_config({**config, "dataset": "circle"})
    measured: Measured = {"features": config["features"], "hidden_layers": len(config["hidden"])}
    if config["hidden"]:
        return CheckResult(False, f"This is the kernel model: no hidden layer. Remove the {len(config['hidden'])} "
                           "hidden layer(s) (the − button) and let the features do the work.", measured)
    result = _train_playground(config, KERNEL_EPOCHS)
    measured.update(result)
    acc = result["test_accuracy"]
    if acc >= 0.95:
        return CheckResult(True, f"Test accuracy {acc:.0%} after {KERNEL_EPOCHS} epochs with no hidden layer. With "
                           "x₁² and x₂² as features the circle x₁² + x₂² < r² is a straight line in feature space: "
                           "φ(x) made the problem linear.", measured)
    squares = {"x1sq", "x2sq"} <= set(config["features"])
    if squares:
        hint = ("the squares are in, but training did not settle — check the learning rate "
                f"({config['learning_rate']:g}; 0.03 works)")
    else:
        hint = ("with these features the boundary w·φ(x) + b = 0 cannot close around the centre. Which features "
                "turn “inside a circle”, x₁² + x₂² < r², into a weighted sum?")
    return CheckResult(False, f"Test accuracy {acc:.0%} after {KERNEL_EPOCHS} epochs (95 % needed): {hint}", measured)


def circle_hidden(config: dict[str, Any]) -> CheckResult:
    config = pg.normalize_config({**config, "dataset": "circle"})
    measured: Measured = {"features": config["features"], "hidden_layers": len(config["hidden"])}
    extra = [f for f in config["features"] if f not in ("x1", "x2")]
    if extra:
        return CheckResult(False, "Use only the raw inputs x₁ and x₂ this time — switch off "
                           f"{', '.join(extra)}: the hidden layer should learn its own features.", measured)
    if not config["hidden"]:
        return CheckResult(False, "Add a hidden layer (the + button): with x₁, x₂ and no hidden layer the boundary "
                           "is a straight line.", measured)
    result = _train_playground(config, LEARNED_EPOCHS)
    measured.update(result)
    acc = result["test_accuracy"]
    if acc >= 0.9:
        return CheckResult(True, f"Test accuracy {acc:.0%} from x₁ and x₂ alone: the hidden layer learned features "
                           "of its own (look at its neurons' maps — each is a straight cut, and the output combines "
                           "them into a closed region).", measured)
    width = max(config["hidden"])
    hint = ("too few neurons to close a region around the centre: give the hidden layer at least 3"
            if width < 3 else f"training did not get there in {LEARNED_EPOCHS} epochs — try learning rate 0.03 or 0.1")
    return CheckResult(False, f"Test accuracy {acc:.0%} (90 % needed): {hint}.", measured)


# --- lesson 5: supervised learning, the two errors -------------------------------------------------------


def worked_forward() -> tuple[float, float, float]:
    """The worked example's prediction (forward pass of its network), target and E = ½(T − O)²."""
    preset = get_preset("worked-example")
    trainer = Trainer(preset["spec"], dataset_from_config(preset["data"]))
    out = trainer.forward(trainer.data.x_train)  # type: ignore[union-attr]
    target = np.asarray(preset["data"]["y"], dtype=np.float64).reshape(out.shape)
    return float(out[0, 0]), float(target[0, 0]), float(get_loss("mse").value(out, target))


def squared_error(answer: object) -> CheckResult:
    value = _number(answer, "the error E")
    prediction, target, error = worked_forward()
    measured = {"answer": value, "E": error, "prediction": prediction, "target": target}
    if abs(value - error) < 0.0015:
        return CheckResult(True, f"E = ½·({_fmt(target, 0)} − {_fmt(prediction)})² = {_fmt(error)}. Squared, so it "
                           "is always positive; halved, so its derivative is simply O − T.", measured)
    diff = target - prediction
    if abs(value - diff**2) < 0.002:
        hint = "that is (T − O)² — the worked example halves it"
    elif abs(abs(value) - abs(diff)) < 0.002:
        hint = "that is T − O itself — square it, then halve"
    elif abs(value - 0.5 * diff) < 0.002:
        hint = "you halved T − O but did not square it"
    else:
        hint = f"compute T − O first (T = {_fmt(target, 0)}, O = {_fmt(prediction)}), square it, then halve"
    return CheckResult(False, f"Not {value:g}: {hint}.", measured)


def confidently_wrong(target: float, prediction: float) -> CheckResult:
    if target not in (0.0, 1.0):
        raise EngineError(f"target must be 0 or 1, got {target!r}")
    mse = neuron.loss_curve("mse", target, [prediction])
    ce = neuron.loss_curve("bce", target, [prediction])
    mse_dz = float(mse.derivative_z[0]) if mse.derivative_z is not None else 0.0
    ce_dz = float(ce.derivative_z[0]) if ce.derivative_z is not None else 0.0
    measured = {"target": target, "prediction": prediction, "squared_error": float(mse.value[0]),
                "cross_entropy": float(ce.value[0]), "squared_error_dz": mse_dz, "cross_entropy_dz": ce_dz}
    wrong = abs(prediction - target) > 0.5
    if wrong and abs(ce_dz) >= 10 * abs(mse_dz):
        return CheckResult(True, f"At ŷ = {_fmt(prediction)} (target {target:g}) squared error pushes z with "
                           f"∂L/∂z = {_fmt(mse_dz)}, cross-entropy with {_fmt(ce_dz)} — "
                           f"{abs(ce_dz) / max(abs(mse_dz), 1e-12):.0f} times harder. The sigmoid's flat tail "
                           "multiplies squared error's gradient by ŷ(1 − ŷ); cross-entropy cancels it.", measured)
    if not wrong:
        return CheckResult(False, f"ŷ = {_fmt(prediction)} is on the right side of 0.5 for target {target:g}. Make the "
                           "neuron confidently wrong: move ŷ towards the other end.", measured)
    return CheckResult(False, f"Wrong, but not confidently: squared error still pushes with ∂L/∂z = {_fmt(mse_dz)} "
                       f"against cross-entropy's {_fmt(ce_dz)}. Move ŷ closer to "
                       f"{'0' if target == 1 else '1'}, where the sigmoid saturates.", measured)


# --- lesson 6: gradient descent on a loss surface --------------------------------------------------------

SURFACE_STEPS = 50


def momentum_beats_sgd(learning_rate: float, momentum: float, start: tuple[float, float]) -> CheckResult:
    sgd = surface.optimizer_path("sgd", start, learning_rate, SURFACE_STEPS)
    mom = surface.optimizer_path("momentum", start, learning_rate, SURFACE_STEPS, momentum)
    measured = {"sgd_loss": float(sgd.losses[-1]), "momentum_loss": float(mom.losses[-1]),
                "min_loss": surface.MIN_LOSS, "sgd_steps_to_minimum": sgd.steps_to_minimum,
                "momentum_steps_to_minimum": mom.steps_to_minimum}
    if mom.steps_to_minimum is not None and sgd.steps_to_minimum is None:
        return CheckResult(True, f"Momentum reaches the floor of the valley in {mom.steps_to_minimum} steps; plain "
                           f"SGD is still at E = {_fmt(float(sgd.losses[-1]))} after {SURFACE_STEPS}. Along the "
                           "flat floor every gradient points the same way, and momentum adds them up.", measured)
    if sgd.steps_to_minimum is not None:
        return CheckResult(False, f"Plain SGD gets there too (in {sgd.steps_to_minimum} steps) at learning rate "
                           f"{learning_rate:g}: a large rate is fast on this bowl. Lower the learning rate until "
                           "SGD crawls along the valley's floor.", measured)
    if mom.diverged or mom.steps_to_minimum is None:
        return CheckResult(False, f"Momentum does not reach the minimum in {SURFACE_STEPS} steps either (E = "
                           f"{_fmt(float(mom.losses[-1]))}). Raise the learning rate a little, or the momentum β "
                           "towards 0.9.", measured)
    return CheckResult(False, "Not yet.", measured)  # pragma: no cover - the cases above are exhaustive


def sgd_diverges(learning_rate: float, start: tuple[float, float]) -> CheckResult:
    path = surface.optimizer_path("sgd", start, learning_rate, SURFACE_STEPS)
    steepest = max(surface.surface(11).curvatures)
    limit = 2 / steepest
    grew = bool(path.diverged or path.losses[-1] > path.losses[0])
    measured = {"learning_rate": learning_rate, "start_loss": float(path.losses[0]),
                "final_loss": float(path.losses[-1]), "diverged": grew, "critical_rate": limit}
    if grew:
        return CheckResult(True, f"At learning rate {learning_rate:g} each step overshoots the valley by more than "
                           f"it corrects: E grows from {_fmt(float(path.losses[0]))} to "
                           f"{_fmt(float(path.losses[-1]))}. On this surface SGD diverges above 2 / (steepest "
                           f"curvature) = {limit:.2f}.", measured)
    return CheckResult(False, f"SGD still settles at learning rate {learning_rate:g} (E ends at "
                       f"{_fmt(float(path.losses[-1]))}). Raise the learning rate and watch the path start to "
                       "zig-zag across the valley — a little further and it flies off.", measured)


# --- lesson 7: backpropagation on the worked example -----------------------------------------------------


def worked_step() -> dict[str, float]:
    """The worked example's weights before and after one SGD step (the engine's own backward and update)."""
    preset = get_preset("worked-example")
    trainer = Trainer(preset["spec"], dataset_from_config(preset["data"]))

    def weights() -> dict[str, float]:
        hidden = trainer.net.layers[0].params["weight"]
        out = trainer.net.layers[1].params["weight"]
        return {"w1": hidden[0, 0], "w2": hidden[1, 0], "w3": hidden[0, 1], "w4": hidden[1, 1],
                "w5": out[0, 0], "w6": out[1, 0]}

    before = {k: float(v) for k, v in weights().items()}
    trainer.step()
    after = {k: float(v) for k, v in weights().items()}
    return {**{f"old_{k}": v for k, v in before.items()}, **after}


def updated_weight(name: str, answer: object) -> CheckResult:
    value = _number(answer, f"the new {name}")
    w = worked_step()
    right = w[name]
    old = w[f"old_{name}"]
    symbol = name[0] + "₀₁₂₃₄₅₆₇₈₉"[int(name[1:])]
    measured = {"answer": value, name: right, f"old_{name}": old}
    if abs(value - right) < 0.0006:
        return CheckResult(True, f"{symbol} goes from {old:g} to {right:.4f}: the engine's backward pass and update "
                           "give the same number.", measured)
    if abs(value - old) < 0.0006:
        return CheckResult(False, f"That is {symbol} before the step. Apply the update: subtract α times its "
                           "gradient.", measured)
    if abs(value - (2 * old - right)) < 0.0006:
        return CheckResult(False, "You moved it the wrong way: the update subtracts α·gradient, and Δ = "
                           "prediction − target = −0.809 is negative, so the weight grows.", measured)
    if name == "w1":
        new_w5_version = old + (right - old) / w["old_w5"] * w["w5"]
        if abs(value - new_w5_version) < 0.0006:
            return CheckResult(False, "Close: you used the updated w₅. The gradient for w₁ uses the w₅ of the "
                               "forward pass (0.14) — all updates of a step come from the same old weights.",
                               measured)
        return CheckResult(False, "Not yet. w₁ ← w₁ − α·i₁·Δ·w₅ with α = 0.05, i₁ = 2, Δ = −0.809 and the old "
                           "w₅ = 0.14: the error reaches w₁ through w₅.", measured)
    return CheckResult(False, "Not yet. w₅ ← w₅ − α·h₁·Δ with α = 0.05, h₁ = 0.85 (read it in the forward pass) and "
                       "Δ = prediction − target.", measured)


# --- lesson 8: one hidden layer, more neurons ------------------------------------------------------------

APPROX_EPOCHS = 300
APPROX_WIDTHS = (3, 20)


def approximation_config(units: int) -> dict[str, Any]:
    """x·sin x fitted by one hidden layer of `units` tanh neurons: the widget's and the check's configuration."""
    return {"dataset": "xsinx", "features": ["x1"], "hidden": [units], "activation": "tanh",
            "optimizer": "adam", "learning_rate": 0.03, "batch_size": 30}


@lru_cache(maxsize=8)
def approximation_loss(units: int) -> float:
    """Test loss after APPROX_EPOCHS epochs (deterministic: fixed seeds), computed once per process."""
    trainer = pg.trainer_from_config(approximation_config(units))
    trainer.train(epochs=APPROX_EPOCHS)
    return float(trainer.metrics().test_loss or np.inf)


def which_reaches(answer: object) -> CheckResult:
    choice = str(answer).strip().lower()
    options = {"3": {3}, "20": {20}, "both": {3, 20}, "neither": set()}
    if choice not in options:
        raise EngineError(f"answer one of {list(options)}, got {answer!r}")
    losses = {n: approximation_loss(n) for n in APPROX_WIDTHS}
    reach = {n for n, loss in losses.items() if loss < 0.01}
    measured = {f"test_loss_{n}": loss for n, loss in losses.items()}
    told = (f"After {APPROX_EPOCHS} epochs: 3 neurons → test loss {losses[3]:.4f}, 20 neurons → "
            f"{losses[20]:.4f}.")
    if options[choice] == reach:
        return CheckResult(True, f"{told} Three tanh bumps cannot follow all of x·sin x's waves; twenty can — one "
                           "hidden layer approximates any curve, given enough neurons.", measured)
    return CheckResult(False, "Not that one — train both in the widget and read the test loss under the plot (it "
                       "must fall below 0.010). Count the waves of x·sin x: each neuron adds one tanh step.", {})


# --- lesson 9: kinds of learning -------------------------------------------------------------------------

KINDS = ("supervised", "unsupervised", "reinforcement")
SCENARIOS: dict[str, tuple[str, str]] = {
    "digits": ("supervised", "every training digit comes with its label: the error compares output and target"),
    "codes": ("unsupervised", "there are no labels and no fitness function from outside: the autoencoder only "
              "has to rebuild its own input"),
    "cliff": ("reinforcement", "nobody gives the right move, only rewards and penalties after the fact"),
}


def kinds_of_learning(answers: dict[str, str]) -> CheckResult:
    unknown = set(answers) - set(SCENARIOS)
    if unknown:
        raise EngineError(f"unknown scenarios {sorted(unknown)}; answer for {list(SCENARIOS)}")
    wrong = [k for k, (kind, _) in SCENARIOS.items() if answers.get(k) != kind]
    measured = {"right": len(SCENARIOS) - len(wrong), "of": len(SCENARIOS)}
    if not wrong:
        return CheckResult(True, "All three right. " + " · ".join(
            f"{kind.capitalize()}: {why}." for kind, why in SCENARIOS.values()), measured)
    key = wrong[0]
    given = answers.get(key) or "nothing"
    return CheckResult(False, f"{len(wrong)} of {len(SCENARIOS)} not yet right. Look again at “{key}” (you said "
                       f"{given}): ask whether the data carry a target for every example, nothing at all, or only "
                       "a reward after acting.", measured)


# --- lesson 10: convolution and image kernels ------------------------------------------------------------


def _edge_images(size: int = 12) -> dict[str, np.ndarray]:
    ramp = (np.arange(size) >= size // 2).astype(np.float64)
    return {"vertical": np.tile(ramp, (size, 1))[None], "horizontal": np.tile(ramp[:, None], (1, size))[None],
            "flat": np.full((1, size, size), 0.5)}


def vertical_edges(kernel: list[list[float]], divisor: float = 1.0) -> CheckResult:
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] not in (3, 5, 7):
        raise EngineError(f"kernel must be a square 3×3, 5×5 or 7×7 grid, got shape {list(k.shape)}")
    responses = {name: float(np.abs(apply_kernel(img, k, divisor=divisor)["output"]).max())
                 for name, img in _edge_images().items()}
    v, h, flat = responses["vertical"], responses["horizontal"], responses["flat"]
    measured = {"vertical_edge": v, "horizontal_edge": h, "flat": flat}
    if v < 0.5:
        return CheckResult(False, f"A vertical edge (dark left, bright right) barely moves it: the strongest response "
                           f"is {_fmt(v, 2)}. Give the left and right columns opposite signs.", measured)
    if flat > 0.05 * v:
        return CheckResult(False, f"It answers a flat grey area with {_fmt(flat, 2)}: its weights do not add up to 0, "
                           "so it brightens everything instead of marking only changes. Balance the positive and "
                           "negative weights.", measured)
    if h > 0.2 * v:
        return CheckResult(False, f"It finds edges, but horizontal ones as strongly ({_fmt(h, 2)}) as vertical ones "
                           f"({_fmt(v, 2)}): it compares in every direction, like the outline kernel. Make each "
                           "column's weights equal (top to bottom) so that up-down changes cancel.", measured)
    return CheckResult(True, f"A vertical edge gives {_fmt(v, 2)}, a horizontal one {_fmt(h, 2)}, flat grey "
                       f"{_fmt(flat, 2)}: right minus left, summed down the window — Sobel's x kernel is the same "
                       "idea with the middle row counted twice.", measured)


def feature_map_value(answer: object) -> CheckResult:
    value = _number(answer, "the feature-map value")
    result = apply_kernel(np.asarray(CLASSIC_IMAGE, dtype=np.float64)[None], np.asarray(CLASSIC_KERNEL, float))
    right = float(result["output"][1, 1])
    measured = {"answer": value, "value": right}
    if abs(value - right) < 1e-6:
        return CheckResult(True, f"{right:g}: the window of the image around its centre times the kernel, cell by "
                           "cell, added up. The nine sums make the 3×3 feature map.", measured)
    return CheckResult(False, f"Not {value:g}. Take the 3×3 window whose top-left corner is the image's row 2, "
                       "column 2 (the middle output), multiply each cell by the kernel cell on top of it, and add "
                       "the nine products — the widget shows them when the window is there.", measured)


# --- lesson 11: dense against convolutional layers, LeNet ------------------------------------------------


def filter_parameters(answer: object) -> CheckResult:
    value = _number(answer, "the number of parameters")
    counts = dense_vs_conv(200, 200, 3, 300, 300, 3)
    right = counts["conv"]["total"]
    measured = {"answer": value, "parameters": right, "dense_parameters": counts["fc"]["total"]}
    if value == right:
        return CheckResult(True, f"{right:,}: each filter is 3·3·3 = 27 weights (it spans all three colour channels) "
                           f"plus a bias; 300 of them make {right:,} — against {counts['fc']['total']:,} for the "
                           "fully connected layer.", measured)
    if value == 300 * (3 * 3 + 1):
        return CheckResult(False, "3,000 is the slide's count, for a filter on one channel. On an RGB image each "
                           "filter spans the 3 channels: count its weights again.", measured)
    if value == 300 * 3 * 3 * 3:
        return CheckResult(False, "Almost: 8,100 are the weights. Each filter has one bias too.", measured)
    return CheckResult(False, "Not yet. One filter: k·k weights per channel, times the channels, plus one bias. "
                       "Then times the number of filters — the calculator above does it for any sizes.", measured)


CHANGED_PIXEL = 0.3  # a pixel counts as changed when its ink level moved by more than this
MAX_CHANGED = 150
MAX_ERASED = 0.2  # the learner adds ink; a digit mostly erased is not "still a 7"


def fool_lenet(classify: Callable[[np.ndarray], tuple[int, np.ndarray]], original: np.ndarray, label: int,
               edited: list[list[float]]) -> CheckResult:
    """`classify(image)` gives LeNet's digit and probabilities for one 28×28 image in 0..1."""
    image = np.asarray(edited, dtype=np.float64)
    if image.shape != (28, 28) or not np.all(np.isfinite(image)):
        raise EngineError(f"the edited digit must be 28×28 finite ink levels, got shape {list(image.shape)}")
    image = np.clip(image, 0, 1)
    changed = int((np.abs(image - original) > CHANGED_PIXEL).sum())
    ink = original > 0.5
    erased = float((image[ink] < 0.5).mean()) if ink.any() else 0.0
    digit, probabilities = classify(image)
    measured = {"digit": digit, "probability": float(probabilities[digit]), "changed_pixels": changed,
                "erased_share": erased, "label": label}
    if erased > MAX_ERASED:
        return CheckResult(False, f"{erased:.0%} of the {label}'s ink is gone — a person would not see a {label} "
                           "either. Keep the digit and add a little ink instead.", measured)
    if digit == label:
        return CheckResult(False, f"LeNet still reads {label} ({probabilities[digit]:.0%} sure) after {changed} "
                           f"changed pixels. What makes a {label} a {label} for it? Try a short stroke that closes "
                           "a loop or "
                           "crosses the stem.", measured)
    if changed > MAX_CHANGED:
        return CheckResult(False, f"LeNet reads {digit} now, but you changed {changed} pixels — that is drawing a new "
                           f"digit. Start again and do it with fewer than {MAX_CHANGED}.", measured)
    return CheckResult(True, f"LeNet now reads {digit} ({probabilities[digit]:.0%} sure) after only {changed} changed "
                       f"pixels, though a person still sees a {label}. The network never learned what a {label} is — "
                       "only which patterns of ink went with the label.", measured)


# --- lesson 12: attention --------------------------------------------------------------------------------

# Three decoder positions; the query is the second one's. d_k = 2.
ATTENTION_QUERY = [1.0, 1.0]
ATTENTION_KEYS = [[1.0, 0.0], [2.0, 1.0], [3.0, 3.0]]
ATTENTION_POSITION = 1  # 0-based: the second position


def attention_weights(masked: bool = True, scaled: bool = True) -> np.ndarray:
    """softmax(q·Kᵀ / √d_k + mask) for the exercise's query, with the engine's causal mask."""
    q = np.asarray([ATTENTION_QUERY], dtype=np.float64)
    k = np.asarray(ATTENTION_KEYS, dtype=np.float64)
    scores = q @ k.T / (np.sqrt(k.shape[1]) if scaled else 1.0)
    if masked:
        scores = scores + causal_mask(len(k), len(k), np.float64)[ATTENTION_POSITION:ATTENTION_POSITION + 1]
    return softmax(scores)[0]


def attention_weight(answer: object) -> CheckResult:
    value = _number(answer, "the attention weight")
    weights = attention_weights()
    right = float(weights[1])
    measured = {"answer": value, "weights": weights.tolist()}
    if abs(value - right) < 0.002:
        scores = np.asarray(ATTENTION_KEYS) @ np.asarray(ATTENTION_QUERY) / np.sqrt(2)
        return CheckResult(True, f"{right:.3f}. Scores q·k / √2 = {scores[0]:.3f}, {scores[1]:.3f}"
                           f"; the third key is masked (−∞, weight {weights[2]:g}), and softmax shares the rest: "
                           f"{weights[0]:.3f} and {right:.3f}.", measured)
    if abs(value - float(attention_weights(masked=False)[1])) < 0.002:
        return CheckResult(False, "You let the second position look at the third key. In the decoder a position "
                           "attends only to itself and the ones before it: mask the later key out (−∞) before the "
                           "softmax.", measured)
    if abs(value - float(attention_weights(scaled=False)[1])) < 0.002:
        return CheckResult(False, "Close: you forgot to divide the scores by √d_k = √2 before the softmax.", measured)
    return CheckResult(False, "Not yet. Dot the query with the first two keys, divide by √d_k = √2, leave the third "
                       "key out (masked), and take the softmax of the two scores.", measured)
