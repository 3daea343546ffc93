// Colour scales shared by every page.
// Diverging (values): orange #f59322 for −1, light grey #e8eaeb for 0, blue #0877bd for +1, as
// TensorFlow Playground draws them. Sequential (probabilities): light to dark teal.

export const NEGATIVE = [0xf5, 0x93, 0x22];
export const ZERO = [0xe8, 0xea, 0xeb];
export const POSITIVE = [0x08, 0x77, 0xbd];
export const PROB_LOW = [0xf2, 0xf7, 0xf6];
export const PROB_HIGH = [0x0b, 0x6e, 0x69];

function mix(a, b, t) {
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t));
}

/**
 * Diverging colour of `value` on [−range, +range] as [r, g, b]; values past the range clamp.
 * `steps` quantises like the Playground's 30-step scale (0 = continuous).
 */
export function diverging(value, range = 1, steps = 0) {
  if (!Number.isFinite(value)) return [0x9e, 0x9e, 0x9e];
  let t = Math.max(-1, Math.min(1, value / (range || 1)));
  if (steps > 0) t = Math.round(((t + 1) / 2) * (steps - 1)) / (steps - 1) * 2 - 1;
  return t < 0 ? mix(ZERO, NEGATIVE, -t) : mix(ZERO, POSITIVE, t);
}

/** Sequential colour of a probability p in [0, 1] as [r, g, b]. */
export function sequential(p) {
  if (!Number.isFinite(p)) return [0x9e, 0x9e, 0x9e];
  return mix(PROB_LOW, PROB_HIGH, Math.max(0, Math.min(1, p)));
}

export function rgb([r, g, b], alpha = 1) {
  return alpha === 1 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** CSS colour for a value on the diverging scale. */
export function divergingCss(value, range = 1) {
  return rgb(diverging(value, range));
}

/** Largest |v| of an array (for a symmetric range); 1 when all are zero. */
export function symmetricRange(values) {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m || 1;
}

/** Black or white, whichever reads better on [r, g, b]. */
export function textOn([r, g, b]) {
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#1d2430" : "#ffffff";
}
