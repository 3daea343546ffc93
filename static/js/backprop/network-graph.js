// Draw a small dense network as an SVG graph: every value in its neuron, every weight on its link,
// gradients beside them once known, the stage being computed highlighted. Numbers are given, never computed.
import { divergingCss, diverging, symmetricRange, textOn } from "../lib/colors.js";
import { formatNumber } from "../lib/format.js";
import { svg } from "../lib/svg.js";

// Weight labels sit 70 % along their link and gradient labels 33 %, so that the labels of crossing links never
// meet in the middle and each label stays on its own link.
const LABEL_AT = [0.75, 0.62, 0.5]; // tried in turn until the label fits
const GRAD_AT = [0.27, 0.38];

/** "h1" → h with a subscript 1, as SVG text spans ("h2_3" → h with subscript 2,3). */
function labelText(parent, label, attrs = {}) {
  const text = parent.appendChild(svg("text", attrs));
  const m = /^([a-zA-Z]+?)(\d+)(?:_(\d+))?$/.exec(label);
  if (!m) {
    text.textContent = label;
    return text;
  }
  text.appendChild(svg("tspan", { text: m[1] }));
  const index = m[3] ? `${m[2]},${m[3]}` : m[2];
  text.appendChild(svg("tspan", { "baseline-shift": "sub", "font-size": "75%", text: index }));
  return text;
}

/** Width of a label box for `text` in the 12 px monospace of the graph. */
const pillWidth = (text) => 10 + 7.2 * [...text].length;

/** "w5" → "w₅", "w2_3" → "w₂,₃": a parameter's name as the lecture writes it. */
const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";
export function subscripted(label) {
  const m = /^([a-zA-Z]+?)([\d_]+)$/.exec(label);
  if (!m) return label;
  return m[1] + [...m[2]].map((c) => (c === "_" ? "," : SUBSCRIPTS[Number(c)])).join("");
}

/** A pill's width for `text`, with room for a `name` before it. */
const namedWidth = (text, name, minWidth = 0) => Math.max(minWidth, pillWidth(name ? `${name} ${text}` : text));

/** A rounded label box with centred text (after its `name`, when given); returns the group. */
function pill(parent, x, y, text, { cls = "", testid, title, minWidth = 0, name = null } = {}) {
  const g = parent.appendChild(svg("g", { class: `graph-pill ${cls}`, transform: `translate(${x}, ${y})` }));
  if (title) g.appendChild(svg("title", {})).textContent = title;
  const width = namedWidth(text, name, minWidth);
  g.appendChild(svg("rect", { x: -width / 2, y: -10, width, height: 20, rx: 6 }));
  if (name) {
    g.appendChild(svg("text", { class: "pill-name", x: -width / 2 + 5, dy: "0.35em", text: name }));
  }
  const t = g.appendChild(svg("text", name ? { "text-anchor": "end", x: width / 2 - 5, dy: "0.35em", "data-testid": testid }
    : { "text-anchor": "middle", dy: "0.35em", "data-testid": testid }));
  t.textContent = text;
  return g;
}

/**
 * The graph. `onEdit(target)` is called when a number is clicked: target = {kind: "weight"|"bias"|"input"|"target",
 * layer, i, j, label, value, anchor (the clicked element)}.
 */
export class NetworkGraph {
  constructor(container, { onEdit } = {}) {
    this.container = container;
    this.onEdit = onEdit;
    this.svg = svg("svg", { class: "network-graph", role: "img", "aria-label": "The network: neurons and weights" });
    container.append(this.svg);
    this.view = null;
    new ResizeObserver(() => this.view && this.render(this.view)).observe(container);
  }

