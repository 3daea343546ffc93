// The autoencoder page: the latent map of the test digits (click or drag to decode), an interpolation strip, a
// drawing pad whose digit lands on the map, PCA beside it, input vs reconstruction, and live training.
// Every code and every image comes from /api/autoencoders; this module only draws them.
import { api, decodeArrays } from "../lib/api.js";
import { createDrawPad } from "../lib/draw-pad.js";
import { formatNumber } from "../lib/format.js";
import { drawGray } from "../lib/image-canvas.js";
import { connectSocket } from "../lib/socket.js";
import { renderDigitLegend, ScatterMap } from "./scatter.js";
import { createTrainPanel } from "./train.js";

const $ = (id) => document.getElementById(id);
const els = {
  error: $("error"), mapCanvas: $("latent-map"), mapCaption: $("map-caption"), legend: $("legend"),
  modeDecode: $("mode-decode"), modeEnds: $("mode-ends"), decoded: $("decoded-image"), decodedAt: $("decoded-at"),
  decodeMs: $("decode-ms"), z3Field: $("z3-field"), z3: $("z3"), pad: $("pad"), clear: $("clear"),
  drawnInput: $("drawn-input"), drawnRecon: $("drawn-recon"), drawnAt: $("drawn-at"),
  strip: $("interpolation-strip"), interpCaption: $("interp-caption"), randomPair: $("random-pair"),
  pcaCanvas: $("pca-map"), pcaDecoded: $("pca-decoded"), pcaVariance: $("pca-variance"),
  aeMse: $("ae-mse"), pcaMse: $("pca-mse"), aeBar: $("ae-bar"), pcaBar: $("pca-bar"), modelNote: $("model-note"),
  grid: $("reconstruction-grid"), tip: $("thumb-tip"), thumb: $("thumb"), thumbText: $("thumb-text"),
};
const STRIP_STEPS = 10;

const state = {
  shipped: null, // the session started from the shipped model
  session: null, // the session the page reads (shipped or training)
  latent: 2,
  digits: null, // {images: Uint8Array (2000·784), labels}
  map: null,
  pca: null,
  click: null, // the code last clicked, [z1, z2]
  ends: [null, null], // test digit indices A and B
  nextEnd: 0,
  gridCells: [],
};

function showError(message) {
  els.error.textContent = message ? String(message.message || message) : "";
}

/** A 28×28 image as light ink on a dark ground; `max` is 1 for 0..1 values, 255 for grey levels. */
function paint(canvas, values, max = 1) {
  drawGray(canvas, values, 28, 28, (v) => 20 + 235 * Math.max(0, Math.min(1, v / max)));
}

function digitImage(i) {
  return state.digits.images.subarray(i * 784, (i + 1) * 784);
}

function fmtCode(z) {
  return `(${z.map((v) => formatNumber(v, 3)).join(", ")})`;
}

/** Run `fn(arg)` with at most one call in flight; while one runs, only the newest argument waits its turn. */
function latestOnly(fn) {
  let busy = false;
  let waiting = null;
  return async function run(arg) {
    if (busy) {
      waiting = { arg };
      return;
    }
    busy = true;
    try {
      await fn(arg);
    } catch (err) {
      showError(err);
    } finally {
      busy = false;
      if (waiting) {
        const next = waiting.arg;
        waiting = null;
        run(next);
      }
    }
  };
}

function fullCode(z) {
  return state.latent === 3 ? [z[0], z[1], Number(els.z3.value)] : [z[0], z[1]];
}

// --- decoding ---------------------------------------------------------------------------------------------

const decodeClick = latestOnly(async (z) => {
  const code = fullCode(z);
  const started = performance.now();
  const answer = decodeArrays(await api(`/api/autoencoders/${state.session.id}/decode`, {
    method: "POST", body: { points: [code] }, query: { encoding: "base64" } }));
  els.decodeMs.textContent = `${(performance.now() - started).toFixed(1)} ms (round trip)`;
  paint(els.decoded, answer.images.data);
  els.decoded.dataset.x = String(code[0]);
  els.decoded.dataset.y = String(code[1]);
  els.decodedAt.textContent = fmtCode(code);
  showError(null);
});

