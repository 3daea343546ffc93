// The arithmetic of one convolution window, written out: 1×1 + 1×0 + 1×1 + … = 4.
// Formatting only: every number here comes from the engine (POST /api/conv/apply or /api/conv/window).
import { formatValue } from "../lib/format.js";

/** Wrap negative numbers in parentheses so "2×(−1)" reads unambiguously. */
export function operand(v) {
  const s = formatValue(v);
  return v < 0 ? `(${s})` : s;
}

/** The terms "w×k" of a k×k window, in reading order, as strings. */
export function termStrings(window, kernel) {
  const terms = [];
  for (let i = 0; i < window.length; i++) {
    for (let j = 0; j < window[i].length; j++) terms.push(`${operand(window[i][j])}×${operand(kernel[i][j])}`);
  }
  return terms;
}

function span(className, text) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}

/**
 * Write one window's sum into `container`: one line per kernel row ("1×1 + 1×0 + 1×1 +"), then
 * "= total". options: products (k×k, colours each term by its sign), bias (shown as "+ b" unless null).
 */
export function renderSum(container, { window, kernel, products, total, bias = null }) {
  container.replaceChildren();
  const k = window.length;
  const terms = termStrings(window, kernel);
  const lines = [];
  for (let i = 0; i < k; i++) {
    const line = document.createElement("div");
    line.className = "sum-line";
    for (let j = 0; j < k; j++) {
      const term = span("term", terms[i * k + j]);
      const p = products?.[i]?.[j];
      if (p !== undefined) {
        term.classList.add(p > 0 ? "pos" : p < 0 ? "neg" : "zero");
        term.title = `= ${formatValue(p)}`;
      }
      line.append(term);
      if (i < k - 1 || j < k - 1) line.append(span("op", "+"));
    }
    lines.push(line);
  }
  const tail = lines[lines.length - 1];
  if (bias !== null && bias !== undefined) tail.append(span("op", "+"), span("term bias", operand(bias)));
  tail.append(span("op", "="), span("result", formatValue(total)));
  container.append(...lines);
}