  /**
   * view = {
   *   neurons: [[{label, value|null, grad|null, bias: {label, value, grad|null}|null}]]  (column 0: the inputs),
   *   links: [ [[{label, value, grad|null}]] ]  (per gap: [from][to]),
   *   loss: {outputs: [{label, target, delta|null}], error|null, name} | null,
   *   highlight: {phase, layer, neuron} | null, weightsUpdated: bool,
   * }
   */
  render(view) {
    this.view = view;
    const width = Math.max(320, this.container.clientWidth);
    let height = Math.max(260, this.container.clientHeight);
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.svg.setAttribute("width", width);
    this.svg.setAttribute("height", height);
    this.svg.replaceChildren();
    const columns = view.neurons.length;
    const lossWidth = view.loss ? 112 : 0;
    const most = Math.max(...view.neurons.map((c) => c.length));
    // A neuron's name sits above its box and its bias (with the bias's gradient) below it: a row needs room for
    // all of them, or the next neuron's name would cover this one's bias. The graph grows taller if need be.
    const biased = view.neurons.some((c) => c.some((n) => n.bias));
    const below = biased ? 66 : 22; // bias pill and its gradient pill, or a margin; plus the name (24) above
    const minGap = 30 + below + 24;
    const fitGap = Math.min(200, (height - 70) / Math.max(1, most - 0.3));
    const rowGap = Math.max(fitGap, minGap);
    if (rowGap > fitGap) {
      height = Math.ceil(rowGap * Math.max(1, most - 0.3) + 70);
      this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
      this.svg.setAttribute("height", height);
    }
    // Neurons are boxes: the value on top, ∂E/∂(neuron) underneath once the backward pass has reached it.
    const roughGap = (width - lossWidth - 90) / Math.max(1, columns - 1);
    const box = { w: Math.max(44, Math.min(62, rowGap * 0.7, roughGap * 0.32)),
      h: Math.max(30, Math.min(50, rowGap * 0.55, rowGap - below - 24)) };
    const left = 10 + box.w / 2;
    const right = width - lossWidth - 16 - box.w / 2;
    const colGap = columns > 1 ? (right - left) / (columns - 1) : 0;
    const radius = box.w / 2; // where links leave and enter a neuron, horizontally
    const cy = height / 2 + 4;
    const pos = view.neurons.map((col, l) => col.map((_, k) => ({
      x: left + l * colGap,
      y: cy + (k - (col.length - 1) / 2) * rowGap,
    })));
    const active = activeSets(view);
    const linkLayer = this.svg.appendChild(svg("g", { class: "graph-links" }));
    const labelLayer = this.svg.appendChild(svg("g", { class: "graph-link-labels" }));
    const neuronLayer = this.svg.appendChild(svg("g", { class: "graph-neurons" }));

    // Links first; their labels are placed afterwards, most important first, wherever they do not cover a
    // neuron or another label. Links whose label does not fit show it on hover.
    const candidates = [];
    view.links.forEach((grid, gap) => {
      const range = symmetricRange(grid.flat().map((w) => w.value));
      grid.forEach((row, i) => row.forEach((w, j) => {
        const a = pos[gap][i];
        const b = pos[gap + 1][j];
        const state = active.links.get(`${gap + 1}:${i}:${j}`) || "";
        const thickness = 1.2 + 4.5 * Math.min(1, Math.abs(w.value) / range);
        const line = linkLayer.appendChild(svg("line", {
          x1: a.x + radius, y1: a.y, x2: b.x - radius, y2: b.y, class: `graph-link ${state}`,
          stroke: divergingCss(w.value, range), "stroke-width": thickness.toFixed(2),
        }));
        const gradText = w.grad !== null && w.grad !== undefined ? `, ∂E/∂${w.label} = ${w.grad}` : "";
        line.appendChild(svg("title", {})).textContent = `${w.label} = ${w.value}${gradText}`;
        const along = (t) => ({ x: a.x + radius + (b.x - a.x - 2 * radius) * t, y: a.y + (b.y - a.y) * t });
        const rank = state ? 0 : 2;
        const name = subscripted(w.label);
        const text = formatNumber(w.value, 3);
        const weightLabel = { rank, at: LABEL_AT.map(along), text, width: namedWidth(text, name, 40) + 4,
          draw: (x, y) => {
          const g = pill(labelLayer, x, y, text, {
            cls: `weight ${state} ${view.weightsUpdated ? "updated" : ""}`, testid: `value-${w.label}`,
            title: `${w.label} = ${w.value} (click to edit)`, minWidth: 40, name,
          });
          g.addEventListener("click", () => this.onEdit?.({ kind: "weight", layer: gap + 1, i, j, label: w.label,
            value: w.value, anchor: g }));
        } };
        candidates.push(weightLabel);
        if (w.grad !== null && w.grad !== undefined) {
          // Failing its own spots, a gradient goes just under (or over) its weight's label.
          const draw = (x, y, text) => pill(labelLayer, x, y, text, { cls: `grad ${state}`,
            testid: `grad-${w.label}`, title: `∂E/∂${w.label} = ${w.grad}` });
          candidates.push({ rank: rank + 1, at: GRAD_AT.map(along), near: weightLabel, text: formatNumber(w.grad, 3),
            draw });
        }
      }));
    });
    // Neuron boxes with their names above, and their bias labels below, are not to be covered.
    const taken = pos.flatMap((col, l) => col.flatMap((p, k) => [
      { x: p.x, y: p.y - 12, w: box.w + 2, h: box.h + 26 },
      ...(view.neurons[l][k].bias ? [{ x: p.x, y: p.y + box.h / 2 + 25, w: 64, h: 42 }] : []),
    ]));
    const overlaps = (r) => taken.some((o) => Math.abs(o.x - r.x) * 2 < o.w + r.w && Math.abs(o.y - r.y) * 2 < o.h + r.h);
    candidates.sort((p, q) => p.rank - q.rank);
    for (const c of candidates) {
      const width = c.width ?? Math.max(40, pillWidth(c.text)) + 4;
      const near = c.near?.spot ? [{ x: c.near.spot.x, y: c.near.spot.y + 22 },
        { x: c.near.spot.x, y: c.near.spot.y - 22 }] : [];
      const spot = [...c.at, ...near].find((p) => !overlaps({ x: p.x, y: p.y, w: width, h: 22 }));
      if (!spot) continue;
      c.spot = spot;
      taken.push({ x: spot.x, y: spot.y, w: width, h: 22 });
      c.draw(spot.x, spot.y, c.text);
    }

    view.neurons.forEach((col, l) => {
      const values = col.map((n) => n.value).filter((v) => v !== null && v !== undefined);
      const range = symmetricRange(values);
      col.forEach((n, k) => {
        const { x, y } = pos[l][k];
        const state = active.neurons.get(`${l}:${k}`) || "";
        const g = neuronLayer.appendChild(svg("g", { class: `graph-neuron ${state} ${l === 0 ? "input" : ""}`,
          "data-neuron": n.label }));
        const known = n.value !== null && n.value !== undefined;
        const fill = known ? diverging(n.value, range) : null;
        const hasGrad = n.grad !== null && n.grad !== undefined;
        g.appendChild(svg("rect", { x: x - box.w / 2, y: y - box.h / 2, width: box.w, height: box.h, rx: 10,
          fill: fill ? `rgb(${fill.join(",")})` : null, class: known ? "neuron-box" : "neuron-box unknown" }));
        const value = g.appendChild(svg("text", { x, y: hasGrad ? y - box.h * 0.12 : y, dy: "0.35em",
          "text-anchor": "middle",
          class: "neuron-value", "data-testid": `value-${n.label}`, fill: fill ? textOn(fill) : null,
          style: box.w < 56 ? "font-size: 12px" : null }));
        value.textContent = known ? formatNumber(n.value, 3) : "?";
        if (hasGrad) {
          const t = g.appendChild(svg("text", { x, y: y + box.h * 0.28, dy: "0.35em", "text-anchor": "middle",
            class: "neuron-grad",
            "data-testid": `grad-${n.label}`, fill: fill ? textOn(fill) : null, style: box.w < 60 ? "font-size: 10.5px" : null }));
          t.textContent = `∂ ${formatNumber(n.grad, 3)}`;
          g.appendChild(svg("title", {})).textContent = `∂E/∂${n.label} = ${n.grad}`;
        }
        labelText(g, n.label, { x, y: y - box.h / 2 - 8, "text-anchor": "middle", class: "neuron-label" });
        if (n.bias) {
          const below = y + box.h / 2 + 15;
          const b = pill(g, x, below, `${n.bias.label} ${formatNumber(n.bias.value, 3)}`, {
            cls: `bias ${view.weightsUpdated ? "updated" : ""}`, testid: `value-${n.bias.label}`,
            title: `bias ${n.bias.label} = ${n.bias.value} (click to edit)`,
          });
          b.addEventListener("click", () => this.onEdit?.({ kind: "bias", layer: l, j: k, label: n.bias.label,
            value: n.bias.value, anchor: b }));
          if (n.bias.grad !== null && n.bias.grad !== undefined) {
            pill(g, x, below + 21, `∂ ${formatNumber(n.bias.grad, 3)}`, { cls: "grad", testid: `grad-${n.bias.label}`,
              title: `∂E/∂${n.bias.label} = ${n.bias.grad}` });
          }
        }
        if (l === 0 && known) {
          g.classList.add("editable");
          g.addEventListener("click", () => this.onEdit?.({ kind: "input", i: k, label: n.label, value: n.value,
            anchor: value }));
        }
      });
    });

    if (view.loss) this.drawLoss(view.loss, pos[pos.length - 1], radius, width, lossWidth, active);
  }

