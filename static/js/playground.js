// The Playground page: wires the controls, the network view, the plots and the live socket to the API.
// Every number drawn comes from the server (frames over /ws/networks/{id}, points and read-outs over REST).
import { api, ApiError, decodeArrays, showError } from "./api.js";
import { NEGATIVE, POSITIVE, rgb, ZERO } from "./colors.js";
import { CurvePlot } from "./curve-plot.js";
import { datasetPicker } from "./dataset-picker.js";
import { formatNumber } from "./heatmap.js";
import { LineChart } from "./line-chart.js";
import { NetworkView } from "./network-view.js";
import { ParamPopover } from "./param-popover.js";
import { PlanePlot } from "./plane-plot.js";
import {
  DEFAULT_VIEW, featureLabel, formatEpoch, modelCaption, parseHash, roundCoord, toHash,
} from "./playground-state.js";
import { connectSocket } from "./socket.js";
import { CLASS_COLORS, paintBytes, paintProbability } from "./value-maps.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const ACTIVATION_NAMES = { relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", linear: "Linear" };
const FULL_SIZE = 100;

const state = {
  catalog: null,
  config: null,
  view: { ...DEFAULT_VIEW },
  edits: [],
  id: null,
  revision: 0,
  layout: [],
  task: "binary",
  kind: "plane",
  data: null,
  customData: false,
  frame: null,
  history: [],
  playing: false,
  wantPlaying: false,
  focus: null,
  socket: null,
  writtenHash: "",
  pointClass: 1,
};

let network;
let chart;
let accuracyChart;
let plane;
let curve;
let popover;
let picker;

// --- start-up -------------------------------------------------------------------------------------------

async function main() {
  state.catalog = decodeArrays(await api("/api/playground/catalog"));
  const { choices } = state.catalog;
  fillSelect($("learning-rate"), choices.learning_rates.map((v) => [String(v), String(v)]));
  fillSelect($("reg-rate"), choices.reg_rates.map((v) => [String(v), String(v)]));
  fillSelect($("activation"), choices.activations.map((a) => [a, ACTIVATION_NAMES[a] || a]));
  picker = datasetPicker($("dataset-picker"), state.catalog.datasets, pickDataset);
  network = new NetworkView($("network"), {
    toggleFeature, addNeuron, removeNeuron, setLayerActivation, hoverNeuron, hoverParam, clickParam,
  });
  chart = new LineChart($("loss-chart"), {
    height: 74,
    label: "loss",
    series: [{ key: "test_loss", label: "test", color: "var(--text)" },
             { key: "train_loss", label: "train", color: "#9aa4b2" }],
  });
  accuracyChart = new LineChart($("loss-chart"), {
    height: 40,
    label: "accuracy",
    series: [{ key: "test_accuracy", label: "test", color: "#0877bd", unit: "%" },
             { key: "train_accuracy", label: "train", color: "#9ccbe8", unit: "%" }],
  });
  fixChartColors();
  const pointsCanvas = document.querySelector(".pg-points");
  plane = new PlanePlot($("output-heatmap"), pointsCanvas);
  curve = new CurvePlot(pointsCanvas);
  popover = new ParamPopover($("tooltip"), $("value-editor"));
  wireControls();
  const parsed = parseHash(location.hash, state.catalog.defaults);
  await start(parsed.config, parsed.view, parsed.edits);
  window.addEventListener("hashchange", () => {
    if (location.hash === state.writtenHash) return;
    const next = parseHash(location.hash, state.catalog.defaults);
    start(next.config, next.view, next.edits);
  });
  window.addEventListener("resize", () => { renderStructure(); scheduleDraw(); });
  document.body.dataset.ready = "true";
}

function fillSelect(select, options) {
  select.replaceChildren(...options.map(([value, label]) => {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }));
}

function fixChartColors() {
  // Canvas strokes cannot read CSS variables: resolve them once.
  const text = getComputedStyle(document.documentElement).getPropertyValue("--text").trim() || "#1d2430";
  chart.series[0].color = text;
}

