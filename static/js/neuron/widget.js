// The neuron component: one neuron's knobs, its activation, its input plane and two losses — the /neuron page
// and the course's lessons mount it (mountNeuron), each with the panels its template rendered (a lesson may
// render only some; the parts missing are skipped). One instance per document: it finds its elements by id.
// Every number and curve shown comes from the engine through /api/neuron and /api/functions.
import { ApiError, api, decodeArrays, showError } from "../lib/api.js";
import { NEGATIVE, POSITIVE, diverging, rgb, sequential, symmetricRange, textOn } from "../lib/colors.js";
import { formatFixed } from "../lib/format.js";
import { drawHeatmap, drawLegend } from "../lib/heatmap.js";
import { drawPlot, extent } from "../lib/plot.js";

/** Evenly spaced sample positions (where to ask the engine), rounded so they read cleanly in requests. */
function samplePoints(lo, hi, count) {
  return Array.from({ length: count }, (_, i) => Number((lo + ((hi - lo) * i) / (count - 1)).toFixed(6)));
}

const Z_DOMAIN = [-6, 6];
const Z_SAMPLES = samplePoints(...Z_DOMAIN, 241);
const Y_HAT_SAMPLES = samplePoints(0.002, 0.998, 250);
const LOSS_Y_DOMAIN = [-3, 3];
const PLANE = { extent: 3, resolution: 100, size: 360 };
const SUBSCRIPT = ["₁", "₂", "₃"];
const PROBABILITY_OUTPUTS = new Set(["step", "sigmoid", "softmax"]);

const ACTIVATIONS = {
  step: {
    formula: "g(z) = 1 if z &gt; 0, else 0 &nbsp;·&nbsp; g′(z) = 0",
    apply: (z) => `step(${z})`,
    note: "All or nothing, like a spike: the neuron fires when the stimulus z crosses 0. Its slope is 0 "
      + "everywhere (and undefined at 0), so gradient descent gets no signal through it; the perceptron rule "
      + "trained it instead.",
  },
  sigmoid: {
    formula: "σ(z) = 1 / (1 + e<sup>−z</sup>) &nbsp;·&nbsp; σ′(z) = σ(z)(1 − σ(z))",
    apply: (z) => `σ(${z})`,
    note: "A smooth step: outputs between 0 and 1, read as a probability. Its slope is at most 0.25 and "
      + "vanishes far from 0: a saturated sigmoid passes almost no gradient back.",
  },
  tanh: {
    formula: "tanh(z) = (e<sup>z</sup> − e<sup>−z</sup>) / (e<sup>z</sup> + e<sup>−z</sup>) &nbsp;·&nbsp; "
      + "tanh′(z) = 1 − tanh²(z)",
    apply: (z) => `tanh(${z})`,
    note: "A sigmoid stretched to (−1, 1) and centred on 0, with slope 1 at z = 0. It saturates too.",
  },
  relu: {
    formula: "ReLU(z) = max(0, z) &nbsp;·&nbsp; ReLU′(z) = 1 if z &gt; 0, else 0",
    apply: (z) => `max(0, ${z})`,
    note: "Cheap, and it never saturates for z > 0. A neuron whose z stays below 0 gets no gradient at all "
      + "(a “dead” ReLU).",
  },
  linear: {
    formula: "g(z) = z &nbsp;·&nbsp; g′(z) = 1",
    apply: (z) => z,
    note: "No non-linearity: a stack of linear neurons is still one linear map, so it can only draw straight "
      + "boundaries.",
  },
  softmax: {
    formula: "softmax(z)<sub>i</sub> = e<sup>z<sub>i</sub></sup> / Σ<sub>j</sub> e<sup>z<sub>j</sub></sup> "
      + "&nbsp;·&nbsp; ∂s<sub>1</sub>/∂z<sub>1</sub> = s<sub>1</sub>(1 − s<sub>1</sub>)",
    apply: (z, others) => `softmax(${[z, ...others].join(", ")})₁`,
    note: "Plotted: this neuron's share s₁ as its own z₁ moves, the other neurons held where their sliders are. "
      + "With two neurons softmax is exactly a sigmoid of z₁ − z₂.",
  },
};

