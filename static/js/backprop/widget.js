// The backprop walkthrough page: drives /api/networks/{id}/walk one stage at a time and shows what the
// engine computed, on the graph, as per-weight formulas and in matrix form. Every number is the engine's.
import { api, showError } from "../lib/api.js";
import { renderMatrixForm } from "./matrix-form.js";
import { NetworkGraph } from "./network-graph.js";
import { drawPlot, extent } from "../lib/plot.js";
import { LOSS_NAMES, describeStage, pretty } from "./stage-view.js";
import { assembleWalk, graphView } from "./walk-model.js";

const MAX_POINTS = 3;
const MAX_NEURONS = 12; // per layer: more would not fit the graph with its numbers
const MAX_DENSE_LAYERS = 6;
// The layer types that are activations, as the engine lists them (asked once, when the page loads).
const activationLayers = api("/api/functions/activations").then((r) => new Set(r.activations.map((a) => a.name)));

const $ = (id) => document.getElementById(id);
const ui = {
  error: $("error"), summary: $("network-summary"), table: $("data-table"), add: $("add-point"),
  rate: $("learning-rate"), activation: $("activation"), loss: $("loss"),
  trainSteps: $("train-steps"), train: $("train"), chart: $("error-chart"), trainStatus: $("train-status"),
  openSession: $("open-session"), openSessionGo: $("open-session-go"), openFile: $("open-file"),
  openJson: $("open-json"), openJsonGo: $("open-json-go"), openExample: $("open-example"),
  reset: $("walk-reset"), back: $("walk-back"), next: $("walk-next"), play: $("walk-play"), speed: $("speed"),
  granularity: $("granularity"), progress: $("stage-list"), counter: $("step-counter"), points: $("points"),
  graph: $("graph"), title: $("stage-title"), caption: $("stage-caption"), formula: $("stage-formula"),
  stepsTab: $("steps-tab"), matrixTab: $("matrix-tab"), steps: $("steps-view"), matrix: $("matrix-view"),
  editor: $("number-editor"), stageRow: document.querySelector(".bp-stage-row"),
};

const state = {
  id: null,
  name: "worked example",
  network: null, // GET /api/networks/{id}
  walk: null, // the walk state
  rows: null, // {X: [[…]], y: [[…]]}: the data points as the page edits them
  point: 0,
  tab: "steps",
  playing: false,
  busy: false, // an action is talking to the server
  training: false,
  history: new Map(), // step → error, from walks and training
};

const graph = new NetworkGraph(ui.graph, { onEdit: startEdit });

// --- talking to the API ----------------------------------------------------------------------------------

const base = () => `/api/networks/${state.id}`;

let queue = Promise.resolve();

/**
 * Run user actions one after another (an edit made while the page is still answering the last one waits
 * its turn instead of being lost); an action's error goes to the banner. Resolves true when it succeeded.
 */
function guarded(action) {
  const run = queue.then(async () => {
    state.busy = true;
    document.body.classList.add("is-busy");
    renderControls();
    try {
      await action();
      showError(ui.error, null);
      return true;
    } catch (err) {
      stopPlaying();
      showError(ui.error, err);
      return false;
    } finally {
      state.busy = false;
      document.body.classList.remove("is-busy");
      renderControls();
    }
  });
  queue = run;
  return run;
}

async function walk(body) {
  state.walk = await api(`${base()}/walk`, { method: "POST", body: { granularity: ui.granularity.value, ...body } });
  if (state.point >= (state.walk.inputs?.length ?? 1)) state.point = 0;
  recordLoss();
  render();
}

/** Restart the walk at the same stage (after an edit), so the change shows where the learner stands. */
const walkToSamePlace = () => walk({ to: state.walk ? state.walk.position : -1 });

async function change(body) {
  const at = state.walk ? state.walk.position : -1;
  state.network = await api(base(), { method: "PATCH", body });
  state.history.clear();
  await walk({ to: at });
}