function clickAt(z) {
  state.click = z;
  aeMap.setMarker("click", z);
  decodeClick(z);
}

const decodePca = latestOnly(async (z) => {
  const answer = decodeArrays(await api("/api/autoencoders/pca/decode", {
    method: "POST", body: { points: [z] }, query: { encoding: "base64" } }));
  paint(els.pcaDecoded, answer.images.data);
});

// --- interpolation ----------------------------------------------------------------------------------------

function buildStrip() {
  els.strip.replaceChildren();
  const cells = [];
  const add = (label, cls) => {
    const fig = document.createElement("figure");
    fig.className = `strip-cell ${cls}`;
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 28;
    const cap = document.createElement("figcaption");
    cap.textContent = label;
    fig.append(canvas, cap);
    els.strip.append(fig);
    cells.push(canvas);
  };
  add("A", "is-end");
  for (let i = 0; i < STRIP_STEPS; i++) add(`${Math.round((100 * i) / (STRIP_STEPS - 1))} %`, "is-step");
  add("B", "is-end");
  return cells;
}
let stripCells = null;

const decodeStrip = latestOnly(async () => {
  const [a, b] = state.ends;
  if (a === null || b === null || !state.map) return;
  const za = aeMap.code(a);
  const zb = aeMap.code(b);
  const points = Array.from({ length: STRIP_STEPS }, (_, i) => {
    const t = i / (STRIP_STEPS - 1);
    return za.map((v, k) => v + t * (zb[k] - v));
  });
  const answer = decodeArrays(await api(`/api/autoencoders/${state.session.id}/decode`, {
    method: "POST", body: { points }, query: { encoding: "base64" } }));
  stripCells = stripCells || buildStrip();
  paint(stripCells[0], digitImage(a), 255);
  paint(stripCells[STRIP_STEPS + 1], digitImage(b), 255);
  for (let i = 0; i < STRIP_STEPS; i++) {
    paint(stripCells[i + 1], answer.images.data.subarray(i * 784, (i + 1) * 784));
  }
  els.strip.dataset.from = String(a);
  els.strip.dataset.to = String(b);
});

function showEnds() {
  const [a, b] = state.ends;
  const labels = state.digits.labels;
  aeMap.setMarker("a", a === null ? null : aeMap.code(a), "A");
  aeMap.setMarker("b", b === null ? null : aeMap.code(b), "B");
  aeMap.setLine(a === null ? null : aeMap.code(a), b === null ? null : aeMap.code(b));
  els.interpCaption.textContent = a !== null && b !== null
    ? `from a ${labels[a]} (test digit #${a}) to a ${labels[b]} (#${b})` : "";
  decodeStrip();
}

function randomPair() {
  const labels = state.digits.labels;
  const a = Math.floor(Math.random() * labels.length);
  let b = a;
  while (labels[b] === labels[a]) b = Math.floor(Math.random() * labels.length);
  state.ends = [a, b];
  showEnds();
}

// --- drawing ----------------------------------------------------------------------------------------------

const encodeDrawing = latestOnly(async () => {
  if (pad.isEmpty()) return;
  const answer = decodeArrays(await api(`/api/autoencoders/${state.session.id}/encode`, {
    method: "POST", body: { png: pad.toDataURL() }, query: { encoding: "base64" } }));
  const code = Array.from(answer.points.data);
  paint(els.drawnInput, answer.inputs.data);
  paint(els.drawnRecon, answer.reconstructions.data);
  aeMap.setMarker("drawn", code, "✎");
  els.drawnAt.textContent = `Your digit's code is ${fmtCode(code)}: the ring on the map.`;
  showError(null);
});

