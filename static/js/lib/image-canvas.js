// Draw engine images on canvases: grayscale 0–255 (clipped, as an image editor shows them) or on the
// diverging scale (negative orange, positive blue, nothing hidden), and frame one window of pixels.
import { drawHeatmap, drawLegend, paintPixels } from "./heatmap.js";

/**
 * Paint a flat row-major array (rows × cols) as gray pixels: `level(value)` is the gray level 0–255 (by default
 * the value itself), clipped outside 0–255.
 */
export function drawGray(canvas, values, rows, cols, level = (v) => v) {
  paintPixels(canvas, rows, cols, (i) => {
    const v = Math.max(0, Math.min(255, Math.round(level(values[i]))));
    return [v, v, v];
  });
}

/** A legend for gray images: a black-to-white bar between "0" and "255", with a label. */
export function drawGrayLegend(container, label, width = 140) {
  drawLegend(container, { scale: "gray", label, width });
}

/** Paint values on the diverging scale of ±range (beyond it, full colour); returns the range (for the legend). */
export function drawDiverging(canvas, values, rows, cols, range) {
  return drawHeatmap(canvas, values, rows, cols, { scale: "diverging", range: range || 1 });
}

/** Flatten nested lists (rows of numbers) into a Float64Array. */
export function flatten2d(rows) {
  const out = new Float64Array(rows.length * rows[0].length);
  let i = 0;
  for (const row of rows) for (const v of row) out[i++] = v;
  return out;
}

/** Nested lists (rows) from a flat row-major array. */
export function nest(flat, rows, cols) {
  return Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * cols, (r + 1) * cols)));
}

/**
 * Position `frame` (an absolutely placed element over `canvas`, same parent) around the size×size pixels
 * starting at (top, left) of a rows×cols image; null hides it. Pixels outside the image (padding) are
 * drawn outside the canvas's edge.
 */
export function frameWindow(frame, canvas, rows, cols, top, left, size) {
  if (top === null) {
    frame.hidden = true;
    return;
  }
  const sx = canvas.clientWidth / cols;
  const sy = canvas.clientHeight / rows;
  frame.hidden = false;
  frame.style.left = `${canvas.offsetLeft + left * sx}px`;
  frame.style.top = `${canvas.offsetTop + top * sy}px`;
  frame.style.width = `${Math.max(size * sx, 3)}px`;
  frame.style.height = `${Math.max(size * sy, 3)}px`;
}

/** The pixel (row, col) of a rows×cols image under a mouse event on `canvas`, or null outside it. */
export function pixelAt(event, canvas, rows, cols) {
  const box = canvas.getBoundingClientRect();
  const c = Math.floor(((event.clientX - box.left) / box.width) * cols);
  const r = Math.floor(((event.clientY - box.top) / box.height) * rows);
  return r >= 0 && c >= 0 && r < rows && c < cols ? [r, c] : null;
}
