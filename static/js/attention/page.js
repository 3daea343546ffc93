// The Attention page: a transformer session, trained live over /ws/transformers/{id}, drawn five ways.
import { api, decodeArrays, showError } from "../api.js";
import { downloadPng, downloadSvg } from "../export.js";
import { formatNumber } from "../heatmap.js";
import { drawPlot } from "../plot.js";
import { connectSocket } from "../socket.js";
import { drawArchitecture } from "./arch-figure.js";
import { HeadView } from "./head-view.js";
import { layerTitle } from "./maps.js";
import { matrixSvg, MatrixView } from "./matrix-view.js";
import { ModelView } from "./model-view.js";
import { renderWalk, STAGES } from "./qk-walk.js";

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const errorBox = $("attn-error");

const state = {
  session: null, // GET /api/transformers/{id}
  socket: null,
  playing: false,
  step: 0,
  history: [],
  pass: null, // the latest pass to draw: {typed, src_tokens, input_tokens, output, expected, correct, attention}
  trace: null, // the same with Q, K, V and every score stage (for the step-through), and the step it is from
  traceFetch: null,
  selected: { id: null, head: 0 },
  walk: { id: null, head: 0, query: 0, stage: 0 },
  typed: null, // the user's own sequence, once they ran one
  hover: null,
};

const modelView = new ModelView($("model-view"), (id, head) => select(id, head));
const matrixView = new MatrixView($("matrix-view"), $("matrix-readout"), $("attn-tooltip"), (i, j) => {
  state.hover = i === null ? null : { i, j };
  highlightTokens();
});
const headView = new HeadView($("head-view"), $("head-swatches"));

// --- sessions -------------------------------------------------------------------------------

async function createSession(preset, overrides = {}) {
  showError(errorBox, null);
  stopSocket();
  const old = state.session;
  const session = await api("/api/transformers", { method: "POST", body: { preset, ...overrides } });
  if (old) api(`/api/transformers/${old.id}`, { method: "DELETE" }).catch(() => {});
  state.session = session;
  state.step = session.step;
  state.history = session.history;
  state.pass = null;
  state.trace = null;
  state.typed = null;
  const info = session.attention;
  // Open on the map the task is about: the first cross-attention of an encoder-decoder, else the last layer.
  const preferred = info.find((a) => a.kind === "cross") || info[info.length - 1];
  state.selected = { id: preferred.id, head: 0 };
  state.walk = { id: preferred.id, head: 0, query: 0, stage: 0 };
  for (const chip of document.querySelectorAll(".task-chip")) {
    chip.setAttribute("aria-checked", String(chip.dataset.preset === preset));
  }
  $("task-description").textContent = session.description;
  fillSizes(session);
  $("attn-step").title = `Train ${session.stream_every} steps (one frame), then pause`;
  $("sequence-input").value = "";
  const task = session.task;
  $("sequence-hint").textContent = `tokens: ${task.typed_vocab.join(" ")} · at most ${task.max_typed} · `
    + `trained on ${task.length}`;
  modelView.build(info);
  drawArchitecture($("arch-figure"), { ...session.model, layers: session.model.layers }, onBlock);
  $("arch-note").textContent = "Click a block: attention blocks open their maps; the others say what they compute, "
    + "with this model's sizes.";
  fillWalkPickers();
  renderMetrics();
  setPlaying(false);
  openSocket();
}

function fillSizes(session) {
  const form = $("attn-sizes");
  const m = session.model;
  const set = (name, value) => {
    const sel = form.elements[name];
    if (![...sel.options].some((o) => o.value === String(value))) sel.append(new Option(String(value)));
    sel.value = String(value);
  };
  set("layers", m.layers);
  set("heads", m.heads);
  set("d_model", m.d_model);
  set("learning_rate", String(session.settings.train.learning_rate));
  $("attn-param-count").textContent = `${m.arch}, ${m.num_params.toLocaleString("en")} parameters, `
    + `d_ff ${m.d_ff}, ${m.positional} positions, ${m.norm === "post" ? "Add & Norm" : m.norm === "pre" ? "pre-norm" : "no norm"}`
    + `${m.ffn ? "" : ", attention only"}`;
}

// --- live stream ----------------------------------------------------------------------------