/** A new session for `config` (replaying point edits), then draw and stream it. */
async function start(config, view = state.view, edits = []) {
  setPlaying(false);
  showError($("error-banner"), null);
  let created;
  try {
    created = await api("/api/playground", { method: "POST", body: config });
  } catch (err) {
    showError($("error-banner"), new Error(`This link's settings do not work (${err.message}); showing the defaults.`));
    created = await api("/api/playground", { method: "POST", body: state.catalog.defaults });
    edits = [];
  }
  state.view = { ...DEFAULT_VIEW, ...view };
  state.edits = [];
  state.customData = false;
  adopt(created);
  for (const edit of edits) {
    try {
      await applyEdit(edit);
    } catch (err) {
      showError($("error-banner"), new Error(`A point edit of this link did not apply: ${err.message}`));
      break;
    }
  }
  await loadPoints();
  renderStructure();
  syncControls();
  writeHash();
  connect();
}

/** Take a session's state from the API as the page's own. */
function adopt(s) {
  state.id = s.id;
  document.body.dataset.session = s.id; // for scripts and tests: the session this page drives
  state.config = s.config;
  state.revision = s.revision;
  state.layout = s.layout;
  state.task = s.data.task;
  state.kind = s.data.kind;
  state.customData = s.data.name === "custom";
  state.history = s.history;
  state.frame = null;
  state.focus = null;
}

async function loadPoints() {
  const d = decodeArrays(await api(`/api/networks/${state.id}/data`, { query: { encoding: "base64" } }));
  state.data = d;
  drawPoints();
}

// --- the live socket ------------------------------------------------------------------------------------

function connect() {
  if (state.socket) state.socket.close();
  const id = state.id;
  const socket = connectSocket(`/ws/networks/${id}`, {
    onMessage: (msg) => { if (state.id === id) receive(msg); },
    onStatus: (status) => {
      if (state.id !== id) return;
      const label = $("connection-status");
      if (status === "open") {
        label.textContent = "";
        label.dataset.state = "open";
        if (state.focus) socket.send({ type: "config", focus: [state.focus.layer, state.focus.index] });
        if (state.wantPlaying) socket.send({ type: "play" }); // a reconnect resumes the same session
      } else if (status === "reconnecting") {
        label.textContent = "Connection lost — reconnecting…";
        label.dataset.state = "reconnecting";
      } else {
        label.dataset.state = "closed";
        label.textContent = "";
        showSessionGone();
      }
    },
  });
  state.socket = socket;
}

function send(message) {
  if (state.socket) state.socket.send(message);
}

function showSessionGone() {
  const banner = $("error-banner");
  banner.replaceChildren(document.createTextNode(
    "This network's session has ended on the server (it was idle too long, or the server restarted). "));
  const again = document.createElement("button");
  again.textContent = "Start again from this link";
  again.addEventListener("click", () => start(state.config, state.view, state.edits));
  banner.append(again);
}

function receive(msg) {
  if (msg.type === "error") {
    state.wantPlaying = false; // the server pauses on a training error
    showError($("error-banner"), new Error(msg.detail));
    return;
  }
  if (msg.type !== "frame") return;
  if (msg.revision < state.revision) return; // computed before the network or its data were replaced
  state.revision = msg.revision;
  const h = msg.history;
  state.history = state.history.slice(0, h.from).concat(h.entries);
  setPlaying(msg.playing);
  if (msg.diverged) state.wantPlaying = false;
  state.frame = decodeArrays(msg);
  if (state.frame.layout.join() !== state.layout.join()) {
    state.layout = state.frame.layout;
    renderStructure();
  }
  scheduleDraw();
}

// --- drawing --------------------------------------------------------------------------------------------

let drawPending = false;

function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function draw() {
  const frame = state.frame;
  if (!frame) return;
  $("epoch-counter").textContent = formatEpoch(frame.epoch);
  $("epoch-counter").dataset.epoch = String(frame.epoch);
  const m = frame.metrics || {};
  $("test-loss").textContent = Number.isFinite(m.test_loss) ? m.test_loss.toFixed(3) : "—";
  $("train-loss").textContent = Number.isFinite(m.train_loss) ? m.train_loss.toFixed(3) : "—";
  $("test-loss").dataset.value = String(m.test_loss ?? "");
  $("train-loss").dataset.value = String(m.train_loss ?? "");
  const classification = state.task !== "regression";
  document.querySelector(".pg-accuracy").hidden = !classification;
  $("test-accuracy").textContent = Number.isFinite(m.test_accuracy) ? `${(100 * m.test_accuracy).toFixed(1)} %` : "—";
  chart.setEntries(state.history);
  accuracyChart.canvas.hidden = !classification;
  accuracyChart.readout.hidden = !classification;
  if (classification) accuracyChart.setEntries(state.history);
  network.update(frame, { showGradients: state.view.showGradients, playing: state.playing });
  drawOutput();
  const banner = $("divergence-banner");
  banner.hidden = !frame.diverged;
  if (frame.diverged) {
    banner.querySelector(".pg-diverged-text").textContent =
      `${frame.message} The learning rate ${state.config.learning_rate} is too high for this network.`;
  }
}

