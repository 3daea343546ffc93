// "Train from scratch": a fresh autoencoder in a server session, trained live over /ws/autoencoders/{id}. Every
// frame carries the latent map re-projected through the network as it is now; this panel draws the loss curve and
// hands the frame to the page, which redraws the map, the grid and the decoded images.
import { api, decodeArrays } from "../lib/api.js";
import { formatNumber } from "../lib/format.js";
import { drawPlot, extent } from "../lib/plot.js";
import { bindStartButton, createLiveSession } from "../lib/live-session.js";

/**
 * els: {latent, loss, denoise, lr, start, pause, back, status, curve}
 * onSession(state) when a fresh session starts; onFrame(frame) after every frame; onBack() for "back to the
 * trained model"; onError(message).
 */
export function createTrainPanel(els, { onSession, onFrame, onBack, onError }) {
  let session = null;
  let history = [];
  let playing = false;
  let epoch = 0;
  let step = 0;

  function setPlaying(value) {
    playing = value;
    els.pause.disabled = !session;
    els.pause.textContent = playing ? "Pause" : "Resume";
  }

  function status() {
    if (!session) {
      els.status.textContent = "The maps show the shipped model, trained for 30 epochs by `glassbox train "
        + "autoencoder`. Start a fresh one to watch it learn.";
      return;
    }
    const last = [...history].reverse().find((e) => e.train_loss !== null && e.train_loss !== undefined);
    const loss = last ? ` · loss ${formatNumber(last.train_loss, 3)} per pixel` : "";
    els.status.textContent = `epoch ${epoch.toFixed(2)} · step ${step}${loss}${playing ? "" : " · paused"}`;
  }

  function mergeHistory(tail) {
    if (!tail.length) return;
    const first = tail[0].step;
    history = history.filter((e) => e.step < first).concat(tail);
  }

  function drawCurve() {
    const trained = history.filter((e) => Number.isFinite(e.train_loss));
    const tested = history.filter((e) => Number.isFinite(e.test_loss));
    const [, hi] = extent(trained.map((e) => e.train_loss).concat(tested.map((e) => e.test_loss)), { include: [0] });
    const width = Math.max(260, els.curve.parentElement.clientWidth || 400);
    drawPlot(els.curve, {
      width, height: 190, x: [0, Math.max(0.5, epoch)], y: [0, Math.max(0.05, hi)], xLabel: "epoch",
      yLabel: "loss per pixel",
      series: [
        { xs: trained.map((e) => e.epoch), ys: trained.map((e) => e.train_loss), color: "var(--text-muted)",
          width: 1.6, label: "train" },
        { xs: tested.map((e) => e.epoch), ys: tested.map((e) => e.test_loss), color: "var(--accent)", width: 2.4,
          label: "test" },
      ],
    });
    // What the curve shows, as numbers (for screen readers and tests).
    els.curve.dataset.points = String(trained.length);
    els.curve.dataset.firstLoss = trained.length ? String(trained[0].train_loss) : "";
    els.curve.dataset.lastLoss = trained.length ? String(trained[trained.length - 1].train_loss) : "";
  }

  function onMessage(message) {
    if (!message || typeof message !== "object") return;
    if (message.type === "error") {
      onError(message.detail);
      return;
    }
    if (message.type !== "frame" || !session) return;
    const frame = decodeArrays(message);
    epoch = frame.epoch;
    step = frame.step;
    mergeHistory(frame.history_tail);
    setPlaying(frame.playing);
    if (frame.limit_reached) onError("Stopped after 100 epochs (start again for a fresh model).");
    status();
    drawCurve();
    onFrame(frame);
  }

  const live = createLiveSession({ onMessage, onEnded: () => onError("The training session has ended.") });

  async function start() {
    onError(null);
    await stop();
    const body = {
      pretrained: false, latent: Number(els.latent.value), loss: els.loss.value,
      denoise: Number(els.denoise.value), learning_rate: Number(els.lr.value),
    };
    const state = await api("/api/autoencoders", { method: "POST", body });
    session = state;
    history = state.history;
    epoch = state.epoch;
    step = state.step;
    els.back.disabled = false;
    setPlaying(true);
    status();
    drawCurve();
    await onSession(state);
    live.open(`/ws/autoencoders/${state.id}`, `/api/autoencoders/${state.id}`);
  }

  async function stop() {
    session = null;
    await live.end();
  }

  bindStartButton(els.start, start, onError);
  els.pause.addEventListener("click", () => {
    if (!live.toggle(playing)) return;
    setPlaying(!playing);
    status();
  });
  els.back.addEventListener("click", async () => {
    await stop();
    history = [];
    els.back.disabled = true;
    els.start.textContent = "Train from scratch";
    setPlaying(false);
    status();
    drawCurve();
    onBack();
  });
  els.lr.addEventListener("change", () => {
    live.send({ type: "config", learning_rate: Number(els.lr.value) });
  });
  els.denoise.addEventListener("change", () => {
    live.send({ type: "config", denoise: Number(els.denoise.value) });
  });
  addEventListener("pagehide", () => live.closeStream());

  setPlaying(false);
  status();
  drawCurve();
}
