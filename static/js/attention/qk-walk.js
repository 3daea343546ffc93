// Inside one head, for one query token: Q·Kᵀ → ÷√dₖ → mask → softmax → ·V, one stage per click, with the
// engine's own numbers (the full trace of POST /api/transformers/{id}/forward) and each stage's formula in MathML.
import { diverging, rgb, symmetricRange, textOn } from "../lib/colors.js";
import { formatNumber } from "../lib/format.js";
import { headMatrix, headVectors, layerTitle } from "./maps.js";

const M = (body) => `<math display="inline">${body}</math>`;
const sub = (a, b) => `<msub><mi>${a}</mi><mi>${b}</mi></msub>`;
const sub2 = (a, b) => `<msub><mi>${a}</mi><mrow><mi>${b[0]}</mi><mi>${b[1]}</mi></mrow></msub>`;

export const STAGES = [
  {
    name: "Query and keys",
    short: "q, k",
    formula: () => M(`${sub("q", "i")}<mo>=</mo>${sub("x", "i")}${sub("W", "Q")}<mo>+</mo>${sub("b", "Q")}
      <mspace width="1.2em"/>${sub("k", "j")}<mo>=</mo>${sub("x", "j")}${sub("W", "K")}`),
  },
  {
    name: "Dot products Q·Kᵀ",
    short: "Q·Kᵀ",
    formula: () => M(`${sub2("s", "ij")}<mo>=</mo>${sub("q", "i")}<mo>·</mo>${sub("k", "j")}<mo>=</mo>
      <munderover><mo>∑</mo><mrow><mi>c</mi><mo>=</mo><mn>1</mn></mrow>${sub("d", "k")}</munderover>
      ${sub2("q", "ic")}${sub2("k", "jc")}`),
  },
  {
    name: "Scale ÷ √dₖ",
    short: "÷√dₖ",
    formula: (dk) => M(`<mfrac>${sub2("s", "ij")}<msqrt>${sub("d", "k")}</msqrt></mfrac><mo>=</mo>
      <mfrac>${sub2("s", "ij")}<msqrt><mn>${dk}</mn></msqrt></mfrac><mo>=</mo>
      <mfrac>${sub2("s", "ij")}<mn>${formatNumber(Math.sqrt(dk), 4)}</mn></mfrac>`),
  },
  {
    name: "Mask",
    short: "mask",
    formula: () => M(`${sub2("m", "ij")}<mo>=</mo><mfrac>${sub2("s", "ij")}<msqrt>${sub("d", "k")}</msqrt></mfrac>
      <mo>+</mo>${sub2("M", "ij")}<mo>,</mo><mspace width="0.8em"/>${sub2("M", "ij")}<mo>=</mo>
      <mrow><mo>{</mo><mtable columnalign="left"><mtr><mtd><mo>−</mo><mi>∞</mi></mtd><mtd><mtext>if </mtext>
      <mi>j</mi><mo>&gt;</mo><mi>i</mi></mtd></mtr><mtr><mtd><mn>0</mn></mtd><mtd><mtext>otherwise</mtext></mtd></mtr>
      </mtable></mrow>`),
  },
  {
    name: "Softmax",
    short: "softmax",
    formula: () => M(`${sub2("a", "ij")}<mo>=</mo><mfrac><msup><mi>e</mi>${sub2("m", "ij")}</msup>
      <mrow><munder><mo>∑</mo><mi>l</mi></munder><msup><mi>e</mi>${sub2("m", "il")}</msup></mrow></mfrac>`),
  },
  {
    name: "Weighted sum of values",
    short: "·V",
    formula: () => M(`${sub("o", "i")}<mo>=</mo><munder><mo>∑</mo><mi>j</mi></munder>${sub2("a", "ij")}
      ${sub("v", "j")}<mo>,</mo><mspace width="1em"/>${sub("v", "j")}<mo>=</mo>${sub("x", "j")}${sub("W", "V")}
      <mo>+</mo>${sub("b", "V")}`),
  },
];