async function openSession(id, name, at = -1) {
  const previous = state.id;
  state.id = id;
  try {
    const network = await api(base());
    await checkDrawable(network);
    state.network = network;
    state.name = name;
    state.history.clear();
    state.point = 0;
    await walk({ to: at });
    state.rows = {
      X: state.walk.points.map((r) => r.slice()),
      y: state.walk.targets.map((r) => r.slice()),
    };
    render();
  } catch (err) {
    state.id = previous;
    throw err;
  }
}

async function checkDrawable(network) {
  const activations = await activationLayers;
  const dense = network.layers.filter((l) => l.type === "dense");
  const bad = network.layers.find((l) => l.type !== "dense" && !activations.has(l.type));
  if (bad) throw new Error(`This page explains dense networks; this one has a '${bad.type}' layer.`);
  if (dense.length > MAX_DENSE_LAYERS) throw new Error(`This network has ${dense.length} dense layers; the walkthrough draws up to ${MAX_DENSE_LAYERS}.`);
  const widest = Math.max(network.layers[0].input_shape[0], ...dense.map((l) => l.output_shape[0]));
  if (widest > MAX_NEURONS) throw new Error(`This network has a layer of ${widest} neurons; the walkthrough draws up to ${MAX_NEURONS} per layer.`);
}

async function openWorkedExample() {
  const network = await api("/api/networks", { method: "POST", body: { preset: "worked-example" } });
  await openSession(network.id, "worked example");
}

/**
 * Import an exported network as a new session of this page, in float64 with this page's data points — or with
 * `points` ({X, y, task, num_classes}: a point of the network's own data, labelled as its data set labels it).
 */
async function openExport(doc, name, points = null) {
  if (!doc || typeof doc !== "object" || !doc.spec || !doc.weights) {
    throw new Error("That is not an exported network: export one with the Playground's export button or " +
      "GET /api/networks/{id}/export.");
  }
  const { data: _ignored, ...network } = doc;
  const created = await api("/api/networks/import", { method: "POST", body: network });
  const discard = () => api(`/api/networks/${created.id}`, { method: "DELETE" }).catch(() => {});
  try {
    await checkDrawable(created);
  } catch (err) {
    discard();
    throw err;
  }
  const rawInputs = created.spec.features ? 2 : created.layers[0].input_shape[0];
  const dense = created.layers.filter((l) => l.type === "dense");
  const outputs = dense[dense.length - 1].output_shape[0];
  const keep = state.rows && state.rows.X[0].length === rawInputs && state.rows.y[0].length === outputs;
  const rows = keep ? state.rows : { X: [Array(rawInputs).fill(1)], y: [Array(outputs).fill(outputs > 1 ? 0 : 1)] };
  if (!keep && outputs > 1) rows.y[0][0] = 1;
  const previous = state.id;
  state.id = created.id;
  try {
    const data = points || dataSpec(rows);
    await api(base(), { method: "PATCH", body: { dtype: "float64", batch_size: data.X.length, data } });
  } catch (err) {
    state.id = previous;
    discard();
    throw err;
  }
  await openSession(created.id, name);
}

/**
 * The first training point of session `id`'s data with its label, as that data set labels it (the walk then
 * shows the target the network learns, e.g. ±1 for a tanh output); null when the session has no data.
 */
async function firstPoint(id) {
  let data;
  try {
    data = await api(`/api/networks/${encodeURIComponent(id)}/data`);
  } catch {
    return null;
  }
  if (!data.train || !data.train.x.length) return null;
  return { X: [data.train.x[0]], y: [data.train.y[0]], task: data.task, num_classes: data.num_classes || 0 };
}

function dataSpec(rows) {
  const single = rows.y[0].length === 1;
  return { X: rows.X, y: single ? rows.y.map((r) => r[0]) : rows.y, task: "regression" };
}

// --- reading the network ---------------------------------------------------------------------------------

/** The activation after each dense layer ("linear" when none). */
function activations() {
  const layers = state.network.layers;
  const out = [];
  layers.forEach((l, k) => {
    if (l.type !== "dense") return;
    const next = layers[k + 1];
    out.push(next && next.type !== "dense" ? next.type : "linear");
  });
  return out;
}

const lossName = () => state.network.spec.loss;
const isCrossEntropy = () => lossName() !== "mse";

