// Training curves: train and test loss (and accuracy) against training steps, with a hover read-out.
// A canvas redrawn every frame inside a small figure: its title and legend above, the value axis on the left,
// the epochs below, the read-out under them (it wraps rather than being cut). Scales from plot.js.
import { cssColor, fitCanvas } from "./plot-canvas.js";
import { el } from "./dom.js";
import { formatNumber, formatPercent } from "./format.js";
import { scaleLinear } from "./plot.js";

/**
 * A chart of `series` ({key, label, color, dash, unit}) over history entries (objects with `step`, `epoch` and
 * the series' keys). Colours may be CSS custom properties ("var(--text)"), read at each draw so that they
 * follow the theme. Long histories are thinned to about one entry per pixel column for drawing; the read-out
 * always names a real entry.
 */
export class LineChart {
  constructor(container, { series, height = 110, label = "" }) {
    // label names the quantity in the title and the read-out, e.g. "loss" or "accuracy"
    this.container = container;
    this.series = series;
    this.height = height;
    this.label = label;
    this.entries = [];
    this.percent = series.some((s) => s.unit === "%");
    this.canvas = el("canvas", { class: "lc-canvas", role: "img", "aria-label": `${label} against epochs` });
    this.canvas.style.height = `${height}px`;
    this.yTicks = el("div", { class: "lc-y", "aria-hidden": "true" }, [el("span"), el("span"), el("span", { text: "0" })]);
    this.xTicks = el("div", { class: "lc-x", "aria-hidden": "true" },
                     [el("span", { text: "0" }), el("span", { text: "epoch" }), el("span", { text: "0" })]);
    const legend = el("span", { class: "lc-legend" }, series.map((s) => el("span", { class: "lc-key" }, [
      el("i", { class: s.dash ? "lc-swatch dashed" : "lc-swatch", style: `background: ${s.color}` }), s.label])));
    this.readout = el("div", { class: "lc-readout tiny mono", "aria-live": "off" });
    this.root = el("figure", { class: "lc", "data-testid": `chart-${label}` }, [
      el("figcaption", { class: "lc-head" }, [el("span", { class: "lc-title", text: label }), legend]),
      el("div", { class: "lc-body" }, [this.yTicks, this.canvas]),
      this.xTicks, this.readout,
    ]);
    container.append(this.root);
    this.hoverIndex = null;
    this.canvas.addEventListener("mousemove", (e) => {
      const r = this.canvas.getBoundingClientRect();
      this.hoverIndex = this.indexAt((e.clientX - r.left) / r.width);
      this.draw();
    });
    this.canvas.addEventListener("mouseleave", () => { this.hoverIndex = null; this.draw(); });
  }

  setEntries(entries) {
    this.entries = entries;
    this.draw();
  }

  indexAt(fraction) {
    const n = this.entries.length;
    if (!n) return null;
    const first = this.entries[0].step;
    const last = this.entries[n - 1].step;
    const target = first + fraction * (last - first);
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid].step < target) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && Math.abs(this.entries[lo - 1].step - target) < Math.abs(this.entries[lo].step - target)) lo -= 1;
    return lo;
  }

  draw() {
    const { ctx, width, height, ratio } = fitCanvas(this.canvas, this.height);
    ctx.clearRect(0, 0, width, height);
    const entries = this.entries;
    const pad = 4 * ratio;
    ctx.strokeStyle = cssColor("var(--border)", "#d9dde3");
    ctx.lineWidth = ratio;
    ctx.beginPath();
    ctx.moveTo(0, height - pad);
    ctx.lineTo(width, height - pad);
    ctx.stroke();
    if (!entries.length) {
      this.readout.textContent = "";
      return;
    }
    let max = 0;
    for (const e of entries) for (const s of this.series) if (Number.isFinite(e[s.key])) max = Math.max(max, e[s.key]);
    if (this.percent) max = 1;
    max = max || 1;
    const tick = (v) => (this.percent ? formatPercent(v, 0) : formatNumber(v, 2));
    const [top, middle] = this.yTicks.children;
    top.textContent = tick(max);
    middle.textContent = tick(max / 2);
    this.xTicks.firstChild.textContent = String(entries[0].epoch);
    this.xTicks.lastChild.textContent = String(entries[entries.length - 1].epoch);
    const first = entries[0].step;
    const span = Math.max(1, entries[entries.length - 1].step - first);
    const sx = scaleLinear([first, first + span], [pad, width - pad]);
    const sy = scaleLinear([0, max], [height - pad, pad]);
    const stride = Math.max(1, Math.floor(entries.length / width));
    for (const s of this.series) {
      ctx.strokeStyle = cssColor(s.color);
      ctx.lineWidth = 1.6 * ratio;
      ctx.setLineDash(s.dash ? s.dash.map((d) => d * ratio) : []);
      ctx.beginPath();
      let started = false;
      const point = (i) => {
        const v = entries[i][s.key];
        if (!Number.isFinite(v)) return;
        if (started) ctx.lineTo(sx(entries[i].step), sy(v));
        else { ctx.moveTo(sx(entries[i].step), sy(v)); started = true; }
      };
      for (let i = 0; i < entries.length - 1; i += stride) point(i);
      point(entries.length - 1);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    const index = this.hoverIndex === null ? entries.length - 1 : Math.min(this.hoverIndex, entries.length - 1);
    const e = entries[index];
    if (this.hoverIndex !== null) {
      ctx.strokeStyle = cssColor("var(--text-muted)", "#5b6573");
      ctx.lineWidth = ratio;
      ctx.beginPath();
      ctx.moveTo(sx(e.step), 0);
      ctx.lineTo(sx(e.step), height);
      ctx.stroke();
    }
    const parts = [`epoch ${e.epoch}`];
    for (const s of this.series) {
      const v = e[s.key];
      if (v === null || v === undefined) continue;
      parts.push(`${s.label} ${s.unit === "%" ? formatPercent(v) : formatNumber(v, 3)}`);
    }
    if (this.hoverIndex !== null) parts[0] += ` (step ${e.step})`;
    this.readout.textContent = `${this.label ? this.label + ": " : ""}${parts.join(" · ")}`;
  }
}
