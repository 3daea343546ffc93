// Head view (after BertViz): query tokens on the left, key tokens on the right, a line from each query to each
// key with opacity by weight, one colour per head. Click a head's colour to hide it; hover a token to see only
// its lines.
import { svg } from "../lib/svg.js";
import { HEAD_COLORS, headMatrix } from "./maps.js";

export class HeadView {
  constructor(container, swatches) {
    this.container = container;
    this.swatches = swatches;
    this.hidden = new Set();
    this.focus = null; // {side: "query" | "key", index}
    this.info = null;
    container.addEventListener("pointerleave", () => {
      if (this.focus) { this.focus = null; this.drawLines(); }
    });
  }

  render(info) {
    const previous = this.info;
    this.info = info;
    const heads = info.weights.shape ? info.weights.shape[0] : info.weights.length;
    if (!previous || previous.id !== info.id || this.swatches.childElementCount !== heads) this.buildSwatches(heads);
    const sameTokens = previous && previous.id === info.id && this.svg?.isConnected
      && previous.query_tokens.join("\u0000") === info.query_tokens.join("\u0000")
      && previous.key_tokens.join("\u0000") === info.key_tokens.join("\u0000");
    if (sameTokens) this.drawLines(); // live frames: only the weights changed
    else this.draw();
  }

  buildSwatches(heads) {
    this.swatches.replaceChildren();
    for (let h = 0; h < heads; h++) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "head-swatch";
      b.style.setProperty("--c", HEAD_COLORS[h % HEAD_COLORS.length]);
      b.textContent = String(h + 1);
      b.setAttribute("data-testid", `head-toggle-${h}`);
      b.setAttribute("aria-pressed", String(!this.hidden.has(h)));
      b.setAttribute("aria-label", `Show head ${h + 1}`);
      b.addEventListener("click", () => {
        if (this.hidden.has(h)) this.hidden.delete(h);
        else this.hidden.add(h);
        b.setAttribute("aria-pressed", String(!this.hidden.has(h)));
        this.drawLines();
      });
      this.swatches.append(b);
    }
  }

  /** Rebuild the drawing (new data or size). Hovering only redraws the lines, so the hovered token stays put. */
  draw() {
    const info = this.info;
    const q = info.query_tokens;
    const k = info.key_tokens;
    const rowH = Math.max(16, Math.min(24, Math.floor(420 / Math.max(q.length, k.length))));
    const width = Math.max(280, Math.min(this.container.clientWidth || 420, 560));
    const labelW = 46;
    this.geometry = { leftX: labelW, rightX: width - labelW, top: 22, rowH };
    const { leftX, rightX, top } = this.geometry;
    const height = top + Math.max(q.length, k.length) * rowH + 6;
    const root = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": "Attention lines from query tokens to key tokens" });
    root.append(
      svg("text", { x: leftX - 8, y: 12, "text-anchor": "end", "font-size": 11, class: "dim", text: "query" }),
      svg("text", { x: rightX + 8, y: 12, "font-size": 11, class: "dim", text: "key" }),
    );
    this.lines = svg("g", { "stroke-linecap": "round" });
    root.append(this.lines);
    const yOf = (i) => top + i * rowH + rowH / 2;
    this.texts = { query: [], key: [] };
    const addTokens = (tokens, side) => tokens.forEach((tok, i) => {
      const isLeft = side === "query";
      const text = svg("text", { x: isLeft ? leftX - 8 : rightX + 8, y: yOf(i) + 4, "text-anchor": isLeft ? "end" : "start",
        "font-size": 13, "data-testid": `hv-${side}-${i}`, text: tok });
      const hit = svg("rect", { class: "hit", x: isLeft ? 0 : rightX, y: yOf(i) - rowH / 2, width: labelW,
        height: rowH });
      hit.addEventListener("pointerenter", () => { this.focus = { side, index: i }; this.drawLines(); });
      hit.addEventListener("pointerleave", () => { this.focus = null; this.drawLines(); });
      this.texts[side].push(text);
      root.append(text, hit);
    });
    addTokens(q, "query");
    addTokens(k, "key");
    this.svg = root;
    this.container.replaceChildren(root);
    this.drawLines();
  }

  drawLines() {
    const info = this.info;
    const heads = this.swatches.childElementCount;
    const { leftX, rightX, top, rowH } = this.geometry;
    const yOf = (i) => top + i * rowH + rowH / 2;
    const focus = this.focus;
    const lines = [];
    for (let h = 0; h < heads; h++) {
      if (this.hidden.has(h)) continue;
      const { rows, cols, values } = headMatrix(info.weights, h);
      const color = HEAD_COLORS[h % HEAD_COLORS.length];
      for (let i = 0; i < rows; i++) {
        if (focus?.side === "query" && focus.index !== i) continue;
        for (let j = 0; j < cols; j++) {
          if (focus?.side === "key" && focus.index !== j) continue;
          const wgt = values[i * cols + j];
          if (!(wgt > 0.01)) continue; // invisible anyway; keeps the drawing light
          lines.push(svg("line", { x1: leftX, y1: yOf(i), x2: rightX, y2: yOf(j), stroke: color,
            "stroke-opacity": Math.min(1, wgt).toFixed(3), "stroke-width": 2.2 }));
        }
      }
    }
    this.lines.replaceChildren(...lines);
    for (const side of ["query", "key"]) {
      this.texts[side].forEach((text, i) => {
        const focused = focus && focus.side === side && focus.index === i;
        text.classList.toggle("hl", Boolean(focused));
        text.classList.toggle("dim", Boolean(focus && !focused && focus.side === side));
      });
    }
  }
}
