// The LeNet component: draw (or pick a test digit), read every layer, inspect any unit, see the filters and the
// mistakes, train a LeNet from scratch. The /lenet page and lesson 11 mount it (mountLenet); in edit mode the
// strokes add ink to the test digit shown instead of starting a new drawing. Everything shown comes from
// /api/lenet.
import { api, decodeArrays } from "../lib/api.js";
import { createDrawPad } from "../lib/draw-pad.js";
import { drawLegend } from "../lib/heatmap.js";
import { nest } from "../lib/image-canvas.js";
import { renderDetailHint, renderUnitDetail } from "./detail.js";
import { markFilter, renderConfusion, renderFilters, renderMistakes } from "./evaluation.js";
import { createNetworkView } from "./network.js";
import { formatPercent, formatProbability } from "../lib/format.js";
import { createTrainPanel } from "./train.js";

const $ = (id) => document.getElementById(id);
const els = {
  error: $("error"), pad: $("pad"), padHint: $("pad-hint"), clear: $("clear"), random: $("random"),
  trueLabel: $("true-label"), prediction: $("prediction"), confidence: $("confidence"), chip: $("model-chip"),
  network: $("network"), legend: $("legend"), detail: $("unit-detail"),
  conv1: $("filters-conv1"), conv2: $("filters-conv2"), conv1Range: $("filters-conv1-range"),
  conv2Range: $("filters-conv2-range"), summary: $("evaluation-summary"), confusion: $("confusion"),
  mistakes: $("mistakes"), mistakesTitle: $("mistakes-title"), mistakesAll: $("mistakes-all"),
};
const DETAIL_HINT = "Hover any unit of the network to see what it reads and its arithmetic; click to pin it.";

const state = {
  network: null, // a network session attached from the URL (/lenet?session=<id>): its own layers, e.g. imported
  layout: null, // GET /api/lenet/model's layers of that network
  source: null, // {kind: "drawing"} | {kind: "sample" | "edited", image: Float32Array, label, index}
  editSamples: false, // strokes add to a shown test digit (its source becomes "edited")
  session: null, // the training session whose model reads the digit (null: the shipped model)
  sessionInfo: null,
  shippedAccuracy: null,
  prediction: null,
  pinned: null,
  evaluation: null,
};

function showError(err) {
  els.error.textContent = err ? err.message || String(err) : "";
}

// --- predictions: at most one request in flight; the newest drawing wins ---------------------------------

let inFlight = false;
let again = false;

async function predict() {
  if (inFlight) {
    again = true;
    return;
  }
  if (!state.source) return;
  inFlight = true;
  again = false;
  try {
    const body = {
      drawing: () => ({ png: pad.toDataURL() }),
      sample: () => ({ image: nest(state.source.image, 28, 28), preprocess: false }),
      // An edited digit is read pixel for pixel, as the test digit under it was: no cropping or centring.
      edited: () => ({ image: pad.pixels(28), max_value: 255, preprocess: false }),
    }[state.source.kind]();
    if (state.session || state.network) body.session = state.session || state.network;
    const answer = decodeArrays(await api("/api/lenet/predict", { method: "POST", body,
      query: { encoding: "base64" } }));
    showPrediction(answer);
    showError(null);
  } catch (err) {
    if (err.status === 404 && state.session && !state.network) {
      // The training session is gone (expired or replaced): read with the shipped model again.
      useShippedModel();
      again = true;
    } else {
      showError(err);
    }
  } finally {
    inFlight = false;
    if (again) predict();
  }
}

function showPrediction(answer) {
  if (answer.empty) {
    state.prediction = null;
    view.clear();
    els.prediction.textContent = "–";
    els.prediction.classList.remove("is-wrong", "is-right");
    els.confidence.textContent = answer.message;
    renderDetailHint(els.detail, DETAIL_HINT);
    return;
  }
  state.prediction = answer;
  view.update(answer);
  els.prediction.textContent = String(answer.digit);
  els.confidence.textContent = `${formatProbability(answer.probabilities[answer.digit])} sure`;
  const label = state.source && state.source.kind !== "drawing" ? state.source.label : null;
  els.prediction.classList.toggle("is-right", label !== null && label === answer.digit);
  els.prediction.classList.toggle("is-wrong", label !== null && label !== answer.digit);
  if (state.pinned) inspect(state.pinned, true);
  else if (!view.hovered) showDefaultUnit();
}

/** With nothing hovered or pinned, the detail shows the winning output unit: why the network said what it said. */
function showDefaultUnit() {
  if (!state.prediction) {
    renderDetailHint(els.detail, DETAIL_HINT);
    return;
  }
  inspect({ layer: "logits", index: state.prediction.digit, row: 0, col: 0 });
}

// --- the pad -----------------------------------------------------------------------------------------------