const state = {
  inputs: [1.0, 0.5, -1.0],
  weights: [0.8, -0.4, 0.3],
  bias: 0.1,
  activation: "sigmoid",
  others: [0.5, -1.0],
  target: 1,
  prediction: 0.2,
  points: [], // labelled points drawn on the plane: [x1, x2, ±1]
};

const results = { neuron: null, curve: null };
const $ = (id) => document.getElementById(id);
const errorBox = $("error");

const paren = (s) => (s.startsWith("-") ? `(${s})` : s);

const failures = new Map(); // task name → what went wrong; the banner shows every current failure

function reportFailure(name, err) {
  if (err) failures.set(name, err.message || String(err));
  else failures.delete(name);
  showError(errorBox, failures.size ? { message: [...failures.values()].join(" · ") } : null);
  if (err && !(err instanceof ApiError)) console.error(err); // a bug in this page, not a bad request
}

/** Run `task` for the latest state only: calls made while it runs collapse into one rerun. */
function latestOnly(name, task) {
  let running = false;
  let again = false;
  return async function schedule() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await task();
      } while (again);
      reportFailure(name, null);
    } catch (err) {
      reportFailure(name, err);
    } finally {
      running = false;
    }
  };
}

// ---- the neuron ---------------------------------------------------------------------------------------------

const updateNeuron = latestOnly("neuron", async () => {
  const body = { inputs: state.inputs, weights: state.weights, bias: state.bias, activation: state.activation };
  if (state.activation === "softmax") body.other_z = state.others;
  results.neuron = await api("/api/neuron/forward", { method: "POST", body });
  renderNeuron();
  renderActivationPlots();
});

function renderNeuron() {
  const r = results.neuron;
  if (!r) return;
  if ($("weighted-sum")) renderSum(r);
  if ($("bio-neuron")) renderBiological(r);
  if ($("art-neuron")) renderArtificial(r);
  if ($("softmax-group")) renderSoftmax(r);
}

function renderSum(r) {
  const meta = ACTIVATIONS[r.activation];
  r.terms.forEach((t, i) => { $(`term-${i + 1}`).textContent = formatFixed(t); });
  $("term-b").textContent = formatFixed(state.bias);
  $("sum-terms").textContent = state.inputs
    .map((x, i) => `${paren(formatFixed(x, 2))}·${paren(formatFixed(state.weights[i], 2))}`)
    .concat(paren(formatFixed(state.bias, 2)))
    .join(" + ");
  const z = $("weighted-sum");
  z.textContent = formatFixed(r.z);
  z.dataset.value = String(r.z);
  $("output-expression").textContent = meta.apply(formatFixed(r.z), state.others.map((v) => formatFixed(v, 2)));
  const a = $("neuron-output");
  a.textContent = formatFixed(r.output);
  a.dataset.value = String(r.output);

  const fires = $("fires");
  fires.dataset.fires = String(r.fires);
  fires.textContent = r.fires ? "⚡ Fires — z > 0" : "Silent — z ≤ 0";
  fires.classList.toggle("is-step", r.activation === "step");
  $("fires-note").textContent = r.activation === "step"
    ? "The step neuron is all or nothing: it fires when the stimulus z is above 0."
    : "What a step neuron would do with this z: fire when the stimulus is above 0.";
}

function renderBiological(r) {
  $("bio-neuron").classList.toggle("firing", r.fires);
  $("bio-state").textContent = r.fires
    ? "Firing: the stimulus crossed the threshold and a spike runs down the axon."
    : "Resting: the stimulus is below the threshold.";
}

function renderArtificial(r) {
  state.inputs.forEach((x, i) => {
    const color = diverging(x, 3);
    $(`art-x${i + 1}-node`).style.fill = rgb(color);
    const label = $(`art-x${i + 1}`);
    label.textContent = formatFixed(x, 2);
    label.style.fill = textOn(color);
  });
  document.querySelectorAll("#art-neuron .link").forEach((link, i) => {
    const w = state.weights[i];
    link.style.stroke = rgb(w >= 0 ? POSITIVE : NEGATIVE);
    link.style.strokeWidth = String(Math.min(12, 1 + 3 * Math.abs(w)));
    link.style.opacity = w === 0 ? "0.25" : "0.9";
    $(`art-w${i + 1}`).textContent = `w${SUBSCRIPT[i]} = ${formatFixed(w, 2)}`;
  });
  $("art-b").textContent = `b = ${formatFixed(state.bias, 2)}`;
  $("art-z").textContent = `z = ${formatFixed(r.z)}`;
  $("art-g").textContent = `g = ${r.activation}`;
  const outColor = PROBABILITY_OUTPUTS.has(r.activation) ? sequential(r.output) : diverging(r.output, 3);
  $("art-a-node").style.fill = rgb(outColor);
  $("art-a").textContent = formatFixed(r.output);
  $("art-a").style.fill = textOn(outColor);
  $("art-a-node").classList.toggle("firing", r.fires && r.activation === "step");
}