function summary() {
  const acts = activations();
  const sizes = [state.network.layers[0].input_shape[0], ...state.network.layers.filter((l) => l.type === "dense")
    .map((l) => l.output_shape[0])];
  const name = (a) => (a === "linear" ? "none" : a === "relu" ? "ReLU" : a);
  const hidden = [...new Set(acts.slice(0, -1))].map(name).join("/") || null;
  const output = name(acts[acts.length - 1]);
  const act = hidden === null || hidden === output
    ? (output === "none" ? "no activation" : output)
    : `${hidden === "none" ? "no activation" : hidden}, output ${output}`;
  const opt = state.network.spec.optimizer;
  return `${state.name} · ${sizes.join(" → ")} · ${act} · ${LOSS_NAMES[lossName()]} · α = ${opt.learning_rate}` +
    `${opt.type === "sgd" ? "" : ` · ${opt.type}`} · step ${state.walk ? state.walk.step : state.network.step}`;
}

function recordLoss() {
  const loss = state.walk?.revealed.find((s) => s.phase === "loss");
  const before = state.walk?.revealed.some((s) => s.phase === "update") ? state.walk.step - 1 : state.walk?.step;
  if (loss) state.history.set(before, loss.value);
}

// --- rendering -------------------------------------------------------------------------------------------

function render() {
  if (!state.walk || !state.network) return;
  const model = assembleWalk(state.walk, activations());
  const outputs = model.layers[model.layers.length - 1].outLabels;
  const ctx = { point: state.point, count: model.points || 1, lossName: lossName(), outputs: outputs.length,
    outputLabels: outputs };
  if (ui.summary) ui.summary.textContent = summary(); // a lesson shows the walk without the page's header
  // Deeper or wider networks get the whole width for the graph; the explanation moves below it.
  const widest = Math.max(...state.walk.labels.neurons.map((c) => c.length));
  ui.stageRow.classList.toggle("wide-graph", state.walk.labels.neurons.length > 3 || widest > 4);
  graph.render(graphView(model, state.walk, state.point, LOSS_NAMES[lossName()]));
  renderStage(model, ctx);
  renderProgress();
  renderPoints(model.points);
  renderSettings();
  renderTable();
  if (state.tab === "matrix") renderMatrixForm(ui.matrix, model, state.walk, ctx);
  else renderSteps(model, ctx);
  renderChart();
  renderControls();
}

function renderStage(model, ctx) {
  const w = state.walk;
  const stage = w.current;
  const where = w.position < 0 ? "not started" : `stage ${w.position + 1} of ${w.total}`;
  ui.counter.textContent = `step ${w.step} · ${where}${model.points > 1 ? ` · ${model.points} data points` : ""}`;
  if (!stage) {
    ui.title.textContent = "Ready";
    ui.caption.textContent = "This is one training step of the network on the left. Press next to compute " +
      "it one stage at a time: the forward pass, the error, the gradients by the chain rule, then the update.";
    ui.formula.replaceChildren();
    return;
  }
  const { caption, formulas } = describeStage(stage, model, ctx);
  ui.title.textContent = `${phaseName(stage.phase)} · ${stageTitle(stage)}`;
  ui.caption.textContent = caption;
  ui.formula.replaceChildren(...formulas);
  ui.formula.dataset.phase = stage.phase;
}

const phaseName = (phase) => ({ forward: "Forward pass", loss: "Error", backward: "Backward pass",
  update: "Update" })[phase];

/** A stage's short name; `stage` may be a full stage or an entry of the walk's `stages` list. */
function stageTitle(stage) {
  if (stage.phase === "loss") return LOSS_NAMES[lossName()];
  if (stage.phase === "update") return "new weights";
  if (stage.neuron !== null && stage.neuron !== undefined) {
    return pretty(state.walk.labels.neurons[stage.layer][stage.neuron]);
  }
  return `layer ${stage.layer}`;
}

