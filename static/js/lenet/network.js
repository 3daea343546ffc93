// LeNet-5 laid out left to right like Adam Harley's 2-D view: the input, conv1's six maps beside pool1's, conv2's
// sixteen beside pool2's, the dense layers as strips of cells, the ten outputs as probability bars. Every cell is
// a number the engine computed, on the diverging scale, each layer scaled to its own largest |value|.
// Hovering a unit reports it (row/col from the pointer); `highlight` draws what the engine said it reads.
import { rgb, diverging, symmetricRange } from "../lib/colors.js";
import { drawHeatmap } from "../lib/heatmap.js";
import { formatNumber, formatProbability } from "../lib/format.js";
import { svg } from "../lib/svg.js";

const BODY = 376; // column height at scale 1
const MAP_GAP = 6;

// Each column: its size at scale 1 and where map i sits (top, left, side), all at scale 1.
const COLUMNS = [
  { layer: "input", title: "input", shape: "1 × 28×28", caption: "preprocessed", width: 84,
    maps: 1, place: () => ({ top: (BODY - 84) / 2, left: 0, side: 84 }) },
  { layer: "conv1", title: "conv1", shape: "6 × 28×28", caption: "5×5 conv · pad 2", width: 56,
    maps: 6, place: (i) => ({ top: i * 64, left: 0, side: 56 }) },
  { layer: "pool1", title: "pool1", shape: "6 × 14×14", caption: "2×2 pool", width: 42,
    maps: 6, place: (i) => ({ top: i * 64 + 7, left: 0, side: 42 }) },
  { layer: "conv2", title: "conv2", shape: "16 × 10×10", caption: "5×5×6 conv", width: 86,
    maps: 16, place: (i) => ({ top: Math.floor(i / 2) * 47.3, left: (i % 2) * 46, side: 40 }) },
  { layer: "pool2", title: "pool2", shape: "16 × 5×5", caption: "2×2 pool", width: 56,
    maps: 16, place: (i) => ({ top: Math.floor(i / 2) * 47.3 + 7.5, left: (i % 2) * 31, side: 25 }) },
  { layer: "fc1", title: "fc1", shape: "120", caption: "dense", width: 12, strip: { cols: 2, rows: 60 } },
  { layer: "fc2", title: "fc2", shape: "84", caption: "dense", width: 16, strip: { cols: 2, rows: 42 } },
  { layer: "logits", title: "output", shape: "10", caption: "softmax", width: 196 },
];
const LENET5 = { conv1: [6, 28], pool1: [6, 14], conv2: [16, 10], pool2: [16, 5], fc1: [120], fc2: [84],
  logits: [10] };
const MIN_GAP = 18;

/** Whether `layout` (GET /api/lenet/model's layers) is LeNet-5's, which has its hand-placed columns. */
function isLeNet5(layout) {
  const named = layout.filter((l) => l.name !== "input");
  return named.length === 7 && named.every((l) => LENET5[l.name] && l.shape[0] === LENET5[l.name][0] &&
    (l.shape.length === 1 || l.shape[1] === LENET5[l.name][1]));
}

/** Columns for any digit network: maps in a grid that fits the column's height, dense layers as strips. */
function columnsFor(layout) {
  const base = { input: COLUMNS[0], logits: COLUMNS[COLUMNS.length - 1] };
  return layout.map((l) => {
    if (l.name === "input" || l.name === "logits") return base[l.name];
    const title = l.name;
    if (l.shape.length === 3) {
      const [c, h] = l.shape;
      const across = c <= 6 ? 1 : c <= 16 ? 2 : c <= 36 ? 3 : 4;
      const down = Math.ceil(c / across);
      const side = Math.max(8, Math.min(56, Math.floor(BODY / down) - MAP_GAP));
      const top = (BODY - down * (side + MAP_GAP) + MAP_GAP) / 2;
      return { layer: l.name, title, shape: `${c} × ${h}×${l.shape[2]}`, caption: l.caption, side: h,
        width: across * (side + MAP_GAP) - MAP_GAP, maps: c,
        place: (i) => ({ top: top + Math.floor(i / across) * (side + MAP_GAP), left: (i % across) * (side + MAP_GAP),
          side }) };
    }
    const units = l.shape[0];
    let cols = 1;
    while (Math.ceil(units / cols) * 3 > BODY) cols += 1;
    const rows = Math.ceil(units / cols);
    const cell = Math.min(8, BODY / rows);
    return { layer: l.name, title, shape: String(units), caption: l.caption, width: cell * cols,
      strip: { cols, rows }, units };
  });
}

