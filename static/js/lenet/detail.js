// One unit's arithmetic, as CNN Explainer shows it: the window it reads, the filter, the products summed,
// the bias, the activation. Every number comes from the engine's unit-detail response (POST /api/lenet/unit).
import { diverging, rgb, symmetricRange, textOn } from "../lib/colors.js";
import { drawHeatmap } from "../lib/heatmap.js";
import { formatNumber, formatPercent } from "../lib/format.js";
import { pixelAt } from "../lib/image-canvas.js";
import { el } from "../lib/dom.js";

const ACTIVATION = { relu: "ReLU", tanh: "tanh", softmax: "softmax" };
const NUMBER_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/** What a unit reads, in words, from its detail (any digit network's: LeNet-5's conv2 reads "a 5×5 window of
 * all six pool1 maps"). */
function layerWords(detail) {
  const k = `${detail.size}×${detail.size}`;
  if (detail.kind === "conv") {
    if (detail.previous === "input") return `a ${k} window of the input`;
    const n = detail.window.length;
    return `a ${k} window of ${n === 1 ? "the" : `all ${NUMBER_WORDS[n] || n}`} ${detail.previous} map${n === 1 ? "" : "s"}`;
  }
  if (detail.kind === "pool") return `a ${k} window of its ${detail.previous} map`;
  return `all ${detail.inputs.length} ${detail.previous} outputs`;
}

/** A k×k grid of numbers with coloured cells. `mark` = [row, col] to outline. */
function numberGrid(matrix, { range, caption, mark = null, grey = false } = {}) {
  const figure = el("figure", { class: "ud-fig" });
  const grid = el("div", { class: "ud-grid" });
  grid.style.gridTemplateColumns = `repeat(${matrix[0].length}, auto)`;
  const r = range ?? symmetricRange(matrix.flat());
  matrix.forEach((row, i) => row.forEach((v, j) => {
    const cell = el("span", { class: "ud-cell", text: formatNumber(v) });
    const color = grey ? greyLevel(v) : diverging(v, r);
    cell.style.background = rgb(color);
    cell.style.color = textOn(color);
    if (mark && mark[0] === i && mark[1] === j) cell.classList.add("is-mark");
    grid.append(cell);
  }));
  figure.append(grid, el("figcaption", { text: caption }));
  return figure;
}

function greyLevel(v) {
  // The network's input as it looks on the pad: ink light on dark.
  const level = Math.round(30 + 225 * Math.max(0, Math.min(1, v)));
  return [level, level, level];
}

/** A small heat map (no numbers; each cell's number in its tooltip through the grid's title). */
function miniMap(values, rows, cols, { caption, size = 50, range } = {}) {
  const figure = el("figure", { class: "ud-fig ud-mini" });
  const canvas = el("canvas");
  canvas.style.width = `${size}px`;
  canvas.style.height = `${(size * rows) / cols}px`;
  drawHeatmap(canvas, values, rows, cols, { range });
  canvas.addEventListener("pointermove", (event) => {
    const at = pixelAt(event, canvas, rows, cols);
    canvas.title = at ? `[${at[0]}, ${at[1]}] = ${formatNumber(values[at[0] * cols + at[1]])}` : "";
  });
  figure.append(canvas, el("figcaption", { text: caption }));
  return figure;
}

function op(symbol) {
  return el("span", { class: "ud-op", text: symbol });
}

function equation(lines) {
  const box = el("div", { class: "ud-sum" });
  for (const [label, value, strong] of lines) {
    const line = el("div", { class: strong ? "ud-line is-result" : "ud-line" });
    line.append(el("span", { class: "ud-label", text: label }), el("span", { class: "ud-value", text: value }));
    box.append(line);
  }
  return box;
}

function activationLine(detail) {
  const name = ACTIVATION[detail.activation] || detail.activation;
  return [`${name}(z)`, `= ${formatNumber(detail.activation_value)}`, true];
}

function header(detail) {
  const head = el("div", { class: "ud-head" });
  const where = detail.row !== undefined && detail.row !== null ? ` · row ${detail.row}, col ${detail.col}` : "";
  const what = detail.layer === "logits" ? `output ${detail.index} (digit ${detail.index})`
    : `${detail.layer} ${detail.kind === "dense" ? "unit" : "map"} ${detail.index}${where}`;
  head.append(el("strong", { text: what }),
    el("span", { class: "muted", text: ` reads ${layerWords(detail)}` }));
  const value = el("span", { class: "ud-output", text: `the network's value: ${formatNumber(detail.value)}` });
  value.title = "the number the network computed (float32); the arithmetic below runs in float64";
  head.append(value);
  return head;
}