function drawOutput() {
  const frame = state.frame;
  const plot = $("output-plot");
  plot.classList.toggle("curve", state.kind === "curve");
  const label = $("plot-label");
  const focus = frame && frame.focus && state.focus && frame.focus.layer === state.focus.layer &&
    frame.focus.index === state.focus.index ? frame.focus : null;
  if (state.kind === "curve") {
    curve.draw(frame, state.data, { showTestData: state.view.showTestData, focus: state.focus });
    label.textContent = focus ? neuronName(focus.layer, focus.index) : "";
    return;
  }
  if (!frame) return;
  if (focus && focus.layer === 0) {
    plane.drawMap({ kind: "bytes", data: focus.values.data, size: FULL_SIZE, classes: 1 });
  } else if (focus) {
    const last = state.layout.length - 1;
    if (focus.layer === last && state.layout[last] === 3) {
      paintProbabilityFocus(focus);
    } else {
      plane.drawMap({ kind: "bytes", data: focus.values.data, size: FULL_SIZE, classes: 1 },
                    { discretize: state.view.discretize && focus.layer === last });
    }
  } else if (frame.output) {
    plane.drawMap({ kind: "bytes", data: frame.output.data, size: FULL_SIZE, classes: frame.output.shape[0] },
                  { discretize: state.view.discretize });
  }
  label.textContent = focus ? neuronName(focus.layer, focus.index) : "";
  drawLegend(focus);
}

function paintProbabilityFocus(focus) {
  // One class's probability, from grey to its colour: the same painter as the thumbnails.
  paintProbability($("output-heatmap"), focus.values.data, FULL_SIZE, focus.index);
}

function drawLegend(focus) {
  const legend = $("legend");
  const frame = state.frame;
  const last = state.layout.length - 1;
  let low = -1;
  let high = 1;
  if (focus) [low, high] = focus.range;
  else if (frame && frame.ranges) [low, high] = frame.ranges[last - 1];
  if (state.layout[last] === 3 && !focus) {
    legend.innerHTML = [0, 1, 2].map((c) =>
      `<span class="pg-swatch" style="background: rgb(${CLASS_COLORS[c].join(",")})"></span> class ${c}`).join(" ");
    return;
  }
  // The bar uses the very colours the maps are painted with (colors.js), in light and dark mode alike.
  const bar = `linear-gradient(90deg, ${rgb(NEGATIVE)}, ${rgb(ZERO)}, ${rgb(POSITIVE)})`;
  legend.innerHTML = `<span>${formatNumber(low)}</span><span class="pg-legend-bar" style="background: ${bar}"></span>` +
    `<span>${formatNumber(high)}</span>`;
}

function drawPoints() {
  if (state.kind === "curve") {
    scheduleDraw();
    curve.draw(state.frame, state.data, { showTestData: state.view.showTestData, focus: state.focus });
    return;
  }
  plane.drawPoints(state.data, { showTestData: state.view.showTestData });
}

function neuronName(layer, index) {
  const last = state.layout.length - 1;
  if (layer === 0) return `input ${featureLabel(state.config.features[index])}`;
  if (layer === last) return state.layout[last] === 3 ? `output: probability of class ${index}` : "output";
  return `neuron ${index + 1} of hidden layer ${layer}`;
}

