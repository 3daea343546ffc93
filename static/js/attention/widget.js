// The Attention page: a transformer session, trained live over /ws/transformers/{id}, drawn five ways.
import { api, decodeArrays, showError } from "../lib/api.js";
import { el, scheduleDraw } from "../lib/dom.js";
import { downloadPng, downloadSvg } from "../lib/export.js";
import { applyHistory, connectSocket } from "../lib/socket.js";
import { drawArchitecture } from "./arch-figure.js";
import { ATTENTION_OF_BLOCK, attentionNote, blockNote } from "./block-notes.js";
import { HeadView } from "./head-view.js";
import { layerTitle } from "./maps.js";
import { matrixSvg, MatrixView } from "./matrix-view.js";
import { renderMetrics } from "./metrics.js";
import { ModelView } from "./model-view.js";
import { highlightTokens, renderOutput } from "./output.js";
import { WalkPanel } from "./walk-panel.js";

const $ = (id) => document.getElementById(id);
const errorBox = $("attn-error");
const fail = (err) => showError(errorBox, err);

const state = {
  session: null, // GET /api/transformers/{id}
  attached: false, // the session came from the URL (a script's): the page never deletes it
  socket: null,
  playing: false,
  step: 0,
  history: [],
  pass: null, // the latest pass to draw: {typed, src_tokens, input_tokens, output, expected, correct, attention}
  selected: { id: null, head: 0 },
  typed: null, // the user's own sequence, once they ran one
  hover: null,
};

const modelView = new ModelView($("model-view"), (id, head) => select(id, head));
const matrixView = new MatrixView($("matrix-view"), $("matrix-readout"), $("attn-tooltip"), (i, j) => {
  state.hover = i === null ? null : { i, j };
  highlightTokens($("model-output"), state.pass && layerInfo(state.selected.id), state.hover);
});
const headView = new HeadView($("head-view"), $("head-swatches"));
const walk = new WalkPanel((id, head) => select(id, head), fail);

// --- sessions -------------------------------------------------------------------------------

async function createSession(preset, overrides = {}) {
  showError(errorBox, null);
  stopSocket();
  const old = state.session;
  const session = await api("/api/transformers", { method: "POST", body: { preset, ...overrides } });
  // Only a session this page made is deleted: one attached from the URL belongs to its script.
  if (old && !state.attached) api(`/api/transformers/${old.id}`, { method: "DELETE" }).catch(() => {});
  state.attached = false;
  adoptSession(session);
}

/** Show `session` (a transformer's state) and stream it. */
function adoptSession(session) {
  const preset = session.preset;
  state.session = session;
  state.step = session.step;
  state.history = session.history;
  state.pass = null;
  state.typed = null;
  const info = session.attention;
  // Open on the map the task is about: the first cross-attention of an encoder-decoder, else the last layer.
  const preferred = info.find((a) => a.kind === "cross") || info[info.length - 1];
  state.selected = { id: preferred.id, head: 0 };
  for (const chip of document.querySelectorAll(".task-chip")) {
    chip.setAttribute("aria-checked", String(chip.dataset.preset === preset));
  }
  $("task-description").textContent = session.description;
  fillSizes(session);
  $("attn-step").title = `Train ${session.stream_every} steps (one frame), then pause`;
  $("sequence-input").value = "";
  state.rejected = null;
  const task = session.task;
  $("sequence-hint").textContent = `tokens: ${task.typed_vocab.join(" ")} · at most ${task.max_typed} · `
    + `trained on ${task.length}`;
  modelView.build(info);
  drawArchitecture($("arch-figure"), session.model, onBlock);
  $("arch-note").textContent = "Click a block: attention blocks open their maps; the others say what they compute, "
    + "with this model's sizes.";
  $("head-view-layer").replaceChildren(...info.map((a) => new Option(layerTitle(a.kind, a.layer), a.id)));
  $("head-view-layer").value = preferred.id;
  walk.open(session, preferred.id);
  renderMetrics(state.history, state.step);
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
  const norm = { post: "Add & Norm", pre: "pre-norm", none: "no norm" }[m.norm];
  $("attn-param-count").textContent = `${m.arch}, ${m.num_params.toLocaleString("en")} parameters, `
    + `d_ff ${m.d_ff}, ${m.positional} positions, ${norm}${m.ffn ? "" : ", attention only"}`;
}

// --- live stream ----------------------------------------------------------------------------