function renderConv(detail) {
  const body = el("div", { class: "ud-body" });
  const channels = detail.window.length;
  const windowRange = symmetricRange(detail.window.flat(2));
  const kernelRange = symmetricRange(detail.kernel.flat(2));
  const productRange = symmetricRange(detail.products.flat(2));
  if (channels === 1) {
    body.append(
      numberGrid(detail.window[0], { caption: detail.padding && (detail.top < 0 || detail.left < 0)
        ? "input window (zeros: padding)" : "input window", grey: true }),
      op("×"),
      numberGrid(detail.kernel[0], { caption: `filter ${detail.index}`, range: kernelRange }),
      op("="),
      numberGrid(detail.products[0], { caption: "products", range: productRange }),
      op("→"),
      equation([
        ["Σ products", `= ${formatNumber(detail.sum)}`],
        ["+ bias", `${formatNumber(detail.bias)}`],
        ["z", `= ${formatNumber(detail.z)}`],
        activationLine(detail),
      ]),
    );
    return body;
  }
  const cards = el("div", { class: "ud-channels" });
  for (let c = 0; c < channels; c++) {
    const card = el("div", { class: "ud-channel" });
    card.append(
      el("div", { class: "ud-channel-title", text: `pool1 map ${c}` }),
      el("div", { class: "ud-channel-row" }),
    );
    const row = card.lastChild;
    row.append(
      miniMap(detail.window[c].flat(), detail.size, detail.size, { caption: "window", range: windowRange, size: 40 }),
      op("×"),
      miniMap(detail.kernel[c].flat(), detail.size, detail.size, { caption: "kernel", range: kernelRange, size: 40 }),
      op("="),
      miniMap(detail.products[c].flat(), detail.size, detail.size, { caption: "products", range: productRange, size: 40 }),
    );
    card.append(el("div", { class: "ud-channel-sum", text: `Σ = ${formatNumber(detail.channel_sums[c])}` }));
    cards.append(card);
  }
  const terms = detail.channel_sums.map((s) => (s < 0 ? `(${formatNumber(s)})` : formatNumber(s))).join(" + ");
  body.classList.add("ud-body-conv2");
  body.append(cards, equation([
    ["Σ channels", `${terms} = ${formatNumber(detail.sum)}`],
    ["+ bias", formatNumber(detail.bias)],
    ["z", `= ${formatNumber(detail.z)}`],
    activationLine(detail),
  ]));
  return body;
}

function renderPool(detail) {
  const body = el("div", { class: "ud-body" });
  const flat = detail.window.flat();
  const name = detail.mode === "max" ? "max" : "mean";
  body.append(
    numberGrid(detail.window, { caption: `window of ${detail.previous} map ${detail.index}`,
      mark: detail.mode === "max" ? detail.argmax : null }),
    op("→"),
    equation([[`${name}(${flat.map(fmt).join(", ")})`, `= ${formatNumber(detail.pooled)}`, true]]),
  );
  return body;
}

function renderDense(detail) {
  const body = el("div", { class: "ud-body" });
  const n = detail.products.length;
  const cols = n === 400 ? 20 : n === 120 ? 12 : 12;
  const rows = Math.ceil(n / cols);
  const padded = (values) => {
    const out = new Float32Array(rows * cols);
    out.set(values);
    return out;
  };
  const order = detail.products.map((p, i) => [Math.abs(p), i]).sort((a, b) => b[0] - a[0]).slice(0, 6);
  const list = el("ol", { class: "ud-terms" });
  for (const [, i] of order) {
    const item = el("li");
    item.append(el("span", { class: "ud-label", text: `input ${i}` }),
      el("span", { class: "ud-value",
        text: `${formatNumber(detail.inputs[i])} × ${formatNumber(detail.weights[i])} = ${formatNumber(detail.products[i])}` }));
    list.append(item);
  }
  const terms = el("div", { class: "ud-terms-box" });
  terms.append(el("div", { class: "ud-channel-title", text: `largest of the ${n} terms` }), list);
  const lines = [
    [`Σ ${n} products`, `= ${formatNumber(detail.sum)}`],
    ["+ bias", formatNumber(detail.bias)],
    ["z", `= ${formatNumber(detail.z)}`],
  ];
  if (detail.layer === "logits") {
    lines[2][2] = true;
    lines.push(["softmax", `e^z / Σⱼ e^zⱼ = ${formatPercent(detail.probability, 2)}`, true]);
  } else {
    lines.push(activationLine(detail));
  }
  body.append(
    miniMap(padded(detail.inputs), rows, cols, { caption: `inputs (${detail.previous})`, size: 96 }),
    op("×"),
    miniMap(padded(detail.weights), rows, cols, { caption: "weights", size: 96 }),
    op("="),
    miniMap(padded(detail.products), rows, cols, { caption: "products", size: 96 }),
    terms,
    op("→"),
    equation(lines),
  );
  return body;
}

/** Render `detail` into `container`; `pinned` says whether the unit was clicked (stays when the mouse leaves). */
export function renderUnitDetail(container, detail, { pinned = false } = {}) {
  container.replaceChildren();
  container.classList.toggle("is-pinned", pinned);
  const head = header(detail);
  if (pinned) {
    head.append(el("span", { class: "ud-pin", text: "pinned — click the unit again or press Esc to release" }));
  }
  const body = detail.kind === "conv" ? renderConv(detail) : detail.kind === "pool" ? renderPool(detail)
    : renderDense(detail);
  container.append(head, body);
}

export function renderDetailHint(container, text) {
  container.classList.remove("is-pinned");
  container.replaceChildren(el("p", { class: "ud-hint muted", text }));
}