function renderSoftmax(r) {
  const group = $("softmax-group");
  group.hidden = !r.softmax;
  if (!r.softmax) return;
  r.softmax.z.forEach((z, i) => {
    $(`softmax-z-${i + 1}`).textContent = formatFixed(z, 2);
    $(`softmax-output-${i + 1}`).textContent = formatFixed(r.softmax.outputs[i]);
    $(`softmax-bar-${i + 1}`).style.width = `${(100 * r.softmax.outputs[i]).toFixed(2)}%`;
  });
  $("softmax-sum").textContent = formatFixed(r.softmax.total);
}

// ---- the activation's curves --------------------------------------------------------------------------------

const updateCurve = latestOnly("activation", async () => {
  if (!$("activation-plot") && !$("art-curve")) return;
  const softmax = state.activation === "softmax";
  const z = softmax ? Z_SAMPLES.map((t) => [t, ...state.others]) : Z_SAMPLES;
  const r = await api("/api/functions/activation", { method: "POST", body: { activation: state.activation, z } });
  results.curve = {
    activation: r.activation,
    value: softmax ? r.value.map((row) => row[0]) : r.value,
    derivative: softmax ? r.derivative.map((row) => row[0]) : r.derivative,
  };
  renderActivationPlots();
  renderMiniCurve();
});

function renderActivationPlots() {
  const curve = results.curve;
  if (!curve || !$("activation-plot")) return;
  const meta = ACTIVATIONS[curve.activation];
  $("activation-formula").innerHTML = meta.formula;
  $("activation-note").textContent = meta.note;
  const r = results.neuron && results.neuron.activation === curve.activation ? results.neuron : null;
  const marker = (y, color) => (r ? { x: r.z, label: `z = ${formatFixed(r.z, 2)}`, points: [{ y, color }] } : null);
  const valueDomain = extent(curve.value, { include: [0] });
  const slopeDomain = extent(curve.derivative, { include: [0, curve.activation === "step" ? 1 : 0] });
  drawPlot($("activation-plot"), {
    x: Z_DOMAIN, y: valueDomain, xLabel: "z", yLabel: "g(z)",
    series: [{ xs: Z_SAMPLES, ys: curve.value, color: "var(--accent)", label: "g(z)", testid: "activation-curve" }],
    marker: r && marker(r.output, "var(--accent)"),
  });
  drawPlot($("derivative-plot"), {
    x: Z_DOMAIN, y: slopeDomain, xLabel: "z", yLabel: "g′(z)",
    series: [{ xs: Z_SAMPLES, ys: curve.derivative, color: "var(--grad-color)", label: "g′(z)",
      testid: "derivative-curve" }],
    marker: r && marker(r.derivative, "var(--grad-color)"),
  });
  $("activation-caption").textContent = r
    ? `g(z) = ${formatFixed(r.output)} at z = ${formatFixed(r.z)}` : "g(z)";
  $("derivative-caption").textContent = r
    ? `g′(z) = ${formatFixed(r.derivative)} at z = ${formatFixed(r.z)}` : "g′(z)";
}

/** The chosen activation's curve, small, inside the g box of the artificial neuron. */
function renderMiniCurve() {
  const curve = results.curve;
  if (!$("art-curve")) return;
  const [lo, hi] = extent(curve.value, { include: [0] });
  const box = { x: 372, y: 116, w: 58, h: 48 };
  let d = "";
  Z_SAMPLES.forEach((t, i) => {
    const px = box.x + ((t - Z_DOMAIN[0]) / (Z_DOMAIN[1] - Z_DOMAIN[0])) * box.w;
    const py = box.y + box.h - ((curve.value[i] - lo) / (hi - lo)) * box.h;
    d += `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`;
  });
  $("art-curve").setAttribute("d", d);
}

// ---- the input plane ----------------------------------------------------------------------------------------