const pad = createDrawPad(els.pad, { onChange: () => encodeDrawing(), interval: 150 });
els.clear.addEventListener("click", () => {
  pad.clear();
  aeMap.setMarker("drawn", null);
  for (const c of [els.drawnInput, els.drawnRecon]) c.getContext("2d").clearRect(0, 0, c.width, c.height);
  els.drawnAt.textContent = "Draw a digit: its code lands on the map as a ring.";
});

// --- maps, scores and the grid ----------------------------------------------------------------------------

function showHover(index, event) {
  if (index === null || index === undefined) {
    els.tip.hidden = true;
    return;
  }
  paint(els.thumb, digitImage(index), 255);
  els.thumbText.textContent = `a ${state.digits.labels[index]} · #${index}`;
  els.tip.hidden = false;
  els.tip.style.left = `${event.clientX + 14}px`;
  els.tip.style.top = `${event.clientY + 14}px`;
}

const aeMap = new ScatterMap(els.mapCanvas, {
  onPoint: (z) => clickAt(z),
  onPick: (i) => {
    state.ends[state.nextEnd] = i;
    state.nextEnd = 1 - state.nextEnd;
    showEnds();
  },
  onHover: showHover,
});
const pcaMap = new ScatterMap(els.pcaCanvas, {
  onPoint: (z) => {
    pcaMap.setMarker("click", z);
    decodePca(z);
  },
  onHover: showHover,
  markerId: "pca-point",
});

function setMode(mode) {
  aeMap.mode = mode;
  els.modeDecode.setAttribute("aria-pressed", String(mode === "decode"));
  els.modeEnds.setAttribute("aria-pressed", String(mode === "pick"));
  els.mapCanvas.classList.toggle("is-picking", mode === "pick");
}
els.modeDecode.addEventListener("click", () => setMode("decode"));
els.modeEnds.addEventListener("click", () => setMode("pick"));
els.randomPair.addEventListener("click", randomPair);
els.z3.addEventListener("input", () => { if (state.click) decodeClick(state.click); decodeStrip(); });

function buildGrid() {
  els.grid.replaceChildren();
  state.gridCells = state.map.sample.indices.map((index, i) => {
    const fig = document.createElement("figure");
    fig.className = "recon-col";
    fig.title = `test digit #${index}`;
    const canvases = ["input", "autoencoder", "PCA"].map((what) => {
      const c = document.createElement("canvas");
      c.width = c.height = 28;
      c.className = `recon-${what.toLowerCase()}`;
      c.setAttribute("aria-label", `${what}, a ${state.map.sample.labels[i]}`);
      fig.append(c);
      return c;
    });
    els.grid.append(fig);
    return canvases;
  });
}

function showGrid() {
  if (!state.gridCells.length) buildGrid();
  const { inputs, reconstructions } = state.map.sample;
  state.gridCells.forEach(([input, ae, pca], i) => {
    paint(input, inputs.data.subarray(i * 784, (i + 1) * 784), 255);
    paint(ae, reconstructions.data.subarray(i * 784, (i + 1) * 784), 255);
    if (state.pca) paint(pca, state.pca.sample.reconstructions.data.subarray(i * 784, (i + 1) * 784), 255);
  });
}

function showScores() {
  const ae = state.map.test_mse;
  const pca = state.pca.test_mse;
  const top = Math.max(ae, pca);
  els.aeMse.textContent = formatNumber(ae, 3);
  els.pcaMse.textContent = formatNumber(pca, 3);
  els.aeMse.dataset.value = String(ae);
  els.pcaMse.dataset.value = String(pca);
  els.aeBar.style.width = `${(100 * ae) / top}%`;
  els.pcaBar.style.width = `${(100 * pca) / top}%`;
  const training = state.session && state.session.source === "scratch";
  els.modelNote.textContent = ae < pca
    ? `The autoencoder's error is ${Math.round(100 * (1 - ae / pca))} % lower${training ? " already" : ""}: a curved `
      + "code keeps more of each digit than the best flat projection."
    : "Not yet better than PCA: the network is still learning.";
}

