// The Playground's output column: the epoch counter, losses and their curves, and the large view — the
// network's output (or the neuron under the mouse) over the plane or along x, with the data points, a label
// and a legend. It draws what the page state holds; it never changes it.
import { POSITIVE, rgb } from "../lib/colors.js";
import { CurvePlot } from "./curve-plot.js";
import { drawLegend } from "../lib/heatmap.js";
import { formatFixed, formatNumber, formatPercent } from "../lib/format.js";
import { LineChart } from "../lib/line-chart.js";
import { PlanePlot } from "./plane-plot.js";
import { formatEpoch, neuronName } from "./state.js";
import { CLASS_COLORS, paintProbability } from "./value-maps.js";

const $ = (id) => document.getElementById(id);
const FULL_SIZE = 100; // the server's full-resolution maps are 100 × 100


export class OutputPanel {
  constructor() {
    this.lossChart = new LineChart($("loss-chart"), {
      height: 110,
      label: "loss",
      series: [{ key: "test_loss", label: "test", color: "var(--text)" },
               { key: "train_loss", label: "train", color: "#9aa4b2" }], // a grey that reads on light and dark
    });
    this.accuracyChart = new LineChart($("loss-chart"), {
      height: 84,
      label: "accuracy",
      series: [{ key: "test_accuracy", label: "test", color: rgb(POSITIVE), unit: "%" },
               { key: "train_accuracy", label: "train", color: rgb(POSITIVE, 0.4), unit: "%" }],
    });
    const points = document.querySelector(".pg-points");
    this.plane = new PlanePlot($("output-heatmap"), points);
    this.curve = new CurvePlot(points);
  }

  /** Data coordinates of a position on the plot (CSS pixels from its top-left corner). */
  toData(kind, px, py) {
    return kind === "curve" ? this.curve.toData(px, py) : this.plane.toData(px, py);
  }

  /** CSS pixels from the plot's top-left corner of data position (x, y): the inverse of toData. */
  toPixels(kind, x, y) {
    const r = $("output-plot").getBoundingClientRect();
    const top = kind === "curve" ? this.curve.yRange : 6;
    return [((x / 6 + 1) / 2) * r.width, ((1 - y / top) / 2) * r.height];
  }

  /** The y axis's tick values (top, middle, bottom) for this kind of data. */
  yTicks(kind) {
    return kind === "curve" ? [this.curve.yRange, 0, -this.curve.yRange] : [6, 0, -6];
  }

  /** The epoch counter, the latest losses (and accuracy for classes), and their curves over `history`. */
  drawMetrics(frame, history, task) {
    const counter = $("epoch-counter");
    counter.textContent = formatEpoch(frame.epoch);
    counter.dataset.epoch = String(frame.epoch);
    const m = frame.metrics || {};
    for (const [id, value] of [["test-loss", m.test_loss], ["train-loss", m.train_loss]]) {
      $(id).textContent = formatFixed(value);
      $(id).dataset.value = String(value ?? "");
    }
    const classification = task !== "regression";
    document.querySelector(".pg-accuracy").hidden = !classification;
    $("test-accuracy").textContent = formatPercent(m.test_accuracy);
    this.lossChart.setEntries(history);
    this.accuracyChart.root.hidden = !classification;
    if (classification) this.accuracyChart.setEntries(history);
  }

  /** The data points; on a curve they are part of the one drawing. `state`: the page state. */
  drawPoints(state) {
    const { showTestData } = state.view;
    if (state.kind === "curve") this.curve.draw(state.frame, state.data, { showTestData, focus: state.focus });
    else this.plane.drawPoints(state.data, { showTestData });
  }

  /** The large view, its label and its legend, for the page `state`. */
  drawOutput(state) {
    const { frame, layout, kind, view } = state;
    $("output-plot").classList.toggle("curve", kind === "curve");
    // The focused neuron's map, once the server has sent the one the mouse is on.
    const focus = frame && frame.focus && state.focus && frame.focus.layer === state.focus.layer &&
      frame.focus.index === state.focus.index ? frame.focus : null;
    $("plot-label").textContent = focus ? neuronName(focus.layer, focus.index, layout, state.config.features) : "";
    const legend = $("legend");
    if (kind === "curve") {
      this.curve.draw(frame, state.data, { showTestData: view.showTestData, focus: state.focus });
      legend.replaceChildren(); // curves have no colour scale (nor the last plane's)
      return;
    }
    if (!frame) return;
    const last = layout.length - 1;
    const classes = layout[last] === 3;
    if (focus && focus.layer === last && classes) {
      // One class's probability, from grey to its colour: the same painter as the thumbnails.
      paintProbability($("output-heatmap"), focus.values.data, FULL_SIZE, focus.index);
    } else if (focus) {
      this.plane.drawMap({ kind: "bytes", data: focus.values.data, size: FULL_SIZE, classes: 1 },
                         { discretize: view.discretize && focus.layer === last });
    } else if (frame.output) {
      this.plane.drawMap({ kind: "bytes", data: frame.output.data, size: FULL_SIZE, classes: frame.output.shape[0] },
                         { discretize: view.discretize });
    }
    if (classes && !focus) {
      legend.innerHTML = [0, 1, 2].map((c) =>
        `<span class="pg-swatch" style="background: ${rgb(CLASS_COLORS[c])}"></span> class ${c}`).join(" ");
      return;
    }
    const [low, high] = focus ? focus.range : frame.ranges ? frame.ranges[last - 1] : [-1, 1];
    // The bar takes the column's width but for room for the two end labels.
    drawLegend(legend, { ends: [formatNumber(low), formatNumber(high)], width: Math.max(120, legend.clientWidth - 64) });
  }
}