function renderProgress() {
  const w = state.walk;
  const chips = w.stages.map((s) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.className = `chip ${s.phase} ${s.index <= w.position ? "done" : ""} ${s.index === w.position ? "current" : ""}`;
    b.textContent = s.phase === "loss" ? "E" : s.phase === "update" ? "update" : stageTitle(s);
    b.title = s.title;
    b.setAttribute("data-testid", `stage-${s.index}`);
    b.addEventListener("click", () => guarded(() => walk({ to: s.index })));
    li.append(b);
    return li;
  });
  ui.progress.replaceChildren(...chips);
}

function renderPoints(count) {
  ui.points.hidden = count < 2;
  if (count < 2) return;
  const label = document.createElement("span");
  label.className = "small muted";
  label.textContent = "showing data point";
  const buttons = Array.from({ length: count }, (_, n) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = String(n + 1);
    b.setAttribute("aria-pressed", String(n === state.point));
    b.setAttribute("data-testid", `point-${n + 1}`);
    b.addEventListener("click", () => {
      state.point = n;
      render();
    });
    return b;
  });
  ui.points.replaceChildren(label, ...buttons);
}

function renderSettings() {
  const acts = activations();
  const hidden = acts.length > 1 ? acts[0] : acts[acts.length - 1];
  if (document.activeElement !== ui.rate) ui.rate.value = state.network.spec.optimizer.learning_rate;
  ui.activation.value = hidden === "linear" ? "none" : hidden;
  ui.loss.value = isCrossEntropy() ? "ce" : "mse";
}

function renderTable() {
  const rows = state.rows;
  if (!rows || ui.table.contains(document.activeElement)) return;
  const names = state.network.spec.features ? ["x1", "x2"] : state.walk.labels.neurons[0];
  const outputs = state.walk.labels.neurons[state.walk.labels.neurons.length - 1];
  const head = document.createElement("tr");
  for (const text of ["#", ...names.map(pretty), ...outputs.map((o) => (outputs.length > 1 ? `target ${pretty(o)}`
    : "target")), ""]) {
    const th = document.createElement("th");
    th.textContent = text;
    head.append(th);
  }
  ui.table.tHead.replaceChildren(head);
  const body = rows.X.map((x, n) => {
    const tr = document.createElement("tr");
    if (n === state.point && rows.X.length > 1) tr.className = "current";
    const idx = document.createElement("td");
    idx.textContent = String(n + 1);
    tr.append(idx);
    const cell = (value, testid, onValue, label) => {
      const td = document.createElement("td");
      const input = document.createElement("input");
      input.type = "number";
      input.step = "any";
      input.value = String(value);
      input.setAttribute("data-testid", testid);
      input.setAttribute("aria-label", label);
      input.addEventListener("change", () => {
        const v = Number(input.value);
        if (input.value.trim() === "" || !Number.isFinite(v)) {
          input.classList.add("invalid");
          showError(ui.error, new Error("Type a number."));
          return;
        }
        input.classList.remove("invalid");
        onValue(v);
        guarded(() => applyRows());
      });
      td.append(input);
      return td;
    };
    x.forEach((v, i) => tr.append(cell(v, `data-x-${n + 1}-${i + 1}`, (v2) => { rows.X[n][i] = v2; },
      `data point ${n + 1}, input ${i + 1}`)));
    const outputs = rows.y[n].length;
    rows.y[n].forEach((v, k) => tr.append(cell(v, `data-y-${n + 1}${outputs > 1 ? `-${k + 1}` : ""}`,
      (v2) => { rows.y[n][k] = v2; }, `data point ${n + 1}, target${outputs > 1 ? ` ${k + 1}` : ""}`)));
    const td = document.createElement("td");
    if (rows.X.length > 1) {
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "icon-small";
      remove.textContent = "×";
      remove.title = `Remove data point ${n + 1}`;
      remove.setAttribute("data-testid", `remove-point-${n + 1}`);
      remove.addEventListener("click", () => guarded(async () => {
        rows.X.splice(n, 1);
        rows.y.splice(n, 1);
        state.point = 0;
        await applyRows();
      }));
      td.append(remove);
    }
    tr.append(td);
    return tr;
  });
  ui.table.tBodies[0].replaceChildren(...body);
  ui.add.disabled = rows.X.length >= MAX_POINTS;
}

