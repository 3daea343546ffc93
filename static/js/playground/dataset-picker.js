// The data set picker: one thumbnail per data set, drawn from the server's preview points, in groups.
import { rgb } from "../lib/colors.js";
import { pointColor } from "./value-maps.js";

// Short captions for the small thumbnails (the full title is the tooltip).
const SHORT = { xor: "XOR", gauss: "Gauss", spiral3: "3-class", multigauss: "Bumps", xsinx: "x sin x" };

const GROUPS = [
  { task: "classification", title: "Classification", test: (d) => d.kind === "plane" && d.task !== "regression" },
  { task: "regression", title: "Regression", test: (d) => d.kind === "plane" && d.task === "regression" },
  { task: "curve", title: "Curve fitting (1-D)", test: (d) => d.kind === "curve" },
];

function drawPreview(canvas, dataset) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#f4f6f8";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  drawPoints(canvas, dataset.task, dataset.preview);
}

/**
 * Dots for `points` ({x, y} decoded arrays over [−6, 6]) on `canvas`, coloured by `task`'s label colours; a ring
 * when `outline` (over a painted output). Returns how many were drawn.
 */
export function drawPoints(canvas, task, points, { outline = false } = {}) {
  const ctx = canvas.getContext("2d");
  const size = canvas.width;
  const x = points.x.data;
  const y = points.y.data;
  const n = y.length;
  const dim = x.length / n;
  const sx = (v) => ((v + 6) / 12) * size;
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = rgb(pointColor(task, y[i]));
    const px = sx(x[dim * i]);
    const py = dim === 2 ? size - sx(x[dim * i + 1]) : size / 2 - (y[i] / 2) * (size / 2);
    ctx.beginPath();
    ctx.arc(px, py, size / 40 + 0.6, 0, Math.PI * 2);
    ctx.fill();
    if (outline) {
      ctx.strokeStyle = "rgba(255, 255, 255, 0.9)";
      ctx.lineWidth = Math.max(0.6, size / 200);
      ctx.stroke();
    }
  }
  return n;
}

/** Build the picker in `container`; `onPick(name)` runs on a click. Returns {select(name)}. */
export function datasetPicker(container, datasets, onPick) {
  container.replaceChildren();
  const buttons = new Map();
  for (const group of GROUPS) {
    const members = datasets.filter(group.test);
    if (!members.length) continue;
    const title = document.createElement("div");
    title.className = "pg-dataset-group tiny";
    title.textContent = group.title;
    const grid = document.createElement("div");
    grid.className = "pg-dataset-grid";
    for (const d of members) {
      const button = document.createElement("button");
      button.className = "pg-dataset";
      button.setAttribute("data-testid", `dataset-${d.name}`);
      button.title = d.formula ? `${d.title}: y = ${d.formula}` : d.title;
      const canvas = document.createElement("canvas");
      canvas.width = 96;
      canvas.height = 96;
      drawPreview(canvas, d);
      const caption = document.createElement("span");
      caption.textContent = SHORT[d.name] || d.title;
      button.append(canvas, caption);
      button.addEventListener("click", () => onPick(d.name));
      grid.append(button);
      buttons.set(d.name, button);
    }
    container.append(title, grid);
  }
  return {
    select(name) {
      for (const [key, b] of buttons) b.setAttribute("aria-pressed", String(key === name));
    },
  };
}
