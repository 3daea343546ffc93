// 1-D curve fitting drawn as a line plot: the data points, the network's curve and every hidden neuron's
// curve over x ∈ [−6, 6]. Also the small curve thumbnails of the network view.
import { cssColor, fitCanvas } from "../lib/plot-canvas.js";
import { POSITIVE, rgb } from "../lib/colors.js";

const EXTENT = 6;

/** A thumbnail: each of `curves` (arrays along `axis`) on [−range, range], with the zero line. */
export function drawCurve(canvas, axis, curves, { range = 1, colors = null } = {}) {
  const ctx = canvas.getContext("2d");
  const w = canvas.width;
  const h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = cssColor("var(--value-zero)", "#e8eaeb");
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = "rgba(0,0,0,0.18)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(0, h / 2);
  ctx.lineTo(w, h / 2);
  ctx.stroke();
  curves.forEach((values, k) => {
    ctx.strokeStyle = colors ? colors[k] : rgb(POSITIVE);
    ctx.lineWidth = Math.max(1.5, w / 30);
    ctx.beginPath();
    for (let i = 0; i < values.length; i++) {
      const x = ((axis[i] + EXTENT) / (2 * EXTENT)) * w;
      const y = h / 2 - (Math.max(-range, Math.min(range, values[i])) / range) * (h / 2 - 2);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
  });
}

/**
 * The large 1-D view. `data`: {train: {x, y}, test: {x, y}} (decoded), `frame`: the latest frame.
 * options: {showTestData, focus: {layer, index} | null, yRange}
 */
export class CurvePlot {
  constructor(canvas) {
    this.canvas = canvas;
    this.yRange = 2;
  }

  /** Data coordinates of a point on the canvas (CSS pixels). */
  toData(px, py) {
    const r = this.canvas.getBoundingClientRect();
    return [((px / r.width) * 2 - 1) * EXTENT, (1 - (py / r.height) * 2) * this.yRange];
  }

  draw(frame, data, options = {}) {
    const { ctx, width: w, height: h, ratio } = fitCanvas(this.canvas);
    const Y = this.yRange;
    const sx = (x) => ((x + EXTENT) / (2 * EXTENT)) * w;
    const sy = (y) => h / 2 - (Math.max(-Y * 1.2, Math.min(Y * 1.2, y)) / Y) * (h / 2);
    ctx.fillStyle = cssColor("var(--surface)", "#fff");
    ctx.fillRect(0, 0, w, h);
    // grid
    ctx.strokeStyle = cssColor("var(--border)", "#d9dde3");
    ctx.lineWidth = ratio;
    ctx.beginPath();
    for (let x = -EXTENT; x <= EXTENT; x += 2) { ctx.moveTo(sx(x), 0); ctx.lineTo(sx(x), h); }
    for (let y = -Y; y <= Y; y += 1) { ctx.moveTo(0, sy(y)); ctx.lineTo(w, sy(y)); }
    ctx.stroke();
    if (!frame || frame.kind !== "curve") return;
    const axis = frame.axis.data;
    const count = axis.length;
    const line = (values, color, width) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = width * ratio;
      ctx.beginPath();
      for (let i = 0; i < count; i++) {
        if (i === 0) ctx.moveTo(sx(axis[i]), sy(values[i]));
        else ctx.lineTo(sx(axis[i]), sy(values[i]));
      }
      ctx.stroke();
    };
    // every hidden neuron's curve, faint; the focused one bold
    const hiddenLayers = frame.neurons.length - 1;
    for (let l = 0; l < hiddenLayers; l++) {
      const maps = frame.neurons[l];
      const units = maps.shape[0];
      for (let j = 0; j < units; j++) {
        const focused = options.focus && options.focus.layer === l + 1 && options.focus.index === j;
        const hue = (l * 67 + j * 29) % 360;
        line(maps.data.subarray(j * count, (j + 1) * count),
             focused ? `hsl(${hue} 70% 40%)` : `hsla(${hue}, 60%, 50%, 0.35)`, focused ? 3 : 1.2);
      }
    }
    // the points
    const dot = (x, y, fill, stroke) => {
      ctx.beginPath();
      ctx.arc(sx(x), sy(y), 3.2 * ratio, 0, Math.PI * 2);
      ctx.fillStyle = fill;
      ctx.fill();
      ctx.lineWidth = ratio;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    };
    if (data) {
      const blue = rgb(POSITIVE);
      for (let i = 0; i < data.train.y.data.length; i++) dot(data.train.x.data[i], data.train.y.data[i], blue, "#fff");
      if (options.showTestData) {
        for (let i = 0; i < data.test.y.data.length; i++) dot(data.test.x.data[i], data.test.y.data[i], "#fff", blue);
      }
    }
    // the network's curve on top
    line(frame.output.data, cssColor("var(--text)"), 3);
  }
}