function renderSteps(model, ctx) {
  const items = state.walk.revealed.map((stage) => {
    const li = document.createElement("li");
    li.className = `bp-step ${stage.phase} ${stage.index === state.walk.position ? "current" : ""}`;
    const head = document.createElement("button");
    head.type = "button";
    head.className = "bp-step-title";
    head.textContent = `${stage.index + 1}. ${phaseName(stage.phase)} · ${stageTitle(stage)}`;
    head.addEventListener("click", () => guarded(() => walk({ to: stage.index })));
    const { formulas } = describeStage(stage, model, ctx);
    const body = document.createElement("div");
    body.className = "bp-step-formulas";
    body.append(...formulas);
    li.append(head, body);
    return li;
  });
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "muted small";
    li.textContent = "Every stage you reveal is written down here, so the whole step reads like a worked page.";
    items.push(li);
  }
  ui.steps.replaceChildren(...items);
}

function renderChart() {
  const points = [...state.history.entries()].sort((a, b) => a[0] - b[0]);
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const first = xs.length ? xs[0] : 0;
  const last = xs.length ? Math.max(xs[xs.length - 1], first + 1) : 1;
  const [, top] = extent(ys, { include: [0], pad: 0.05 });
  drawPlot(ui.chart, {
    width: 240, height: 130, x: [first, last], y: [0, top], xLabel: "step", yLabel: "error E",
    series: [{ xs, ys, label: "error", testid: "error-curve" }],
    marker: xs.length ? { x: xs[xs.length - 1], points: [{ y: ys[ys.length - 1] }] } : null,
  });
}

function renderControls() {
  const w = state.walk;
  const at = w ? w.position : -1;
  ui.back.disabled = at < 0;
  ui.reset.disabled = at < 0;
  ui.next.disabled = !w;
  ui.train.disabled = state.training;
  ui.play.setAttribute("aria-pressed", String(state.playing));
  ui.play.textContent = state.playing ? "❚❚ Pause" : "▶▶ Play";
}

// --- editing ---------------------------------------------------------------------------------------------

async function applyRows() {
  const at = state.walk ? state.walk.position : -1;
  state.network = await api(base(), { method: "PATCH",
    body: { data: dataSpec(state.rows), batch_size: state.rows.X.length } });
  state.history.clear();
  await walk({ to: at });
}

let editing = null;

function startEdit(target) {
  if (state.busy) return;
  if (target.kind === "input" && state.network.spec.features) {
    showError(ui.error, new Error("This network's inputs are features of x1 and x2: edit x1, x2 in the table."));
    return;
  }
  const model = assembleWalk(state.walk, activations());
  let value = target.value;
  if (target.kind === "weight" || target.kind === "bias") {
    // Edits change the step's starting weights: at the update stage those are the old ones.
    const layer = model.layers[target.layer - 1];
    const before = model.update?.before;
    if (before) {
      const p = before[`${layer.index}.${target.kind}`];
      value = target.kind === "weight" ? p[target.i][target.j] : p[target.j];
    }
  } else if (target.kind === "input") {
    value = state.rows.X[state.point][target.i];
  } else if (target.kind === "target") {
    value = state.rows.y[state.point][target.j];
  }
  editing = target;
  const box = target.anchor.getBoundingClientRect();
  const editor = ui.editor;
  editor.hidden = false;
  editor.value = String(value);
  editor.style.left = `${box.left + window.scrollX + box.width / 2 - 48}px`;
  editor.style.top = `${box.top + window.scrollY + box.height / 2 - 15}px`;
  editor.setAttribute("aria-label", `New value of ${pretty(target.label)}`);
  editor.dataset.target = target.label;
  editor.focus();
  editor.select();
}

