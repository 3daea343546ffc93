// The kernel gallery: named kernels (GET /api/conv/kernels) applied by the engine to a real image, input and
// feature map side by side; hover a pixel to see its window's arithmetic (POST /api/conv/window).
import { api, decodeArray } from "../lib/api.js";
import { rgb, textOn } from "../lib/colors.js";
import { renderSum } from "./arithmetic.js";
import { formatValue } from "../lib/format.js";
import { createGrid, rangeOf } from "./grid.js";
import { createDrawPad } from "../lib/draw-pad.js";
import { drawLegend } from "../lib/heatmap.js";
import { drawDiverging, drawGray, drawGrayLegend, flatten2d, frameWindow, nest, pixelAt } from "../lib/image-canvas.js";
import { decodePhoto } from "./image-source.js";

const DIGIT_SIZE = 48;
const SIZES = [3, 5, 7];

function resizeCentered(matrix, k) {
  const old = matrix.length;
  const shift = (old - k) / 2;
  return Array.from({ length: k }, (_, r) => Array.from({ length: k }, (_, c) => matrix[r + shift]?.[c + shift] ?? 0));
}

export function initKernelGallery(root, { onError, initial = "edge3" }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const els = {
    presets: $("kernel-presets"), editor: $("kernel-editor"), divisor: $("kernel-divisor"), size: $("kernel-size"),
    flip: $("kernel-flip"), description: $("kernel-description"), input: $("kernel-image-input"),
    output: $("kernel-image-output"), clip: $("kernel-clip"), legend: $("kernel-legend"), stats: $("kernel-stats"),
    hover: $("kernel-hover"), hoverTitle: $("kernel-hover-title"), hoverArithmetic: $("kernel-hover-arithmetic"),
    hoverWindow: $("kernel-hover-window"), sample: $("kernel-sample"), upload: $("kernel-upload"),
    pad: $("digit-pad"), padClear: $("digit-clear"), sourceNote: $("kernel-source-note"),
    inputFrame: root.querySelector(".input-frame"), outputFrame: root.querySelector(".output-frame"),
    sizeNote: $("kernel-size-note"), error: $("kernel-error"), padding: $("kernel-padding"),
    outputWrap: root.querySelector(".output-wrap"),
  };
  const state = {
    kernels: new Map(), preset: "identity", numerators: [], divisor: 1, image: null, rows: 0, cols: 0,
    output: null, stats: null, outPadding: 0, request: 0, hover: null, hoverBusy: false, hoverNext: null, limit: 256,
  };
  let editorGrid = null;
  // The filter runs at the end of every stroke (as in Harley's LeNet demo, no "Go" button).
  const pad = createDrawPad(els.pad, { onChange: ({ final }) => { if (final) useDigit(); } });

  // --- kernel ------------------------------------------------------------------------------------

  function buildPresets() {
    els.presets.replaceChildren();
    for (const name of [...state.kernels.keys(), "custom"]) {
      const entry = state.kernels.get(name);
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.testid = `kernel-preset-${name}`;
      button.dataset.name = name;
      button.textContent = entry ? entry.title : "Custom";
      button.title = entry ? entry.description : "Edit any cell of the kernel";
      button.addEventListener("click", () => choose(name));
      els.presets.append(button);
    }
  }

  function markPreset() {
    for (const button of els.presets.querySelectorAll("button")) {
      button.setAttribute("aria-pressed", String(button.dataset.name === state.preset));
    }
    const entry = state.kernels.get(state.preset);
    els.description.textContent = entry ? entry.description
      : "Your own kernel: edit any cell or the divisor. Negative weights make negative outputs.";
  }

  function buildEditor() {
    const k = state.numerators.length;
    editorGrid = createGrid(els.editor, {
      rows: k, cols: k, cellSize: k > 5 ? 34 : 42, editable: true, label: "kernel",
      cellTestid: (r, c) => `kernel-editor-cell-${r}-${c}`,
      onEdit: (r, c, v) => {
        state.numerators[r][c] = v;
        state.preset = "custom";
        markPreset();
        showKernel();
        apply();
      },
    });
  }

  function showKernel() {
    editorGrid.setValues(state.numerators, rangeOf(state.numerators));
    els.divisor.value = formatValue(state.divisor).replace("−", "-");
    els.size.value = String(state.numerators.length);
  }

  function choose(name) {
    if (name !== "custom") {
      const entry = state.kernels.get(name);
      state.numerators = entry.numerators.map((row) => [...row]);
      state.divisor = entry.divisor;
    }
    state.preset = name;
    const rebuild = !editorGrid || editorGrid.rows !== state.numerators.length;
    if (rebuild) buildEditor();
    markPreset();
    showKernel();
    apply();
  }

  function toCustom(numerators) {
    state.numerators = numerators;
    state.preset = "custom";
    if (!editorGrid || editorGrid.rows !== numerators.length) buildEditor();
    markPreset();
    showKernel();
    apply();
  }

  // --- image -------------------------------------------------------------------------------------

  function setImage(rows2d, note) {
    state.image = rows2d;
    state.rows = rows2d.length;
    state.cols = rows2d[0].length;
    for (const wrap of root.querySelectorAll(".canvas-wrap")) wrap.style.aspectRatio = `${state.cols} / ${state.rows}`;
    drawGray(els.input, flatten2d(rows2d), state.rows, state.cols);
    els.sourceNote.textContent = note;
    hideHover();
  }

  async function useSample(name) {
    const sample = await api(`/api/conv/samples/${name}`);
    setImage(sample.image, `${sample.title}: ${sample.description} Drawn by the engine, ${sample.shape[0]}×${sample.shape[1]}.`);
    await apply();
  }

  async function usePhoto(file) {
    const photo = await decodePhoto(file, state.limit);
    // The engine turns RGB into luminance; later requests send that one channel.
    const result = await apply({ image: photo.rgb, grayscale: true });
    if (!result) return;
    const lum = decodeArray(result.input);
    setImage(nest(lum.data, lum.shape[0], lum.shape[1]),
      `${file.name}, scaled to ${photo.width}×${photo.height} in your browser and turned to gray by the engine ` +
      "(0.299 R + 0.587 G + 0.114 B). It is not stored.");
    showOutput(result);
  }

  function useDigit() {
    setImage(pad.pixels(DIGIT_SIZE), `Your drawing, ${DIGIT_SIZE}×${DIGIT_SIZE}: white ink (255) on black (0).`);
    apply();
  }

  // --- the engine --------------------------------------------------------------------------------

  function body(extra = {}) {
    const k = state.numerators.length;
    const padding = els.padding.checked ? (k - 1) / 2 : 0;
    return { image: state.image, kernel: state.numerators, divisor: state.divisor, padding, ...extra };
  }

  async function apply(override = null) {
    const id = ++state.request;
    try {
      const result = await api("/api/conv/apply", { method: "POST", body: body(override || {}),
                                                    query: { encoding: "base64" } });
      if (id !== state.request) return null;
      els.error.textContent = "";
      onError(null);
      if (!override) showOutput(result);
      return result;
    } catch (err) {
      if (id === state.request) els.error.textContent = err.message;
      return null;
    }
  }

  function showOutput(result) {
    const out = decodeArray(result.output);
    state.output = out;
    state.stats = result.stats;
    const h = result.output_size.height;
    state.outPadding = h.p;
    els.sizeNote.textContent = h.p
      ? `Zero padding ${h.p} keeps the size: ${h.expression}. The zeros make edges at the image's border.`
      : `No padding: ${h.expression}, so the output loses ${(h.k - 1) / 2} pixel(s) on every side ` +
        "(the dashed outline is the input's size).";
    placeOutput(out.shape[0], out.shape[1]);
    redraw();
    if (state.hover) explain(...state.hover);
  }

  /** Size and place the output canvas so each output pixel sits over the centre of its window. */
  function placeOutput(rows, cols) {
    const offset = (state.cols - cols) / 2; // input pixels lost on each side
    els.output.style.width = `${(100 * cols) / state.cols}%`;
    els.output.style.marginLeft = `${(100 * offset) / state.cols}%`;
    els.output.style.marginTop = `${(100 * offset) / state.cols}%`; // vertical % margins follow the width too
    els.outputWrap.classList.toggle("shrunk", offset > 0);
  }

  function redraw() {
    const out = state.output;
    if (!out) return;
    const [rows, cols] = out.shape;
    const s = state.stats;
    const hidden = s.below_0 + s.above_255;
    if (!hidden) {
      // Every output is a valid pixel value: gray shows them all exactly, like the input.
      drawGray(els.output, out.data, rows, cols);
      drawGrayLegend(els.legend, "gray");
      els.stats.textContent = `All ${s.count.toLocaleString("en-US")} outputs lie within 0–255 ` +
        `(${formatValue(s.min)} to ${formatValue(s.max)}), shown in gray like the input: nothing is clipped.`;
    } else if (els.clip.checked) {
      drawGray(els.output, out.data, rows, cols);
      drawGrayLegend(els.legend, "clipped");
      els.stats.textContent = hidden
        ? `Clipping hides ${hidden.toLocaleString("en-US")} of ${s.count.toLocaleString("en-US")} pixels ` +
          `(${s.below_0.toLocaleString("en-US")} below 0, ${s.above_255.toLocaleString("en-US")} above 255).`
        : "";
    } else {
      // Colour range: the 99th percentile of |output|, so a few extreme pixels do not wash out the rest.
      const range = drawDiverging(els.output, out.data, rows, cols, s.abs_p99 || Math.max(-s.min, s.max));
      drawLegend(els.legend, { scale: "diverging", range, width: 140 });
      els.stats.textContent = `Outputs from ${formatValue(s.min)} to ${formatValue(s.max)}: ` +
        `${s.below_0.toLocaleString("en-US")} below 0 (orange), ${s.above_255.toLocaleString("en-US")} above 255. ` +
        `Colours span ±${formatValue(range)} (99% of pixels); beyond it they stay at full colour.`;
    }
    els.stats.dataset.belowZero = String(s.below_0);
  }

  // --- hover: one window's arithmetic --------------------------------------------------------------

  function hideHover() {
    state.hover = null;
    els.inputFrame.hidden = els.outputFrame.hidden = true;
    els.hover.classList.remove("active");
  }

  function onMove(event, canvas) {
    if (!state.output) return;
    const [outRows, outCols] = state.output.shape;
    const k = state.numerators.length;
    // Output pixel (i, j) is centred on input pixel (i + offset, j + offset).
    const offset = (k - 1) / 2 - state.outPadding;
    let at;
    if (canvas === els.output) {
      at = pixelAt(event, canvas, outRows, outCols);
    } else {
      const px = pixelAt(event, canvas, state.rows, state.cols);
      at = px && [px[0] - offset, px[1] - offset];
    }
    if (!at || at[0] < 0 || at[1] < 0 || at[0] >= outRows || at[1] >= outCols) return;
    if (state.hover && state.hover[0] === at[0] && state.hover[1] === at[1]) return;
    state.hover = at;
    const top = at[0] - state.outPadding;
    const left = at[1] - state.outPadding;
    frameWindow(els.inputFrame, els.input, state.rows, state.cols, top, left, k);
    frameWindow(els.outputFrame, els.output, outRows, outCols, at[0], at[1], 1);
    explain(...at);
  }

  async function explain(row, col) {
    if (state.hoverBusy) {
      state.hoverNext = [row, col];
      return;
    }
    state.hoverBusy = true;
    try {
      const w = await api("/api/conv/window", { method: "POST", body: body({ row, col }) });
      if (state.hover && state.hover[0] === row && state.hover[1] === col) showWindow(w);
    } catch (err) {
      els.error.textContent = err.message;
    } finally {
      state.hoverBusy = false;
      const next = state.hoverNext;
      state.hoverNext = null;
      if (next && state.hover) explain(...state.hover);
    }
  }

  function showWindow(w) {
    els.hover.classList.add("active");
    els.hoverTitle.textContent = `Output pixel (row ${w.out_row}, column ${w.out_col}) = ${formatValue(w.output)}`;
    const k = w.size;
    const grid = createGrid(els.hoverWindow, { rows: k, cols: k, cellSize: k > 3 ? 30 : 38, label: "window" });
    grid.setValues(w.window[0], 255);
    for (let r = 0; r < k; r++) {
      for (let c = 0; c < k; c++) {
        const cell = grid.cell(r, c);
        const g = Math.max(0, Math.min(255, Math.round(w.window[0][r][c])));
        cell.style.background = rgb([g, g, g]);
        cell.style.color = textOn([g, g, g]);
        if (w.top + r < 0 || w.left + c < 0 || w.top + r >= state.rows || w.left + c >= state.cols) {
          cell.classList.add("pad");
        }
      }
    }
    renderSum(els.hoverArithmetic, { window: w.window[0], kernel: w.kernel[0], products: w.products[0],
                                     total: w.total });
  }

  // --- wiring ------------------------------------------------------------------------------------

  els.clip.addEventListener("change", redraw);
  els.padding.addEventListener("change", () => {
    hideHover();
    apply();
  });
  els.divisor.addEventListener("change", () => {
    const d = Number(els.divisor.value.replace("−", "-"));
    const ok = Number.isFinite(d) && d !== 0;
    els.divisor.classList.toggle("invalid", !ok);
    if (!ok) {
      els.error.textContent = "The divisor must be a number other than 0.";
      return;
    }
    state.divisor = d;
    state.preset = "custom";
    markPreset();
    apply();
  });
  els.size.addEventListener("change", () => toCustom(resizeCentered(state.numerators, Number(els.size.value))));
  els.flip.addEventListener("click", () => toCustom(state.numerators.map((row) => [...row].reverse()).reverse()));
  for (const canvas of [els.input, els.output]) {
    canvas.addEventListener("mousemove", (event) => onMove(event, canvas));
  }
  root.querySelector(".gallery-images").addEventListener("mouseleave", hideHover);
  els.sample.addEventListener("change", () => useSample(els.sample.value).catch(onError));
  els.upload.addEventListener("change", () => {
    const file = els.upload.files[0];
    if (file) usePhoto(file).catch((err) => { els.error.textContent = err.message; });
  });
  els.padClear.addEventListener("click", () => {
    pad.clear();
  });
  for (const button of root.querySelectorAll("[data-source]")) {
    button.addEventListener("click", () => {
      for (const b of root.querySelectorAll("[data-source]")) b.setAttribute("aria-selected", String(b === button));
      for (const panel of root.querySelectorAll("[data-source-panel]")) {
        panel.hidden = panel.dataset.sourcePanel !== button.dataset.source;
      }
      if (button.dataset.source === "sample") useSample(els.sample.value).catch(onError);
      if (button.dataset.source === "draw" && !pad.isEmpty()) useDigit();
    });
  }
  for (const size of SIZES) {
    const option = document.createElement("option");
    option.value = String(size);
    option.textContent = `${size}×${size}`;
    els.size.append(option);
  }

  return {
    async start() {
      const [kernels, samples, limits] = await Promise.all([
        api("/api/conv/kernels"), api("/api/conv/samples"), api("/api/conv/limits")]);
      state.limit = limits.max_image_size;
      for (const k of kernels) state.kernels.set(k.name, k);
      for (const s of samples) {
        const option = document.createElement("option");
        option.value = s.name;
        option.textContent = s.title;
        els.sample.append(option);
      }
      buildPresets();
      if (initial && typeof initial === "object") { // a custom kernel: {kernel: rows, divisor}
        state.numerators = initial.kernel.map((row) => [...row]);
        state.divisor = initial.divisor || 1;
        state.preset = "custom";
      } else {
        const first = state.kernels.has(initial) ? initial : "edge3";
        state.numerators = state.kernels.get(first).numerators.map((row) => [...row]);
        state.divisor = state.kernels.get(first).divisor;
        state.preset = first;
      }
      buildEditor();
      markPreset();
      showKernel();
      await useSample(samples[0].name);
    },
    /** The kernel now (a preset's name or "custom", its numerators and divisor): the course checks it. */
    kernelState: () => ({ name: state.preset, kernel: state.numerators.map((row) => [...row]),
      divisor: state.divisor }),
  };
}