  drawLoss(loss, outputs, radius, width, lossWidth, active) {
    const boxWidth = lossWidth - 8;
    const x0 = width - boxWidth - 4;
    const g = this.svg.appendChild(svg("g", { class: `graph-loss ${active.loss ? "active" : ""}` }));
    const single = loss.outputs.length === 1;
    const rowsHeight = single ? 44 : 40 * loss.outputs.length;
    const boxHeight = rowsHeight + 66;
    const mid = outputs.reduce((t, p) => t + p.y, 0) / outputs.length;
    const boxTop = mid - boxHeight / 2;
    outputs.forEach((p) => g.appendChild(svg("line", { x1: p.x + radius, y1: p.y, x2: x0, y2: p.y,
      class: "loss-link" })));
    g.appendChild(svg("rect", { x: x0, y: boxTop, width: boxWidth, height: boxHeight, rx: 10, class: "loss-box" }));
    const title = g.appendChild(svg("text", { x: x0 + boxWidth / 2, y: boxTop + 17, "text-anchor": "middle",
      class: "loss-title" }));
    title.textContent = loss.name;
    loss.outputs.forEach((o, k) => {
      const y = boxTop + 40 + k * 40;
      const suffix = single ? "" : `-${o.label}`;
      const t = g.appendChild(svg("text", { x: x0 + 10, y, class: "loss-row editable",
        "data-testid": `value-target${suffix}` }));
      t.textContent = `${single ? "target" : `t${k + 1}`} ${formatNumber(o.target, 4)}`;
      t.appendChild(svg("title", {})).textContent = "click to edit";
      t.addEventListener("click", () => this.onEdit?.({ kind: "target", j: k, label: o.label, value: o.target,
        anchor: t }));
      const d = g.appendChild(svg("text", { x: x0 + 10, y: y + 19, class: "loss-row delta",
        "data-testid": `value-delta${suffix}` }));
      d.textContent = `Δ ${o.delta === null ? "?" : formatNumber(o.delta, 3)}`;
    });
    const e = g.appendChild(svg("text", { x: x0 + boxWidth / 2, y: boxTop + boxHeight - 14, "text-anchor": "middle",
      class: "loss-error", "data-testid": "value-error" }));
    e.textContent = loss.error === null ? "E ?" : `E ${formatNumber(loss.error, 3)}`;
  }
}

