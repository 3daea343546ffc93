// Draw a 2-D array on a canvas with a colour scale, and optionally a legend.
import { diverging, rgb, sequential, symmetricRange } from "./colors.js";
import { formatNumber } from "./format.js";

/**
 * Fill a rows × cols canvas pixel by pixel: `colorOf(i)` gives [r, g, b] for the i-th value (row-major).
 * The canvas keeps its CSS size; its pixel buffer becomes rows × cols and is scaled up crisply.
 */
export function paintPixels(canvas, rows, cols, colorOf) {
  if (canvas.width !== cols || canvas.height !== rows) {
    canvas.width = cols;
    canvas.height = rows;
  }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rows);
  const px = image.data;
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = colorOf(i);
    px[4 * i] = r;
    px[4 * i + 1] = g;
    px[4 * i + 2] = b;
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  canvas.classList.add("pixelated");
}

/**
 * Paint `values` (a flat array or typed array, row-major, rows × cols) onto `canvas`.
 * options.scale: "diverging" (default, symmetric range) or "sequential" (0..1).
 * options.range: for diverging, the |value| that maps to full colour (default: max |value|).
 * options.discretize: for diverging, snap to −range / +range by sign.
 */
export function drawHeatmap(canvas, values, rows, cols, options = {}) {
  const { scale = "diverging", discretize = false } = options;
  const range = options.range ?? (scale === "diverging" ? symmetricRange(values) : 1);
  paintPixels(canvas, rows, cols, (i) => {
    let v = values[i];
    if (discretize && scale === "diverging") v = v > 0 ? range : v < 0 ? -range : 0;
    return scale === "sequential" ? sequential(v) : diverging(v, range);
  });
  return range;
}

const LEGEND_COLOURS = {
  diverging: (t, range) => diverging((t * 2 - 1) * range, range),
  sequential: (t) => sequential(t),
  gray: (t) => [0, 1, 2].map(() => Math.round(255 * t)),
};

/**
 * A horizontal legend: a colour bar between its two end labels.
 * scale: "diverging" (ends ∓range), "sequential" (0 and 1) or "gray" (0 and 255, black to white);
 * `ends` replaces the end labels (e.g. ["−max", "+max"]).
 */
export function drawLegend(container, { scale = "diverging", range = 1, width = 160, label = "", ends } = {}) {
  container.classList.add("legend");
  container.replaceChildren();
  const bar = document.createElement("canvas");
  bar.width = width;
  bar.height = 10;
  bar.style.width = `${width}px`;
  bar.style.height = "10px";
  if (scale === "gray") bar.style.outline = "1px solid var(--border)";
  const ctx = bar.getContext("2d");
  for (let x = 0; x < width; x++) {
    ctx.fillStyle = rgb(LEGEND_COLOURS[scale](x / (width - 1), range));
    ctx.fillRect(x, 0, 1, 10);
  }
  const defaults = { diverging: [formatNumber(-range), formatNumber(range)], sequential: ["0", "1"], gray: ["0", "255"] };
  const [loText, hiText] = ends ?? defaults[scale];
  const span = (text) => Object.assign(document.createElement("span"), { textContent: text });
  container.append(...(label ? [span(label)] : []), span(loText), bar, span(hiText));
}