function openSocket() {
  const id = state.session.id;
  state.socket = connectSocket(`/ws/transformers/${id}`, {
    onMessage: (msg) => {
      if (!state.session || state.session.id !== id) return;
      if (msg.type === "error") {
        showError(errorBox, new Error(msg.detail));
        return;
      }
      if (msg.type === "frame") onFrame(decodeArrays(msg));
    },
  });
  if (state.typed) state.socket.send({ type: "config", probe: state.typed });
}

function stopSocket() {
  if (state.socket) state.socket.close();
  state.socket = null;
}

function onFrame(frame) {
  state.step = frame.step;
  mergeHistory(frame.history_tail, frame.history_length);
  // A frame computed before the server took the user's sequence still shows the old one: keep the user's.
  const stale = state.typed && frame.probe.typed.join(" ") !== state.typed.join(" ");
  if (!stale) state.pass = frame.probe;
  if (frame.playing !== state.playing) setPlaying(frame.playing);
  if (frame.diverged) showError(errorBox, new Error(`${frame.message} Press reset to start again.`));
  if (!state.typed && !$("sequence-input").matches(":focus")) $("sequence-input").value = frame.probe.typed.join(" ");
  scheduleDraw();
}

function mergeHistory(tail, total) {
  const last = state.history.length ? state.history[state.history.length - 1].step : -1;
  const fresh = tail.filter((h) => h.step > last);
  const bridged = !tail.length || tail[0].step <= last || state.history.length + fresh.length >= total;
  state.history = state.history.concat(fresh);
  if (!bridged) {
    // Frames were dropped for longer than the tail covers: fetch the whole history once.
    api(`/api/transformers/${state.session.id}`).then((s) => { state.history = s.history; scheduleDraw(); });
  }
}

function setPlaying(playing) {
  state.playing = playing;
  const b = $("attn-play");
  b.setAttribute("aria-pressed", String(playing));
  b.setAttribute("aria-label", playing ? "Pause" : "Play");
  b.title = playing ? "Pause training" : "Train live";
}

// --- drawing --------------------------------------------------------------------------------

let drawPending = false;
function scheduleDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

function mapInfo(id) {
  return state.session.attention.find((a) => a.id === id);
}

function passMap(pass, id) {
  const map = pass.attention.find((a) => a.id === id);
  return map && { ...map, causal: mapInfo(id).causal };
}

function draw() {
  renderMetrics();
  const pass = state.pass;
  if (!pass) return;
  modelView.update(pass.attention);
  modelView.select(state.selected.id, state.selected.head);
  const map = passMap(pass, state.selected.id);
  matrixView.render(map, state.selected.head, state.step);
  const headLayer = $("head-view-layer").value || state.selected.id;
  headView.render(passMap(pass, headLayer));
  renderOutput(pass);
  refreshWalk();
}

function renderMetrics() {
  $("attn-step-count").textContent = String(state.step).padStart(6, "0");
  const latest = state.history[state.history.length - 1];
  const pct = (v) => (v === null || v === undefined ? "—" : `${(100 * v).toFixed(1)} %`);
  $("attn-accuracy").textContent = latest ? pct(latest.sequence_accuracy) : "—";
  $("attn-token-accuracy").textContent = latest ? pct(latest.token_accuracy) : "—";
  $("attn-loss").textContent = latest && latest.loss !== null ? latest.loss.toFixed(3) : "—";
  $("attn-test-loss").textContent = latest && latest.test_loss !== null ? latest.test_loss.toFixed(3) : "—";
  const series = (key, color, label, width = 2) => ({ xs: state.history.map((h) => h.step),
    ys: state.history.map((h) => h[key]), color, label, width, testid: `curve-${key}` });
  const xMax = Math.max(100, state.step);
  const maxLoss = Math.max(1, ...state.history.flatMap((h) => [h.loss, h.test_loss]).filter(Number.isFinite));
  drawPlot($("attn-loss-curve"), { width: 240, height: 120, x: [0, xMax], y: [0, maxLoss * 1.05], xLabel: "step",
    series: [series("loss", "var(--text-muted)", "training loss"), series("test_loss", "var(--text)", "held-out loss",
      1.6)] });
  drawPlot($("attn-accuracy-curve"), { width: 240, height: 120, x: [0, xMax], y: [0, 1], xLabel: "step",
    series: [series("token_accuracy", "var(--value-negative)", "token accuracy", 1.6),
      series("sequence_accuracy", "var(--prob-high)", "sequence accuracy", 2.4)] });
}