function finishEdit(commit) {
  if (!editing) return;
  const target = editing;
  editing = null;
  const editor = ui.editor;
  editor.hidden = true;
  if (!commit) return;
  const value = Number(editor.value);
  if (editor.value.trim() === "" || !Number.isFinite(value)) {
    showError(ui.error, new Error(`${pretty(target.label)} must be a number.`));
    return;
  }
  guarded(async () => {
    if (target.kind === "input") {
      state.rows.X[state.point][target.i] = value;
      await applyRows();
      return;
    }
    if (target.kind === "target") {
      state.rows.y[state.point][target.j] = value;
      await applyRows();
      return;
    }
    const model = assembleWalk(state.walk, activations());
    const layer = model.layers[target.layer - 1];
    const at = state.walk.position;
    await walk({ to: -1 }); // the step's starting weights, so that the edit replaces those
    await api(`${base()}/params`, { method: "PATCH", body: {
      layer: layer.index, name: target.kind, index: target.kind === "weight" ? [target.i, target.j] : [target.j],
      value,
    } });
    state.history.clear();
    await walk({ to: at });
  });
}

ui.editor.addEventListener("keydown", (e) => {
  if (e.key === "Enter") finishEdit(true);
  else if (e.key === "Escape") finishEdit(false);
});
ui.editor.addEventListener("blur", () => finishEdit(true));

// --- controls --------------------------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

function stopPlaying() {
  state.playing = false;
  renderControls();
}

async function play() {
  if (state.playing) {
    stopPlaying();
    return;
  }
  state.playing = true;
  renderControls();
  try {
    do {
      if (!(await guarded(() => walk({ action: "next" }))) || !state.playing) break;
      await sleep(Number(ui.speed.value));
    } while (state.playing && state.walk.position < state.walk.total - 1);
  } finally {
    stopPlaying();
  }
}

async function train() {
  stopPlaying();
  const steps = Number(ui.trainSteps.value);
  const lossStage = state.walk.stages.findIndex((s) => s.phase === "loss");
  state.training = true;
  renderControls();
  await guarded(async () => {
    // Training starts from the weights the network holds now: the step's start, or its result once updated.
    const labels = state.walk.labels;
    let last = null;
    for (let k = 0; k < steps; k++) {
      const result = await api(`${base()}/step`, { method: "POST" });
      state.history.set(result.step - 1, result.loss);
      last = result;
      if (result.diverged) throw new Error(result.message);
      if (k % 2 === 1 || k === steps - 1) {
        const frozen = { ...state.walk, labels, params: result.params, revealed: [], current: null, position: -1,
          step: result.step };
        const model = assembleWalk(frozen, activations());
        graph.render(graphView(model, frozen, state.point, LOSS_NAMES[lossName()]));
        renderChart();
        ui.trainStatus.textContent = `step ${result.step}: error ${result.loss.toPrecision(3)}`;
        await sleep(0);
      }
    }
    await walk({ to: lossStage });
    const now = state.walk.revealed.find((s) => s.phase === "loss");
    ui.trainStatus.textContent = `Trained ${steps} steps: the error went from ` +
      `${state.history.get(last.step - steps)?.toPrecision(3)} to ${now.value.toPrecision(3)}.`;
  });
  state.training = false;
  renderControls();
}

ui.next.addEventListener("click", () => guarded(() => walk({ action: "next" })));
ui.back.addEventListener("click", () => guarded(() => walk({ action: "back" })));
ui.reset.addEventListener("click", () => { stopPlaying(); guarded(() => walk({ to: -1 })); });
ui.play.addEventListener("click", play);
ui.granularity.addEventListener("change", () => { stopPlaying(); guarded(() => walk({ to: -1 })); });
ui.train.addEventListener("click", train);

ui.rate.addEventListener("change", () => {
  const value = Number(ui.rate.value);
  if (!(value > 0)) {
    ui.rate.classList.add("invalid");
    showError(ui.error, new Error("The learning rate must be a positive number, e.g. 0.05."));
    return;
  }
  ui.rate.classList.remove("invalid");
  guarded(() => change({ learning_rate: value }));
});

function outputActivationFor(hidden, ce) {
  if (!ce) return hidden;
  const dense = state.network.layers.filter((l) => l.type === "dense");
  return dense[dense.length - 1].output_shape[0] > 1 ? "softmax" : "sigmoid";
}

ui.activation.addEventListener("change", () => {
  const hidden = ui.activation.value;
  guarded(() => change({ activation: hidden, output_activation: outputActivationFor(hidden, isCrossEntropy()) }));
});

