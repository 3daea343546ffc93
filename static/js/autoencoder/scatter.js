// A latent map: the codes the server computed for the test digits, as dots coloured by their true digit, on a
// square canvas. Hover finds the nearest dot; press and drag report the code under the pointer (the page decodes
// it on the server); markers (the decoded point, a drawn digit, the interpolation's ends) are DOM elements over
// the canvas, so they stay sharp and tests can find them.
import { fitCanvas, cssColor } from "../lib/plot-canvas.js";
import { scaleLinear } from "../lib/plot.js";

/** One colour per digit 0–9 (Tableau 10: distinct on light and dark grounds, kind to common colour blindness). */
export const DIGIT_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
  "#ff9da7", "#9c755f", "#79706e"];

const HOVER_RADIUS = 10; // CSS pixels

/** [lo, hi] of one coordinate, from its 0.5th to 99.5th percentile plus a margin: a few outliers do not shrink
 *  the clusters into a corner. */
function robustRange(values) {
  const sorted = Float64Array.from(values).sort();
  const lo = sorted[Math.floor(0.005 * (sorted.length - 1))];
  const hi = sorted[Math.ceil(0.995 * (sorted.length - 1))];
  const span = hi - lo || 1;
  return [lo - 0.1 * span, hi + 0.1 * span];
}

export class ScatterMap {
  /**
   * options.onPoint([z1, z2], {final}) — pressed or dragged at a code (in "decode" mode);
   * options.onPick(index) — clicked near a dot (in "pick" mode);
   * options.onHover(index | null, event) — the dot under the pointer;
   * options.markerId — the markers' data-testid.
   */
  constructor(canvas, { onPoint = () => {}, onPick = () => {}, onHover = () => {}, markerId = "latent-point" } = {}) {
    this.canvas = canvas;
    this.markerId = markerId;
    this.wrap = canvas.parentElement;
    this.onPoint = onPoint;
    this.onPick = onPick;
    this.onHover = onHover;
    this.mode = "decode";
    this.points = null; // flat Float32Array, `width` numbers per digit
    this.width = 2;
    this.labels = [];
    this.line = null; // [[x, y], [x, y]]
    this.markers = new Map(); // kind → {element, z}
    this.dragging = null;
    this.queued = false;
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
    canvas.addEventListener("pointerleave", () => { if (this.dragging === null) this.onHover(null); });
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** New codes (e.g. every live frame); the view follows them. */
  setData(points, width, labels) {
    this.points = points;
    this.width = width;
    this.labels = labels;
    const n = labels.length;
    const xs = new Float64Array(n);
    const ys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      xs[i] = points[i * width];
      ys[i] = points[i * width + 1];
    }
    this.xRange = robustRange(xs);
    this.yRange = robustRange(ys);
    this.draw();
  }

  /** The code of digit i as [z1, z2, …]. */
  code(i) {
    return Array.from(this.points.subarray(i * this.width, (i + 1) * this.width));
  }

  scales() {
    const w = this.canvas.clientWidth;
    const h = this.canvas.clientHeight;
    return {
      sx: scaleLinear(this.xRange, [0, w]), sy: scaleLinear(this.yRange, [h, 0]),
      ix: scaleLinear([0, w], this.xRange), iy: scaleLinear([h, 0], this.yRange),
    };
  }

  toCode(event) {
    const box = this.canvas.getBoundingClientRect();
    const { ix, iy } = this.scales();
    return [ix(event.clientX - box.left), iy(event.clientY - box.top)];
  }

