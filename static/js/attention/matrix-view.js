// Matrix view: one head's attention weights as a heatmap with the tokens on both axes.
// The drawing is a self-contained SVG (inline colours), so that it exports as it looks.
import { rgb, sequential, textOn } from "../lib/colors.js";
import { svg } from "../lib/svg.js";
import { headMatrix, layerTitle } from "./maps.js";

const INK = "#1d2430";
const MUTED = "#5b6573";
const MASKED = "#e4e7eb";

/**
 * Build the SVG of one head's map. `info`: {kind, layer, causal, query_tokens, key_tokens, weights},
 * `head`: index, `options`: {width (available px), step}.
 */
export function matrixSvg(info, head, { width = 480, step = null } = {}) {
  const { rows, cols, values } = headMatrix(info.weights, head);
  const longest = Math.max(...info.query_tokens.map((t) => t.length), 1);
  const labelW = 26 + longest * 7;
  const titleH = 26;
  const topLabelH = 24;
  const cell = Math.max(12, Math.min(46, Math.floor((width - labelW - 24) / cols)));
  const w = labelW + cols * cell + 8;
  // The key under the map; the mask's note goes on a line of its own so that a narrow map does not clip it.
  const footer = ["rows: queries · columns: keys", ...(info.causal ? ["grey: masked (−∞ before softmax)"] : [])];
  const h = titleH + topLabelH + rows * cell + 8 + 14 * footer.length;
  const root = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: "img",
    "font-family": "ui-monospace, DejaVu Sans Mono, monospace" });
  const title = `${layerTitle(info.kind, info.layer)}, head ${head + 1}${step === null ? "" : ` · step ${step}`}`;
  root.append(
    svg("rect", { class: "bg", x: 0, y: 0, width: w, height: h, fill: "#ffffff" }),
    svg("title", { text: title }),
    svg("text", { class: "axis-title", x: 2, y: 15, "font-size": 12, fill: MUTED, "font-family": "system-ui, sans-serif",
      text: title }),
  );
  const x0 = labelW;
  const y0 = titleH + topLabelH;
  const fontSize = Math.min(13, Math.max(9, cell * 0.42));
  info.key_tokens.forEach((tok, j) => {
    root.append(svg("text", { class: "col-label", "data-col": j, "data-testid": `matrix-col-${j}`,
      x: x0 + j * cell + cell / 2, y: y0 - 7, "text-anchor": "middle", "font-size": fontSize, fill: INK, text: tok }));
  });
  info.query_tokens.forEach((tok, i) => {
    root.append(svg("text", { class: "row-label", "data-row": i, "data-testid": `matrix-row-${i}`,
      x: x0 - 6, y: y0 + i * cell + cell / 2 + fontSize * 0.35, "text-anchor": "end", "font-size": fontSize, fill: INK,
      text: tok }));
  });
  const showNumbers = cell >= 34;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = values[i * cols + j];
      const masked = info.causal && j > i;
      const color = sequential(v);
      root.append(svg("rect", { class: "cell", "data-row": i, "data-col": j, "data-testid": `matrix-cell-${i}-${j}`,
        x: x0 + j * cell, y: y0 + i * cell, width: cell - 1, height: cell - 1,
        fill: masked ? MASKED : rgb(color) }));
      if (showNumbers && !masked) {
        root.append(svg("text", { x: x0 + j * cell + cell / 2 - 0.5, y: y0 + i * cell + cell / 2 + 3.5,
          "text-anchor": "middle", "font-size": 10, fill: textOn(color), "pointer-events": "none",
          text: v >= 0.995 ? "1" : v.toFixed(2).replace(/^0/, "") }));
      }
    }
  }
  footer.forEach((line, n) => root.append(svg("text", { class: "axis-title", x: x0,
    y: h - 6 - 14 * (footer.length - 1 - n), "font-size": 11, fill: MUTED, "font-family": "system-ui, sans-serif",
    text: line })));
  return root;
}

export class MatrixView {
  /** `onHover(i, j)` with the hovered query/key positions, or (null, null) when the pointer leaves. */
  constructor(container, readout, tooltip, onHover) {
    this.container = container;
    this.readout = readout;
    this.tooltip = tooltip;
    this.onHover = onHover;
    this.info = null;
    this.head = 0;
    container.addEventListener("pointermove", (e) => this.hover(e));
    container.addEventListener("pointerleave", () => this.clear());
  }

  render(info, head, step) {
    this.info = info;
    this.head = head;
    const width = this.container.clientWidth || 480;
    this.svg = matrixSvg(info, head, { width, step });
    this.container.replaceChildren(this.svg);
    if (this.hovered) this.mark(...this.hovered, null);
  }

  hover(event) {
    const cell = event.target.closest?.(".cell");
    if (!cell || !this.info) return this.clear();
    const i = Number(cell.dataset.row);
    const j = Number(cell.dataset.col);
    this.mark(i, j, event);
  }

  mark(i, j, event) {
    this.hovered = [i, j];
    for (const el of this.svg.querySelectorAll(".hl")) el.classList.remove("hl");
    this.svg.querySelector(`.row-label[data-row="${i}"]`)?.classList.add("hl");
    this.svg.querySelector(`.col-label[data-col="${j}"]`)?.classList.add("hl");
    this.svg.querySelector(`.cell[data-row="${i}"][data-col="${j}"]`)?.classList.add("hl");
    const { cols, values } = headMatrix(this.info.weights, this.head);
    const q = this.info.query_tokens[i];
    const k = this.info.key_tokens[j];
    const masked = this.info.causal && j > i;
    const text = `query “${q}” (position ${i + 1}) → key “${k}” (position ${j + 1}): weight ${
      values[i * cols + j].toFixed(4)}${masked ? " — masked, this key comes later" : ""}`;
    this.readout.textContent = text;
    if (event) {
      this.tooltip.hidden = false;
      this.tooltip.textContent = `${q} → ${k}: ${values[i * cols + j].toFixed(3)}`;
      this.tooltip.style.left = `${event.clientX + 12}px`;
      this.tooltip.style.top = `${event.clientY + 12}px`;
    }
    this.onHover(i, j);
  }

  clear() {
    if (!this.hovered) return;
    this.hovered = null;
    this.tooltip.hidden = true;
    for (const el of this.svg?.querySelectorAll(".hl") || []) el.classList.remove("hl");
    this.onHover(null, null);
  }
}
