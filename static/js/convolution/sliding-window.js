// The sliding-window view: input grid (with its padding), kernel, output filling in cell by cell, and the
// arithmetic of the current position. One POST /api/conv/apply (windows: true) per change of the inputs;
// stepping and playing only move through the positions the engine already explained.
import { api } from "../lib/api.js";
import { renderSum } from "./arithmetic.js";
import { createGrid, fitCellSize, rangeOf } from "./grid.js";

const LIMITS = { input: [3, 10], kernel: [1, 7], stride: [1, 4], padding: [0, 3] };
const HOLD_AT_END = 3; // ticks the finished map stays before the animation loops

function resize(matrix, n, fill) {
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => matrix[r]?.[c] ?? fill()));
}

/** Largest cell on this screen: roomier grids on wide screens. */
const cellMax = (stageWidth) => (stageWidth > 1200 ? 56 : 46);

const randomBit = () => (Math.random() < 0.5 ? 0 : 1);
const randomWeight = () => Math.floor(Math.random() * 3) - 1;

export function initSlidingWindow(root, { onError }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const els = {
    input: $("conv-input-grid"), kernel: $("conv-kernel-grid"), output: $("conv-output-grid"),
    arithmetic: $("conv-arithmetic"), play: $("conv-play"), step: $("conv-step"), speed: $("conv-speed"),
    position: $("conv-position"), stride: $("conv-stride"), padding: $("conv-padding"),
    inputSize: $("conv-input-size"), kernelSize: $("conv-kernel-size"), bias: $("conv-bias"),
    formula: $("conv-formula"), error: $("conv-size-error"), reset: $("conv-reset"), random: $("conv-random"),
    outputDims: $("conv-output-dims"), inputDims: $("conv-input-dims"), stage: root.querySelector(".slide-stage"),
  };
  const state = {
    example: null, image: [], kernel: [], stride: 1, padding: 0, bias: 0,
    result: null, pos: 0, playing: false, timer: null, hold: 0, request: 0,
  };
  let grids = { input: null, kernel: null, output: null };

  function outDims() {
    return state.result ? [state.result.shape[0], state.result.shape[1]] : [0, 0];
  }

  // --- rendering -----------------------------------------------------------------------------

  function buildGrids() {
    const n = state.image.length;
    const k = state.kernel.length;
    const width = els.stage.clientWidth || 1100;
    const big = cellMax(width);
    const inputCell = fitCellSize(n + 2 * state.padding, Math.min(520, width * 0.36), 26, big);
    grids.input = createGrid(els.input, {
      rows: n, cols: n, padding: state.padding, cellSize: inputCell, editable: true, label: "input",
      cellTestid: (r, c) => `conv-input-cell-${r}-${c}`,
      onEdit: (r, c, v) => { state.image[r][c] = v; recompute(); },
    });
    grids.kernel = createGrid(els.kernel, {
      rows: k, cols: k, cellSize: fitCellSize(k, 240, 26, big - 4), editable: true, label: "kernel",
      cellTestid: (r, c) => `conv-kernel-cell-${r}-${c}`,
      onEdit: (r, c, v) => { state.kernel[r][c] = v; recompute(); },
    });
    els.inputDims.textContent = `${n}×${n}${state.padding ? `, padded to ${n + 2 * state.padding}×${n + 2 * state.padding}` : ""}`;
  }

  function buildOutputGrid() {
    const [oh, ow] = outDims();
    if (!oh) {
      const note = document.createElement("div");
      note.className = "no-output";
      note.textContent = "No output: the sizes do not fit.";
      els.output.replaceChildren(note);
      els.outputDims.textContent = "—";
      return;
    }
    const width = els.stage.clientWidth || 1100;
    grids.output = createGrid(els.output, {
      rows: oh, cols: ow, cellSize: fitCellSize(ow, Math.min(460, width * 0.3), 26, cellMax(width)), label: "output",
      cellTestid: (r, c) => `conv-cell-${r}-${c}`,
      onCellEnter: (r, c) => jump(r * ow + c),
      onCellClick: (r, c) => jump(r * ow + c),
    });
    els.outputDims.textContent = `${oh}×${ow}`;
  }

  function render() {
    grids.input.setValues(state.image, rangeOf(state.image));
    grids.kernel.setValues(state.kernel, rangeOf(state.kernel));
    const result = state.result;
    if (!result) {
      grids.input.showWindow(null);
      els.arithmetic.textContent = "—";
      els.position.textContent = "—";
      return;
    }
    const [oh, ow] = outDims();
    const r = Math.floor(state.pos / ow);
    const c = state.pos % ow;
    const filled = result.output.map((row, i) => row.map((v, j) => (i * ow + j <= state.pos ? v : null)));
    grids.output.setValues(filled, rangeOf(result.output));
    grids.output.mark(r, c);
    const w = result.windows;
    grids.input.showWindow(w.top[r], w.left[c], state.kernel.length, state.kernel);
    renderSum(els.arithmetic, {
      window: w.window[0][r][c][0], kernel: result.kernel, products: w.products[0][r][c][0],
      total: w.total[0][r][c], bias: state.bias ? w.bias : null,
    });
    els.position.textContent = `position ${state.pos + 1} of ${oh * ow} · row ${r}, column ${c}`;
    els.position.dataset.pos = String(state.pos);
  }

  // --- the engine --------------------------------------------------------------------------------

  async function recompute({ rebuild = false } = {}) {
    const id = ++state.request;
    const n = state.image.length;
    const k = state.kernel.length;
    if (rebuild) buildGrids();
    try {
      const size = await api("/api/conv/output-size", { query: { n, k, s: state.stride, p: state.padding } });
      if (id !== state.request) return;
      els.formula.textContent = `output size = ${size.expression}`;
      els.formula.classList.toggle("invalid-text", !size.ok);
      els.stride.classList.toggle("invalid", !size.whole && size.fits);
      els.kernelSize.classList.toggle("invalid", !size.fits);
      els.error.textContent = size.ok ? "" : size.message;
      els.error.hidden = size.ok;
      if (!size.ok) {
        stop();
        state.result = null;
        buildOutputGrid();
        els.play.disabled = els.step.disabled = true;
        render();
        return;
      }
      const result = await api("/api/conv/apply", {
        method: "POST",
        body: { image: state.image, kernel: state.kernel, stride: state.stride, padding: state.padding,
                bias: state.bias, windows: true },
      });
      if (id !== state.request) return;
      const changedShape = !state.result || state.result.shape.join() !== result.shape.join();
      state.result = result;
      if (changedShape) {
        buildOutputGrid();
        state.pos = 0;
      }
      const [oh, ow] = outDims();
      state.pos = Math.min(state.pos, oh * ow - 1);
      els.play.disabled = els.step.disabled = false;
      onError(null);
      render();
    } catch (err) {
      if (id !== state.request) return;
      stop();
      onError(err);
    }
  }

  // --- animation ---------------------------------------------------------------------------------

  function setPlaying(on) {
    state.playing = on;
    els.play.setAttribute("aria-pressed", String(on));
    els.play.querySelector(".label").textContent = on ? "Pause" : "Play";
    // SVG elements have no `hidden` property: the attribute itself must change.
    els.play.querySelector(".icon-play").toggleAttribute("hidden", on);
    els.play.querySelector(".icon-pause").toggleAttribute("hidden", !on);
    clearInterval(state.timer);
    if (on) state.timer = setInterval(tick, Number(els.speed.value));
  }

  function stop() {
    if (state.playing) setPlaying(false);
  }

  function advance() {
    const [oh, ow] = outDims();
    if (!oh) return;
    state.pos = (state.pos + 1) % (oh * ow);
    render();
  }

  function tick() {
    const [oh, ow] = outDims();
    if (state.pos === oh * ow - 1 && state.hold < HOLD_AT_END) {
      state.hold += 1;
      return;
    }
    state.hold = 0;
    advance();
  }

  function jump(pos) {
    stop();
    state.pos = pos;
    render();
  }

  // --- controls ----------------------------------------------------------------------------------

  function readControl(input, [low, high]) {
    const v = Math.round(Number(input.value));
    const ok = Number.isFinite(v) && v >= low && v <= high;
    input.classList.toggle("invalid", !ok);
    return ok ? v : null;
  }

  /** The formula line for sizes outside the page's limits: the typed numbers, marked wrong (never the last good one). */
  async function showOutOfRangeFormula() {
    const id = ++state.request;
    stop();
    els.play.disabled = els.step.disabled = true;
    els.formula.classList.add("invalid-text");
    const [n, k, s, p] = [els.inputSize, els.kernelSize, els.stride, els.padding].map((i) => Math.round(Number(i.value)));
    els.formula.textContent = "output size = (n + 2·p − k)/s + 1";
    if (![n, k, s, p].every(Number.isFinite) || Math.min(n, k, s) < 1 || p < 0) return;
    try {
      const size = await api("/api/conv/output-size", { query: { n, k, s, p } });
      if (id === state.request) els.formula.textContent = `output size = ${size.expression}`;
    } catch {
      // Numbers the API refuses too (zero, negative): the general formula stays.
    }
  }

  function onSizeChange() {
    const n = readControl(els.inputSize, LIMITS.input);
    const k = readControl(els.kernelSize, LIMITS.kernel);
    const s = readControl(els.stride, LIMITS.stride);
    const p = readControl(els.padding, LIMITS.padding);
    if ([n, k, s, p].includes(null)) {
      els.error.hidden = false;
      els.error.textContent = `Input size ${LIMITS.input.join("–")}, kernel size ${LIMITS.kernel.join("–")}, ` +
        `stride ${LIMITS.stride.join("–")} and padding ${LIMITS.padding.join("–")} on this page (the API takes more).`;
      showOutOfRangeFormula();
      return;
    }
    state.image = resize(state.image, n, randomBit);
    state.kernel = resize(state.kernel, k, randomWeight);
    state.stride = s;
    state.padding = p;
    recompute({ rebuild: true });
  }

  function loadExample(example) {
    stop();
    state.image = example.image.map((row) => [...row]);
    state.kernel = example.kernel.map((row) => [...row]);
    state.stride = example.stride;
    state.padding = example.padding;
    state.bias = example.bias;
    state.pos = 0;
    state.result = null;
    els.inputSize.value = state.image.length;
    els.kernelSize.value = state.kernel.length;
    els.stride.value = state.stride;
    els.padding.value = state.padding;
    els.bias.value = state.bias;
    return recompute({ rebuild: true });
  }

  els.play.addEventListener("click", () => {
    const [oh] = outDims();
    if (oh) setPlaying(!state.playing);
  });
  els.step.addEventListener("click", () => {
    stop();
    advance();
  });
  els.speed.addEventListener("change", () => {
    if (state.playing) setPlaying(true);
  });
  for (const input of [els.inputSize, els.kernelSize, els.stride, els.padding]) {
    input.addEventListener("change", onSizeChange);
  }
  els.bias.addEventListener("change", () => {
    const b = Number(els.bias.value);
    const ok = els.bias.value.trim() !== "" && Number.isFinite(b);
    els.bias.classList.toggle("invalid", !ok);
    if (ok) {
      state.bias = b;
      recompute();
    }
  });
  els.reset.addEventListener("click", () => loadExample(state.example));
  els.random.addEventListener("click", () => {
    state.image = state.image.map((row) => row.map(randomBit));
    recompute();
  });
  // Moving the mouse off the output keeps the window where it is; the animation resumes only with Play.

  return {
    async start(example, { autoplay = true } = {}) {
      state.example = example;
      await loadExample(example);
      if (autoplay && state.result) setPlaying(true);
    },
  };
}
