// A small line chart of the error per training step, drawn on a canvas at the display's pixel ratio.
import { formatNumber } from "./heatmap.js";

/** Nice axis maximum: 1, 2 or 5 times a power of ten, at least `value`. */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power;
  return 10 * power;
}

/**
 * Draw `points` ([{step, loss}], sorted by step) on `canvas`. Colours come from the page's CSS variables so the
 * chart follows light and dark mode.
 */
export function drawLossChart(canvas, points) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const style = getComputedStyle(canvas);
  const text = style.getPropertyValue("--text-muted").trim() || "#5b6573";
  const grid = style.getPropertyValue("--border").trim() || "#d9dde3";
  const line = style.getPropertyValue("--accent").trim() || "#0877bd";
  ctx.font = "11px system-ui, sans-serif";
  const left = 40;
  const right = width - 8;
  const top = 8;
  const bottom = height - 20;
  const finite = points.filter((p) => Number.isFinite(p.loss));
  const maxLoss = niceMax(Math.max(0, ...finite.map((p) => p.loss)));
  const first = finite.length ? finite[0].step : 0;
  const last = finite.length ? Math.max(finite[finite.length - 1].step, first + 1) : 1;
  const x = (step) => left + ((step - first) / (last - first)) * (right - left);
  const y = (loss) => bottom - (loss / maxLoss) * (bottom - top);
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.fillStyle = text;
  for (const f of [0, 0.5, 1]) {
    const yy = Math.round(y(f * maxLoss)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, yy);
    ctx.lineTo(right, yy);
    ctx.stroke();
    ctx.textAlign = "right";
    ctx.fillText(formatNumber(f * maxLoss), left - 4, yy + 4);
  }
  ctx.textAlign = "left";
  ctx.fillText(`step ${first}`, left, height - 5);
  ctx.textAlign = "right";
  ctx.fillText(`step ${last}`, right, height - 5);
  if (!finite.length) return;
  ctx.strokeStyle = line;
  ctx.fillStyle = line;
  ctx.lineWidth = 2;
  ctx.beginPath();
  finite.forEach((p, k) => (k ? ctx.lineTo(x(p.step), y(p.loss)) : ctx.moveTo(x(p.step), y(p.loss))));
  ctx.stroke();
  if (finite.length < 40) {
    for (const p of finite) {
      ctx.beginPath();
      ctx.arc(x(p.step), y(p.loss), 2.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
}
