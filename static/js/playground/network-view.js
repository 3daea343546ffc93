// The network as a graph: feature nodes, hidden and output neurons with their maps, links coloured by the
// sign of their weight (or gradient) and as wide as its size, a bias square per neuron.
import { diverging, rgb, symmetricRange } from "../lib/colors.js";
import { drawCurve } from "./curve-plot.js";
import { ACTIVATION_LABELS, featureLabel, neuronName } from "./state.js";
import { el } from "../lib/dom.js";
import { svg } from "../lib/svg.js";
import { paintBytes, paintProbability, paintValues } from "./value-maps.js";
const THUMB = 25; // server thumbnails are 25 × 25
const HEADER = 84; // room above the columns for the +/− buttons and activation menus
const MAX_WEIGHT_WIDTH = 5; // |w| at which a link reaches full width, as TensorFlow Playground

/**
 * A weight's or a bias's value in a frame, or its gradient ∂L/∂w with `gradient`.
 * info: {kind: "weight"|"bias", layer (dense layer from 1), from (input index, weights), to (neuron index)}.
 */
export function paramValue(frame, { kind, layer, from, to }, gradient = false) {
  if (kind === "bias") return (gradient ? frame.bias_grads : frame.biases)[layer - 1].data[to];
  const matrix = (gradient ? frame.weight_grads : frame.weights)[layer - 1];
  return matrix.data[from * matrix.shape[1] + to];
}

/** A stand-in for a mouse event at an element's centre, for what the keyboard opens (tooltip, editor). */
function at(element) {
  const r = element.getBoundingClientRect();
  return { clientX: r.left + r.width / 2, clientY: r.top + r.height / 2 };
}

