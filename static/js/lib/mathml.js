// Build MathML formulas as DOM nodes (MathML Core: native in Chromium and Firefox, no library).
// Every builder takes children that are nodes or strings (a string becomes an <mi>/<mo> as fits).
import { setAttributes } from "./dom.js";
import { formatNumber } from "./format.js";

export const MATHML_NS = "http://www.w3.org/1998/Math/MathML";

const OPERATORS = new Set(["=", "+", "−", "-", "×", "·", "(", ")", "[", "]", "←", "⊙", "Σ", ",", "/", "ᵀ", "…", "≈",
  "′"]);

function node(tag, children = [], attrs = {}) {
  const el = setAttributes(document.createElementNS(MATHML_NS, tag), attrs);
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? token(child) : child);
  }
  return el;
}

function token(text) {
  if (OPERATORS.has(text)) return mo(text);
  if (/^[−-]?\d/.test(text)) return leaf("mn", text);
  return mi(text);
}

function leaf(tag, text, attrs = {}) {
  const el = node(tag, [], attrs);
  el.textContent = text;
  return el;
}

/**
 * A whole formula. `block` typesets it as display maths (full-size fractions) but keeps it inline, so that
 * the element around it decides the alignment (MathML's display="block" always centres).
 */
export function math(children, { block = false, label } = {}) {
  return node("math", [children], { displaystyle: block ? "true" : undefined, class: block ? "math-display" : undefined,
    "aria-label": label });
}

/** Display maths in its own left-aligned <div class="formula">. */
// A formula wider than its box scrolls sideways; the keyboard must reach it to scroll it, so such a formula (and
// only such) is a tab stop.
const overflowWatch = typeof ResizeObserver === "undefined" ? null : new ResizeObserver((entries) => {
  for (const { target } of entries) {
    if (target.scrollWidth > target.clientWidth + 1) {
      target.tabIndex = 0;
      target.setAttribute("role", "group");
      target.setAttribute("aria-label", "formula (scrolls sideways)");
    } else if (target.hasAttribute("tabindex")) {
      target.removeAttribute("tabindex");
      target.removeAttribute("role");
      target.removeAttribute("aria-label");
    }
  }
});

export function formula(children, { label } = {}) {
  const div = document.createElement("div");
  div.className = "formula";
  div.append(math(children, { block: true, label }));
  overflowWatch?.observe(div);
  return div;
}

export const row = (...children) => node("mrow", children);
/** An identifier; single letters are italic by MathML's default, longer names upright. */
export const mi = (text, attrs = {}) => leaf("mi", text, text.length > 1 ? { mathvariant: "normal", ...attrs } : attrs);
export const mo = (text, attrs = {}) => leaf("mo", text, attrs);
export const mtext = (text, attrs = {}) => leaf("mtext", text, attrs);
/** A literal number written as given (for constants like 1, 2, ½'s parts; engine values go through `num`). */
export const mn = (text) => leaf("mn", String(text));
export const sub = (base, index) => node("msub", [base, index]);
export const sup = (base, index) => node("msup", [base, index]);
export const subsup = (base, index, power) => node("msubsup", [base, index, power]);
export const frac = (num, den) => node("mfrac", [num, den]);
export const space = (width = "0.3em") => node("mspace", [], { width });

/**
 * A number as the engine computed it, shown with `digits` significant digits; the unrounded value rides
 * along in `data-value`, and negative numbers are bracketed when `paren` (so "× (−0.809)" reads right).
 */
export function num(value, { digits = 3, paren = false, testid } = {}) {
  const el = leaf("mn", formatNumber(value, digits), { "data-value": String(value), "data-testid": testid });
  if (paren && value < 0) return row(mo("("), el, mo(")"));
  return el;
}

/** An unknown (not yet computed) entry. */
export const unknown = () => leaf("mi", "?", { class: "math-unknown", mathvariant: "normal" });

/**
 * The engine's names (i1, h1, h2_3, w12, b2, prediction, o1) as MathML: a letter with its index as a subscript;
 * h2_3 (neuron 3 of hidden layer 2) becomes h with subscript "2,3".
 */
export function symbol(label) {
  const m = /^([a-zA-Z]+?)(\d+)(?:_(\d+))?$/.exec(label);
  if (!m) return mi(label);
  const index = m[3] ? row(leaf("mn", m[2]), mo(","), leaf("mn", m[3])) : leaf("mn", m[2]);
  return sub(mi(m[1]), index);
}

/** ∂top/∂bottom as a fraction of partials. */
export function partial(top, bottom) {
  return frac(row(mo("∂"), top), row(mo("∂"), bottom));
}

/** A product of factors with an operator between them ("·" symbolic, "×" numeric). */
export function product(factors, op = "·") {
  const out = [];
  factors.forEach((f, k) => {
    if (k) out.push(mo(op));
    out.push(f);
  });
  return row(...out);
}

/** A sum of terms joined by "+". */
export function sum(terms) {
  return product(terms, "+");
}

/**
 * A chain of equalities aligned on "=": the first entry is the left side, every other a right side, e.g.
 * [h₁, i₁w₁ + i₂w₂, 2 × 0.11 + 3 × 0.21, 0.85]. Rendered as a table so that long chains wrap one step per line.
 */
export function equalities(sides, { testid } = {}) {
  const [left, ...rights] = sides;
  const rows = rights.map((right, k) => [k === 0 ? left : row(), mo("="), right]);
  return table(rows, { "data-testid": testid, class: "math-chain" });
}

/** A table of MathML cells (rows of nodes); alignment comes from the CSS class. */
export function table(rows, attrs = {}) {
  return node("mtable", rows.map((cells) => node("mtr", cells.map((c) => node("mtd", [c])))), attrs);
}

/** A bracketed matrix of MathML cells (rows of nodes), optionally tagged for tests. */
export function matrix(rows, { testid } = {}) {
  // The brackets are drawn by CSS (.math-matrix): stretchy "[" needs a maths font the system may not have.
  return table(rows, { "data-testid": testid, class: "math-matrix" });
}

/** A matrix of numbers (null entries are unknown "?"). */
export function numberMatrix(values, { digits = 3, testid } = {}) {
  return matrix(values.map((r) => r.map((v) => (v === null || v === undefined ? unknown() : num(v, { digits })))),
    { testid });
}

/** A matrix of symbols (engine labels). */
export function symbolMatrix(labels, { testid } = {}) {
  return matrix(labels.map((r) => r.map((l) => symbol(l))), { testid });
}