function tokenRow(label, tokens, testid, classes = []) {
  const row = document.createElement("div");
  row.className = "token-row";
  const name = document.createElement("span");
  name.className = "row-label";
  name.textContent = label;
  const list = document.createElement("div");
  list.className = "tokens";
  list.setAttribute("data-testid", testid);
  tokens.forEach((t, i) => {
    const span = document.createElement("span");
    span.className = `tok ${classes[i] || ""}`;
    if (t.startsWith("<") || t === "|") span.classList.add("special");
    span.textContent = t;
    span.dataset.index = i;
    list.append(span);
  });
  row.append(name, list);
  return row;
}

function renderOutput(pass) {
  const out = $("model-output");
  const task = state.session.task;
  const marks = pass.output.map((o, i) => {
    const e = pass.expected[i];
    return e === null || e === undefined ? "" : e === o ? "right" : "wrong";
  });
  const rows = [];
  if (pass.src_tokens) rows.push(tokenRow("encoder reads", pass.src_tokens, "model-src"));
  rows.push(tokenRow(task.mode === "seq2seq" ? "decoder reads" : "model reads", pass.input_tokens, "model-inputs"));
  const outLabel = { seq2seq: "output", tagging: "output", generate: "answer", next: "next-token predictions",
    classify: "verdict" }[task.mode];
  rows.push(tokenRow(outLabel, pass.output, "model-output-tokens", marks));
  const verdict = document.createElement("span");
  const defined = pass.expected.filter((e) => e !== null).length;
  verdict.className = `verdict ${pass.correct ? "right" : "wrong"}`;
  verdict.setAttribute("data-testid", "model-verdict");
  verdict.textContent = defined === 0 ? "" : pass.correct ? "✓ right" : `✗ expected ${pass.expected.map((e) => e ?? "·")
    .join(" ")}`;
  const step = document.createElement("span");
  step.className = "tiny muted";
  step.textContent = `model at step ${state.step}`;
  out.replaceChildren(...rows, verdict, step);
  highlightTokens();
}

/** Light up the hovered matrix cell's query and key tokens in the sequence rows too. */
function highlightTokens() {
  for (const el of document.querySelectorAll(".model-output .tok.hl")) el.classList.remove("hl");
  if (!state.hover || !state.pass) return;
  const info = mapInfo(state.selected.id);
  const rowOf = { src: "model-src", inputs: "model-inputs" };
  const q = document.querySelector(`[data-testid="${rowOf[info.queries]}"] [data-index="${state.hover.i}"]`);
  const k = document.querySelector(`[data-testid="${rowOf[info.keys]}"] [data-index="${state.hover.j}"]`);
  q?.classList.add("hl");
  k?.classList.add("hl");
}

// --- selection ------------------------------------------------------------------------------

function select(id, head) {
  state.selected = { id, head };
  $("head-view-layer").value = id;
  state.walk = { ...state.walk, id, head };
  fillWalkPickers();
  draw(); // at once: a click shows its result without waiting for a frame
}

function fillWalkPickers() {
  const info = state.session.attention;
  const layerSel = $("qk-layer");
  const headLayerSel = $("head-view-layer");
  const options = () => info.map((a) => new Option(layerTitle(a.kind, a.layer), a.id));
  layerSel.replaceChildren(...options());
  headLayerSel.replaceChildren(...options());
  layerSel.value = state.walk.id;
  headLayerSel.value = state.selected.id;
  const heads = mapInfo(state.walk.id).heads;
  $("qk-head").replaceChildren(...Array.from({ length: heads }, (_, h) => new Option(`${h + 1}`, String(h))));
  $("qk-head").value = String(state.walk.head);
  fillQueryPicker();
}

function fillQueryPicker() {
  const pass = state.trace || state.pass;
  const sel = $("qk-query");
  if (!pass) return;
  const map = pass.attention.find((a) => a.id === state.walk.id);
  if (!map) return;
  const tokens = map.query_tokens;
  state.walk.query = Math.min(state.walk.query, tokens.length - 1);
  const labels = tokens.map((t, i) => `${i + 1}: ${t}`);
  if ([...sel.options].map((o) => o.text).join() !== labels.join()) {
    sel.replaceChildren(...labels.map((t, i) => new Option(t, String(i))));
  }
  sel.value = String(state.walk.query);
}