function weightCell(w) {
  const span = document.createElement("span");
  const bar = document.createElement("span");
  bar.className = "weight-bar";
  bar.style.width = `${Math.round(w * 60)}px`;
  span.append(bar, w.toFixed(4));
  return span;
}

/** A vector as a strip of cells coloured by value, with the numbers (or, when `compact` or long, on hover). */
function vectorStrip(values, title, compact = values.length > 16) {
  const span = document.createElement("span");
  span.className = compact ? "vec compact" : "vec";
  span.title = title;
  const range = symmetricRange(values);
  for (const v of values) {
    const cell = document.createElement("span");
    const color = diverging(v, range);
    cell.style.background = rgb(color);
    cell.style.color = textOn(color);
    if (compact) cell.title = formatNumber(v);
    else cell.textContent = formatNumber(v, 2);
    span.append(cell);
  }
  return span;
}

function td(content, className = "") {
  const cell = document.createElement("td");
  if (className) cell.className = className;
  if (content instanceof Node) cell.append(content);
  else cell.textContent = content;
  return cell;
}

function th(text, className = "") {
  const cell = document.createElement("th");
  cell.textContent = text;
  if (className) cell.className = className;
  return cell;
}

/** Describe the stage in words, with the numbers of this query. */
function stageText(stage, ctx) {
  const { dk, causal, queryTok, i, best, cross } = ctx;
  const source = cross ? "the encoder's output" : "the same sequence";
  switch (stage) {
    case 0:
      return `The query token “${queryTok}” (position ${i + 1}) is projected to a query vector q of ${dk} numbers; `
        + `every key token of ${source} to a key vector k. One row of the table per key.`;
    case 1:
      return "Each score is the dot product of q with one key vector: large when they point the same way. "
        + `Here the largest is with key “${best.tok}” (position ${best.j + 1}).`;
    case 2:
      return `Divided by √dₖ = √${dk} = ${formatNumber(Math.sqrt(dk), 4)}, so that the scores do not grow with `
        + "the vectors' length and the softmax stays soft enough to learn.";
    case 3:
      return causal
        ? `A causal mask: keys after position ${i + 1} get −∞, so the query cannot peek at later tokens.`
        : "No mask in this layer: every key is visible to every query (the scores pass unchanged).";
    case 4:
      return "Softmax turns the row into weights: positive, and summing to 1. −∞ becomes exactly 0.";
    default:
      return "The head's output is the weights' mix of the value vectors: mostly the values of the keys it attends to. "
        + "The heads' outputs are concatenated and projected back to dₘₒdₑₗ.";
  }
}

/**
 * Render stage `stage` for `sel` ({id, head, query}) of the trace payload into the page elements `els`
 * ({stages, stage, formula, text, body}); `onStage(n)` is called when a stage pill is clicked.
 */