const plane = { handles: null, dragging: null, pending: null };
const toPx = (v) => ((v + PLANE.extent) / (2 * PLANE.extent)) * PLANE.size;
const toPy = (v) => ((PLANE.extent - v) / (2 * PLANE.extent)) * PLANE.size;

/** Redraw the plane for the current weights (not a drag: the handles go back to their default places). */
function refreshPlane() {
  plane.pending = null;
  updatePlane();
}

const updatePlane = latestOnly("plane", async () => {
  if (!$("plane-heatmap")) return;
  const body = {
    weights: state.weights.slice(0, 2), bias: state.bias, activation: state.activation,
    extent: PLANE.extent, resolution: PLANE.resolution,
  };
  if (state.activation === "softmax") body.other_z = state.others;
  if (plane.pending) body.through = plane.pending;
  const r = decodeArrays(await api("/api/neuron/plane", { method: "POST", body, query: { encoding: "base64" } }));
  if (body.through) {
    // The engine turned the dragged line into weights: they become the neuron's.
    state.weights[0] = r.weights[0];
    state.weights[1] = r.weights[1];
    state.bias = r.bias;
    syncSliders();
    updateNeuron();
  }
  renderPlane(r);
});

function renderPlane(r) {
  const canvas = $("plane-heatmap");
  const { data, shape } = r.output;
  const probability = PROBABILITY_OUTPUTS.has(r.activation);
  const range = r.activation === "tanh" ? 1 : symmetricRange(data);
  drawHeatmap(canvas, data, shape[0], shape[1], probability ? { scale: "sequential" } : { range });
  canvas.classList.remove("pixelated"); // smooth scaling reads as the continuous function it is
  drawLegend($("plane-legend"), probability
    ? { scale: "sequential", label: "output a", width: 150 }
    : { scale: "diverging", range, label: "output a", width: 150 });

  const line = $("decision-line");
  const normal = $("normal-arrow");
  const visible = Boolean(r.line);
  for (const node of [line, normal, $("handle-1"), $("handle-2")]) node.style.display = visible ? "" : "none";
  const [w1, w2] = r.weights;
  $("line-equation").textContent = `${formatFixed(w1, 2)}·x₁ + ${paren(formatFixed(w2, 2))}·x₂ + ${paren(formatFixed(r.bias, 2))} = 0`;
  $("plane-weights").textContent = visible
    ? `w₁ = ${formatFixed(w1, 2)}, w₂ = ${formatFixed(w2, 2)}, b = ${formatFixed(r.bias, 2)}`
    : `w₁ = ${formatFixed(w1, 2)}, w₂ = ${formatFixed(w2, 2)}, b = ${formatFixed(r.bias, 2)}: the line z = 0 lies outside this square.`;
  if (!visible) {
    plane.handles = null;
    return;
  }
  const [[ax, ay], [bx, by]] = r.line;
  line.setAttribute("x1", toPx(ax));
  line.setAttribute("y1", toPy(ay));
  line.setAttribute("x2", toPx(bx));
  line.setAttribute("y2", toPy(by));
  // The weight vector drawn from the segment's middle: it points where z > 0.
  const mx = (toPx(ax) + toPx(bx)) / 2;
  const my = (toPy(ay) + toPy(by)) / 2;
  const length = Math.hypot(w1, w2) || 1;
  const arrow = Math.min(70, 14 + 14 * length);
  normal.setAttribute("x1", mx);
  normal.setAttribute("y1", my);
  normal.setAttribute("x2", mx + (w1 / length) * arrow);
  normal.setAttribute("y2", my - (w2 / length) * arrow);
  if (!plane.dragging) plane.handles = r.handles;
  plane.handles.forEach(([hx, hy], i) => {
    const handle = $(`handle-${i + 1}`);
    handle.setAttribute("cx", toPx(hx));
    handle.setAttribute("cy", toPy(hy));
  });
}