/** Which neurons and links the current stage touches, as CSS classes. */
function activeSets(view) {
  const neurons = new Map();
  const links = new Map();
  let loss = false;
  const h = view.highlight;
  if (!h) return { neurons, links, loss };
  const cols = view.neurons;
  const layerNeurons = (l, k) => (k === null || k === undefined ? cols[l].map((_, i) => i) : [k]);
  if (h.phase === "forward") {
    for (const j of layerNeurons(h.layer, h.neuron)) {
      neurons.set(`${h.layer}:${j}`, "active");
      cols[h.layer - 1].forEach((_, i) => {
        neurons.set(`${h.layer - 1}:${i}`, neurons.get(`${h.layer - 1}:${i}`) || "source");
        links.set(`${h.layer}:${i}:${j}`, "active");
      });
    }
  } else if (h.phase === "backward") {
    for (const j of layerNeurons(h.layer, h.neuron)) {
      neurons.set(`${h.layer}:${j}`, "active back");
      cols[h.layer - 1].forEach((_, i) => links.set(`${h.layer}:${i}:${j}`, "active back"));
      if (h.layer < cols.length - 1) {
        cols[h.layer + 1].forEach((_, k) => {
          links.set(`${h.layer + 1}:${j}:${k}`, "source back");
          neurons.set(`${h.layer + 1}:${k}`, "source back");
        });
      } else {
        loss = true;
      }
    }
  } else if (h.phase === "loss") {
    loss = true;
    cols[cols.length - 1].forEach((_, k) => neurons.set(`${cols.length - 1}:${k}`, "source"));
  } else if (h.phase === "update") {
    view.links.forEach((grid, gap) => grid.forEach((row, i) => row.forEach((_, j) => {
      links.set(`${gap + 1}:${i}:${j}`, "active update");
    })));
  }
  return { neurons, links, loss };
}
