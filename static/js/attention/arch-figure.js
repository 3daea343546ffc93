// The architecture drawn as the figure of "Attention is all you need": stacks of blocks from the embeddings at the
// bottom to the output probabilities at the top, built from the session's model configuration. Blocks are
// clickable; the page decides what each shows.
import { svg } from "../lib/svg.js";

const COLORS = {
  embedding: "#f9d5d3", positional: "#ffffff", attention: "#fcdcb0", "add-norm": "#f2f0bf",
  "feed-forward": "#c9e3f6", linear: "#ddd5f3", softmax: "#cdeccf", norm: "#f2f0bf", add: "#f2f0bf",
};
const BLOCK_H = 30;
const GAP = 10;

/** The blocks of one stack (bottom → top) for the model's settings. */
function stackBlocks(kind, model) {
  const attnLabel = kind === "encoder" ? "Multi-Head Attention" : "Masked Multi-Head Attention";
  const attnKind = model.arch === "encoder-decoder" ? `${kind}-attention` : "self-attention";
  const sub = [[attnKind, attnLabel]];
  if (kind === "decoder" && model.arch === "encoder-decoder") sub.push(["cross-attention", "Multi-Head Attention"]);
  if (model.ffn) sub.push(["feed-forward", "Feed Forward"]);
  const blocks = [];
  for (const [k, label] of sub) {
    if (model.norm === "pre") blocks.push({ kind: "norm", label: "Layer Norm" });
    blocks.push({ kind: k, label, color: k.endsWith("attention") ? "attention" : k, sublayer: true });
    blocks.push(model.norm === "post" ? { kind: "add-norm", label: "Add & Norm", residual: true }
      : { kind: "add", label: "Add (residual)", residual: true });
  }
  return blocks;
}

/**
 * Build the figure into `container`. `model`: the session's model description; `onBlock(kind, element)` on click.
 */
