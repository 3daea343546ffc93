// Attention from one character, every layer × head: the characters before it shaded by that head's weight.
import { HEAD_COLORS } from "../attention/maps.js";
import { shown } from "./chars.js";

const SHOWN = 40; // characters shown per strip, ending at the selected one

/** weights: {data, shape: [layers, heads, T, T]} from /api/charlm/attention; query: the selected position. */
export function renderStrips(container, chars, weights, query) {
  const [layers, heads, T] = weights.shape;
  container.replaceChildren();
  const start = Math.max(0, query - SHOWN + 1);
  for (let l = 0; l < layers; l++) {
    const group = document.createElement("div");
    group.className = "lm-strip-layer";
    const title = document.createElement("div");
    title.className = "tiny muted";
    title.textContent = `block ${l + 1}`;
    group.append(title);
    for (let h = 0; h < heads; h++) {
      const base = ((l * heads + h) * T + query) * T;
      const row = weights.data.subarray(base, base + T);
      let max = 0;
      let argmax = 0;
      for (let j = 0; j <= query; j++) if (row[j] > max) { max = row[j]; argmax = j; }
      const strip = document.createElement("div");
      strip.className = "lm-strip";
      strip.setAttribute("data-testid", `lm-strip-${l}-${h}`);
      const label = document.createElement("span");
      label.className = "lm-strip-label tiny mono";
      label.style.setProperty("--c", HEAD_COLORS[h % HEAD_COLORS.length]);
      label.textContent = `h${h + 1}`;
      strip.append(label);
      const box = document.createElement("span");
      box.className = "lm-strip-text mono";
      const text = document.createElement("span");
      text.className = "lm-strip-inner";
      box.append(text);
      if (start > 0) text.append(Object.assign(document.createElement("span"), { className: "muted", textContent: "…" }));
      for (let j = start; j <= query; j++) {
        const c = document.createElement("span");
        c.className = "lm-strip-ch";
        c.textContent = shown(chars[j], { space: "\u00a0" });
        const alpha = max > 0 ? row[j] / max : 0;
        c.style.setProperty("--a", alpha.toFixed(3));
        c.style.setProperty("--c", HEAD_COLORS[h % HEAD_COLORS.length]);
        c.title = `${JSON.stringify(chars[j])} at ${j}: weight ${row[j].toFixed(3)}`;
        if (j === query) c.classList.add("lm-strip-query");
        text.append(c);
      }
      const top = document.createElement("span");
      top.className = "lm-strip-top tiny mono";
      top.textContent = `${(100 * max).toFixed(0)}% on ${JSON.stringify(chars[argmax])}`;
      top.title = `this head's largest weight: ${(100 * max).toFixed(1)} % on ${JSON.stringify(chars[argmax])} at ${argmax}`;
      strip.append(box, top);
      group.append(strip);
    }
    container.append(group);
  }
}

/** One layer's weights cropped to positions [start, end] (inclusive) as a (heads, n, n) tensor. */
export function cropLayer(weights, layer, start, end) {
  const [, heads, T] = weights.shape;
  const n = end - start + 1;
  const out = new Float32Array(heads * n * n);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const from = ((layer * heads + h) * T + start + i) * T + start;
      out.set(weights.data.subarray(from, from + n), (h * n + i) * n);
    }
  }
  return { data: out, shape: [heads, n, n] };
}