const pad = createDrawPad(els.pad, {
  interval: 100,
  onStart() {
    if (state.editSamples && state.source && state.source.kind !== "drawing") {
      state.source = { ...state.source, kind: "edited" };
      return;
    }
    if (!state.source || state.source.kind !== "drawing") {
      pad.clear();
      state.source = { kind: "drawing" };
      els.trueLabel.hidden = true;
      els.padHint.hidden = true;
    }
  },
  onChange() {
    predict();
  },
});

els.clear.addEventListener("click", () => {
  pad.clear();
  state.source = null;
  els.trueLabel.hidden = true;
  els.padHint.hidden = false;
  state.pinned = null;
  showPrediction({ empty: true, message: "draw a digit" });
});

async function showSample(sample) {
  const image = sample.image.data;
  state.source = { kind: "sample", image, label: sample.label, index: sample.index };
  pad.showImage(image, 28);
  els.padHint.hidden = true;
  els.trueLabel.hidden = false;
  els.trueLabel.innerHTML = "";
  const strong = document.createElement("strong");
  strong.textContent = String(sample.label);
  strong.dataset.label = String(sample.label);
  els.trueLabel.append("True label: ", strong, ` · test digit #${sample.index}`);
  await predict();
}

async function loadSample(query) {
  try {
    const { samples } = decodeArrays(await api("/api/lenet/samples", { query: { n: 1, encoding: "base64", ...query } }));
    await showSample(samples[0]);
  } catch (err) {
    showError(err);
  }
}

els.random.addEventListener("click", () => loadSample({}));

// --- the network and the unit detail ------------------------------------------------------------------------

let detailWanted = null;
let detailBusy = false;

async function inspect(unit, pinned = false) {
  detailWanted = { unit, pinned };
  if (detailBusy) return;
  detailBusy = true;
  try {
    while (detailWanted) {
      const { unit: u, pinned: p } = detailWanted;
      detailWanted = null;
      if (!state.prediction) break;
      const body = { image: nest(state.prediction.input.data, 28, 28), ...u };
      if (state.session || state.network) body.session = state.session || state.network;
      const detail = await api("/api/lenet/unit", { method: "POST", body });
      // Only the newest request draws: a pinned unit stays unless this is it.
      if (detailWanted) continue;
      if (state.pinned && !p) continue;
      renderUnitDetail(els.detail, detail, { pinned: p });
      view.highlight(u, detail);
      markFilter(els.conv1, els.conv2, u);
    }
  } catch (err) {
    showError(err);
  } finally {
    detailBusy = false;
  }
}

let view = null;
const viewHandlers = {
  onHover(unit) {
    if (state.pinned) {
      if (!unit) inspect(state.pinned, true);
      return;
    }
    if (!unit) {
      markFilter(els.conv1, els.conv2, null);
      showDefaultUnit();
      return;
    }
    inspect(unit);
  },
  onSelect(unit) {
    const p = state.pinned;
    const same = p && p.layer === unit.layer && p.index === unit.index && p.row === unit.row && p.col === unit.col;
    state.pinned = same ? null : unit;
    inspect(unit, !same);
  },
};

addEventListener("keydown", (event) => {
  if (event.key === "Escape" && state.pinned) {
    const unit = state.pinned;
    state.pinned = null;
    inspect(unit);
  }
});

drawLegend(els.legend, { range: 1, width: 140, label: "each layer scaled to its largest |value|", ends: ["−max", "+max"] });

// --- models: the shipped one or a training session's ------------------------------------------------------

function showChip() {
  els.chip.replaceChildren();
  if (state.network) {
    els.chip.textContent = `network ${state.network.slice(0, 6)}… · ${state.layout.length - 1} layers`;
    els.chip.classList.add("is-session");
  } else if (state.session) {
    const epoch = state.sessionInfo ? state.sessionInfo.epoch : 0;
    els.chip.textContent = `your model · epoch ${epoch.toFixed(1)}`;
    els.chip.classList.add("is-session");
  } else {
    const acc = state.shippedAccuracy;
    els.chip.textContent = `shipped LeNet-5${acc ? ` · ${formatPercent(acc)} on test digits` : ""}`;
    els.chip.classList.remove("is-session");
  }
}

async function loadFilters() {
  try {
    const filters = decodeArrays(await api("/api/lenet/filters", {
      query: { encoding: "base64", session: state.session || state.network || undefined } }));
    const blocks = [els.conv1.closest(".filters-block"), els.conv2.closest(".filters-block")];
    blocks[0].hidden = !filters.conv1;
    blocks[1].hidden = !filters.conv2;
    if (!filters.conv1) return; // a network without convolutions
    const { range1, range2 } = renderFilters(els.conv1, els.conv2, filters);
    els.conv1Range.textContent = `±${range1.toFixed(2)}`;
    els.conv2Range.textContent = range2 === null ? "" : `±${range2.toFixed(2)}`;
    if (state.pinned) markFilter(els.conv1, els.conv2, state.pinned);
  } catch (err) {
    showError(err);
  }
}

function useShippedModel() {
  state.session = null;
  state.sessionInfo = null;
  trainPanel.release();
  showChip();
  loadFilters();
}

