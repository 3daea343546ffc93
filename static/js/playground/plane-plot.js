// The large 2-D view: a heatmap over [−6, 6]² (the output, or the neuron under the mouse) with the training
// points on top, and the test points when asked.
import { fitCanvas } from "../lib/plot-canvas.js";
import { rgb } from "../lib/colors.js";
import { paintBytes, paintClasses, paintValues, pointColor } from "./value-maps.js";

const EXTENT = 6;

export class PlanePlot {
  /** `heatmap`: canvas for the map (100 × 100 pixels, scaled by CSS); `points`: canvas overlay for the points. */
  constructor(heatmap, points) {
    this.heatmap = heatmap;
    this.points = points;
  }

  /** Data coordinates of a position on the plot (CSS pixels from its top-left corner). */
  toData(px, py) {
    const r = this.points.getBoundingClientRect();
    return [((px / r.width) * 2 - 1) * EXTENT, (1 - (py / r.height) * 2) * EXTENT];
  }

  /**
   * Paint a map. map: {kind: "bytes", data, size, classes (1|3)} — server bytes over a range — or
   * {kind: "values", data, size, range} — floats on a symmetric range (an input feature).
   */
  drawMap(map, { discretize = false } = {}) {
    if (map.kind === "values") paintValues(this.heatmap, map.data, map.size, map.range);
    else if (map.classes === 3) paintClasses(this.heatmap, map.data, map.size, { discretize });
    else paintBytes(this.heatmap, map.data, map.size, { discretize });
  }

  /** data: decoded {task, train: {x, y}, test: {x, y}}. */
  drawPoints(data, { showTestData = false } = {}) {
    const { ctx, width: w, height: h, ratio } = fitCanvas(this.points);
    ctx.clearRect(0, 0, w, h);
    if (!data) return;
    const radius = Math.max(2.5, w / 110);
    const draw = (set, stroke) => {
      const xs = set.x.data;
      for (let i = 0; i < set.y.data.length; i++) {
        const x = ((xs[2 * i] + EXTENT) / (2 * EXTENT)) * w;
        const y = (1 - (xs[2 * i + 1] + EXTENT) / (2 * EXTENT)) * h;
        ctx.beginPath();
        ctx.arc(x, y, radius, 0, Math.PI * 2);
        ctx.fillStyle = rgb(pointColor(data.task, set.y.data[i]));
        ctx.fill();
        ctx.lineWidth = Math.max(1, ratio);
        ctx.strokeStyle = stroke;
        ctx.stroke();
      }
    };
    draw(data.train, "#ffffff");
    if (showTestData) draw(data.test, "#1d2430");
  }
}
