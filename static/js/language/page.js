// The Language model page: the shipped character model read as you type (next-character bars, the characters
// coloured by how expected they were), writing streamed over /ws/charlm/generate, every head's attention from
// a clicked character (strips, and the Attention page's model view and head view), the logit lens, the
// embedding map, and a small model trained live.
import { api, decodeArrays, showError } from "../lib/api.js";
import { rgb, sequential } from "../lib/colors.js";
import { drawLegend } from "../lib/heatmap.js";
import { connectSocket } from "../lib/socket.js";
import { HeadView } from "../attention/head-view.js";
import { ModelView } from "../attention/model-view.js";
import { renderBars } from "./bars.js";
import { charSpan, renderChars, shown } from "./chars.js";
import { renderEmbedding } from "./embedding.js";
import { renderLens } from "./lens.js";
import { cropLayer, renderStrips } from "./strips.js";
import { TrainPanel } from "./train-panel.js";

const $ = (id) => document.getElementById(id);
const errorBox = $("lm-error");
const fail = (err) => { if (err?.name !== "AbortError") showError(errorBox, err); };
const MAP_CHARS = 24; // characters the model view and head view show, ending at the selected one

const state = {
  info: null, // GET /api/charlm
  predicted: null, // the last /predict answer
  attention: null, // the last /attention answer (decoded)
  selected: null, // position in the window; null = the last character
  layer: 0,
  writing: false,
  written: "",
};

const modelView = new ModelView($("model-view"), (id, head) => {
  $("head-view-layer").value = id;
  modelView.select(id, head);
  drawMaps();
});
const headView = new HeadView($("head-view"), $("head-swatches"));
new TrainPanel($("lm-train-error")); // eslint-disable-line no-new

// --- reading the text -------------------------------------------------------------------------------------

let predictAbort = null;
let attentionAbort = null;

function text() {
  return $("lm-input").value;
}

function settings() {
  const topK = $("lm-topk").value;
  return { temperature: Number($("lm-temperature").value), top_k: topK ? Number(topK) : null };
}

async function predict() {
  predictAbort?.abort();
  predictAbort = new AbortController();
  const body = { text: text(), ...settings() };
  if (state.selected !== null) body.position = state.selected;
  const result = await api("/api/charlm/predict", { method: "POST", body, signal: predictAbort.signal });
  state.predicted = result;
  showError(errorBox, null);
  drawPrediction();
}

async function readAttention() {
  attentionAbort?.abort();
  attentionAbort = new AbortController();
  const result = await api("/api/charlm/attention", { method: "POST", body: { text: text() },
    query: { encoding: "base64" }, signal: attentionAbort.signal });
  state.attention = decodeArrays(result);
  drawAttention();
}

let typingTimer = null;
function onTextChanged() {
  state.selected = null;
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => {
    predict().catch(fail);
    readAttention().catch(fail);
    rememberView();
  }, 60);
}

// The text and the knobs live in the URL's hash, so a reload, a link or the Share button keeps them.
const HASH_TEXT = 400; // characters of the text kept in the link: the model reads at most its context anyway

function rememberView() {
  const params = new URLSearchParams({ text: text().slice(-HASH_TEXT), t: $("lm-temperature").value,
    k: $("lm-topk").value });
  history.replaceState(null, "", `#${params}`);
}

function restoreView() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("text")) $("lm-input").value = params.get("text");
  const t = Number(params.get("t"));
  if (params.has("t") && Number.isFinite(t) && t >= 0 && t <= 3) $("lm-temperature").value = String(t);
  $("lm-temperature-value").textContent = Number($("lm-temperature").value).toFixed(2);
  if ([...$("lm-topk").options].some((o) => o.value === params.get("k"))) $("lm-topk").value = params.get("k");
}

function selectPosition(i) {
  const last = state.predicted ? state.predicted.chars.length - 1 : 0;
  state.selected = i === last ? null : i;
  predict().catch(fail);
  drawAttention();
}

// --- drawing ------------------------------------------------------------------------------------------------

function position() {
  return state.predicted ? state.predicted.position : 0;
}

function drawPrediction() {
  const r = state.predicted;
  $("lm-note").textContent = r.note || "";
  renderChars($("lm-chars"), r, r.position, selectPosition);
  const after = r.chars.slice(Math.max(0, r.position - 11), r.position + 1).map((c) => shown(c, { space: " " }))
    .join("");
  const actual = r.position < r.chars.length - 1 ? r.chars[r.position + 1] : null;
  $("lm-next-after").textContent = `after “…${after}”` + (actual !== null ? ` (the text goes on with ${JSON.stringify(actual)}, ringed)` : "");
  renderBars($("lm-bars"), r, actual, (char) => {
    $("lm-input").value = text() + char;
    onTextChanged();
  });
  const t = r.temperature;
  $("lm-entropy").textContent = `Bars: temperature ${t.toFixed(2)}${r.top_k ? `, top-${r.top_k}` : ""}`
    + `${t === 0 ? " (all on the most likely)" : ""}; the thin mark is the model's own probability (temperature 1). `
    + `Its uncertainty here: ${r.entropy_bits.toFixed(2)} bits.`;
  renderLens($("lm-lens"), r.lens);
  $("lm-lens-position").textContent = `at ${JSON.stringify(r.chars[r.position])} (position ${r.position})`;
}