let lastRefresh = 0;
const trainPanel = createTrainPanel({
  root: $("train-panel"), activation: $("train-activation"), pooling: $("train-pooling"), lr: $("train-lr"),
  augment: $("train-augment"), start: $("train-start"), pause: $("train-pause"), use: $("train-use"),
  status: $("train-status"), accuracy: $("train-accuracy"), accuracyWhen: $("train-accuracy-when"), lossChart: $("train-loss-chart"),
  accChart: $("train-acc-chart"), filters: $("train-filters"), filtersRange: $("train-filters-range"),
  probes: $("train-probes"), probesScore: $("train-probes-score"), error: $("train-error"),
}, {
  onUseModel(sessionId, info) {
    state.session = sessionId;
    state.sessionInfo = info;
    showChip();
    loadFilters();
    predict();
  },
  onFrame(info) {
    if (!state.session || info.id !== state.session) return;
    state.sessionInfo = info;
    showChip();
    // While your model trains, the drawing's reading follows it (twice a second at most).
    const now = performance.now();
    if (now - lastRefresh > 500) {
      lastRefresh = now;
      predict();
      loadFilters();
    }
  },
});

// --- the test set: mistakes and the confusion matrix ------------------------------------------------------

let cellFilter = null;

function showMistakes() {
  const all = state.evaluation.mistakes;
  const shown = cellFilter ? all.filter((m) => m.label === cellFilter[0] && m.predicted === cellFilter[1]) : all;
  els.mistakesTitle.textContent = cellFilter
    ? `${shown.length} test ${cellFilter[0]}${shown.length === 1 ? "" : "s"} read as ${cellFilter[1]}`
    : `All ${all.length} mistakes, most confident first`;
  els.mistakesAll.hidden = !cellFilter;
  renderMistakes(els.mistakes, shown, { onPick: (m) => {
    showSample(m);
    // The pad is far above the list: bring it (and the network's reading beside it) into view.
    els.pad.scrollIntoView({ behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth",
                             block: "center" });
  } });
  renderConfusion(els.confusion, state.evaluation.confusion, {
    selected: cellFilter,
    onCell: (t, p) => {
      cellFilter = cellFilter && cellFilter[0] === t && cellFilter[1] === p ? null : [t, p];
      showMistakes();
    },
  });
}

els.mistakesAll.addEventListener("click", () => {
  cellFilter = null;
  showMistakes();
});

async function loadEvaluation() {
  try {
    const evaluation = decodeArrays(await api("/api/lenet/mistakes", {
      query: { encoding: "base64", session: state.network || undefined } }));
    state.evaluation = evaluation;
    if (!state.network) state.shippedAccuracy = evaluation.accuracy;
    els.summary.textContent = `${state.network ? "This network" : "The shipped model"} reads ${evaluation.correct.toLocaleString("en")} of the ` +
      `${evaluation.total.toLocaleString("en")} test digits right (${formatPercent(evaluation.accuracy, 2)}). ` +
      "Click a mistake to look inside.";
    showChip();
    showMistakes();
  } catch (err) {
    showError(err);
  }
}

// --- start: a random test digit lights the network up -------------------------------------------------------

/**
 * Start: a random test digit lights the network up, or the test digit `sample` (its index). With `edit`, strokes
 * add ink to the digit shown (lesson 11: make LeNet misread it).
 */
export function mountLenet({ sample = null, edit = false, session = null } = {}) {
  state.editSamples = edit;
  renderDetailHint(els.detail, DETAIL_HINT);
  const ready = (async () => {
    let layout = null;
    if (session) {
      try {
        layout = await attach(session);
      } catch (err) {
        showError(new Error(`Could not open session ${session}: ${err.message} Showing the shipped LeNet-5.`));
      }
    }
    view = createNetworkView(els.network, { ...viewHandlers, layers: layout });
    document.body.dataset.layers = String(layout ? layout.length - 1 : 7); // for tests: layers drawn
    showChip();
    loadFilters();
    loadEvaluation();
    await (sample === null ? loadSample({}) : loadSample({ index: sample }));
  })();
  return {
    ready,
    state: () => ({ image: pad.pixels(28).map((row) => row.map((v) => v / 255)), index: state.source?.index ?? null,
      edited: state.source?.kind === "edited" }),
    link: () => (session ? `/lenet?session=${session}` : "/lenet"),
    reset: () => loadSample({ index: state.source?.index ?? sample }),
  };
}

// /lenet?session=<id> attaches the page to an existing session: a LeNet training session (trained from a script,
// say: the page follows it live) or a network session holding any LeNet-like network, drawn with its own layers.
async function attach(id) {
  const info = await api("/api/lenet/model", { query: { session: id } });
  if (info.model.source === "network") {
    state.network = id;
    state.layout = info.layers;
    return info.layers;
  }
  const training = decodeArrays(await api(`/api/lenet/sessions/${id}`, { query: { encoding: "base64" } }));
  trainPanel.attach(training);
  return null;
}