/** (Re)build the network view and the controls that depend on the kind of data. */
function renderStructure() {
  if (!state.config) return;
  const { catalog, config } = state;
  const oneD = catalog.choices.one_d_features;
  const features = catalog.features.filter((f) => state.kind !== "curve" || oneD.includes(f.name));
  network.render({
    kind: state.kind, features, selected: config.features, hidden: config.hidden,
    activations: config.activations || config.hidden.map(() => config.activation),
    outputs: state.layout[state.layout.length - 1], task: state.task,
    maxNeurons: catalog.choices.max_neurons, axis: catalog.axis.data,
  });
  $("layer-count").textContent = String(config.hidden.length);
  document.querySelector(".pg-layer-word").textContent = config.hidden.length === 1 ? "hidden layer" : "hidden layers";
  $("add-layer").disabled = config.hidden.length >= catalog.choices.max_hidden_layers;
  $("remove-layer").disabled = config.hidden.length === 0;
  $("features-caption").textContent = modelCaption(config, state.task);
  renderPointClasses();
  $("output-plot").classList.toggle("curve", state.kind === "curve");
  const yTicks = state.kind === "curve" ? [curve.yRange, 0, -curve.yRange] : [6, 0, -6];
  document.querySelectorAll(".pg-ticks-y span").forEach((span, i) => { span.textContent = formatNumber(yTicks[i]); });
  drawPoints();
}

function renderPointClasses() {
  const box = $("point-class");
  box.replaceChildren();
  const help = document.querySelector(".pg-csv-help");
  const hint = document.querySelector(".pg-own-data .pg-hint");
  if (state.kind === "curve") {
    hint.textContent = "Click the plot to add a point there; shift-click removes the nearest.";
    help.textContent = "CSV rows: x,y with x in [−6, 6].";
    return;
  }
  hint.textContent = "Click the output to add a point of this class; shift-click removes the nearest.";
  let choices;
  if (state.task === "multiclass") choices = [0, 1, 2].map((c) => [c, `class ${c}`, CLASS_COLORS[c]]);
  else if (state.task === "binary") choices = [[0, "orange (−1)", CLASS_COLORS[0]], [1, "blue (+1)", CLASS_COLORS[1]]];
  else choices = [[-1, "−1", CLASS_COLORS[0]], [-0.5, "−0.5", null], [0.5, "+0.5", null], [1, "+1", CLASS_COLORS[1]]];
  if (!choices.some(([v]) => v === state.pointClass)) state.pointClass = choices[choices.length - 1][0];
  for (const [value, label, color] of choices) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "pg-class-choice";
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(value === state.pointClass));
    b.setAttribute("data-testid", `point-class-${value}`);
    const swatch = document.createElement("span");
    swatch.className = "pg-swatch";
    swatch.style.background = color ? `rgb(${color.join(",")})` : "var(--value-zero)";
    b.append(swatch, document.createTextNode(label));
    b.addEventListener("click", () => { state.pointClass = value; renderPointClasses(); });
    box.append(b);
  }
  help.textContent = state.task === "regression" ? "CSV rows: x1,x2,value." :
    state.task === "multiclass" ? "CSV rows: x1,x2,class (0, 1 or 2)." : "CSV rows: x1,x2,label (0/1 or −1/+1).";
  if (state.customData) help.textContent += " Uploaded points are not part of the page's link.";
}

function syncControls() {
  const c = state.config;
  $("learning-rate").value = String(c.learning_rate);
  if ($("learning-rate").value !== String(c.learning_rate)) addOption($("learning-rate"), c.learning_rate);
  $("reg-rate").value = String(c.reg_rate);
  if ($("reg-rate").value !== String(c.reg_rate)) addOption($("reg-rate"), c.reg_rate);
  $("activation").value = c.activation;
  $("loss").value = c.loss;
  $("loss").querySelector('[value="cross_entropy"]').disabled = state.task === "regression";
  $("optimizer").value = c.optimizer;
  $("regularization").value = c.regularization;
  $("reg-rate").disabled = c.regularization === "none";
  setRange("train-ratio", Math.round(c.train_ratio * 100), `${Math.round(c.train_ratio * 100)}%`);
  setRange("noise", Math.round(c.noise * 100), String(Math.round(c.noise * 100)));
  setRange("batch-size", c.batch_size, String(c.batch_size));
  $("show-test-data").checked = state.view.showTestData;
  $("discretize").checked = state.view.discretize;
  $("show-gradients").checked = state.view.showGradients;
  $("discretize").closest("label").hidden = state.kind === "curve";
  picker.select(state.customData ? null : c.dataset);
}

function addOption(select, value) {
  const o = document.createElement("option");
  o.value = String(value);
  o.textContent = String(value);
  select.append(o);
  select.value = String(value);
}

