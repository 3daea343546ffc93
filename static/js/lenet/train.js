// "Train from scratch": a fresh LeNet-5 in a server session, trained live over /ws/lenet/{id}. Loss and
// accuracy curves, conv1's filters as they form, predictions on fixed test digits, pause / resume, and
// "use this model" to read the drawing with it.
import { api, decodeArrays } from "../lib/api.js";
import { symmetricRange } from "../lib/colors.js";
import { drawHeatmap } from "../lib/heatmap.js";
import { formatNumber, formatPercent } from "../lib/format.js";
import { el, scheduleDraw } from "../lib/dom.js";
import { paintDigit } from "./digit.js";
import { drawPlot, extent } from "../lib/plot.js";
import { bindStartButton, createLiveSession } from "../lib/live-session.js";
import { applyHistory } from "../lib/socket.js";

/**
 * els: {activation, pooling, lr, augment, start, pause, use, status, accuracy, lossChart, accChart, filters,
 *       probes, error}
 * onUseModel(sessionId | null, info) when the drawing should switch models; onFrame(info) after every frame.
 */
export function createTrainPanel(els, { onUseModel = () => {}, onFrame = () => {} } = {}) {
  let session = null; // {id, probeLabels}
  let history = [];
  let playing = false;
  let using = false;
  let epoch = 0;
  let step = 0;
  let pace = null;
  let paceMarks = [];
  const filterCanvases = [];
  const probeItems = [];

  for (let i = 0; i < 6; i++) {
    const fig = el("figure", { class: "filter" });
    const canvas = el("canvas", { class: "kernel" });
    fig.append(canvas, el("figcaption", { text: String(i) }));
    els.filters.append(fig);
    filterCanvases.push(canvas);
  }

  function setPlaying(value) {
    playing = value;
    els.pause.disabled = !session;
    els.pause.textContent = playing ? "Pause" : "Resume";
    els.pause.setAttribute("aria-pressed", String(!playing && !!session));
  }

  function status() {
    if (!session) {
      els.status.textContent = "A fresh LeNet-5 with random weights, trained on the 8,000 training digits.";
      return;
    }
    const paceText = pace ? ` · ${pace.toFixed(2)} epochs/s` : "";
    els.status.textContent = `epoch ${epoch.toFixed(1)} · step ${step}${playing ? paceText : " · paused"}`;
  }

  function drawCharts() {
    const xs = history.map((e) => e.epoch);
    const lastEpoch = Math.max(1, ...xs);
    const tested = history.filter((e) => e.test_accuracy !== null && e.test_accuracy !== undefined);
    const trained = history.filter((e) => e.train_loss !== null && e.train_loss !== undefined);
    const [, lossHi] = extent(trained.map((e) => e.train_loss).concat(tested.map((e) => e.test_loss)),
      { include: [0] });
    const width = Math.max(240, els.lossChart.clientWidth || 360);
    drawPlot(els.lossChart, {
      width, height: 200, x: [0, lastEpoch], y: [0, Math.max(0.1, lossHi)], xLabel: "epoch",
      yLabel: "loss (cross-entropy)",
      series: [
        { xs: trained.map((e) => e.epoch), ys: trained.map((e) => e.train_loss), color: "var(--text-muted)", width: 1.6,
          label: "train", testid: "train-loss-curve" },
        { xs: tested.map((e) => e.epoch), ys: tested.map((e) => e.test_loss), color: "var(--value-negative)",
          width: 2.2, label: "test" },
      ],
    });
    drawPlot(els.accChart, {
      width, height: 200, x: [0, lastEpoch], y: [0, 1], xLabel: "epoch", yLabel: "accuracy",
      series: [
        { xs: trained.map((e) => e.epoch), ys: trained.map((e) => e.train_accuracy), color: "var(--text-muted)",
          width: 1.6, label: "train" },
        { xs: tested.map((e) => e.epoch), ys: tested.map((e) => e.test_accuracy), color: "var(--accent)",
          width: 2.4, label: "test", testid: "test-accuracy-curve" },
      ],
    });
    const latest = tested[tested.length - 1];
    els.accuracy.textContent = latest ? formatPercent(latest.test_accuracy) : "—";
    els.accuracy.dataset.value = latest ? String(latest.test_accuracy) : "";
    if (latest) {
      const when = latest.epoch < 0.5 ? "before any training" : `after epoch ${Math.round(latest.epoch)}`;
      els.accuracyWhen.textContent = `on the 2,000 test digits, ${when}`;
    }
  }

  function showFilters(weight) {
    const range = symmetricRange(weight.data);
    filterCanvases.forEach((canvas, i) => drawHeatmap(canvas, weight.data.subarray(i * 25, i * 25 + 25), 5, 5,
      { range }));
    els.filtersRange.textContent = `±${formatNumber(range, 2)}`;
  }

  function showProbes(predicted, probabilities) {
    probeItems.forEach((item, i) => {
      const p = predicted[i];
      const right = p === session.probeLabels[i];
      item.label.textContent = String(p);
      item.root.classList.toggle("is-right", right);
      item.root.classList.toggle("is-wrong", !right);
      const conf = probabilities ? probabilities.data[i * 10 + p] : null;
      item.root.title = `a ${session.probeLabels[i]}, read as ${p}${conf !== null ? ` (${formatPercent(conf, 0)})` : ""}`;
    });
    const right = predicted.filter((p, i) => p === session.probeLabels[i]).length;
    els.probesScore.textContent = `${right} of ${predicted.length} right`;
  }

  function buildProbes(state) {
    els.probes.replaceChildren();
    probeItems.length = 0;
    const images = state.probe_images;
    state.probe_labels.forEach((label, i) => {
      const root = el("figure", { class: "probe" });
      const canvas = el("canvas", { class: "probe-img" });
      paintDigit(canvas, images.data.subarray(i * 784, (i + 1) * 784));
      const caption = el("figcaption", { class: "probe-label", text: "?" });
      root.append(canvas, caption);
      els.probes.append(root);
      probeItems.push({ root, label: caption });
    });
  }

  function onMessage(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "error") {
      els.error.textContent = message.detail;
      return;
    }
    if (message.type !== "frame") return;
    const frame = decodeArrays(message);
    // Pace over the last few seconds of frames while playing.
    const now = performance.now();
    if (frame.playing) {
      paceMarks.push({ epoch: frame.epoch, time: now });
      while (paceMarks.length > 2 && now - paceMarks[0].time > 4000) paceMarks.shift();
      const first = paceMarks[0];
      pace = now - first.time > 900 ? (frame.epoch - first.epoch) / ((now - first.time) / 1000) : pace;
    } else {
      paceMarks = [];
    }
    epoch = frame.epoch;
    step = frame.step;
    history = applyHistory(history, frame.history);
    showFilters(frame.conv1);
    showProbes(frame.probe_predicted, frame.probe_probabilities);
    setPlaying(frame.playing);
    if (frame.limit_reached) els.error.textContent = "Stopped after 100 epochs (start again for a fresh model).";
    status();
    scheduleDraw(drawCharts);
    onFrame({ id: session.id, epoch, step, using });
  }

  const live = createLiveSession({
    onMessage, onEnded: () => { els.error.textContent = "The training session has ended."; },
  });

  /** Take a session's state (GET or POST /api/lenet/sessions, decoded) as the panel's and stream it. `owned`:
   * this page created it (and deletes it when starting again); a session attached from the URL is a script's. */
  function adopt(state, { owned, play }) {
    session = { id: state.id, probeLabels: state.probe_labels, owned };
    history = state.history;
    epoch = state.epoch;
    step = state.step;
    pace = null;
    paceMarks = [];
    buildProbes(state);
    showFilters(state.conv1);
    showProbes(state.probe_predicted, state.probe_probabilities);
    els.use.disabled = false;
    els.root.classList.add("has-session");
    drawCharts();
    live.open(`/ws/lenet/${state.id}`, owned ? `/api/lenet/sessions/${state.id}` : null, { play });
    setPlaying(play);
    status();
    if (using) onUseModel(session.id, { epoch, step });
  }

  async function start() {
    els.error.textContent = "";
    await stop();
    const body = {
      activation: els.activation.value, pooling: els.pooling.value,
      learning_rate: Number(els.lr.value), augment: els.augment.checked,
    };
    const state = decodeArrays(await api("/api/lenet/sessions", { method: "POST", body,
      query: { encoding: "base64" } }));
    adopt(state, { owned: true, play: true });
  }

  async function stop() {
    session = null;
    await live.end();
  }

  bindStartButton(els.start, start, (message) => { els.error.textContent = message; });
  els.pause.addEventListener("click", () => {
    if (!live.toggle(playing)) return;
    setPlaying(!playing);
    paceMarks = [];
    status();
  });
  els.use.addEventListener("click", () => {
    if (!session) return;
    using = !using;
    els.use.setAttribute("aria-pressed", String(using));
    els.use.textContent = using ? "Using this model ✓" : "Use this model";
    onUseModel(using ? session.id : null, { epoch, step });
  });
  els.lr.addEventListener("change", () => {
    live.send({ type: "config", learning_rate: Number(els.lr.value) });
  });
  els.augment.addEventListener("change", () => {
    live.send({ type: "config", augment: els.augment.checked });
  });
  addEventListener("pagehide", () => live.closeStream());

  setPlaying(false);
  els.use.disabled = true;
  status();
  drawCharts();
  return {
    /** Show and follow an existing training session (one a script trains), using its model for the digit. */
    attach(state) {
      using = true;
      els.use.setAttribute("aria-pressed", "true");
      els.use.textContent = "Using this model ✓";
      adopt(state, { owned: false, play: false });
    },
    /** Called by the page when it stops using the session's model (e.g. "back to the shipped model"). */
    release() {
      using = false;
      els.use.setAttribute("aria-pressed", "false");
      els.use.textContent = "Use this model";
    },
  };
}