export function renderWalk(els, trace, sel, stage, onStage) {
  const map = trace.attention.find((a) => a.id === sel.id) || trace.attention[0];
  const head = sel.head;
  const i = Math.min(sel.query, map.query_tokens.length - 1);
  const dk = trace.d_k;
  const causal = map.causal;
  const q = headVectors(map.q, head)[i];
  const keys = headVectors(map.k, head);
  const values = headVectors(map.v, head);
  const row = (t) => {
    const { cols, values: v } = headMatrix(t, head);
    return Array.from(v.subarray(i * cols, (i + 1) * cols));
  };
  const raw = row(map.raw);
  const scaled = row(map.scaled);
  const masked = row(map.masked);
  const weights = row(map.weights);
  const out = headVectors(map.head_out, head)[i];
  const best = raw.reduce((b, v, j) => (v > b.v ? { v, j, tok: map.key_tokens[j] } : b), { v: -Infinity, j: 0, tok: "" });

  els.stages.replaceChildren(...STAGES.map((s, n) => {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = `${n + 1}. ${s.short}`;
    if (n === stage) b.setAttribute("aria-current", "step");
    else if (n < stage) b.className = "done";
    b.addEventListener("click", () => onStage(n));
    li.append(b);
    return li;
  }));
  els.stage.textContent = `Stage ${stage + 1} of ${STAGES.length} · ${STAGES[stage].name}`;
  els.formula.innerHTML = STAGES[stage].formula(dk);
  els.text.textContent = stageText(stage, { dk, causal, queryTok: map.query_tokens[i], i, best,
    cross: map.kind === "cross" });

  const header = document.createElement("div");
  header.className = "walk-query";
  header.append(`${layerTitle(map.kind, map.layer)}, head ${head + 1} · query “${map.query_tokens[i]}” `
    + `(position ${i + 1}) · q =`, vectorStrip(q, "query vector q"));

  // Columns come in as their stage is reached; the key vectors shrink to colour strips once their dot products
  // are taken, and the score columns make room for the value vectors in the last stage.
  const fmt = (v) => formatNumber(v, 4);
  const columns = [
    { name: "key", from: 0, cell: (j) => `${map.key_tokens[j]}  · ${j + 1}`, sum: () => "Σ" },
    { name: "key vector k", from: 0, until: 4,
      cell: (j) => vectorStrip(keys[j], `key vector of “${map.key_tokens[j]}”`, stage >= 2) },
    { name: "q · k", from: 1, until: 4, cell: (j) => fmt(raw[j]) },
    { name: "÷ √dₖ", from: 2, until: 4, cell: (j) => fmt(scaled[j]) },
    { name: "+ mask", from: 3, until: 4, cell: (j) => (Number.isFinite(masked[j]) ? fmt(masked[j]) : "−∞"),
      className: (j) => (Number.isFinite(masked[j]) ? "" : "masked") },
    { name: "softmax a", from: 4, cell: (j) => weightCell(weights[j]), testid: (j) => `qk-weight-${j}`,
      sum: () => weights.reduce((a, b) => a + b, 0).toFixed(3), sumTestid: "qk-softmax-sum" },
    { name: "value vector v", from: 5, cell: (j) => vectorStrip(values[j], `value vector of “${map.key_tokens[j]}”`),
      sum: () => { const o = document.createElement("span"); o.append("o = Σ a·v = ", vectorStrip(out, "the head's output o")); return o; },
      sumTestid: "qk-head-output" },
  ].filter((c) => stage >= c.from && stage <= (c.until ?? STAGES.length));

  const table = document.createElement("table");
  table.className = "walk-table";
  const headRow = document.createElement("tr");
  for (const c of columns) headRow.append(th(c.name, c.from === stage && stage > 0 ? "new" : ""));
  const thead = document.createElement("thead");
  thead.append(headRow);
  const tbody = document.createElement("tbody");
  map.key_tokens.forEach((_, j) => {
    const tr = document.createElement("tr");
    if (j === i && map.kind !== "cross") tr.className = "is-query";
    for (const c of columns) {
      const cell = td(c.cell(j), `${c.from === stage && stage > 0 ? "new" : ""} ${c.className ? c.className(j) : ""}`.trim());
      if (c.testid) cell.setAttribute("data-testid", c.testid(j));
      tr.append(cell);
    }
    tbody.append(tr);
  });
  if (stage >= 4) {
    const tr = document.createElement("tr");
    tr.className = "sum";
    for (const c of columns) {
      const cell = td(c.sum ? c.sum() : "");
      if (c.sumTestid) cell.setAttribute("data-testid", c.sumTestid);
      tr.append(cell);
    }
    tbody.append(tr);
  }
  table.append(thead, tbody);

  const parts = [header, table];
  if (stage === 1) {
    const j = best.j;
    const terms = q.slice(0, 4).map((qc, c) => `(${formatNumber(qc, 3)})(${formatNumber(keys[j][c], 3)})`);
    const more = q.length > 4 ? ` + … (${q.length - 4} more)` : "";
    const p = document.createElement("p");
    p.className = "small mono";
    p.setAttribute("data-testid", "qk-dot-terms");
    p.textContent = `q · k${j + 1} = ${terms.join(" + ")}${more} = ${formatNumber(raw[j], 4)}`;
    parts.push(p);
  }
  els.body.replaceChildren(...parts);
}
