// Curves over episodes: each episode's number, and a running mean so the trend reads through the noise.
import { drawPlot, extent } from "../lib/plot.js";

/** Mean of the last `window` values at every position. */
export function runningMean(values, window = 20) {
  const out = [];
  let sum = 0;
  const finite = values.map((v) => (Number.isFinite(v) ? v : 0));
  for (let i = 0; i < finite.length; i++) {
    sum += finite[i];
    if (i >= window) sum -= finite[i - window];
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

/** Plot `ys` against `xs` with their running mean (or only the mean when `meanOnly`). */
export function drawEpisodeCurve(svg, xs, ys, { yLabel, xLabel = "episode", window = 20, meanOnly = false,
  y = null } = {}) {
  const mean = runningMean(ys, window);
  const series = [];
  if (!meanOnly) series.push({ xs, ys, color: "var(--text-muted)", width: 1, label: "each" });
  series.push({ xs, ys: mean, color: "var(--accent)", width: 2.2, label: "mean" });
  const width = Math.max(260, Math.round(svg.clientWidth || 360));
  drawPlot(svg, { width, height: 150, x: xs.length ? [xs[0], Math.max(xs[xs.length - 1], xs[0] + 1)] : [0, 1],
    y: y ?? extent(meanOnly ? mean : ys, { include: [0] }), xLabel, yLabel, series });
}
