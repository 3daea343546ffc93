// How the pages write numbers: one module, so a value reads the same wherever it is shown.
// Every function takes null/undefined and answers "—" (or "" where noted), so a read-out with no value yet
// needs no special case.

/** Short, honest number formatting: up to `digits` significant digits, no trailing noise, a real minus sign. */
export function formatNumber(v, digits = 3) {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : v < 0 ? "−∞" : "NaN";
  if (v === 0) return "0";
  const abs = Math.abs(v);
  let s;
  if (abs >= 1e4 || abs < 1e-3) s = v.toExponential(digits - 1);
  else s = Number(v.toPrecision(digits)).toString();
  return s.replace("-", "−");
}

/**
 * A number as arithmetic is written out: whole numbers exactly, others with up to 3 significant decimals
 * (2 decimals from 1, 1 decimal from 100). Empty for a missing value (an empty grid cell).
 */
export function formatValue(v) {
  if (v === null || v === undefined) return "";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : v < 0 ? "−∞" : "NaN";
  const rounded = Math.round(v);
  let s;
  if (Math.abs(v - rounded) < 1e-9) s = String(rounded === 0 ? 0 : rounded);
  else if (Math.abs(v) >= 100) s = String(Number(v.toFixed(1)));
  else if (Math.abs(v) >= 1) s = String(Number(v.toFixed(2)));
  else s = String(Number(v.toPrecision(3)));
  return s.replace("-", "−");
}

/**
 * Fixed decimals (a loss, a weight in a formula) with an ASCII minus, so the text parses back as a number;
 * −0 reads as 0; values from 1e5 up in exponent form; NaN as "—".
 */
export function formatFixed(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  if (Math.abs(v) >= 1e5) return v.toExponential(2);
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** A fraction (0..1) as a percentage with `digits` decimals: 0.1234 → "12.3%". */
export function formatPercent(p, digits = 1) {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  return `${(100 * p).toFixed(digits)}%`;
}

/**
 * A probability as a percentage that never rounds to a false certainty: ">99.9%" from 0.9995 (a softmax is never
 * exactly sure; float32 rounding can give 1), "<0.1%" below 0.0005 but above 0.
 */
export function formatProbability(p) {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  if (p >= 0.9995) return ">99.9%";
  if (p < 0.0005) return p > 0 ? "<0.1%" : "0%";
  return formatPercent(p, 1);
}