function showMap(map) {
  state.map = map;
  aeMap.setData(map.points.data, state.latent, map.labels);
  els.mapCaption.textContent = state.session.source === "scratch"
    ? `of the 2,000 test digits · training, step ${map.step}` : "of the 2,000 test digits";
  if (state.ends[0] !== null) showEnds();
  showGrid();
  showScores();
}

async function useSession(session) {
  state.session = session;
  state.latent = session.architecture.latent;
  els.z3Field.hidden = state.latent !== 3;
  const map = decodeArrays(await api(`/api/autoencoders/${session.id}/map`, { query: { encoding: "base64" } }));
  showMap(map);
  aeMap.setMarker("drawn", null);
  if (state.click) clickAt(state.click);
  if (!pad.isEmpty()) encodeDrawing();
}

createTrainPanel({
  latent: $("train-latent"), loss: $("train-loss"), denoise: $("train-denoise"), lr: $("train-lr"),
  start: $("train-button"), pause: $("train-pause"), back: $("use-shipped"), status: $("train-status"),
  curve: $("loss-curve"),
}, {
  onSession: (s) => useSession(s),
  onFrame: (frame) => {
    showMap(frame);
    if (state.click) decodeClick(state.click);
    if (!pad.isEmpty()) encodeDrawing();
  },
  onBack: async () => {
    try {
      state.shipped = await api(`/api/autoencoders/${state.shipped.id}`);
    } catch {
      state.shipped = await api("/api/autoencoders", { method: "POST", body: {} });
    }
    await useSession(state.shipped);
  },
  onError: showError,
});

/** /autoencoder?session=<id>: show that session (a script's) and follow its training live. */
async function attach(id) {
  const session = await api(`/api/autoencoders/${encodeURIComponent(id)}`);
  await useSession(session);
  connectSocket(`/ws/autoencoders/${session.id}`, {
    onMessage: (message) => {
      if (message.type !== "frame" || !state.session || state.session.id !== session.id) return;
      showMap(decodeArrays(message));
      if (state.click) decodeClick(state.click);
    },
  });
}

async function init() {
  renderDigitLegend(els.legend);
  const linked = new URLSearchParams(window.location.search).get("session");
  try {
    const [shipped, digits, pca] = await Promise.all([
      api("/api/autoencoders", { method: "POST", body: {} }),
      api("/api/autoencoders/digits", { query: { encoding: "base64" } }),
      api("/api/autoencoders/pca", { query: { encoding: "base64" } }),
    ]);
    state.digits = { images: decodeArrays(digits.images).data, labels: digits.labels };
    state.pca = decodeArrays(pca);
    pcaMap.setData(state.pca.points.data, 2, state.pca.labels);
    els.pcaVariance.textContent = `the two components hold ${state.pca.explained_variance_ratio
      .map((r) => `${(100 * r).toFixed(1)} %`).join(" + ")} of the variance`;
    state.shipped = shipped;
    await useSession(shipped);
    if (linked) {
      await attach(linked).catch((err) => showError(new Error(`Could not open session ${linked}: ${err.message}`)));
    }
    const labels = state.digits.labels;
    state.ends = [labels.indexOf(0), labels.indexOf(1)];
    showEnds();
    clickAt(aeMap.code(labels.indexOf(8)).slice(0, 2));
    const eight = state.pca.points.data.subarray(2 * labels.indexOf(8), 2 * labels.indexOf(8) + 2);
    pcaMap.setMarker("click", Array.from(eight));
    decodePca(Array.from(eight));
  } catch (err) {
    showError(err);
  }
}

/** Start on the shipped autoencoder and the test digits' map (the /autoencoder page and lesson 9). */
export function mountAutoencoder() {
  init();
  return { state: () => ({}), link: () => "/autoencoder" };
}