function openSocket() {
  const id = state.session.id;
  state.socket = connectSocket(`/ws/transformers/${id}`, {
    onMessage: (msg) => {
      if (!state.session || state.session.id !== id) return;
      if (msg.type === "error") {
        fail(new Error(msg.detail));
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
  state.history = applyHistory(state.history, frame.history);
  // A frame computed before the server took the user's sequence still shows the old one: keep the user's.
  const stale = state.typed && frame.probe.typed.join(" ") !== state.typed.join(" ");
  if (!stale) state.pass = frame.probe;
  if (frame.playing !== state.playing) setPlaying(frame.playing);
  if (frame.diverged) fail(new Error(`${frame.message} Press reset to start again.`));
  if (!state.typed && !$("sequence-input").matches(":focus")) $("sequence-input").value = frame.probe.typed.join(" ");
  scheduleDraw(draw);
}

function setPlaying(playing) {
  state.playing = playing;
  const b = $("attn-play");
  b.setAttribute("aria-pressed", String(playing));
  b.setAttribute("aria-label", playing ? "Pause" : "Play");
  b.title = playing ? "Pause training" : "Train live";
}

// --- drawing --------------------------------------------------------------------------------

function layerInfo(id) {
  return state.session.attention.find((a) => a.id === id);
}

function passMap(id) {
  return state.pass.attention.find((a) => a.id === id);
}

function draw() {
  renderMetrics(state.history, state.step);
  const pass = state.pass;
  if (!pass) return;
  modelView.update(pass.attention);
  modelView.select(state.selected.id, state.selected.head);
  matrixView.render(passMap(state.selected.id), state.selected.head, state.step);
  headView.render(passMap($("head-view-layer").value || state.selected.id));
  if (state.rejected) {
    // The box holds a sequence the model cannot read: no answer of an earlier sequence may stand under it.
    $("model-output").replaceChildren(el("p", { class: "small muted", "data-testid": "model-output-cleared",
      text: `No output: “${state.rejected}” is not a sequence of this task (see the message above).` }));
  } else {
    renderOutput($("model-output"), pass, state.session.task.mode, state.step);
    highlightTokens($("model-output"), layerInfo(state.selected.id), state.hover);
  }
  walk.update(pass, state.typed || pass.typed, state.step, state.playing);
}

function select(id, head) {
  state.selected = { id, head };
  $("head-view-layer").value = id;
  walk.select(id, head);
  draw(); // at once: a click shows its result without waiting for a frame
}

function onBlock(kind) {
  const attention = ATTENTION_OF_BLOCK[kind];
  if (attention) {
    const first = state.session.attention.find((a) => a.kind === attention);
    select(first.id, 0);
    $("arch-note").textContent = attentionNote(state.session.model, first);
    $("matrix-view").scrollIntoView({ behavior: "smooth", block: "nearest" });
    return;
  }
  $("arch-note").textContent = blockNote(kind, state.session.model);
  if (kind === "linear" || kind === "softmax") $("model-output").scrollIntoView({ behavior: "smooth", block: "nearest" });
}

// --- controls -----------------------------------------------------------------------------------

for (const chip of document.querySelectorAll(".task-chip")) {
  chip.addEventListener("click", () => createSession(chip.dataset.preset).catch(fail));
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
    walk.forget(s);
    showError(errorBox, null);
    state.socket?.send({ type: "frame" });
  } catch (e) {
    fail(e);
  }
});

$("attn-sizes").addEventListener("submit", (e) => {
  e.preventDefault();
  const f = e.target.elements;
  const model = { layers: Number(f.layers.value), heads: Number(f.heads.value), d_model: Number(f.d_model.value) };
  const train = { learning_rate: Number(f.learning_rate.value) };
  createSession(state.session.preset, { model, train }).catch(fail);
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
    state.rejected = null;
    state.typed = result.typed;
    state.pass = decodeArrays(result);
    walk.show(state.pass, state.typed);
    state.socket?.send({ type: "config", probe: state.typed });
    scheduleDraw(draw);
  } catch (err) {
    $("sequence-input").classList.add("invalid");
    state.rejected = text;
    fail(err);
    scheduleDraw(draw);
  }
});
$("sequence-input").addEventListener("input", () => $("sequence-input").classList.remove("invalid"));
$("head-view-layer").addEventListener("change", () => draw());

function exportName(ext) {
  return `attention-${state.session.preset}-${state.selected.id}-head${state.selected.head + 1}-step${state.step}.${ext}`;
}
function exportSvgElement() {
  return matrixSvg(passMap(state.selected.id), state.selected.head, { width: 640, step: state.step });
}
$("export-svg").addEventListener("click", () => state.pass && downloadSvg(exportSvgElement(), exportName("svg")));
$("export-png").addEventListener("click", () => state.pass && downloadPng(exportSvgElement(), exportName("png"))
  .catch(fail));

window.addEventListener("resize", () => scheduleDraw(draw));

/** Start on the task `task` (a preset name), or the one the page marks as chosen. */
export function mountAttention({ task = null, session = null } = {}) {
  const initial = task || document.querySelector('.task-chip[aria-checked="true"]')?.dataset.preset || "reverse";
  if (session) {
    // /attention?session=<id> attaches to that transformer (one a script trains: its stream follows the training).
    api(`/api/transformers/${encodeURIComponent(session)}`)
      .then((s) => { state.attached = true; adoptSession(s); })
      .catch((err) => {
        createSession(initial).catch(fail);
        fail(new Error(`Could not open session ${session}: ${err.message}`));
      });
  } else {
    createSession(initial).catch(fail);
  }
  return { state: () => ({ session: state.session?.id ?? null, task: state.session?.preset ?? initial }),
    link: () => `/attention#task=${state.session?.preset ?? initial}` };
}
