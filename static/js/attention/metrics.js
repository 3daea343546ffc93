// The training read-outs (step, accuracies, losses) and the learning curves, from the metric history.
import { formatFixed, formatPercent } from "../lib/format.js";
import { drawPlot } from "../lib/plot.js";

const $ = (id) => document.getElementById(id);

// A record's value by name: the shared fields, else what only a transformer measures (`extra`).
const metric = (h, key) => (key in h ? h[key] : h.extra?.[key]);

/**
 * `history`: the session's metrics records ({step, train_loss, test_loss, extra: {sequence_accuracy,
 * token_accuracy}, …}).
 */
export function renderMetrics(history, step) {
  $("attn-step-count").textContent = String(step).padStart(6, "0");
  const latest = history[history.length - 1];
  $("attn-accuracy").textContent = latest ? formatPercent(metric(latest, "sequence_accuracy")) : "—";
  $("attn-token-accuracy").textContent = latest ? formatPercent(metric(latest, "token_accuracy")) : "—";
  $("attn-loss").textContent = formatFixed(latest?.train_loss);
  $("attn-test-loss").textContent = formatFixed(latest?.test_loss);
  const series = (key, color, label, width = 2) => ({ xs: history.map((h) => h.step),
    ys: history.map((h) => metric(h, key)), color, label, width, testid: `curve-${key}` });
  const xMax = Math.max(100, step);
  const maxLoss = Math.max(1, ...history.flatMap((h) => [h.train_loss, h.test_loss]).filter(Number.isFinite));
  drawPlot($("attn-loss-curve"), { width: 240, height: 120, x: [0, xMax], y: [0, maxLoss * 1.05], xLabel: "step",
    series: [series("train_loss", "var(--text-muted)", "training loss"),
      series("test_loss", "var(--text)", "held-out loss", 1.6)] });
  drawPlot($("attn-accuracy-curve"), { width: 240, height: 120, x: [0, xMax], y: [0, 1], xLabel: "step",
    series: [series("token_accuracy", "var(--value-negative)", "token accuracy", 1.6),
      series("sequence_accuracy", "var(--prob-high)", "sequence accuracy", 2.4)] });
}