function drawPlaneAxes() {
  const g = $("plane-axes");
  if (!g) return;
  const ns = "http://www.w3.org/2000/svg";
  const add = (name, attrs, text) => {
    const node = document.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    g.append(node);
  };
  for (let t = -PLANE.extent + 1; t < PLANE.extent; t++) {
    const cls = t === 0 ? "plane-axis" : "plane-grid";
    add("line", { x1: toPx(t), x2: toPx(t), y1: 0, y2: PLANE.size, class: cls });
    add("line", { y1: toPy(t), y2: toPy(t), x1: 0, x2: PLANE.size, class: cls });
    if (t !== 0) {
      add("text", { x: toPx(t), y: toPy(0) + 14, class: "plane-tick", "text-anchor": "middle" }, String(t));
      add("text", { x: toPx(0) - 5, y: toPy(t) + 4, class: "plane-tick", "text-anchor": "end" }, String(t));
    }
  }
  add("text", { x: PLANE.size - 6, y: toPy(0) - 6, class: "plane-axis-label", "text-anchor": "end" }, "x₁");
  add("text", { x: toPx(0) + 6, y: 16, class: "plane-axis-label" }, "x₂");
}

/** The preset's labelled points on the plane, coloured by class (blue +1, orange −1). */
function drawPlanePoints() {
  const g = $("plane-points");
  if (!g) return;
  const ns = "http://www.w3.org/2000/svg";
  g.replaceChildren(...state.points.map(([x1, x2, label]) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", toPx(x1));
    dot.setAttribute("cy", toPy(x2));
    dot.setAttribute("r", 7);
    dot.setAttribute("class", `plane-point ${label > 0 ? "positive" : "negative"}`);
    dot.style.fill = rgb(label > 0 ? POSITIVE : NEGATIVE);
    return dot;
  }));
}

function planePoint(event) {
  const svg = $("plane-overlay");
  const box = svg.getBoundingClientRect();
  const clamp = (v) => Math.max(-PLANE.extent, Math.min(PLANE.extent, v));
  const x = clamp(((event.clientX - box.left) / box.width) * 2 * PLANE.extent - PLANE.extent);
  const y = clamp(PLANE.extent - ((event.clientY - box.top) / box.height) * 2 * PLANE.extent);
  return [Number(x.toFixed(4)), Number(y.toFixed(4))];
}

function wireHandles() {
  [1, 2].forEach((n, i) => {
    const handle = $(`handle-${n}`);
    if (!handle) return;
    handle.addEventListener("pointerdown", (event) => {
      if (!plane.handles) return;
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      plane.dragging = i;
      handle.classList.add("dragging");
    });
    const moveTo = (point) => {
      const other = plane.handles[1 - i];
      if (Math.hypot(point[0] - other[0], point[1] - other[1]) < 0.1) return; // a line needs two points
      plane.handles = i === 0 ? [point, other] : [other, point];
      handle.setAttribute("cx", toPx(point[0]));
      handle.setAttribute("cy", toPy(point[1]));
      plane.pending = plane.handles;
      updatePlane();
    };
    handle.addEventListener("pointermove", (event) => {
      if (plane.dragging === i) moveTo(planePoint(event));
    });
    // Arrow keys nudge a focused handle by 0.1 (0.5 with Shift), for people without a pointer.
    handle.addEventListener("keydown", (event) => {
      const step = event.shiftKey ? 0.5 : 0.1;
      const delta = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[event.key];
      if (!delta || !plane.handles) return;
      event.preventDefault();
      const clamp = (v) => Number(Math.max(-PLANE.extent, Math.min(PLANE.extent, v)).toFixed(4));
      const [hx, hy] = plane.handles[i];
      moveTo([clamp(hx + delta[0]), clamp(hy + delta[1])]);
    });
    const release = () => {
      if (plane.dragging !== i) return;
      plane.dragging = null; // plane.pending stays: a request still running ends on the handles' last places
      handle.classList.remove("dragging");
    };
    handle.addEventListener("pointerup", release);
    handle.addEventListener("pointercancel", release);
  });
}

// ---- the losses ---------------------------------------------------------------------------------------------

const updateLosses = latestOnly("losses", async () => {
  if (!$("mse-plot")) return;
  const predictions = [...Y_HAT_SAMPLES, state.prediction];
  const [mse, ce] = await Promise.all(["mse", "bce"].map((loss) => api("/api/functions/loss", {
    method: "POST", body: { loss, target: state.target, predictions },
  })));
  renderLosses(mse, ce);
});