ui.loss.addEventListener("change", () => {
  const ce = ui.loss.value === "ce";
  const output = outputActivationFor(ui.activation.value, ce);
  const loss = !ce ? "mse" : output === "softmax" ? "cross_entropy" : "bce";
  guarded(() => change({ loss, output_activation: output }));
});

ui.add.addEventListener("click", () => guarded(async () => {
  if (state.rows.X.length >= MAX_POINTS) return;
  const last = state.rows.X.length - 1;
  // A new point starts as a copy of the last one, so that the learner changes one number at a time.
  state.rows.X.push(state.rows.X[last].slice());
  state.rows.y.push(state.rows.y[last].slice());
  state.point = state.rows.X.length - 1;
  await applyRows();
}));

for (const tab of [ui.stepsTab, ui.matrixTab]) {
  tab.addEventListener("click", () => {
    state.tab = tab === ui.matrixTab ? "matrix" : "steps";
    ui.stepsTab.setAttribute("aria-selected", String(state.tab === "steps"));
    ui.matrixTab.setAttribute("aria-selected", String(state.tab === "matrix"));
    ui.steps.hidden = state.tab !== "steps";
    ui.matrix.hidden = state.tab !== "matrix";
    render();
  });
}

ui.openSessionGo.addEventListener("click", () => guarded(async () => {
  const id = ui.openSession.value.trim();
  if (!id) throw new Error("Paste a session id first (the Playground shows its id; the API returns it as 'id').");
  const doc = await api(`/api/networks/${encodeURIComponent(id)}/export`);
  await openExport(doc, `session ${id.slice(0, 6)}…`);
}));

ui.openFile.addEventListener("change", () => guarded(async () => {
  const file = ui.openFile.files[0];
  if (!file) return;
  let doc;
  try {
    doc = JSON.parse(await file.text());
  } catch {
    throw new Error(`${file.name} is not valid JSON; export the network again with format=json.`);
  }
  await openExport(doc, file.name.replace(/\.json$/, ""));
}));

ui.openJsonGo.addEventListener("click", () => guarded(async () => {
  let doc;
  try {
    doc = JSON.parse(ui.openJson.value);
  } catch (err) {
    throw new Error(`The pasted text is not valid JSON (${err.message}).`);
  }
  await openExport(doc, "pasted network");
}));

ui.openExample.addEventListener("click", () => guarded(openWorkedExample));

/**
 * Start the walkthrough: a copy of the network session `session` (the Playground links here with one), or the
 * worked example. `keyboard`: the arrow keys step (the page); a lesson leaves them to its slides.
 */
export function mountBackprop({ session = null, network = null, keyboard = true } = {}) {
  if (keyboard) {
    document.addEventListener("keydown", (e) => {
      if (e.target.closest("input, select, textarea")) return;
      if (e.key === "ArrowRight") ui.next.click();
      else if (e.key === "ArrowLeft") ui.back.click();
    });
  }
  const ready = guarded(() => (network ? openAttached(network) : openLinked(session)));
  return { ready, state: () => ({ session: state.id }), link: () => (state.id ? `/backprop?session=${state.id}` : "/backprop") };
}

/** Attach to the network session itself, where its walk stands (a script's walk, say). */
async function openAttached(id) {
  try {
    const where = await api(`/api/networks/${encodeURIComponent(id)}/walk`);
    if (where.granularity) ui.granularity.value = where.granularity;
    await openSession(id, `network ${id.slice(0, 6)}…`, where.current ? where.position : -1);
  } catch (err) {
    await openWorkedExample();
    throw new Error(`Could not open network ${id}: ${err.message} Showing the worked example instead.`);
  }
}

async function openLinked(linked) {
  if (linked) {
    try {
      const doc = await api(`/api/networks/${encodeURIComponent(linked)}/export`);
      await openExport(doc, `session ${linked.slice(0, 6)}…`, await firstPoint(linked));
      return;
    } catch (err) {
      await openWorkedExample();
      throw new Error(`Could not open session ${linked}: ${err.message} Showing the worked example instead.`);
    }
  }
  await openWorkedExample();
}