export class NetworkView {
  /**
   * handlers: toggleFeature(name), addNeuron(layer), removeNeuron(layer), setLayerActivation(layer, act),
   * hoverNeuron({layer, index} | null), pinNeuron({layer, index}), hoverParam(info | null, event),
   * clickParam(info, event). Every control also works from the keyboard: neurons and biases are buttons,
   * the weights one tab stop whose arrow keys move from link to link (Enter edits).
   * Layers are numbered as dense layers: 0 = the inputs, 1 … L hidden, L + 1 the output.
   */
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;
    this.structure = null;
    this.frame = null;
  }

  /**
   * structure: {kind: "plane"|"curve", features: [{name, label, map|curve}], selected: [names], hidden: [units],
   * activations: [per hidden layer], outputs, task, maxNeurons, axis}
   */
  render(structure) {
    this.structure = structure;
    const box = this.container;
    box.replaceChildren();
    const width = Math.max(420, box.clientWidth || 600);
    const { features, hidden, outputs, kind } = structure;
    const columns = [features.length, ...hidden, outputs];
    // Up to eight neurons a column fit at full size; a wider layer (a preset's 20) shrinks its own column only.
    const full = kind === "curve" ? 40 : 38;
    const room = 8 * (full + 16);
    const steps = columns.map((n) => Math.min(full + 16, room / n));
    const sizes = steps.map((step) => Math.max(12, Math.min(full, Math.round(step * 0.72))));
    const tallest = Math.max(...columns.map((n, c) => n * steps[c]));
    const height = HEADER + tallest + 8;
    box.style.height = `${height}px`;
    const left = 56;
    const right = width - full - 16;
    const spacing = Math.min(320, (right - left) / Math.max(1, columns.length - 1));
    const size = (c) => sizes[c];
    this.geometry = {
      size, columns, x: columns.map((_, c) => left + c * spacing + (full - sizes[c]) / 2),
      y: (c, i) => HEADER + (tallest - columns[c] * steps[c]) / 2 + i * steps[c] + (steps[c] - sizes[c]) / 2,
    };
    this.svg = box.appendChild(svg("svg", { class: "pg-links", width, height, role: "group",
      "aria-label": "Weights: arrow keys move from link to link, Enter edits the weight" }));
    this.links = [];
    this.nodes = [];
    this.biases = [];
    this.drawLinks();
    this.drawNodes();
    this.drawHeaders();
    if (this.frame) this.update(this.frame, this.options || {});
  }

  /** The input index of each drawn feature node (−1 when the feature is off). */
  inputIndex(name) {
    return this.structure.selected.indexOf(name);
  }

  drawLinks() {
    const { columns, size } = this.geometry;
    const { features } = this.structure;
    for (let layer = 1; layer < columns.length; layer++) {
      const sources = layer === 1
        ? features.map((f, i) => ({ node: i, input: this.inputIndex(f.name) })).filter((s) => s.input >= 0)
        : Array.from({ length: columns[layer - 1] }, (_, i) => ({ node: i, input: i }));
      for (const { node, input } of sources) {
        for (let to = 0; to < columns[layer]; to++) {
          const x1 = this.geometry.x[layer - 1] + size(layer - 1);
          const y1 = this.geometry.y(layer - 1, node) + size(layer - 1) / 2;
          const x2 = this.geometry.x[layer];
          const y2 = this.geometry.y(layer, to) + size(layer) / 2;
          const mid = (x1 + x2) / 2;
          const d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
          const path = this.svg.appendChild(svg("path", { d, class: "pg-link" }));
          // The wide transparent twin takes the mouse (a 1 px curve is hard to hit).
          const hit = this.svg.appendChild(svg("path", { d, class: "pg-link-hit", "data-testid": `link-${layer}-${input}-${to}` }));
          const info = { kind: "weight", layer, from: input, to };
          hit.addEventListener("mouseenter", (e) => { path.classList.add("hover"); this.handlers.hoverParam(info, e); });
          hit.addEventListener("mousemove", (e) => this.handlers.hoverParam(info, e));
          hit.addEventListener("mouseleave", () => { path.classList.remove("hover"); this.handlers.hoverParam(null); });
          hit.addEventListener("click", (e) => this.handlers.clickParam(info, e));
          hit.setAttribute("role", "button");
          hit.setAttribute("tabindex", this.links.length === 0 ? "0" : "-1");
          hit.setAttribute("aria-label", `Weight ${this.name(layer - 1, input)} → ${this.name(layer, to)}`);
          hit.addEventListener("focus", () => { path.classList.add("hover"); this.handlers.hoverParam(info, at(hit)); });
          hit.addEventListener("blur", () => { path.classList.remove("hover"); this.handlers.hoverParam(null); });
          hit.addEventListener("keydown", (e) => this.linkKey(e, info, hit));
          this.links.push({ path, hit, ...info });
        }
      }
    }
  }

  /** A neuron's name as the page writes it (x₁, h₁,₂, ŷ). */
  name(layer, index) {
    const { selected, hidden, outputs } = this.structure;
    return neuronName(layer, index, [selected.length, ...hidden, outputs], selected);
  }

  /** Arrow keys move the weights' one tab stop along the links; Enter or Space edits the focused weight. */
  linkKey(event, info, hit) {
    const i = this.links.findIndex((l) => l.hit === hit);
    const moves = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, Home: -i, End: this.links.length - 1 - i };
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.handlers.clickParam(info, at(hit));
    } else if (event.key in moves) {
      event.preventDefault();
      const next = this.links[Math.max(0, Math.min(this.links.length - 1, i + moves[event.key]))].hit;
      hit.setAttribute("tabindex", "-1");
      next.setAttribute("tabindex", "0");
      next.focus();
    }
  }

  drawNodes() {
    const { columns } = this.geometry;
    const { features, kind, outputs } = this.structure;
    const last = columns.length - 1;
    features.forEach((f, i) => {
      const on = this.inputIndex(f.name) >= 0;
      const node = this.nodeBox(0, i, `feature-${f.name}`, on ? "pg-node pg-feature on" : "pg-node pg-feature");
      node.setAttribute("role", "switch");
      node.setAttribute("aria-checked", String(on));
      node.setAttribute("tabindex", "0");
      node.title = on ? `${featureLabel(f.name)} is fed in; click to leave it out` : `Click to feed in ${featureLabel(f.name)}`;
      node.appendChild(el("span", { class: "pg-node-label", text: featureLabel(f.name) }));
      const canvas = node.querySelector("canvas");
      if (kind === "curve") drawCurve(canvas, this.structure.axis, [f.curve.data], { range: symmetricRange(f.curve.data) });
      else paintValues(canvas, f.map.data, THUMB, symmetricRange(f.map.data));
      const toggle = () => this.handlers.toggleFeature(f.name);
      node.addEventListener("click", toggle);
      node.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); } });
      node.addEventListener("mouseenter", () => on && this.handlers.hoverNeuron({ layer: 0, index: this.inputIndex(f.name) }));
      node.addEventListener("mouseleave", () => this.handlers.hoverNeuron(null));
      this.nodes.push({ layer: 0, index: i, canvas, node });
    });
    for (let layer = 1; layer <= last; layer++) {
      for (let i = 0; i < columns[layer]; i++) {
        const cls = layer === last ? "pg-node pg-output-node" : "pg-node";
        const node = this.nodeBox(layer, i, `neuron-${layer}-${i}`, cls, "button");
        const target = { layer, index: i };
        node.setAttribute("tabindex", "0");
        node.setAttribute("aria-pressed", "false");
        node.setAttribute("aria-label", `${this.name(layer, i)}: show its map in the large view`);
        node.addEventListener("mouseenter", () => this.handlers.hoverNeuron(target));
        node.addEventListener("mouseleave", () => this.handlers.hoverNeuron(null));
        node.addEventListener("focus", () => this.handlers.hoverNeuron(target));
        node.addEventListener("blur", () => this.handlers.hoverNeuron(null));
        node.addEventListener("click", () => this.handlers.pinNeuron(target));
        // The bias square is a button of its own beside the neuron (a control inside a control is unreachable).
        const bias = this.container.appendChild(el("button", { class: "pg-bias", "data-testid": `bias-${layer}-${i}`,
          "aria-label": `Bias of ${this.name(layer, i)}` }));
        const size = this.geometry.size(layer);
        const small = size < 24;
        bias.style.left = `${this.geometry.x[layer] - (small ? 7 : 9)}px`;
        bias.style.top = `${this.geometry.y(layer, i) + size - (small ? 4 : 4)}px`;
        if (small) bias.classList.add("small");
        const info = { kind: "bias", layer, to: i };
        bias.addEventListener("mouseenter", (e) => this.handlers.hoverParam(info, e));
        bias.addEventListener("mousemove", (e) => this.handlers.hoverParam(info, e));
        bias.addEventListener("mouseleave", () => this.handlers.hoverParam(null));
        bias.addEventListener("focus", () => this.handlers.hoverParam(info, at(bias)));
        bias.addEventListener("blur", () => this.handlers.hoverParam(null));
        bias.addEventListener("click", (e) => this.handlers.clickParam(info, e.detail === 0 ? at(bias) : e));
        if (layer === last && outputs === 3) node.title = `Probability of class ${i}`;
        this.nodes.push({ layer, index: i, canvas: node.querySelector("canvas"), node });
        this.biases.push({ el: bias, ...info });
      }
    }
  }

  nodeBox(column, index, testid, cls, tag = "div") {
    const size = this.geometry.size(column);
    const node = this.container.appendChild(el(tag, { class: cls, "data-testid": testid }));
    node.style.left = `${this.geometry.x[column]}px`;
    node.style.top = `${this.geometry.y(column, index)}px`;
    node.style.width = `${size}px`;
    node.style.height = `${size}px`;
    if (size < 24) node.classList.add("small");
    const canvas = node.appendChild(el("canvas", { width: THUMB, height: THUMB }));
    if (this.structure.kind === "curve") {
      canvas.width = 80;
      canvas.height = 80;
    }
    return node;
  }

  drawHeaders() {
    const { columns, size } = this.geometry;
    const { hidden, activations, maxNeurons } = this.structure;
    for (let layer = 1; layer <= hidden.length; layer++) {
      const head = this.container.appendChild(el("div", { class: "pg-layer-head" }));
      head.style.left = `${this.geometry.x[layer] + size(layer) / 2}px`;
      const buttons = head.appendChild(el("div", { class: "pg-neuron-buttons" }));
      const plus = buttons.appendChild(el("button", { class: "icon tiny-icon", "data-testid": `add-neuron-${layer}`, text: "+",
                                  "aria-label": `Add a neuron to layer ${layer}` }));
      const minus = buttons.appendChild(el("button", { class: "icon tiny-icon", "data-testid": `remove-neuron-${layer}`, text: "−",
                                   "aria-label": `Remove a neuron from layer ${layer}` }));
      plus.disabled = columns[layer] >= maxNeurons;
      minus.disabled = columns[layer] <= 1;
      plus.addEventListener("click", () => this.handlers.addNeuron(layer));
      minus.addEventListener("click", () => this.handlers.removeNeuron(layer));
      const units = `${columns[layer]} neuron${columns[layer] > 1 ? "s" : ""}`;
      head.appendChild(el("span", { class: "pg-layer-units", text: units }));
      const select = head.appendChild(el("select", { class: "pg-layer-act", "data-testid": `layer-activation-${layer}`,
                                    "aria-label": `Activation of layer ${layer}` }));
      for (const [act, label] of Object.entries(ACTIVATION_LABELS)) select.append(el("option", { value: act, text: label }));
      select.value = activations[layer - 1];
      select.addEventListener("change", () => this.handlers.setLayerActivation(layer, select.value));
    }
    const out = this.container.appendChild(el("div", { class: "pg-layer-head pg-out-head" }));
    out.style.left = `${this.geometry.x[columns.length - 1] + size(columns.length - 1) / 2}px`;
    out.appendChild(el("span", { class: "pg-layer-units", text: "output" }));
  }

  /** Draw a frame: every neuron's map, links by weight (or gradient), biases. */
  update(frame, options = {}) {
    this.frame = frame;
    this.options = options;
    if (!this.structure || !this.geometry) return;
    this.container.classList.toggle("playing", Boolean(options.playing));
    const { columns } = this.geometry;
    if (frame.layout.length !== columns.length || frame.layout.some((n, i) => i > 0 && n !== columns[i])) return;
    const last = columns.length - 1;
    for (const n of this.nodes) {
      if (n.layer === 0) continue;
      const maps = frame.neurons && frame.neurons[n.layer - 1];
      if (!maps) continue;
      if (frame.kind === "curve") {
        const count = frame.axis.data.length;
        const values = maps.data.subarray(n.index * count, (n.index + 1) * count);
        drawCurve(n.canvas, frame.axis.data, [values], { range: 1.2 });
      } else if (n.layer === last && columns[last] === 3) {
        paintProbability(n.canvas, maps.data, THUMB, n.index, n.index * THUMB * THUMB);
      } else {
        paintBytes(n.canvas, maps.data, THUMB, { offset: n.index * THUMB * THUMB });
      }
    }
    const grads = Boolean(options.showGradients);
    let scale = MAX_WEIGHT_WIDTH;
    if (grads) {
      scale = 0;
      for (const g of frame.weight_grads) for (const v of g.data) scale = Math.max(scale, Math.abs(v));
      scale = scale || 1;
    }
    for (const link of this.links) {
      const v = paramValue(frame, link, grads);
      // Gradients span orders of magnitude: width by the square root of |g| / max |g| keeps small ones visible.
      const t = grads ? Math.sqrt(Math.abs(v) / scale) : Math.min(1, Math.abs(v) / scale);
      link.path.style.stroke = rgb(diverging(Math.sign(v) * Math.max(0.35, t), 1));
      link.path.style.strokeWidth = `${(1 + 9 * t).toFixed(2)}`;
    }
    for (const b of this.biases) {
      const v = paramValue(frame, b, grads);
      b.el.style.background = rgb(diverging(grads ? Math.sign(v) * Math.min(1, Math.abs(v) / scale) : v, 1));
    }
  }

  /** Mark the pinned neuron (null: none): its button is pressed. */
  setPinned(target) {
    for (const n of this.nodes) {
      if (n.layer === 0) continue;
      const pinned = Boolean(target) && n.layer === target.layer && n.index === target.index;
      n.node.classList.toggle("pinned", pinned);
      n.node.setAttribute("aria-pressed", String(pinned));
    }
  }

  /** Highlight one neuron (the one the large view shows). */
  highlight(target) {
    for (const n of this.nodes) {
      n.node.classList.toggle("focused", Boolean(target) && n.layer === target.layer && (
        n.layer === 0 ? this.inputIndex(this.structure.features[n.index].name) === target.index : n.index === target.index));
    }
  }
}