// --- the step-through ---------------------------------------------------------------------------

/** The walk shows the full trace of the current sequence; fetch it again when training moved on. */
function refreshWalk() {
  if (!state.session) return;
  const stale = !state.trace || state.trace.step !== state.step || state.trace.key !== traceKey();
  if (stale && !state.traceFetch) {
    const started = performance.now();
    const key = traceKey();
    const tokens = state.typed || (state.pass ? state.pass.typed : null);
    if (!tokens) return;
    state.traceFetch = api(`/api/transformers/${state.session.id}/forward`, {
      method: "POST", query: { encoding: "base64" }, body: { tokens, trace: true },
    }).then((t) => {
      state.trace = { ...decodeArrays(t), key };
    }).catch((err) => showError(errorBox, err)).finally(() => {
      // While training runs, refresh at most about twice a second.
      const wait = Math.max(0, 450 - (performance.now() - started));
      setTimeout(() => { state.traceFetch = null; if (state.trace) renderWalkNow(); }, state.playing ? wait : 0);
    });
  }
  if (state.trace) renderWalkNow();
}

function traceKey() {
  return `${state.session.id}|${(state.typed || state.pass?.typed || []).join(" ")}`;
}

function renderWalkNow() {
  const trace = state.trace;
  if (!trace || trace.key !== traceKey()) return;
  fillQueryPicker();
  const withCausal = { ...trace, attention: trace.attention.map((a) => ({ ...a, causal: mapInfo(a.id).causal })) };
  renderWalk({ stages: $("qk-stages"), stage: $("qk-stage"), formula: $("qk-formula"), text: $("qk-text"),
    body: $("qk-body") }, withCausal, state.walk, state.walk.stage, (n) => { state.walk.stage = n; renderWalkNow(); });
  $("qk-walk-next").disabled = state.walk.stage >= STAGES.length - 1;
  $("qk-walk-back").disabled = state.walk.stage <= 0;
}

// --- the architecture figure ----------------------------------------------------------------------