function renderLosses(mse, ce) {
  const n = Y_HAT_SAMPLES.length;
  const current = (r) => ({ value: r.value[n], grad: r.derivative[n], gradz: r.derivative_z[n] });
  const plot = (svg, r) => {
    const now = current(r);
    drawPlot(svg, {
      x: [0, 1], y: LOSS_Y_DOMAIN, xLabel: "ŷ", width: 320, height: 210,
      series: [
        { xs: Y_HAT_SAMPLES, ys: r.derivative_z.slice(0, n), color: "var(--value-negative)", dash: "2 4",
          width: 2.4, label: "∂L/∂z" },
        { xs: Y_HAT_SAMPLES, ys: r.derivative.slice(0, n), color: "var(--grad-color)", dash: "7 4",
          label: "∂L/∂ŷ" },
        { xs: Y_HAT_SAMPLES, ys: r.value.slice(0, n), color: "var(--accent)", width: 2.8, label: "L" },
      ],
      marker: { x: state.prediction, label: `ŷ = ${formatFixed(state.prediction)}`, points: [
        { y: now.gradz, color: "var(--value-negative)" }, { y: now.grad, color: "var(--grad-color)" },
        { y: now.value, color: "var(--accent)" }] },
    });
    return now;
  };
  const m = plot($("mse-plot"), mse);
  const c = plot($("ce-plot"), ce);
  $("mse-value").textContent = formatFixed(m.value);
  $("ce-value").textContent = formatFixed(c.value);
  $("mse-grad").textContent = formatFixed(m.grad);
  $("ce-grad").textContent = formatFixed(c.grad);
  $("mse-gradz").textContent = formatFixed(m.gradz);
  $("ce-gradz").textContent = formatFixed(c.gradz);
  $("loss-prediction-value").textContent = formatFixed(state.prediction);

  const wrong = Math.abs(state.prediction - state.target) > 0.9;
  $("saturation-note").innerHTML =
    `<b>Why cross-entropy keeps learning.</b> When the output is a sigmoid, ŷ = σ(z), the gradient that reaches z is `
    + `∂L/∂ŷ · σ′(z), and σ′(z) = ŷ(1 − ŷ) all but vanishes when the sigmoid saturates near 0 or 1. `
    + `Squared error keeps that factor: here ∂L/∂z = <span class="mono">${formatFixed(m.gradz)}</span>. `
    + `Cross-entropy's ∂L/∂ŷ = −y/ŷ + (1 − y)/(1 − ŷ) grows exactly as fast as σ′ shrinks and cancels it, leaving `
    + `∂L/∂z = ŷ − y = <span class="mono">${formatFixed(c.gradz)}</span>. `
    + (wrong
      ? "This output is confidently wrong and saturated: squared error barely moves it, cross-entropy pushes hard."
      : `Try ŷ near ${state.target === 1 ? "0" : "1"}: a confidently wrong neuron barely learns with squared error, `
        + "and learns fastest with cross-entropy.");
}

// ---- controls -----------------------------------------------------------------------------------------------

function syncSliders() {
  const show = (id, value, digits) => {
    if (!$(id)) return; // a panel this mount did not render
    $(id).value = value;
    const label = $(`${id}-value`);
    if (label) label.textContent = formatFixed(value, digits);
  };
  state.inputs.forEach((x, i) => show(`input-${i + 1}`, x, 2));
  state.weights.forEach((w, i) => show(`weight-${i + 1}`, w, 2));
  show("bias", state.bias, 2);
  state.others.forEach((z, i) => { if ($(`softmax-other-${i + 2}`)) $(`softmax-other-${i + 2}`).value = z; });
  document.querySelectorAll("[data-activation]").forEach((button) => {
    button.setAttribute("aria-checked", String(button.dataset.activation === state.activation));
  });
  if ($("loss-target")) $("loss-target").value = String(state.target);
  show("loss-prediction", state.prediction, 3);
}