function drawAttention() {
  const a = state.attention;
  if (!a) return;
  const last = a.chars.length - 1;
  const query = state.selected === null ? last : Math.min(state.selected, last);
  $("lm-attn-query").textContent = `from ${JSON.stringify(a.chars[query])} at position ${query}`;
  renderStrips($("lm-attn-strips"), a.chars, a.weights, query);
  const info = Array.from({ length: a.layers }, (_, l) => ({ id: `self-${l}`, kind: "self", layer: l, heads: a.heads,
    causal: true }));
  if (modelView.layout !== info.map((x) => `${x.id}:${x.heads}`).join(",")) {
    modelView.build(info);
    $("head-view-layer").replaceChildren(...info.map((x) => new Option(`Block ${x.layer + 1}`, x.id)));
    $("head-view-layer").value = info[info.length - 1].id;
    modelView.select(info[info.length - 1].id, 0);
  }
  drawMaps();
}

function drawMaps() {
  const a = state.attention;
  if (!a) return;
  const last = a.chars.length - 1;
  const end = state.selected === null ? last : Math.min(state.selected, last);
  const start = Math.max(0, end - MAP_CHARS + 1);
  const tokens = a.chars.slice(start, end + 1).map((c) => shown(c));
  const maps = Array.from({ length: a.layers }, (_, l) => ({ id: `self-${l}`, weights: cropLayer(a.weights, l, start,
    end), query_tokens: tokens, key_tokens: tokens }));
  modelView.update(maps);
  const chosen = maps.find((m) => m.id === $("head-view-layer").value) || maps[maps.length - 1];
  headView.render(chosen);
}

// --- writing --------------------------------------------------------------------------------------------------

const writer = connectSocket("/ws/charlm/generate", {
  onMessage: (msg) => {
    const out = $("lm-written");
    if (msg.type === "error") { fail(new Error(msg.detail)); setWriting(false); return; }
    if (msg.type === "start") {
      out.replaceChildren();
      const prompt = document.createElement("span");
      prompt.className = "lm-prompt";
      const tail = msg.chars.slice(-60).join("");
      prompt.textContent = (msg.chars.length > 60 || msg.dropped ? "…" : "") + tail;
      out.append(prompt);
      state.written = "";
    } else if (msg.type === "char") {
      const span = charSpan(msg.char, msg.probability, { className: "lm-ch lm-gen" });
      span.title = `${JSON.stringify(msg.char)}: the model gave it ${(100 * msg.probability).toFixed(1)} %; drawn `
        + `with ${(100 * msg.sampled_probability).toFixed(1)} % at this temperature and top-k`;
      span.setAttribute("data-testid", "lm-gen-char");
      out.append(span);
      if (msg.char === "\n") out.append(document.createElement("br"));
      state.written += msg.char;
    } else if (msg.type === "done") {
      setWriting(false);
    }
  },
});

function setWriting(writing) {
  state.writing = writing;
  $("lm-write").textContent = writing ? "Stop" : "Write";
  $("lm-continue").disabled = writing || !state.written;
}

$("lm-write").addEventListener("click", () => {
  if (state.writing) {
    writer.send({ type: "stop" });
    setWriting(false);
    return;
  }
  const seed = Math.max(0, Math.floor(Number($("lm-seed").value) || 0));
  writer.send({ text: text(), length: Number($("lm-length").value), seed, ...settings() });
  setWriting(true);
});
$("lm-continue").addEventListener("click", () => {
  $("lm-input").value = text() + state.written;
  state.written = "";
  $("lm-continue").disabled = true;
  onTextChanged();
});

// --- controls -----------------------------------------------------------------------------------------------

$("lm-input").addEventListener("input", onTextChanged);
$("lm-temperature").addEventListener("input", () => {
  $("lm-temperature-value").textContent = Number($("lm-temperature").value).toFixed(2);
  predict().catch(fail);
  rememberView();
});
$("lm-topk").addEventListener("change", () => {
  predict().catch(fail);
  rememberView();
});
$("head-view-layer").addEventListener("change", () => {
  modelView.select($("head-view-layer").value, 0);
  drawMaps();
});
window.addEventListener("resize", () => drawMaps());

// --- start --------------------------------------------------------------------------------------------------

function legend(container, label) {
  drawLegend(container, { scale: "sequential", width: 90, label, ends: ["0 %", "100 %"] });
  // The characters are coloured by √p (small probabilities stay apart); the legend says where 1 % and 25 % fall.
  const note = document.createElement("span");
  note.textContent = `(√ scale: 1 % `;
  const swatch = (p) => Object.assign(document.createElement("span"), { className: "lm-swatch",
    style: `background: ${rgb(sequential(Math.sqrt(p)))}` });
  note.append(swatch(0.01), document.createTextNode(", 25 % "), swatch(0.25), document.createTextNode(")"));
  container.append(note);
}

async function start() {
  const info = await api("/api/charlm");
  state.info = info;
  $("lm-model-info").textContent = `${info.layers} blocks × ${info.heads} heads, d_model ${info.d_model}, context `
    + `${info.context} characters, ${info.num_params.toLocaleString("en")} parameters, ${info.vocab.length} symbols; `
    + `held-out loss ${info.validation_loss.toFixed(3)} nats = ${info.bits_per_char.toFixed(2)} bits per character `
    + `after ${info.steps.toLocaleString("en")} steps. Trained on ${info.corpus}.`;
  legend($("lm-chars-legend"), "how expected");
  legend($("lm-written-legend"), "model's probability");
  const map = decodeArrays(await api("/api/charlm/embedding", { query: { encoding: "base64" } }));
  renderEmbedding($("lm-embedding"), $("lm-embedding-legend"), map);
  $("lm-embedding-explained").textContent = `PC1 ${(100 * map.explained[0]).toFixed(0)} %, PC2 `
    + `${(100 * map.explained[1]).toFixed(0)} % of the variance`;
}

restoreView();
start().catch(fail);
onTextChanged();
