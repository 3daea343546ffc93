// Paint neuron maps: uint8 maps (0…255 over a [low, high] range, as the server quantises them) through a
// 256-entry colour table, and three-class probability maps as a blend of the class colours.
import { diverging, NEGATIVE, POSITIVE, ZERO } from "../lib/colors.js";

/** Class colours: orange, blue (as TensorFlow Playground's −1 / +1) and a third for the three-class spiral. */
export const CLASS_COLORS = [NEGATIVE, POSITIVE, [0x2e, 0x9e, 0x5b]];

/** A data point's colour as [r, g, b]: its class's, or its value's on the diverging scale (regression). */
export function pointColor(task, label) {
  if (task === "regression") return diverging(label, 1);
  if (task === "multiclass") return CLASS_COLORS[Math.round(label)] || CLASS_COLORS[0];
  return CLASS_COLORS[label > 0.5 ? 1 : 0];
}

const tables = new Map();

/**
 * Colour table for byte q ∈ 0…255 (low + q/255·(high − low) on any range): the range's middle is grey, the
 * ends full orange / blue. `discretize` snaps every value to the end its side of the middle is on.
 */
export function colorTable(discretize = false) {
  const key = String(discretize);
  if (tables.has(key)) return tables.get(key);
  const table = new Uint8ClampedArray(256 * 3);
  for (let q = 0; q < 256; q++) {
    let t = (q / 255) * 2 - 1; // −1 at low, +1 at high
    if (discretize) t = q >= 128 ? 1 : -1;
    const [r, g, b] = diverging(t, 1);
    table.set([r, g, b], q * 3);
  }
  tables.set(key, table);
  return table;
}

/** The byte value of `v` on [low, high], as the server quantises. */
export function toByte(v, low, high) {
  return Math.max(0, Math.min(255, Math.round(((v - low) / (high - low)) * 255)));
}

function imageFor(canvas, size) {
  if (canvas.width !== size || canvas.height !== size) {
    canvas.width = size;
    canvas.height = size;
  }
  const ctx = canvas.getContext("2d");
  return [ctx, ctx.createImageData(size, size)];
}

/** Paint `bytes` (size × size, starting at `offset`) on `canvas` through the colour table. */
export function paintBytes(canvas, bytes, size, { offset = 0, discretize = false } = {}) {
  const table = colorTable(discretize);
  const [ctx, image] = imageFor(canvas, size);
  const px = image.data;
  for (let i = 0, n = size * size; i < n; i++) {
    const q = bytes[offset + i] * 3;
    px[4 * i] = table[q];
    px[4 * i + 1] = table[q + 1];
    px[4 * i + 2] = table[q + 2];
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** Paint float values on a symmetric range (input features) through the same colours. */
export function paintValues(canvas, values, size, range) {
  const bytes = new Uint8Array(size * size);
  for (let i = 0; i < bytes.length; i++) bytes[i] = toByte(values[i], -range, range);
  paintBytes(canvas, bytes, size);
}

/**
 * Three class-probability maps (3 × size × size bytes over [0, 1]) as one picture: each pixel takes the
 * colour of its likeliest class, paler the less sure the network is; `discretize` shows the class alone.
 */
export function paintClasses(canvas, bytes, size, { discretize = false } = {}) {
  const [ctx, image] = imageFor(canvas, size);
  const px = image.data;
  const n = size * size;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < 3; c++) if (bytes[c * n + i] > bytes[best * n + i]) best = c;
    const p = bytes[best * n + i] / 255;
    const t = discretize ? 1 : Math.max(0, Math.min(1, (p - 1 / 3) / (2 / 3)));
    const color = CLASS_COLORS[best];
    for (let k = 0; k < 3; k++) px[4 * i + k] = Math.round(ZERO[k] + (color[k] - ZERO[k]) * t);
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

/** Paint one class's probability map (size × size bytes over [0, 1]) from grey to that class's colour. */
export function paintProbability(canvas, bytes, size, classIndex, offset = 0) {
  const [ctx, image] = imageFor(canvas, size);
  const px = image.data;
  const color = CLASS_COLORS[classIndex];
  for (let i = 0, n = size * size; i < n; i++) {
    const t = bytes[offset + i] / 255;
    for (let k = 0; k < 3; k++) px[4 * i + k] = Math.round(ZERO[k] + (color[k] - ZERO[k]) * t);
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}
