// The Playground component: its state, the session it drives, and the wiring of the controls, the network
// view, the output column and the live socket to the API. The /playground page mounts it on the URL hash; a
// lesson mounts it in a preset state without touching the URL (one instance per document: ids). Every number drawn comes from the server (frames
// over /ws/networks/{id}, points and read-outs over REST).
import { api, decodeArrays, showError } from "../lib/api.js";
import { scheduleDraw } from "../lib/dom.js";
import { datasetPicker } from "./dataset-picker.js";
import { formatNumber } from "../lib/format.js";
import { NetworkView, paramValue } from "./network-view.js";
import { ParamPopover } from "./param-popover.js";
import {
  dataChanged, dataSpec, lowerRate, withDataset, withFeatureToggled, withLayerActivation, withLayerAdded,
  withLayerRemoved, withNeurons,
} from "./config.js";
import { fillChoices, renderPointClasses, showSliderValue, syncControls } from "./controls.js";
import { buildGallery } from "./gallery.js";
import { OutputPanel } from "./output.js";
import { applyEdit, editAt, readoutAt } from "./points.js";
import { DEFAULT_VIEW, modelCaption, neuronName, parseHash, toHash } from "./state.js";
import { ownSessionId, sharedId, shareSource } from "../lib/share.js";
import { applyHistory, connectSocket } from "../lib/socket.js";
import { followTeacher, followedRoom } from "../lib/teach.js";

const $ = (id) => document.getElementById(id);

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
  syncHash: true, // the page keeps its state in the URL hash; a lesson's widget does not
};

let network;
let output;
let popover;
let picker;

// --- start-up -------------------------------------------------------------------------------------------

/**
 * Start the Playground on the elements the page rendered. `preset` ({config, view}) opens it in that state;
 * without one it reads the URL hash. `syncHash` keeps the hash in step (the page); `keyboard` lets Space play.
 */
export async function mountPlayground(preset = null, { syncHash = true, keyboard = true } = {}) {
  state.syncHash = syncHash;
  state.catalog = decodeArrays(await api("/api/playground/catalog"));
  fillChoices(state.catalog.choices);
  picker = datasetPicker($("dataset-picker"), state.catalog.datasets, pickDataset);
  network = new NetworkView($("network"), {
    toggleFeature, addNeuron, removeNeuron, setLayerActivation, hoverNeuron, hoverParam, clickParam,
  });
  output = new OutputPanel();
  popover = new ParamPopover($("tooltip"), $("value-editor"));
  wireControls({ keyboard });
  window.addEventListener("resize", () => { renderStructure(); scheduleDraw(draw); });
  if (!preset && followedRoom()) {
    // A student following the teacher: the teacher's network, read-only, and the teacher's live frames.
    followTeacher({
      session: (msg) => reopen(msg.share, state.view, true),
      frame: receive,
    });
    document.body.dataset.ready = "true";
    return null;
  }
  if (preset) {
    await start({ ...state.catalog.defaults, ...preset.config }, { ...DEFAULT_VIEW, ...preset.view }, []);
  } else {
    const parsed = parseHash(location.hash, state.catalog.defaults);
    shareSource(() => ({ session: state.id, kind: "network" }));
    const existing = sharedId() || ownSessionId();
    if (existing) await reopen(existing, parsed.view, Boolean(sharedId()));
    else await start(parsed.config, parsed.view, parsed.edits);
  }
  if (syncHash) {
    window.addEventListener("hashchange", () => {
      if (location.hash === state.writtenHash) return;
      const next = parseHash(location.hash, state.catalog.defaults);
      start(next.config, next.view, next.edits);
    });
  }
  document.body.dataset.ready = "true";
  return {
    state: () => ({ config: structuredClone(state.config), view: { ...state.view }, session: state.id }),
    link: () => `/playground${toHash(state.config, state.view, state.edits)}`,
    load: (config) => start({ ...state.catalog.defaults, ...config }, state.view, []),
  };
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
  for (const change of edits) {
    try {
      await edit(change);
    } catch (err) {
      showError($("error-banner"), new Error(`A point edit of this link did not apply: ${err.message}`));
      break;
    }
  }
  await showSession();
  connect();
}