/**
 * Build the view in `container`.
 * onHover(unit | null) while the pointer moves over units; onSelect(unit) on click.
 * A unit is {layer, index, row, col}.
 */
export function createNetworkView(container, { onHover = () => {}, onSelect = () => {}, layers = null } = {}) {
  const shipped = !layers || isLeNet5(layers);
  const columns = shipped ? COLUMNS : columnsFor(layers);
  const SIDE = { input: 28, conv1: 28, pool1: 14, conv2: 10, pool2: 5 };
  const UNITS = { fc1: 120, fc2: 84 };
  const PREVIOUS = {};
  columns.forEach((col, i) => {
    if (col.side) SIDE[col.layer] = col.side;
    if (col.units) UNITS[col.layer] = col.units;
    if (i > 0) PREVIOUS[col.layer] = columns[i - 1].layer;
  });
  const SPATIAL = columns.filter((c) => c.maps && c.layer !== "input").map((c) => c.layer);
  const FIXED = columns.reduce((sum, c) => sum + c.width, 0);
  container.classList.add("net");
  container.replaceChildren();
  const els = {}; // layer -> {column, body, range, maps: [canvas], strip, rows}
  for (const col of columns) {
    const column = document.createElement("div");
    column.className = `net-col net-${col.layer}`;
    column.dataset.layer = col.layer;
    const head = document.createElement("div");
    head.className = "net-head";
    head.innerHTML = `<span class="net-title"></span><span class="net-shape"></span>`;
    head.querySelector(".net-title").textContent = col.title;
    head.querySelector(".net-shape").textContent = col.shape;
    const body = document.createElement("div");
    body.className = "net-body";
    const foot = document.createElement("div");
    foot.className = "net-foot";
    foot.innerHTML = `<span class="net-caption"></span><span class="net-range"></span>`;
    foot.querySelector(".net-caption").textContent = col.caption;
    column.append(head, body, foot);
    container.append(column);
    const entry = { column, body, range: foot.querySelector(".net-range"), maps: [], config: col };
    if (col.maps) {
      for (let i = 0; i < col.maps; i++) {
        const canvas = document.createElement("canvas");
        canvas.className = "net-map pixelated";
        canvas.dataset.layer = col.layer;
        canvas.dataset.index = i;
        canvas.dataset.testid = col.layer === "input" ? "preprocessed-input" : `feature-map-${col.layer}-${i}`;
        canvas.setAttribute("aria-label", col.layer === "input" ? "The 28×28 input" : `${col.layer} map ${i}`);
        body.append(canvas);
        entry.maps.push(canvas);
      }
    } else if (col.strip) {
      const canvas = document.createElement("canvas");
      canvas.className = "net-strip pixelated";
      canvas.dataset.layer = col.layer;
      canvas.setAttribute("data-testid", `layer-${col.layer}`);
      body.append(canvas);
      entry.strip = canvas;
    } else {
      entry.rows = [];
      for (let d = 0; d < 10; d++) {
        const row = document.createElement("div");
        row.className = "net-out";
        row.dataset.index = d;
        row.setAttribute("data-testid", `prob-${d}`);
        row.innerHTML = `<span class="out-digit">${d}</span><span class="out-logit"></span>` +
          `<span class="out-bar"><span class="out-fill"></span></span><span class="out-pct"></span>`;
        body.append(row);
        entry.rows.push(row);
      }
    }
    els[col.layer] = entry;
  }
  const overlay = svg("svg", { class: "net-overlay", "aria-hidden": "true" });
  container.append(overlay);
  let scale = 1;
  let data = null;
  let hovered = null;

  function layout() {
    const available = container.clientWidth;
    scale = Math.max(0.8, Math.min(1.75, (available - MIN_GAP * (columns.length - 1)) / FIXED));
    for (const col of columns) {
      const e = els[col.layer];
      e.column.style.width = `${col.width * scale}px`;
      e.body.style.height = `${BODY * scale}px`;
      e.maps.forEach((canvas, i) => {
        const p = col.place(i);
        Object.assign(canvas.style, { top: `${p.top * scale}px`, left: `${p.left * scale}px`,
          width: `${p.side * scale}px`, height: `${p.side * scale}px` });
      });
      if (e.strip) {
        const cell = col.width / col.strip.cols;
        const h = cell * col.strip.rows;
        Object.assign(e.strip.style, { top: `${((BODY - h) / 2) * scale}px`, left: "0px",
          width: `${col.width * scale}px`, height: `${h * scale}px` });
      }
      if (e.rows) {
        e.rows.forEach((row, d) => {
          Object.assign(row.style, { top: `${(d * BODY / 10) * scale}px`, height: `${(BODY / 10) * scale}px` });
        });
      }
    }
    if (hovered) drawHighlight(hovered.unit, hovered.detail);
  }

  // --- drawing the numbers -------------------------------------------------------------------------

  function describe(model) {
    if (!shipped) return; // a digit network's captions come with its layout
    const act = model.activation === "relu" ? "ReLU" : "tanh";
    const pool = model.pooling === "max" ? "max" : "avg";
    const captions = { conv1: `5×5 conv · ${act}`, pool1: `2×2 ${pool}`, conv2: `5×5×6 conv · ${act}`,
      pool2: `2×2 ${pool}`, fc1: act, fc2: act };
    for (const [layer, text] of Object.entries(captions)) {
      els[layer].column.querySelector(".net-caption").textContent = text;
    }
  }

  function update(prediction) {
    data = prediction;
    describe(prediction.model);
    const layers = { input: prediction.input, ...prediction.layers };
    for (const col of columns) {
      const e = els[col.layer];
      const values = layers[col.layer].data;
      const range = symmetricRange(values);
      e.range.textContent = `±${formatNumber(range, 2)}`;
      e.range.title = `colours run from −${formatNumber(range)} (orange) through 0 to +${formatNumber(range)} (blue)`;
      if (col.maps) {
        const side = SIDE[col.layer];
        e.maps.forEach((canvas, i) => {
          drawHeatmap(canvas, values.subarray(i * side * side, (i + 1) * side * side), side, side, { range });
        });
      } else if (col.strip) {
        drawHeatmap(e.strip, values, col.strip.rows, col.strip.cols, { range });
      } else {
        const probs = prediction.probabilities;
        e.rows.forEach((row, d) => {
          const logit = values[d];
          const cell = row.querySelector(".out-logit");
          cell.style.background = rgb(diverging(logit, range));
          cell.title = `logit ${formatNumber(logit)}`;
          row.querySelector(".out-fill").style.width = `${(probs[d] * 100).toFixed(2)}%`;
          row.querySelector(".out-pct").textContent = formatProbability(probs[d]);
          row.dataset.probability = String(probs[d]);
          row.classList.toggle("is-top", d === prediction.digit);
        });
      }
    }
    container.classList.remove("is-empty");
    if (hovered) onHover(hovered.unit); // the numbers changed: ask for the hovered unit's new arithmetic
  }

  function clear() {
    data = null;
    container.classList.add("is-empty");
    for (const col of columns) {
      const e = els[col.layer];
      e.range.textContent = "";
      for (const canvas of [...e.maps, ...(e.strip ? [e.strip] : [])]) {
        canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
      }
      (e.rows || []).forEach((row) => {
        row.querySelector(".out-fill").style.width = "0";
        row.querySelector(".out-pct").textContent = "";
        row.querySelector(".out-logit").style.background = "";
        row.classList.remove("is-top");
        delete row.dataset.probability;
      });
    }
    hover(null);
  }

  // --- pointer → unit ------------------------------------------------------------------------------

  function unitAt(event) {
    const target = event.target.closest("[data-layer], .net-out");
    if (!target || !container.contains(target)) return null;
    if (target.classList.contains("net-out")) return { layer: "logits", index: Number(target.dataset.index), row: 0, col: 0 };
    const layer = target.dataset.layer;
    if (!layer || layer === "input" || target.classList.contains("net-col")) return null;
    const rect = target.getBoundingClientRect();
    const fx = (event.clientX - rect.left) / rect.width;
    const fy = (event.clientY - rect.top) / rect.height;
    if (fx < 0 || fx >= 1 || fy < 0 || fy >= 1) return null;
    if (SPATIAL.includes(layer)) {
      const side = SIDE[layer];
      return { layer, index: Number(target.dataset.index), row: Math.floor(fy * side), col: Math.floor(fx * side) };
    }
    const { cols, rows } = els[layer].config.strip;
    const index = Math.floor(fy * rows) * cols + Math.floor(fx * cols);
    const total = UNITS[layer];
    return index < total ? { layer, index, row: 0, col: 0 } : null;
  }

  function same(a, b) {
    return a && b && a.layer === b.layer && a.index === b.index && a.row === b.row && a.col === b.col;
  }

  function hover(unit) {
    if (same(unit, hovered && hovered.unit) || (!unit && !hovered)) return;
    hovered = unit ? { unit, detail: null } : null;
    drawHighlight(unit, null);
    onHover(unit);
  }

  container.addEventListener("pointermove", (event) => {
    if (!data) return;
    hover(unitAt(event));
  });
  container.addEventListener("pointerleave", () => hover(null));

  // --- keyboard → unit: the view is one tab stop; ←/→ change the layer, ↑/↓ the map or neuron, Shift with an
  // arrow moves within a map, Enter pins the unit's arithmetic (Escape lets it go, as for a click).
  const KEY_LAYERS = ["conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "logits"];
  const COUNT = { conv1: 6, pool1: 6, conv2: 16, pool2: 16, fc1: 120, fc2: 84, logits: 10 };
  let cursor = null;
  container.tabIndex = 0;
  container.setAttribute("role", "group");
  container.setAttribute("aria-label", "The network's units: left and right arrows change the layer, up and down "
    + "the map or neuron, Shift with an arrow moves within a map, Enter pins a unit's arithmetic, Escape lets go");
  container.setAttribute("aria-keyshortcuts", "ArrowLeft ArrowRight ArrowUp ArrowDown Enter Escape");

  function moveCursor(key, shift) {
    const unit = { ...cursor };
    const spatial = SPATIAL.includes(unit.layer);
    if (shift && spatial) {
      const side = SIDE[unit.layer];
      const d = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[key];
      unit.row = Math.max(0, Math.min(side - 1, unit.row + d[0]));
      unit.col = Math.max(0, Math.min(side - 1, unit.col + d[1]));
    } else if (key === "ArrowUp" || key === "ArrowDown") {
      unit.index = Math.max(0, Math.min(COUNT[unit.layer] - 1, unit.index + (key === "ArrowDown" ? 1 : -1)));
    } else {
      const at = KEY_LAYERS.indexOf(unit.layer) + (key === "ArrowRight" ? 1 : -1);
      const layer = KEY_LAYERS[Math.max(0, Math.min(KEY_LAYERS.length - 1, at))];
      const scale = SPATIAL.includes(layer) && spatial ? SIDE[layer] / SIDE[unit.layer] : 0;
      Object.assign(unit, { layer, index: Math.min(COUNT[layer] - 1, unit.index),
        row: Math.floor(unit.row * scale), col: Math.floor(unit.col * scale) });
      if (SPATIAL.includes(layer) && !spatial) Object.assign(unit, { row: SIDE[layer] >> 1, col: SIDE[layer] >> 1 });
    }
    return unit;
  }

  container.addEventListener("focus", () => {
    if (!data) return;
    cursor = cursor || { layer: "logits", index: data.digit ?? 0, row: 0, col: 0 };
    hover(cursor);
  });
  container.addEventListener("blur", () => hover(null));
  container.addEventListener("keydown", (event) => {
    if (!data || event.target !== container) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      if (cursor) onSelect(cursor);
      return;
    }
    if (!["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"].includes(event.key)) return;
    event.preventDefault();
    cursor = moveCursor(event.key, event.shiftKey);
    hover(cursor);
  });
  container.addEventListener("click", (event) => {
    if (!data) return;
    const unit = unitAt(event);
    if (unit) onSelect(unit);
  });

  // --- highlights ----------------------------------------------------------------------------------

  function box(layer, index, top, left, bottom, right) {
    // A rectangle over cells [top..bottom] × [left..right] of map `index` of `layer`, clipped to the map,
    // in the overlay's coordinates.
    const canvas = els[layer].maps[index];
    const side = SIDE[layer];
    const base = container.getBoundingClientRect();
    const r = canvas.getBoundingClientRect();
    const cell = r.width / side;
    const t = Math.max(0, top);
    const l = Math.max(0, left);
    const b = Math.min(side - 1, bottom);
    const rt = Math.min(side - 1, right);
    return { x: r.left - base.left + l * cell, y: r.top - base.top + t * cell,
      w: (rt - l + 1) * cell, h: (b - t + 1) * cell };
  }

  function elementBox(el) {
    const base = container.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return { x: r.left - base.left, y: r.top - base.top, w: r.width, h: r.height };
  }

  function unitBox(unit) {
    if (SPATIAL.includes(unit.layer)) return box(unit.layer, unit.index, unit.row, unit.col, unit.row, unit.col);
    if (unit.layer === "logits") {
      const b = elementBox(els.logits.rows[unit.index]);
      return { ...b, w: Math.min(b.w, 34 * scale) };
    }
    const { cols, rows } = els[unit.layer].config.strip;
    const s = elementBox(els[unit.layer].strip);
    const cw = s.w / cols;
    const ch = s.h / rows;
    return { x: s.x + (unit.index % cols) * cw, y: s.y + Math.floor(unit.index / cols) * ch, w: cw, h: ch };
  }

  function drawHighlight(unit, detail) {
    overlay.replaceChildren();
    if (!unit || !data) return;
    const base = container.getBoundingClientRect();
    overlay.setAttribute("viewBox", `0 0 ${base.width} ${base.height}`);
    overlay.setAttribute("width", base.width);
    overlay.setAttribute("height", base.height);
    const target = unitBox(unit);
    const sources = [];
    const fields = (detail && detail.receptive_field) || {};
    const previous = detail && detail.previous;
    if (previous && fields[previous] && previous !== "input") {
      const f = fields[previous];
      // A convolution reads every map of the layer before; a pooling unit its own map.
      const maps = unit.layer.startsWith("conv") ? els[previous].maps.map((_, i) => i) : [unit.index];
      for (const i of maps) sources.push({ ...box(previous, i, f.top, f.left, f.bottom, f.right), link: true });
    }
    if (fields.input) {
      const f = fields.input;
      sources.push({ ...box("input", 0, f.top, f.left, f.bottom, f.right), link: previous === "input" });
    }
    if (detail && !SPATIAL.includes(unit.layer)) {
      // A dense unit reads every output of the layer before.
      const prev = PREVIOUS[unit.layer];
      sources.push({ ...elementBox(els[prev].body), link: true, whole: true });
    }
    for (const s of sources) {
      if (s.link) {
        const tx = target.x;
        const ty = target.y + target.h / 2;
        for (const sy of [s.y, s.y + s.h]) {
          overlay.append(svg("line", { x1: s.x + s.w, y1: sy, x2: tx, y2: ty, class: "net-link" }));
        }
      }
      overlay.append(svg("rect", { x: s.x, y: s.y, width: s.w, height: s.h,
        class: s.whole ? "net-field whole" : "net-field" }));
    }
    overlay.append(svg("rect", { x: target.x - 1, y: target.y - 1, width: target.w + 2, height: target.h + 2,
      class: "net-unit" }));
  }

  /** Show what the engine says `unit` reads (its unit-detail response). */
  function highlight(unit, detail) {
    if (hovered && same(hovered.unit, unit)) hovered.detail = detail;
    drawHighlight(unit, detail);
  }

  new ResizeObserver(() => layout()).observe(container);
  layout();
  clear();
  return { update, clear, highlight, layout, get hovered() { return hovered && hovered.unit; } };
}