function onBlock(kind) {
  const m = state.session.model;
  const note = $("arch-note");
  const attention = { "encoder-attention": "encoder", "decoder-attention": "decoder", "cross-attention": "cross",
    "self-attention": "self" }[kind];
  if (attention) {
    const first = state.session.attention.find((a) => a.kind === attention);
    select(first.id, 0);
    const dk = m.d_model / m.heads;
    note.textContent = `${layerTitle(first.kind, first.layer)}: ${m.heads} head${m.heads > 1 ? "s" : ""}, each with `
      + `dₖ = ${m.d_model}/${m.heads} = ${dk}. ${first.causal ? "Masked: a position sees itself and earlier ones. " : ""}`
      + `${first.kind === "cross" ? "Queries from the decoder, keys and values from the encoder's output. " : ""}`
      + "Its maps are in the matrix and head views below.";
    $("matrix-view").scrollIntoView({ behavior: "smooth", block: "nearest" });
    return;
  }
  const texts = {
    embedding: `Embedding: each of the ${m.tgt_vocab} tokens the ${m.arch === "encoder-decoder" ? "decoder" : "model"}`
      + ` reads is a learned vector of ${m.d_model} numbers, multiplied by √${m.d_model}.`,
    "src-embedding": `Input embedding: each of the ${m.src_vocab} source tokens is a learned vector of ${m.d_model} `
      + `numbers, multiplied by √${m.d_model}.`,
    positional: m.positional === "learned"
      ? `Positional encoding (learned): a trained vector of ${m.d_model} numbers per position (up to ${m.max_len}), `
        + "added to the token's vector so attention can tell positions apart."
      : `Positional encoding (sinusoidal): PE(pos, 2i) = sin(pos / 10000^(2i/${m.d_model})), PE(pos, 2i+1) = cos(…),`
        + " added to the token's vector.",
    "add-norm": `Add & Norm: the residual sum x + Sublayer(x), then LayerNorm over each token's ${m.d_model} numbers `
      + "(mean 0, variance 1, then a learned scale and shift).",
    norm: `Layer norm before the sublayer (pre-norm): each token's ${m.d_model} numbers to mean 0, variance 1.`,
    add: "Residual connection: the sublayer's output is added to its input, so information and gradients flow "
      + "straight through the stack.",
    "feed-forward": `Feed forward: ${m.d_model} → ${m.d_ff} → ${m.d_model} with ReLU, the same two dense layers at every`
      + " position.",
    linear: `Linear: ${m.d_model} → ${m.out_vocab} scores (logits) per position.`,
    softmax: "Softmax: the scores become probabilities; the answer shown is the most likely token (greedy decoding).",
  };
  note.textContent = texts[kind] || "";
  if (kind === "linear" || kind === "softmax") $("model-output").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// --- controls -----------------------------------------------------------------------------------

for (const chip of document.querySelectorAll(".task-chip")) {
  chip.addEventListener("click", () => createSession(chip.dataset.preset).catch((e) => showError(errorBox, e)));
}

$("attn-play").addEventListener("click", () => {
  if (!state.socket) return;
  state.socket.send({ type: state.playing ? "pause" : "play" });
  setPlaying(!state.playing);
});
$("attn-step").addEventListener("click", () => state.socket && state.socket.send({ type: "step" }));
$("attn-reset").addEventListener("click", async () => {
  if (!state.session) return;
  state.socket?.send({ type: "pause" });
  try {
    const s = await api(`/api/transformers/${state.session.id}/reset`, { method: "POST" });
    state.session = s;
    state.history = s.history;
    state.step = s.step;
    state.trace = null;
    showError(errorBox, null);
    state.socket?.send({ type: "frame" });
  } catch (e) {
    showError(errorBox, e);
  }
});

$("attn-sizes").addEventListener("submit", (e) => {
  e.preventDefault();
  const f = e.target.elements;
  const model = { layers: Number(f.layers.value), heads: Number(f.heads.value), d_model: Number(f.d_model.value) };
  const train = { learning_rate: Number(f.learning_rate.value) };
  createSession(state.session.preset, { model, train }).catch((err) => showError(errorBox, err));
});

$("sequence-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("sequence-input").value.trim();
  if (!state.session || !text) return;
  try {
    const result = await api(`/api/transformers/${state.session.id}/forward`, {
      method: "POST", query: { encoding: "base64" }, body: { tokens: text, trace: true },
    });
    showError(errorBox, null);
    $("sequence-input").classList.remove("invalid");
    state.typed = result.typed;
    const decoded = decodeArrays(result);
    state.trace = { ...decoded, key: traceKey() };
    state.pass = decoded;
    state.socket?.send({ type: "config", probe: state.typed });
    fillQueryPicker();
    scheduleDraw();
  } catch (err) {
    $("sequence-input").classList.add("invalid");
    showError(errorBox, err);
  }
});
$("sequence-input").addEventListener("input", () => $("sequence-input").classList.remove("invalid"));

$("head-view-layer").addEventListener("change", () => draw());
$("qk-layer").addEventListener("change", (e) => {
  state.walk = { ...state.walk, id: e.target.value, head: 0 };
  select(e.target.value, 0);
});
$("qk-head").addEventListener("change", (e) => select(state.walk.id, Number(e.target.value)));
$("qk-query").addEventListener("change", (e) => { state.walk.query = Number(e.target.value); renderWalkNow(); });
$("qk-walk-next").addEventListener("click", () => {
  state.walk.stage = Math.min(STAGES.length - 1, state.walk.stage + 1);
  renderWalkNow();
});
$("qk-walk-back").addEventListener("click", () => {
  state.walk.stage = Math.max(0, state.walk.stage - 1);
  renderWalkNow();
});

function exportName(ext) {
  return `attention-${state.session.preset}-${state.selected.id}-head${state.selected.head + 1}-step${state.step}.${ext}`;
}
function exportSvgElement() {
  const map = passMap(state.pass, state.selected.id);
  return matrixSvg(map, state.selected.head, { width: 640, step: state.step });
}
$("export-svg").addEventListener("click", () => state.pass && downloadSvg(exportSvgElement(), exportName("svg")));
$("export-png").addEventListener("click", () => state.pass && downloadPng(exportSvgElement(), exportName("png"))
  .catch((e) => showError(errorBox, e)));

window.addEventListener("resize", scheduleDraw);

const initial = document.querySelector('.task-chip[aria-checked="true"]')?.dataset.preset || "reverse";
createSession(initial).catch((e) => showError(errorBox, e));
