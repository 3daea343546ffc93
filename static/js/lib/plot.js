// Line plots in SVG: axes with round-number ticks, curves that break at gaps, a marker at one x.
// The curves are data the engine computed; this module only maps them to pixels.
import { svg as svgElement } from "./svg.js";

let clipCounter = 0;

/** Round-number ticks covering [lo, hi], about `count` of them (1, 2 or 5 times a power of ten apart). */
export function niceTicks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Math.abs(t) < step * 1e-9 ? 0 : Number(t.toPrecision(12)));
  }
  return ticks;
}

/** A linear map from [d0, d1] to [r0, r1]. */
export function scaleLinear([d0, d1], [r0, r1]) {
  const k = (r1 - r0) / (d1 - d0 || 1);
  return (v) => r0 + (v - d0) * k;
}

/** Lo/hi of finite values with a margin; never an empty range. */
export function extent(values, { include = [], pad = 0.08 } = {}) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...values, ...include]) {
    if (v === null || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [-1, 1];
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const margin = (hi - lo) * pad;
  return [lo - margin, hi + margin];
}

/** SVG path data through (x, y) pairs; null / non-finite y values break the line. */
export function pathData(xs, ys, sx, sy) {
  let d = "";
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y === null || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    d += `${pen ? "L" : "M"}${sx(xs[i]).toFixed(2)},${sy(y).toFixed(2)}`;
    pen = true;
  }
  return d;
}

// Paint goes through CSS so that colours may be custom properties (var(--accent)) and follow dark mode.
const PAINT = new Set(["stroke", "fill", "stroke-width", "stroke-dasharray"]);

/** A new SVG element `name` appended to `parent`, its paint attributes set as CSS properties. */
function el(name, attrs, parent) {
  const plain = {};
  const paint = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (PAINT.has(k)) paint.push(`${k}: ${v}`);
    else plain[k] = v;
  }
  if (paint.length) plain.style = paint.join("; ");
  return parent.appendChild(svgElement(name, plain));
}

function tickLabel(v) {
  const s = Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(v);
  return s.replace("-", "−");
}

/**
 * Draw a plot into `svg` (replacing its content).
 * spec: {width, height, x: [lo, hi], y: [lo, hi], xLabel, yLabel,
 *        series: [{xs, ys, color, width, dash, label, testid}],
 *        marker: {x, label, points: [{y, color}]} (optional; x outside the domain is clamped and flagged)}
 */
export function drawPlot(svg, spec) {
  const { width = 320, height = 200, series = [], marker = null } = spec;
  const margin = { top: 22, right: 12, bottom: 30, left: 42 };
  const [x0, x1] = spec.x;
  const [y0, y1] = spec.y;
  const sx = scaleLinear([x0, x1], [margin.left, width - margin.right]);
  const sy = scaleLinear([y0, y1], [height - margin.bottom, margin.top]);
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");

  const clipId = `plot-clip-${++clipCounter}`;
  const defs = el("defs", {}, svg);
  el("rect", { x: margin.left, y: margin.top, width: width - margin.left - margin.right,
    height: height - margin.top - margin.bottom }, el("clipPath", { id: clipId }, defs));

  const grid = el("g", { class: "plot-grid" }, svg);
  for (const t of niceTicks(x0, x1, 6)) {
    el("line", { x1: sx(t), x2: sx(t), y1: margin.top, y2: height - margin.bottom,
      stroke: "var(--border)", "stroke-width": t === 0 ? 1.4 : 0.6 }, grid);
    el("text", { x: sx(t), y: height - margin.bottom + 14, "text-anchor": "middle", class: "plot-tick" }, grid)
      .textContent = tickLabel(t);
  }
  for (const t of niceTicks(y0, y1, 4)) {
    el("line", { x1: margin.left, x2: width - margin.right, y1: sy(t), y2: sy(t),
      stroke: "var(--border)", "stroke-width": t === 0 ? 1.4 : 0.6 }, grid);
    el("text", { x: margin.left - 6, y: sy(t) + 4, "text-anchor": "end", class: "plot-tick" }, grid)
      .textContent = tickLabel(t);
  }
  if (spec.xLabel) {
    el("text", { x: width - margin.right, y: height - 2, "text-anchor": "end", class: "plot-axis-label" }, svg)
      .textContent = spec.xLabel;
  }
  if (spec.yLabel) {
    el("text", { x: margin.left, y: 13, "text-anchor": "start", class: "plot-axis-label" }, svg)
      .textContent = spec.yLabel;
  }

  const curves = el("g", { "clip-path": `url(#${clipId})` }, svg);
  for (const s of series) {
    el("path", {
      d: pathData(s.xs, s.ys, sx, sy), fill: "none", stroke: s.color || "var(--accent)",
      "stroke-width": s.width || 2.2, "stroke-dasharray": s.dash, "stroke-linejoin": "round",
      "stroke-linecap": "round", class: "plot-curve", "data-testid": s.testid, "data-label": s.label,
    }, curves);
  }

  if (marker && Number.isFinite(marker.x)) {
    const clamped = Math.min(x1, Math.max(x0, marker.x));
    const outside = clamped !== marker.x;
    const mx = sx(clamped);
    const g = el("g", { class: "plot-marker" }, svg);
    el("line", { x1: mx, x2: mx, y1: margin.top, y2: height - margin.bottom, stroke: "var(--text-muted)",
      "stroke-width": 1.2, "stroke-dasharray": "4 3" }, g);
    if (!outside) {
      for (const p of marker.points || []) {
        if (p.y === null || !Number.isFinite(p.y) || p.y < y0 || p.y > y1) continue;
        el("circle", { cx: mx, cy: sy(p.y), r: 5, fill: p.color || "var(--accent)", stroke: "var(--surface)",
          "stroke-width": 2 }, g);
      }
    }
    if (marker.label) {
      const anchor = mx > width - 70 ? "end" : mx < margin.left + 40 ? "start" : "middle";
      const dx = anchor === "end" ? -4 : anchor === "start" ? 4 : 0;
      const text = !outside ? marker.label : marker.x > x1 ? `${marker.label} →` : `← ${marker.label}`;
      el("text", { x: mx + dx, y: margin.top - 6, "text-anchor": anchor, class: "plot-marker-label" }, g)
        .textContent = text;
    }
  }
  return { sx, sy };
}