function setRange(testid, value, text) {
  $(testid).value = String(value);
  document.querySelector(`output[data-for="${testid}"]`).textContent = text;
}

function writeHash() {
  const hash = toHash(state.config, state.view, state.edits);
  state.writtenHash = hash;
  history.replaceState(null, "", hash);
}

function setPlaying(playing) {
  state.playing = playing;
  const button = $("play-button");
  button.classList.toggle("playing", playing);
  button.setAttribute("aria-label", playing ? "Pause" : "Play");
  button.setAttribute("aria-pressed", String(playing));
  $("network").classList.toggle("playing", playing);
}

// --- changes --------------------------------------------------------------------------------------------

/** Rebuild the network from `config` (fresh weights; the data stay unless their settings changed). */
async function rebuild(config, { newData = false } = {}) {
  state.wantPlaying = false;
  send({ type: "pause" });
  const dataChanged = newData || ["dataset", "noise", "train_ratio", "data_seed"].some((k) => config[k] !== state.config[k]);
  try {
    const s = await api(`/api/playground/${state.id}`, {
      method: "PUT", body: config, query: { keep_points: String(!dataChanged) },
    });
    adopt(s);
  } catch (err) {
    showError($("error-banner"), err);
    syncControls();
    return;
  }
  showError($("error-banner"), null);
  if (dataChanged) state.edits = [];
  await loadPoints();
  renderStructure();
  syncControls();
  writeHash();
  send({ type: "frame" });
}

/** A training setting that changes without a reset. */
function configure(changes) {
  Object.assign(state.config, changes);
  send({ type: "config", ...changes });
  syncControls();
  writeHash();
}

function pickDataset(name) {
  const info = state.catalog.datasets.find((d) => d.name === name);
  const config = { ...state.config, dataset: name };
  const oneD = state.catalog.choices.one_d_features;
  if (info.kind === "curve") {
    config.features = config.features.filter((f) => oneD.includes(f));
    if (!config.features.length) config.features = ["x1"];
  } else if (state.kind === "curve") {
    config.features = [...state.catalog.defaults.features];
  }
  if (info.task === "regression" && config.loss === "cross_entropy") config.loss = "mse";
  rebuild(config, { newData: true });
}

function toggleFeature(name) {
  const features = state.config.features.includes(name)
    ? state.config.features.filter((f) => f !== name)
    : [...state.config.features, name];
  if (!features.length) {
    showError($("error-banner"), new Error("Keep at least one input feature."));
    return;
  }
  rebuild({ ...state.config, features });
}

function layerActivations() {
  return state.config.activations ? [...state.config.activations] : state.config.hidden.map(() => state.config.activation);
}

function changeLayers(hidden, activations) {
  const uniform = activations.every((a) => a === state.config.activation);
  rebuild({ ...state.config, hidden, activations: uniform ? null : activations });
}

function addNeuron(layer) {
  const hidden = [...state.config.hidden];
  hidden[layer - 1] = Math.min(state.catalog.choices.max_neurons, hidden[layer - 1] + 1);
  changeLayers(hidden, layerActivations());
}

function removeNeuron(layer) {
  const hidden = [...state.config.hidden];
  hidden[layer - 1] = Math.max(1, hidden[layer - 1] - 1);
  changeLayers(hidden, layerActivations());
}

function setLayerActivation(layer, activation) {
  const acts = layerActivations();
  acts[layer - 1] = activation;
  changeLayers([...state.config.hidden], acts);
}

function hoverNeuron(target) {
  popover.hideTooltip();
  state.focus = target;
  network.highlight(target);
  send({ type: "config", focus: target ? [target.layer, target.index] : null });
  if (!target) scheduleDraw();
}

function paramInfo(info) {
  const frame = state.frame;
  if (!frame) return null;
  const k = info.layer - 1;
  const from = neuronName(info.layer - 1, info.from);
  const to = neuronName(info.layer, info.to);
  if (info.kind === "weight") {
    const out = frame.weights[k].shape[1];
    return { name: "weight", index: [info.from, info.to], value: frame.weights[k].data[info.from * out + info.to],
             grad: frame.weight_grads[k].data[info.from * out + info.to], what: `${from} → ${to}` };
  }
  return { name: "bias", index: [info.to], value: frame.biases[k].data[info.to], grad: frame.bias_grads[k].data[info.to],
           what: to };
}

