// Lesson 6's widget: the loss surface E(w₁, w₂) of one linear neuron and the paths the engine's SGD, momentum
// and Adam take over it from the same start with the same learning rate, side by side. Everything drawn comes
// from POST /api/loss-surface; drag the start (mouse, finger or pen) or change the sliders to recompute.
import { api, decodeArrays } from "../lib/api.js";
import { paintPixels } from "../lib/heatmap.js";
import { formatNumber } from "../lib/format.js";
import { svg } from "../lib/svg.js";

const OPTIMIZERS = [["sgd", "SGD"], ["momentum", "Momentum"], ["adam", "Adam"]];
const LEVELS = 15; // contour bands of log E
const SIZE = 300; // the overlay's coordinate system (viewBox)

/** Colour of one band: dark blue at the valley floor to pale at the rim, with alternating shades for contours. */
function bandColor(t, band) {
  const low = [8, 48, 107];
  const high = [239, 243, 255];
  const mix = low.map((c, i) => Math.round(c + (high[i] - c) * Math.sqrt(t)));
  return band % 2 ? mix.map((c) => Math.round(c * 0.93)) : mix;
}

export function mountSurface(root, preset = {}) {
  const $ = (id) => root.querySelector(`#${id}`);
  const els = {
    rate: $("surface-rate"), rateValue: $("surface-rate-value"), momentum: $("surface-momentum"),
    momentumValue: $("surface-momentum-value"), steps: $("surface-steps"), stepsValue: $("surface-steps-value"),
    panels: $("surface-panels"), error: $("surface-error"),
  };
  const state = {
    learning_rate: preset.learning_rate ?? 0.1, momentum: preset.momentum ?? 0.9,
    start: preset.start ? [...preset.start] : [-1.5, 1.0], steps: preset.steps ?? 50,
    surface: null, result: null, busy: false, again: false,
  };
  const panels = OPTIMIZERS.map(([name, title]) => {
    const canvas = document.createElement("canvas");
    canvas.className = "surface-map";
    const overlay = svg("svg", { viewBox: `0 0 ${SIZE} ${SIZE}`, class: "surface-overlay",
      "data-testid": `surface-overlay-${name}`, role: "img", "aria-label": `${title}'s path over the loss surface` });
    const path = svg("polyline", { class: `surface-path path-${name}`, "data-testid": `surface-path-${name}` });
    const minimum = svg("circle", { class: "surface-minimum", r: 5 });
    const handle = svg("circle", { class: "surface-start", r: 11, tabindex: 0, "data-testid": `surface-start-${name}`,
      "aria-label": "start: drag, or use the arrow keys" });
    overlay.append(path, minimum, handle);
    const box = document.createElement("div");
    box.className = "surface-box";
    box.append(canvas, overlay);
    const caption = document.createElement("figcaption");
    const result = document.createElement("span");
    result.className = "surface-result";
    result.dataset.testid = `surface-result-${name}`;
    const head = document.createElement("strong");
    head.textContent = title;
    caption.append(head, " ", result);
    const figure = document.createElement("figure");
    figure.className = `surface-panel panel-${name}`;
    figure.append(box, caption);
    els.panels.append(figure);
    return { name, canvas, overlay, path, minimum, handle, result };
  });

  // --- coordinates: the overlay's viewBox spans the grid exactly ---------------------------------------

  const toX = (w1) => ((w1 - state.surface.w1[0]) / (state.surface.w1.at(-1) - state.surface.w1[0])) * SIZE;
  const toY = (w2) => ((state.surface.w2[0] - w2) / (state.surface.w2[0] - state.surface.w2.at(-1))) * SIZE;
  function toWeights(event, overlay) {
    const box = overlay.getBoundingClientRect();
    const fx = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
    const fy = Math.max(0, Math.min(1, (event.clientY - box.top) / box.height));
    const { w1, w2 } = state.surface;
    return [Number((w1[0] + fx * (w1.at(-1) - w1[0])).toFixed(3)), Number((w2[0] + fy * (w2.at(-1) - w2[0])).toFixed(3))];
  }

  // --- drawing -----------------------------------------------------------------------------------------

  function drawSurface() {
    const { loss, w1, w2 } = state.surface;
    const rows = w2.length;
    const cols = w1.length;
    const logs = Array.from(loss.data, (v) => Math.log(v));
    const lo = Math.min(...logs);
    const hi = Math.max(...logs);
    const colors = logs.map((v) => {
      const t = (v - lo) / (hi - lo || 1);
      const band = Math.min(LEVELS - 1, Math.floor(t * LEVELS));
      return bandColor(band / (LEVELS - 1), band);
    });
    for (const p of panels) {
      paintPixels(p.canvas, rows, cols, (i) => colors[i]);
      p.canvas.classList.remove("pixelated");
      p.minimum.setAttribute("cx", toX(state.surface.minimum[0]));
      p.minimum.setAttribute("cy", toY(state.surface.minimum[1]));
    }
  }

  function drawPaths() {
    const clampPx = (v) => Math.max(-SIZE, Math.min(2 * SIZE, v));
    for (const p of panels) {
      const path = state.result.paths.find((r) => r.optimizer === p.name);
      const points = path.points.filter((pt) => pt[0] !== null && pt[1] !== null);
      p.path.setAttribute("points", points.map(([a, b]) => `${clampPx(toX(a)).toFixed(1)},${clampPx(toY(b)).toFixed(1)}`).join(" "));
      p.handle.setAttribute("cx", toX(state.start[0]));
      p.handle.setAttribute("cy", toY(state.start[1]));
      const last = path.losses.at(-1);
      p.result.dataset.diverged = String(path.diverged);
      p.result.textContent = path.diverged
        ? `diverged: E grew past ${formatNumber(1e6)}`
        : path.steps_to_minimum !== null
          ? `reached the floor at step ${path.steps_to_minimum} · E = ${formatNumber(last, 4)}`
          : `E = ${formatNumber(last, 4)} after ${path.losses.length - 1} steps`;
    }
  }

  function showControls() {
    els.rate.value = Math.log10(state.learning_rate).toFixed(2);
    els.rateValue.textContent = formatNumber(state.learning_rate, 3);
    els.momentum.value = state.momentum;
    els.momentumValue.textContent = state.momentum.toFixed(2);
    els.steps.value = state.steps;
    els.stepsValue.textContent = String(state.steps);
  }

  // --- the engine's answer, newest settings only ---------------------------------------------------------

  async function update() {
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    try {
      do {
        state.again = false;
        const body = { learning_rate: state.learning_rate, momentum: state.momentum, start: state.start,
          steps: state.steps, resolution: 81 };
        const result = decodeArrays(await api("/api/loss-surface", { method: "POST", body,
          query: { encoding: "base64" } }));
        if (!state.surface) {
          state.surface = result;
          drawSurface();
        }
        state.result = result;
        if (!state.again) drawPaths();
      } while (state.again);
      els.error.textContent = "";
      root.dataset.ready = "true";
    } catch (err) {
      els.error.textContent = err.message || String(err);
    } finally {
      state.busy = false;
    }
  }

  // --- controls ------------------------------------------------------------------------------------------

  els.rate.addEventListener("input", () => {
    state.learning_rate = Number((10 ** Number(els.rate.value)).toPrecision(3));
    showControls();
    update();
  });
  els.momentum.addEventListener("input", () => {
    state.momentum = Number(els.momentum.value);
    showControls();
    update();
  });
  els.steps.addEventListener("input", () => {
    state.steps = Number(els.steps.value);
    showControls();
    update();
  });
  for (const p of panels) {
    let dragging = null;
    const moveTo = (event) => {
      if (!state.surface) return;
      state.start = toWeights(event, p.overlay);
      for (const q of panels) {
        q.handle.setAttribute("cx", toX(state.start[0]));
        q.handle.setAttribute("cy", toY(state.start[1]));
      }
      update();
    };
    p.overlay.addEventListener("pointerdown", (event) => {
      if (event.pointerType === "mouse" && event.button !== 0) return;
      event.preventDefault();
      dragging = event.pointerId;
      p.overlay.setPointerCapture(event.pointerId);
      moveTo(event);
    });
    p.overlay.addEventListener("pointermove", (event) => { if (event.pointerId === dragging) moveTo(event); });
    const release = (event) => { if (event.pointerId === dragging) dragging = null; };
    p.overlay.addEventListener("pointerup", release);
    p.overlay.addEventListener("pointercancel", release);
    p.handle.addEventListener("keydown", (event) => {
      const delta = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, 0.1], ArrowDown: [0, -0.1] }[event.key];
      if (!delta || !state.surface) return;
      event.preventDefault();
      event.stopPropagation(); // the arrows move the start here, not the slides
      state.start = [Number((state.start[0] + delta[0]).toFixed(3)), Number((state.start[1] + delta[1]).toFixed(3))];
      update();
    });
  }

  showControls();
  update();
  return {
    state: () => ({ learning_rate: state.learning_rate, momentum: state.momentum, start: [...state.start],
      steps: state.steps }),
    link: null,
  };
}