  nearest(event) {
    if (!this.points) return null;
    const box = this.canvas.getBoundingClientRect();
    const px = event.clientX - box.left;
    const py = event.clientY - box.top;
    const { sx, sy } = this.scales();
    let best = null;
    let bestD = HOVER_RADIUS * HOVER_RADIUS;
    for (let i = 0; i < this.labels.length; i++) {
      const dx = sx(this.points[i * this.width]) - px;
      const dy = sy(this.points[i * this.width + 1]) - py;
      const d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  down(event) {
    if (!this.points || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    if (this.mode === "pick") {
      const i = this.nearest(event);
      if (i !== null) this.onPick(i);
      return;
    }
    this.dragging = event.pointerId;
    this.canvas.setPointerCapture(event.pointerId);
    this.onPoint(this.toCode(event), { final: false });
  }

  move(event) {
    if (this.dragging === event.pointerId) {
      this.onPoint(this.toCode(event), { final: false });
      return;
    }
    if (this.points) this.onHover(this.nearest(event), event);
  }

  up(event) {
    if (this.dragging !== event.pointerId) return;
    this.dragging = null;
    this.onPoint(this.toCode(event), { final: true });
  }

  /** A marker at code `z` (null removes it); `kind` names it ("click", "drawn", "a", "b"), `text` labels it. */
  setMarker(kind, z, text = "") {
    let marker = this.markers.get(kind);
    if (z === null) {
      if (marker) marker.element.remove();
      this.markers.delete(kind);
      return;
    }
    if (!marker) {
      const element = document.createElement("div");
      element.className = `map-marker marker-${kind}`;
      element.dataset.testid = this.markerId;
      element.dataset.kind = kind;
      this.wrap.append(element);
      marker = { element, z };
      this.markers.set(kind, marker);
    }
    marker.z = z;
    marker.element.textContent = text;
    marker.element.dataset.x = String(z[0]);
    marker.element.dataset.y = String(z[1]);
    this.placeMarker(marker);
  }

  placeMarker(marker) {
    if (!this.xRange) return;
    const { sx, sy } = this.scales();
    const x = sx(marker.z[0]);
    const y = sy(marker.z[1]);
    const inside = x >= 0 && y >= 0 && x <= this.canvas.clientWidth && y <= this.canvas.clientHeight;
    marker.element.hidden = !inside;
    marker.element.style.left = `${this.canvas.offsetLeft + x}px`;
    marker.element.style.top = `${this.canvas.offsetTop + y}px`;
  }

  setLine(a, b) {
    this.line = a && b ? [a, b] : null;
    this.draw();
  }

  draw() {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.paint();
    });
  }

  paint() {
    const { ctx, width, height, ratio } = fitCanvas(this.canvas);
    ctx.clearRect(0, 0, width, height);
    if (!this.points) return;
    const { sx, sy } = this.scales();
    // Axes through the origin, when it is in view: the code's zero.
    ctx.strokeStyle = cssColor("var(--border)", "#d9dde3");
    ctx.lineWidth = ratio;
    ctx.beginPath();
    const ox = sx(0) * ratio;
    const oy = sy(0) * ratio;
    if (ox > 0 && ox < width) { ctx.moveTo(ox, 0); ctx.lineTo(ox, height); }
    if (oy > 0 && oy < height) { ctx.moveTo(0, oy); ctx.lineTo(width, oy); }
    ctx.stroke();
    const r = 2.3 * ratio;
    ctx.globalAlpha = 0.78;
    for (let digit = 0; digit < 10; digit++) {
      ctx.fillStyle = DIGIT_COLORS[digit];
      ctx.beginPath();
      for (let i = 0; i < this.labels.length; i++) {
        if (this.labels[i] !== digit) continue;
        const x = sx(this.points[i * this.width]) * ratio;
        const y = sy(this.points[i * this.width + 1]) * ratio;
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, Math.PI * 2);
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
    if (this.line) {
      ctx.strokeStyle = cssColor("var(--text)", "#1d2430");
      ctx.lineWidth = 1.5 * ratio;
      ctx.setLineDash([5 * ratio, 4 * ratio]);
      ctx.beginPath();
      ctx.moveTo(sx(this.line[0][0]) * ratio, sy(this.line[0][1]) * ratio);
      ctx.lineTo(sx(this.line[1][0]) * ratio, sy(this.line[1][1]) * ratio);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    for (const marker of this.markers.values()) this.placeMarker(marker);
  }
}

/** The legend: one swatch per digit. */
export function renderDigitLegend(container) {
  container.replaceChildren(...DIGIT_COLORS.map((color, digit) => {
    const item = document.createElement("span");
    item.className = "legend-item";
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = color;
    item.append(swatch, document.createTextNode(String(digit)));
    return item;
  }));
}