function hoverParam(info, event) {
  if (!info) return popover.hideTooltip();
  const p = paramInfo(info);
  if (!p) return;
  const symbol = p.name === "weight" ? "w" : "b";
  popover.showTooltip(`${p.name === "weight" ? "Weight" : "Bias"} is ${formatNumber(p.value, 4)} · ` +
                      `∂L/∂${symbol} = ${formatNumber(p.grad, 3)}  (${p.what}; click to edit)`, event);
}

function clickParam(info, event) {
  const p = paramInfo(info);
  if (!p) return;
  popover.openEditor({ title: `${p.name === "weight" ? "Weight" : "Bias"}: ${p.what}`, value: Number(p.value.toPrecision(6)),
                       help: `∂L/∂${p.name === "weight" ? "w" : "b"} = ${formatNumber(p.grad, 4)} (training loss)` },
  event, async (value) => {
    try {
      await api(`/api/networks/${state.id}/params`, {
        method: "PATCH",
        body: { layer: state.frame.dense_layers[info.layer - 1], name: p.name, index: p.index, value },
      });
      send({ type: "frame" });
    } catch (err) {
      showError($("error-banner"), err);
    }
  });
}

// --- points ---------------------------------------------------------------------------------------------

async function applyEdit(edit) {
  let r;
  if (edit.op === "remove") {
    const [x1, x2] = edit.at;
    r = await api(`/api/networks/${state.id}/data/points`, { method: "DELETE", query: { x1, x2, radius: 0.4 } });
    if (!r.removed) return false;
  } else {
    r = await api(`/api/networks/${state.id}/data/points`, {
      method: "POST", body: { point: edit.point, label: edit.label, split: edit.split || "train" },
    });
  }
  state.revision = r.revision;
  state.edits.push(edit);
  return true;
}

async function plotClick(event) {
  const rect = event.currentTarget.getBoundingClientRect();
  const px = event.clientX - rect.left;
  const py = event.clientY - rect.top;
  const [dx, dy] = state.kind === "curve" ? curve.toData(px, py) : plane.toData(px, py);
  const x = roundCoord(dx);
  const y = roundCoord(dy);
  if (Math.abs(x) > 6 || (state.kind === "plane" && Math.abs(y) > 6)) return;
  let edit;
  if (event.shiftKey) edit = { op: "remove", at: state.kind === "curve" ? [x] : [x, y] };
  else if (state.kind === "curve") edit = { op: "add", point: [x], label: y, split: "train" };
  else edit = { op: "add", point: [x, y], label: state.pointClass, split: "train" };
  try {
    const changed = await applyEdit(edit);
    if (!changed) return;
    writeHash();
    await loadPoints();
    send({ type: "frame" });
  } catch (err) {
    showError($("error-banner"), err);
  }
}

let readoutTimer = null;

function plotHover(event) {
  const rect = event.currentTarget.getBoundingClientRect();
  const px = event.clientX - rect.left;
  const py = event.clientY - rect.top;
  clearTimeout(readoutTimer);
  readoutTimer = setTimeout(() => readout(px, py), 60);
}

/** The exact output (or focused neuron) at the mouse, from the API's forward pass. */
async function readout(px, py) {
  if (!state.id) return;
  const [x1, x2] = state.kind === "curve" ? curve.toData(px, py) : plane.toData(px, py);
  const point = state.kind === "curve" ? [x1] : [x1, x2];
  try {
    const r = await api(`/api/networks/${state.id}/forward`, { method: "POST", body: { inputs: [point] } });
    const last = state.layout.length - 1;
    const target = state.focus && state.focus.layer > 0 ? state.focus : { layer: last, index: -1 };
    const out = r.layers[2 * target.layer - 1].output[0];
    const where = state.kind === "curve" ? `x = ${formatNumber(x1)}` : `x₁ = ${formatNumber(x1)}, x₂ = ${formatNumber(x2)}`;
    const value = target.index >= 0 ? formatNumber(out[target.index], 4)
      : out.length === 3 ? `P = (${out.map((v) => formatNumber(v, 3)).join(", ")})` : formatNumber(out[0], 4);
    $("readout").textContent = `${where} → ${target.index >= 0 ? neuronName(target.layer, target.index) : "output"} ${value}`;
  } catch {
    $("readout").textContent = "";
  }
}

