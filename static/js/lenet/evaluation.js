// The learned filters as small images, the confusion matrix and the mistakes on the test digits.
import { rgb, sequential, symmetricRange, textOn } from "../lib/colors.js";
import { drawHeatmap } from "../lib/heatmap.js";
import { formatNumber, formatPercent } from "../lib/format.js";
import { el, rovingFocus } from "../lib/dom.js";
import { paintDigit } from "./digit.js";

function kernelCanvas(values, range, label, k = 5) {
  const canvas = el("canvas", { class: "kernel" });
  drawHeatmap(canvas, values, k, k, { range });
  canvas.title = label;
  return canvas;
}

/**
 * conv1's six 5×5 filters in `conv1El` (one per map) and conv2's 16×6 in `conv2El` (a column per conv2 map,
 * a row per pool1 map it reads). `filters` is the decoded GET /api/lenet/filters.
 */
export function renderFilters(conv1El, conv2El, filters) {
  const [out1, , k1] = filters.conv1.weight.shape; // (out, in, k, k); any digit network's first convolution
  const size1 = k1 * k1;
  const w1 = filters.conv1.weight.data;
  const b1 = filters.conv1.bias.data;
  const range1 = symmetricRange(w1);
  conv1El.replaceChildren();
  for (let o = 0; o < out1; o++) {
    const item = el("figure", { class: "filter" });
    item.dataset.index = o;
    item.append(kernelCanvas(w1.subarray(o * size1, (o + 1) * size1), range1,
      `conv1 filter ${o}, bias ${formatNumber(b1[o])}`, k1), el("figcaption", { text: String(o) }));
    conv1El.append(item);
  }
  conv2El.replaceChildren();
  if (!filters.conv2) return { range1, range2: null }; // a network with one convolution
  const [out2, in2, k2] = filters.conv2.weight.shape;
  const size2 = k2 * k2;
  const w2 = filters.conv2.weight.data;
  const range2 = symmetricRange(w2);
  for (let o = 0; o < out2; o++) {
    const column = el("figure", { class: "filter filter-column" });
    column.dataset.index = o;
    for (let c = 0; c < in2; c++) {
      const start = (o * in2 + c) * size2;
      column.append(kernelCanvas(w2.subarray(start, start + size2), range2, `conv2 filter ${o}, channel ${c}`, k2));
    }
    column.append(el("figcaption", { text: String(o) }));
    conv2El.append(column);
  }
  return { range1, range2 };
}

/** Outline the filter that produced `unit` (conv1 / conv2 maps); clears others. */
export function markFilter(conv1El, conv2El, unit) {
  for (const [el, layer] of [[conv1El, "conv1"], [conv2El, "conv2"]]) {
    for (const f of el.querySelectorAll(".filter")) {
      f.classList.toggle("is-active", !!unit && unit.layer === layer && Number(f.dataset.index) === unit.index);
    }
  }
}

/** The 10×10 confusion matrix as a table; onCell(trueDigit, predicted) when a cell is clicked. */
export function renderConfusion(container, confusion, { onCell = () => {}, selected = null } = {}) {
  const table = el("table", { class: "confusion" });
  const head = el("tr");
  head.append(el("th", { class: "corner", text: "true╲said" }));
  for (let p = 0; p < 10; p++) head.append(el("th", { text: String(p) }));
  table.append(head);
  const rowTotals = confusion.map((row) => row.reduce((a, b) => a + b, 0));
  confusion.forEach((row, t) => {
    const tr = el("tr");
    tr.append(el("th", { text: String(t) }));
    row.forEach((count, p) => {
      const td = el("td", { class: t === p ? "diag" : count ? "off" : "zero", text: count ? String(count) : "·" });
      const share = rowTotals[t] ? count / rowTotals[t] : 0;
      if (t === p) {
        const color = sequential(share);
        td.style.background = rgb(color);
        td.style.color = textOn(color);
      } else if (count) {
        td.style.setProperty("--share", String(Math.min(1, 0.25 + share * 8)));
        td.classList.add("pick");
        td.tabIndex = -1;
        td.addEventListener("click", () => onCell(t, p));
        td.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onCell(t, p); } });
      }
      if (selected && selected[0] === t && selected[1] === p) td.classList.add("is-selected");
      td.title = `${count} test ${t}s read as ${p}`;
      tr.append(td);
    });
    table.append(tr);
  });
  container.replaceChildren(table);
  // The mistakes' cells are one tab stop (arrow keys move between them), so the keyboard gets past the table.
  const cells = [...table.querySelectorAll("td.pick")];
  const start = Math.max(0, cells.findIndex((c) => c.classList.contains("is-selected")));
  if (cells.length) cells[start].tabIndex = 0;
  rovingFocus(container, "td.pick");
}

/** Thumbnails of test digits read wrong; onPick(mistake) when one is clicked. */
export function renderMistakes(container, mistakes, { onPick = () => {} } = {}) {
  container.replaceChildren();
  if (!mistakes.length) {
    container.append(el("p", { class: "muted small", text: "None here." }));
    return;
  }
  for (const m of mistakes) {
    const button = el("button", { class: "mistake" });
    button.type = "button";
    button.title = `test digit #${m.index}: a ${m.label}, read as ${m.predicted} (${formatPercent(m.confidence)})`;
    const canvas = el("canvas", { class: "mistake-img" });
    paintDigit(canvas, m.image.data);
    const caption = el("span", { class: "mistake-caption" });
    caption.append(el("b", { text: String(m.label) }), el("span", { class: "muted", text: "→" }),
      el("b", { class: "said", text: String(m.predicted) }));
    button.append(canvas, caption);
    button.addEventListener("click", () => onPick(m));
    container.append(button);
  }
  // One tab stop for all the thumbnails (arrow keys move between them): Train from scratch is a Tab away.
  container.querySelector(".mistake").tabIndex = 0;
  rovingFocus(container, ".mistake");
}