/** Open an existing session: a share (read-only: drawn from its frame, never trained) or a fork of one. */
async function reopen(id, view, readOnly) {
  let s;
  try {
    s = await api(`/api/playground/${encodeURIComponent(id)}`);
  } catch (err) {
    showError($("error-banner"), new Error(`${err.message} Showing a new network instead.`));
    const parsed = parseHash(location.hash, state.catalog.defaults);
    await start(parsed.config, parsed.view, parsed.edits);
    return;
  }
  state.view = { ...DEFAULT_VIEW, ...view };
  state.edits = [];
  adopt(s);
  await showSession();
  if (!readOnly) return connect();
  const frame = await api(`/api/playground/${encodeURIComponent(id)}/frame`);
  receive({ ...frame, type: "frame", playing: false, history: { from: 0, entries: s.history } });
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

/** Draw the adopted session: its points, its network, the controls and the link. */
async function showSession() {
  await loadPoints();
  renderStructure();
  syncControls(state, picker);
  writeHash();
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
    binary: true, // raw arrays, and an ack per drawn frame: the server trains no faster than this page draws
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
  state.history = applyHistory(state.history, msg.history);
  setPlaying(msg.playing);
  if (msg.diverged) state.wantPlaying = false;
  state.frame = decodeArrays(msg);
  if (state.frame.layout.join() !== state.layout.join()) {
    state.layout = state.frame.layout;
    renderStructure();
  }
  scheduleDraw(draw);
}

// --- drawing --------------------------------------------------------------------------------------------

function draw() {
  const frame = state.frame;
  if (!frame) return;
  output.drawMetrics(frame, state.history, state.task);
  network.update(frame, { showGradients: state.view.showGradients, playing: state.playing });
  output.drawOutput(state);
  const banner = $("divergence-banner");
  banner.hidden = !frame.diverged;
  if (frame.diverged) {
    banner.querySelector(".pg-diverged-text").textContent =
      `${frame.message} The learning rate ${state.config.learning_rate} is too high for this network.`;
  }
}

function drawPoints() {
  if (state.kind === "curve") scheduleDraw(draw);
  output.drawPoints(state);
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
  showPointClasses();
  $("output-plot").classList.toggle("curve", state.kind === "curve");
  const yTicks = output.yTicks(state.kind);
  document.querySelectorAll(".pg-ticks-y span").forEach((span, i) => { span.textContent = formatNumber(yTicks[i]); });
  drawPoints();
}

function showPointClasses() {
  renderPointClasses(state, (value) => { state.pointClass = value; showPointClasses(); });
}

function writeHash() {
  if (!state.syncHash) return;
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
  if (!config) return;
  state.wantPlaying = false;
  send({ type: "pause" });
  const freshData = newData || dataChanged(state.config, config);
  try {
    const s = await api(`/api/playground/${state.id}`, {
      method: "PUT", body: config, query: { keep_points: String(!freshData) },
    });
    adopt(s);
  } catch (err) {
    showError($("error-banner"), err);
    syncControls(state, picker);
    return;
  }
  showError($("error-banner"), null);
  if (freshData) state.edits = [];
  await showSession();
  send({ type: "frame" });
}

/** A training setting that changes without a reset. */
function configure(changes) {
  Object.assign(state.config, changes);
  send({ type: "config", ...changes });
  syncControls(state, picker);
  writeHash();
}

// The network view's handlers: layers count dense layers from 1.
const pickDataset = (name) => rebuild(withDataset(state.config, name, state.catalog), { newData: true });
const addNeuron = (layer) => rebuild(withNeurons(state.config, layer, 1, state.catalog.choices.max_neurons));
const removeNeuron = (layer) => rebuild(withNeurons(state.config, layer, -1, state.catalog.choices.max_neurons));
const setLayerActivation = (layer, activation) => rebuild(withLayerActivation(state.config, layer, activation));

function toggleFeature(name) {
  const next = withFeatureToggled(state.config, name);
  if (!next) showError($("error-banner"), new Error("Keep at least one input feature."));
  else rebuild(next);
}

function hoverNeuron(target) {
  popover.hideTooltip();
  state.focus = target;
  network.highlight(target);
  send({ type: "config", focus: target ? [target.layer, target.index] : null });
  if (!target) scheduleDraw(draw);
}

/** A weight or bias of the current frame: its name and index for PATCH /params, value, gradient, what it joins. */
function paramInfo(info) {
  const frame = state.frame;
  if (!frame) return null;
  const name = (layer, index) => neuronName(layer, index, state.layout, state.config.features);
  const weight = info.kind === "weight";
  return {
    name: info.kind, index: weight ? [info.from, info.to] : [info.to],
    value: paramValue(frame, info), grad: paramValue(frame, info, true),
    what: weight ? `${name(info.layer - 1, info.from)} → ${name(info.layer, info.to)}` : name(info.layer, info.to),
  };
}

function hoverParam(info, event) {
  const p = info && paramInfo(info);
  if (p) popover.showParam(p, event);
  else popover.hideTooltip();
}

function clickParam(info, event) {
  const p = paramInfo(info);
  if (!p) return;
  popover.editParam(p, event, async (value) => {
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

/** Apply a point edit to this session and remember it for the link; false when it changed nothing. */
async function edit(change) {
  const revision = await applyEdit(state.id, change);
  if (revision === null) return false;
  state.revision = revision;
  state.edits.push(change);
  return true;
}

/** Where the mouse is on the plot, in data coordinates. */
function plotPosition(event) {
  const rect = event.currentTarget.getBoundingClientRect();
  return output.toData(state.kind, event.clientX - rect.left, event.clientY - rect.top);
}

async function plotClick(event) {
  const [x, y] = plotPosition(event);
  const change = editAt(state.kind, x, y, { shift: event.shiftKey, pointClass: state.pointClass });
  if (!change) return;
  try {
    if (!(await edit(change))) return;
    writeHash();
    await loadPoints();
    send({ type: "frame" });
  } catch (err) {
    showError($("error-banner"), err);
  }
}

let readoutTimer = null;

function plotHover(event) {
  const [x1, x2] = plotPosition(event);
  clearTimeout(readoutTimer);
  readoutTimer = setTimeout(async () => {
    if (!state.id) return;
    try {
      $("readout").textContent = await readoutAt(state, x1, x2);
    } catch {
      $("readout").textContent = "";
    }
  }, 60);
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
    await showNewData(r.revision, { custom: true });
  } catch (err) {
    showError(error, new Error(`${file.name}: ${err.message}`));
  }
}

/** New points under the same weights (an upload or "regenerate"): hand edits are gone with the old ones. */
async function showNewData(revision, { custom }) {
  state.revision = revision;
  state.customData = custom;
  state.edits = [];
  await loadPoints();
  showPointClasses();
  syncControls(state, picker);
  writeHash();
  send({ type: "frame" });
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
    doc.data = dataSpec(state.config); // train the imported network on the data this page shows
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
    for (const change of edits) await edit(change);
  } catch (err) {
    if (id) api(`/api/networks/${id}`, { method: "DELETE" }).catch(() => {});
    showError($("error-banner"), new Error(`${file.name} could not be loaded: ${err.message}`));
    return;
  }
  await showSession();
  connect();
}

// --- wiring ---------------------------------------------------------------------------------------------

function togglePlay() {
  state.wantPlaying = !state.playing;
  setPlaying(state.wantPlaying);
  send({ type: state.wantPlaying ? "play" : "pause" });
}

/** `handler(file)` for each file chosen in `input`; the input is cleared so that the same file can come again. */
function onFile(input, handler) {
  input.addEventListener("change", () => {
    const file = input.files[0];
    input.value = "";
    if (file) handler(file);
  });
}

function wireControls({ keyboard = true } = {}) {
  $("play-button").addEventListener("click", togglePlay);
  if (keyboard) document.addEventListener("keydown", (e) => {
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
    configure({ learning_rate: lowerRate(state.catalog.choices.learning_rates, state.config.learning_rate) });
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
  for (const [id, key, scale] of [["train-ratio", "train_ratio", 100], ["noise", "noise", 100]]) {
    const input = $(id);
    input.addEventListener("input", () => showSliderValue(id, input.value));
    input.addEventListener("change", () => rebuild({ ...state.config, [key]: Number(input.value) / scale }));
  }
  const batch = $("batch-size");
  batch.addEventListener("input", () => showSliderValue("batch-size", batch.value));
  batch.addEventListener("change", () => configure({ batch_size: Number(batch.value) }));
  $("regenerate-button").addEventListener("click", async () => {
    const seed = Math.floor(Math.random() * 100000);
    try {
      const r = await api(`/api/networks/${state.id}/data`, { method: "PUT", body: dataSpec(state.config, seed) });
      state.config.data_seed = seed;
      await showNewData(r.revision, { custom: false });
    } catch (err) {
      showError($("error-banner"), err);
    }
  });
  $("add-layer").addEventListener("click", () => rebuild(withLayerAdded(state.config, state.catalog.choices.max_hidden_layers)));
  $("remove-layer").addEventListener("click", () => rebuild(withLayerRemoved(state.config)));
  for (const [id, key] of [["show-test-data", "showTestData"], ["discretize", "discretize"],
                           ["show-gradients", "showGradients"]]) {
    $(id).addEventListener("change", (e) => {
      state.view[key] = e.target.checked;
      writeHash();
      drawPoints();
      scheduleDraw(draw);
    });
  }
  const plot = $("output-plot");
  plot.addEventListener("click", plotClick);
  plot.addEventListener("mousemove", plotHover);
  plot.addEventListener("mouseleave", () => { clearTimeout(readoutTimer); $("readout").textContent = ""; });
  onFile($("csv-input"), uploadCsv);
  // The walkthrough opens a copy of this very session (weights as they are now), so training here is untouched.
  $("open-backprop").addEventListener("click", (e) => {
    e.currentTarget.href = `/backprop?session=${encodeURIComponent(state.id)}`;
  });
  $("export-button").addEventListener("click", () => exportNetwork().catch((err) => showError($("error-banner"), err)));
  onFile($("import-input"), importNetwork);
  let galleryBuilt = false;
  $("gallery")?.addEventListener("toggle", () => { // a lesson's widget has no gallery
    if (!$("gallery").open || galleryBuilt) return;
    galleryBuilt = true;
    buildGallery(document.querySelector(".pg-gallery-grid"), state.catalog.gallery, (config) => {
      start(config, state.view, []);
      window.scrollTo({ top: 0, behavior: "smooth" });
    });
  });
}