async function uploadCsv(file) {
  const error = $("csv-error");
  showError(error, null);
  const text = await file.text();
  try {
    const r = await api(`/api/networks/${state.id}/data/csv`, {
      method: "PUT", body: new Blob([text], { type: "text/csv" }),
      query: { train_ratio: state.config.train_ratio, seed: state.config.data_seed },
    });
    state.revision = r.revision;
    state.customData = true;
    state.edits = [];
    await loadPoints();
    renderPointClasses();
    syncControls();
    writeHash();
    send({ type: "frame" });
  } catch (err) {
    showError(error, new Error(`${file.name}: ${err.message}`));
  }
}

// --- export / import ------------------------------------------------------------------------------------

async function exportNetwork() {
  const response = await api(`/api/networks/${state.id}/export`, { query: { format: "json" }, raw: true });
  const blob = await response.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `glassbox-playground-${state.config.dataset}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

async function importNetwork(file) {
  showError($("error-banner"), null);
  let doc;
  try {
    doc = JSON.parse(await file.text());
  } catch {
    showError($("error-banner"), new Error(`${file.name} is not JSON: export a network with the Export button.`));
    return;
  }
  if (doc && typeof doc === "object" && !doc.data && !state.customData) {
    // Train the imported network on the data this page shows.
    const c = state.config;
    doc.data = { name: c.dataset, noise: c.noise, train_ratio: c.train_ratio, seed: c.data_seed };
  }
  let id;
  try {
    id = (await api("/api/networks/import", { method: "POST", body: doc })).id;
    const s = await api(`/api/playground/${id}`);
    setPlaying(false);
    state.wantPlaying = false;
    const edits = state.customData ? [] : state.edits;
    adopt(s);
    state.edits = [];
    for (const edit of edits) await applyEdit(edit);
  } catch (err) {
    if (id) api(`/api/networks/${id}`, { method: "DELETE" }).catch(() => {});
    showError($("error-banner"), new Error(`${file.name} could not be loaded: ${err.message}`));
    return;
  }
  await loadPoints();
  renderStructure();
  syncControls();
  writeHash();
  connect();
}

// --- gallery --------------------------------------------------------------------------------------------

let galleryBuilt = false;

async function buildGallery() {
  if (galleryBuilt) return;
  galleryBuilt = true;
  const grid = document.querySelector(".pg-gallery-grid");
  const cards = state.catalog.gallery.map((item) => {
    const card = document.createElement("button");
    card.className = "pg-gallery-card";
    card.setAttribute("data-testid", `gallery-${item.name}`);
    const canvas = document.createElement("canvas");
    canvas.width = 50;
    canvas.height = 50;
    const title = document.createElement("strong");
    title.textContent = item.title;
    const note = document.createElement("span");
    note.className = "tiny muted";
    note.textContent = "training…";
    card.append(canvas, title, note);
    card.addEventListener("click", () => {
      start(item.config, state.view, []);
      window.scrollTo({ top: 0, behavior: "smooth" });
    });
    grid.append(card);
    return { item, canvas, note };
  });
  for (const { item, canvas, note } of cards) {
    try {
      const r = decodeArrays(await api(`/api/playground/gallery/${item.name}`));
      paintBytes(canvas, r.output.data, 50);
      note.textContent = `${r.epochs} epochs · test loss ${formatNumber(r.test_loss, 3)} · ` +
        `${(100 * r.test_accuracy).toFixed(0)} % right`;
    } catch (err) {
      note.textContent = err instanceof ApiError ? err.message : "could not train";
    }
  }
}

// --- wiring ---------------------------------------------------------------------------------------------

function togglePlay() {
  state.wantPlaying = !state.playing;
  setPlaying(state.wantPlaying);
  send({ type: state.wantPlaying ? "play" : "pause" });
}

function wireControls() {
  $("play-button").addEventListener("click", togglePlay);
  document.addEventListener("keydown", (e) => {
    // Space plays and pauses, unless the person is typing or on a control that takes the key itself.
    const target = e.target;
    if (e.key !== " " || e.repeat || target.closest("input, select, textarea, button, [role=switch]")) return;
    e.preventDefault();
    togglePlay();
  });
  $("step-button").addEventListener("click", (e) => {
    state.wantPlaying = false;
    send({ type: "step", unit: e.shiftKey ? "batch" : "frame" });
  });
  $("reset-button").addEventListener("click", () => rebuild({ ...state.config }));
  $("diverged-reset").addEventListener("click", () => rebuild({ ...state.config }));
  $("diverged-lower").addEventListener("click", () => {
    const rates = state.catalog.choices.learning_rates;
    const lower = [...rates].reverse().find((r) => r < state.config.learning_rate) ?? rates[0];
    configure({ learning_rate: lower });
  });
  $("learning-rate").addEventListener("change", (e) => configure({ learning_rate: Number(e.target.value) }));
  $("reg-rate").addEventListener("change", (e) => configure({ reg_rate: Number(e.target.value) }));
  $("optimizer").addEventListener("change", (e) => configure({ optimizer: e.target.value }));
  $("regularization").addEventListener("change", (e) => {
    const changes = { regularization: e.target.value };
    if (e.target.value !== "none" && state.config.reg_rate === 0) changes.reg_rate = 0.001;
    configure(changes);
  });
  $("activation").addEventListener("change", (e) => rebuild({ ...state.config, activation: e.target.value, activations: null }));
  $("loss").addEventListener("change", (e) => rebuild({ ...state.config, loss: e.target.value }));
  for (const [testid, key, scale] of [["train-ratio", "train_ratio", 100], ["noise", "noise", 100]]) {
    const input = $(testid);
    input.addEventListener("input", () => {
      document.querySelector(`output[data-for="${testid}"]`).textContent = testid === "train-ratio" ? `${input.value}%` : input.value;
    });
    input.addEventListener("change", () => rebuild({ ...state.config, [key]: Number(input.value) / scale }));
  }
  const batch = $("batch-size");
  batch.addEventListener("input", () => { document.querySelector('output[data-for="batch-size"]').textContent = batch.value; });
  batch.addEventListener("change", () => configure({ batch_size: Number(batch.value) }));
  $("regenerate-button").addEventListener("click", async () => {
    const c = state.config;
    const seed = Math.floor(Math.random() * 100000);
    try {
      const r = await api(`/api/networks/${state.id}/data`, {
        method: "PUT", body: { name: c.dataset, noise: c.noise, train_ratio: c.train_ratio, seed },
      });
      state.revision = r.revision;
      c.data_seed = seed;
      state.edits = [];
      state.customData = false;
      await loadPoints();
      syncControls();
      renderPointClasses();
      writeHash();
      send({ type: "frame" });
    } catch (err) {
      showError($("error-banner"), err);
    }
  });
  $("add-layer").addEventListener("click", () => {
    if (state.config.hidden.length >= state.catalog.choices.max_hidden_layers) return;
    changeLayers([...state.config.hidden, 2], [...layerActivations(), state.config.activation]);
  });
  $("remove-layer").addEventListener("click", () => {
    if (!state.config.hidden.length) return;
    changeLayers(state.config.hidden.slice(0, -1), layerActivations().slice(0, -1));
  });
  for (const [testid, key] of [["show-test-data", "showTestData"], ["discretize", "discretize"],
                               ["show-gradients", "showGradients"]]) {
    $(testid).addEventListener("change", (e) => {
      state.view[key] = e.target.checked;
      writeHash();
      drawPoints();
      scheduleDraw();
    });
  }
  const plot = $("output-plot");
  plot.addEventListener("click", plotClick);
  plot.addEventListener("mousemove", plotHover);
  plot.addEventListener("mouseleave", () => { clearTimeout(readoutTimer); $("readout").textContent = ""; });
  $("csv-input").addEventListener("change", (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) uploadCsv(file);
  });
  // The walkthrough opens a copy of this very session (weights as they are now), so training here is untouched.
  $("open-backprop").addEventListener("click", (e) => {
    e.currentTarget.href = `/backprop?session=${encodeURIComponent(state.id)}`;
  });
  $("export-button").addEventListener("click", () => exportNetwork().catch((err) => showError($("error-banner"), err)));
  $("import-input").addEventListener("change", (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) importNetwork(file);
  });
  $("gallery").addEventListener("toggle", () => { if ($("gallery").open) buildGallery(); });
}

main().catch((err) => showError($("error-banner"), err));
