// Draw a 2-D array on a canvas with a colour scale, and optionally a legend.
import { diverging, rgb, sequential, symmetricRange } from "./colors.js";

/**
 * Paint `values` (a flat array or typed array, row-major, rows × cols) onto `canvas`.
 * options.scale: "diverging" (default, symmetric range) or "sequential" (0..1).
 * options.range: for diverging, the |value| that maps to full colour (default: max |value|).
 * options.discretize: for diverging, snap to −range / +range by sign.
 * The canvas keeps its CSS size; its pixel buffer becomes rows × cols and is scaled up crisply.
 */
export function drawHeatmap(canvas, values, rows, cols, options = {}) {
  const { scale = "diverging", discretize = false } = options;
  const range = options.range ?? (scale === "diverging" ? symmetricRange(values) : 1);
  if (canvas.width !== cols || canvas.height !== rows) {
    canvas.width = cols;
    canvas.height = rows;
  }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rows);
  const px = image.data;
  for (let i = 0; i < rows * cols; i++) {
    let v = values[i];
    if (discretize && scale === "diverging") v = v > 0 ? range : v < 0 ? -range : 0;
    const [r, g, b] = scale === "sequential" ? sequential(v) : diverging(v, range);
    px[4 * i] = r;
    px[4 * i + 1] = g;
    px[4 * i + 2] = b;
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  canvas.classList.add("pixelated");
  return range;
}

/** A horizontal legend: a colour bar with the range's ends and middle labelled. */
export function drawLegend(container, { scale = "diverging", range = 1, width = 160, label = "" } = {}) {
  container.classList.add("legend");
  container.replaceChildren();
  const bar = document.createElement("canvas");
  bar.width = width;
  bar.height = 10;
  bar.style.width = `${width}px`;
  bar.style.height = "10px";
  const ctx = bar.getContext("2d");
  for (let x = 0; x < width; x++) {
    const t = x / (width - 1);
    const color = scale === "sequential" ? sequential(t) : diverging((t * 2 - 1) * range, range);
    ctx.fillStyle = rgb(color);
    ctx.fillRect(x, 0, 1, 10);
  }
  const lo = document.createElement("span");
  const hi = document.createElement("span");
  lo.textContent = scale === "sequential" ? "0" : formatNumber(-range);
  hi.textContent = scale === "sequential" ? "1" : formatNumber(range);
  const parts = [lo, bar, hi];
  if (label) {
    const name = document.createElement("span");
    name.textContent = label;
    parts.unshift(name);
  }
  container.append(...parts);
}

/** Short, honest number formatting: up to `digits` significant digits, no trailing noise. */
export function formatNumber(v, digits = 3) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : v < 0 ? "−∞" : "NaN";
  if (v === 0) return "0";
  const abs = Math.abs(v);
  let s;
  if (abs >= 1e4 || abs < 1e-3) s = v.toExponential(digits - 1);
  else s = Number(v.toPrecision(digits)).toString();
  return s.replace("-", "−");
}
