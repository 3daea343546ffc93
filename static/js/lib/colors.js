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

/** WCAG relative luminance of an sRGB colour [r, g, b] (0–255). */
export function luminance([r, g, b]) {
  const linear = (v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG contrast ratio of two colours (1 … 21). */
export function contrastRatio(a, b) {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

const INK = [29, 36, 48]; // the page's text colour, #1d2430

/**
 * Text colour for a background [r, g, b] that meets WCAG AA (4.5:1): the page's ink, else white, else — on the
 * mid-tones where neither reaches it — pure black, which always does.
 */
export function textOn(background) {
  const ink = contrastRatio(background, INK);
  const white = contrastRatio(background, [255, 255, 255]);
  if (ink >= 4.5 && ink >= white) return "#1d2430";
  if (white >= 4.5) return "#ffffff";
  return "#000000";
}