function wireControls() {
  const numberOf = (el) => Number(el.value);
  const $ = (id) => document.getElementById(id) || new EventTarget(); // panels not rendered: nothing to wire
  [1, 2, 3].forEach((n, i) => {
    $(`input-${n}`).addEventListener("input", (e) => {
      state.inputs[i] = numberOf(e.target);
      $(`input-${n}-value`).textContent = formatFixed(state.inputs[i], 2);
      updateNeuron();
    });
    $(`weight-${n}`).addEventListener("input", (e) => {
      state.weights[i] = numberOf(e.target);
      $(`weight-${n}-value`).textContent = formatFixed(state.weights[i], 2);
      updateNeuron();
      if (i < 2) refreshPlane();
    });
  });
  $("bias").addEventListener("input", (e) => {
    state.bias = numberOf(e.target);
    $("bias-value").textContent = formatFixed(state.bias, 2);
    updateNeuron();
    refreshPlane();
  });
  [2, 3].forEach((n, i) => {
    $(`softmax-other-${n}`).addEventListener("input", (e) => {
      state.others[i] = numberOf(e.target);
      updateNeuron();
      updateCurve();
      refreshPlane();
    });
  });
  document.querySelectorAll("[data-activation]").forEach((button) => {
    button.addEventListener("click", () => {
      state.activation = button.dataset.activation;
      syncSliders();
      updateNeuron();
      updateCurve();
      refreshPlane();
    });
  });
  $("loss-target").addEventListener("change", (e) => {
    state.target = Number(e.target.value);
    updateLosses();
  });
  $("loss-prediction").addEventListener("input", (e) => {
    state.prediction = numberOf(e.target);
    $("loss-prediction-value").textContent = formatFixed(state.prediction);
    updateLosses();
  });
  // Hovering a part of either drawing, or its line in the key, lights up the matching parts.
  const analogy = document.querySelector(".analogy");
  if (!analogy) return;
  analogy.addEventListener("pointerover", (event) => {
    const part = event.target.closest("[data-part]");
    analogy.dataset.highlight = part ? part.dataset.part : "";
  });
  analogy.addEventListener("pointerleave", () => { analogy.dataset.highlight = ""; });
}

// ---- mounting -----------------------------------------------------------------------------------------------

const HASH_LISTS = ["inputs", "weights", "others"];

/** The state a URL hash carries ("#activation=step&inputs=1,0,0&weights=…&bias=…&points=2,1,1;…"). */
export function presetFromHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const preset = {};
  const numbers = (text) => text.split(",").map(Number);
  for (const key of HASH_LISTS) {
    if (params.has(key)) preset[key] = numbers(params.get(key));
  }
  for (const key of ["bias", "target", "prediction"]) {
    if (params.has(key)) preset[key] = Number(params.get(key));
  }
  if (params.has("activation")) preset.activation = params.get("activation");
  if (params.get("points")) preset.points = params.get("points").split(";").map(numbers);
  return preset;
}

function cleanPreset(preset) {
  const out = {};
  const finite = (v) => typeof v === "number" && Number.isFinite(v);
  for (const key of HASH_LISTS) {
    const list = preset[key];
    if (Array.isArray(list) && list.length === state[key].length && list.every(finite)) out[key] = [...list];
  }
  for (const key of ["bias", "prediction"]) if (finite(preset[key])) out[key] = preset[key];
  if (preset.target === 0 || preset.target === 1) out.target = preset.target;
  if (preset.activation in ACTIVATIONS) out.activation = preset.activation;
  if (Array.isArray(preset.points)) {
    out.points = preset.points.filter((p) => Array.isArray(p) && p.length === 3 && p.every(finite));
  }
  return out;
}

/** The neuron's state now: what an exercise sends and what a link to the full page carries. */
export function neuronState() {
  const { inputs, weights, bias, activation, target, prediction } = state;
  return { inputs: [...inputs], weights: [...weights], bias, activation, target, prediction };
}

/** A link to the /neuron page in this state. */
export function neuronLink() {
  const p = new URLSearchParams();
  p.set("activation", state.activation);
  for (const key of HASH_LISTS) p.set(key, state[key].map((v) => Number(v.toFixed(4))).join(","));
  p.set("bias", String(Number(state.bias.toFixed(4))));
  p.set("target", String(state.target));
  p.set("prediction", String(state.prediction));
  if (state.points.length) p.set("points", state.points.map((pt) => pt.join(",")).join(";"));
  return `/neuron#${p.toString().replaceAll("%2C", ",").replaceAll("%3B", ";")}`;
}

/** Start the component on the panels the page rendered, in `preset`'s state (unknown fields are ignored). */
export function mountNeuron(preset = {}) {
  Object.assign(state, cleanPreset(preset));
  drawPlaneAxes();
  drawPlanePoints();
  syncSliders();
  wireControls();
  wireHandles();
  updateNeuron();
  updateCurve();
  updatePlane();
  updateLosses();
  return { state: neuronState, link: neuronLink };
}