export function drawArchitecture(container, model, onBlock) {
  const columns = model.arch === "encoder-decoder" ? ["encoder", "decoder"] : [model.arch];
  const colW = 212;
  const margin = 58;
  const width = columns.length * colW + (columns.length - 1) * 60 + 2 * margin;
  const blocksPer = columns.map((c) => stackBlocks(c, model));
  const tallest = Math.max(...blocksPer.map((b) => b.length));
  const headH = 3 * (BLOCK_H + GAP) + 18; // linear, softmax, output label
  const footH = 2 * (BLOCK_H + GAP) + 34; // embedding, positional, input label
  const stackH = tallest * (BLOCK_H + GAP) + 22;
  const height = headH + stackH + footH;
  // A group, not an image: its blocks are buttons, and an image's parts are hidden from assistive technology.
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "group",
    "aria-label": "Transformer architecture", "font-size": 12 });
  root.style.maxWidth = `${Math.round(width * 1.1)}px`; // fill a narrow panel, never blow a small figure up
  const defs = svg("defs", {}, [svg("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 6,
    markerHeight: 6, orient: "auto-start-reverse" }, [svg("path", { d: "M0 0 8 4 0 8z", fill: "#7a8494" })])]);
  root.append(defs);
  const wires = svg("g", { class: "wires" });
  const blocksG = svg("g");
  root.append(wires, blocksG);
  let selectedEl = null;

  const block = (id, kind, label, x, y, w, colorKey) => {
    const g = svg("g", { class: "blk", tabindex: 0, role: "button", "data-testid": `arch-${id}`, "data-kind": kind,
      "aria-label": label });
    g.append(svg("rect", { x, y, width: w, height: BLOCK_H, rx: 5, fill: COLORS[colorKey || kind] || "#eee" }),
      svg("text", { x: x + w / 2, y: y + BLOCK_H / 2 + 4, "text-anchor": "middle", "font-weight": 600,
        "font-size": label.length > 22 ? 11 : 12, text: label }));
    const activate = () => {
      selectedEl?.classList.remove("selected");
      g.classList.add("selected");
      selectedEl = g;
      onBlock(kind, g);
    };
    g.addEventListener("click", activate);
    g.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); activate(); } });
    blocksG.append(g);
    return { x, y, w };
  };
  const arrow = (x1, y1, x2, y2) => wires.append(svg("path", { class: "wire", d: `M${x1} ${y1} L${x2} ${y2}`,
    "marker-end": "url(#arrow)" }));

  const tops = {};
  columns.forEach((col, c) => {
    const x = margin + c * (colW + 60);
    const cx = x + colW / 2;
    const bw = colW - 24;
    const bx = x + 12;
    const isDecoder = col === "decoder";
    // Footer: input label, embedding, positional encoding (drawn as ⊕ with a sine icon beside it).
    let y = height - 18;
    root.append(svg("text", { class: "label-out", x: cx, y, "text-anchor": "middle", "font-size": 11,
      text: model.arch === "encoder-decoder" ? (isDecoder ? "Outputs (shifted right)" : "Inputs") : "Inputs" }));
    y -= 16 + BLOCK_H;
    const embedKind = model.arch === "encoder-decoder" && !isDecoder ? "src-embedding" : "embedding";
    block(`${col}-embedding`, embedKind, isDecoder && model.arch === "encoder-decoder" ? "Output Embedding"
      : "Input Embedding", bx, y, bw, "embedding");
    arrow(cx, y + BLOCK_H + 14, cx, y + BLOCK_H + 1);
    const embedTop = y;
    y -= GAP + BLOCK_H;
    const plusY = y + BLOCK_H / 2;
    wires.append(svg("circle", { cx, cy: plusY, r: 8, fill: "none", stroke: "#7a8494", "stroke-width": 1.3 }),
      svg("path", { class: "wire", d: `M${cx - 5} ${plusY} H${cx + 5} M${cx} ${plusY - 5} V${plusY + 5}` }));
    arrow(cx, embedTop, cx, plusY + 9);
    const pos = block(`${col}-positional`, "positional", "Positional Enc.", isDecoder || columns.length === 1
      ? cx + 18 : x - 50, y, 104, "positional");
    const posEdge = isDecoder || columns.length === 1 ? pos.x : pos.x + pos.w;
    arrow(posEdge, plusY, isDecoder || columns.length === 1 ? cx + 9 : cx - 9, plusY);
    // The stack: N × blocks, drawn inside a rounded box with "N×" beside it.
    const blocks = blocksPer[c];
    const stackBottom = y - 12;
    const stackTop = stackBottom - blocks.length * (BLOCK_H + GAP) - 6;
    root.insertBefore(svg("rect", { class: "stack", x: x, y: stackTop, width: colW, height: stackBottom - stackTop,
      rx: 10 }), wires);
    root.append(svg("text", { class: "label-out", x: c === 0 && columns.length > 1 ? x - 8 : x + colW + 8,
      y: (stackTop + stackBottom) / 2, "text-anchor": c === 0 && columns.length > 1 ? "end" : "start",
      "font-size": 13, "font-weight": 700, text: `${model.layers}×` }));
    arrow(cx, plusY - 9, cx, stackBottom - 6);
    let by = stackBottom - 6 - BLOCK_H;
    let below = stackBottom - 6; // where the residual stream enters the current sublayer
    const seen = {};
    blocks.forEach((b, n) => {
      // Sublayers appear once per stack; norms and residual adds repeat, so they are numbered.
      seen[b.kind] = (seen[b.kind] || 0) + 1;
      const id = b.sublayer ? `${col}-${b.kind}` : `${col}-${b.kind}-${seen[b.kind]}`;
      block(id, b.kind, b.label, bx, by, bw, b.color || b.kind);
      if (n > 0) arrow(cx, by + BLOCK_H + GAP, cx, by + BLOCK_H + 1);
      if (b.kind === "cross-attention") {
        tops.cross = { x: bx, y: by + BLOCK_H / 2 };
      }
      if (b.residual) {
        // The skip connection: from below the sublayer, around its left side, into this block.
        const sx = bx - 8;
        wires.append(svg("path", { class: "wire", d: `M${cx} ${below - 3} H${sx} V${by + BLOCK_H / 2} H${bx}`,
          "marker-end": "url(#arrow)" }));
        below = by;
      }
      by -= BLOCK_H + GAP;
    });
    tops[col] = { cx, y: stackTop };
    if (!isDecoder && model.arch === "encoder-decoder") return;
    // Head: linear, softmax, output probabilities.
    let hy = stackTop - 14 - BLOCK_H;
    arrow(cx, stackTop + 6, cx, hy + BLOCK_H + 1);
    block(`${col}-linear`, "linear", "Linear", bx, hy, bw, "linear");
    const linTop = hy;
    hy -= GAP + BLOCK_H;
    arrow(cx, linTop, cx, hy + BLOCK_H + 1);
    block(`${col}-softmax`, "softmax", "Softmax", bx, hy, bw, "softmax");
    arrow(cx, hy, cx, hy - 10);
    root.append(svg("text", { class: "label-out", x: cx, y: hy - 14, "text-anchor": "middle", "font-size": 11,
      text: "Output Probabilities" }));
  });
  if (tops.encoder && tops.cross) {
    // The encoder's output feeds every decoder layer's cross-attention (keys and values).
    const { cx, y } = tops.encoder;
    const mid = (cx + colW / 2 + tops.cross.x) / 2 + 6;
    wires.append(svg("path", { class: "wire", d: `M${cx} ${y + 6} V${y - 12} H${mid} V${tops.cross.y} H${tops.cross.x}`,
      "marker-end": "url(#arrow)" }));
  }
  container.replaceChildren(root);
}
