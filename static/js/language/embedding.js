// The character embedding as a 2-D map: every symbol at its coordinates on the two first principal components.
import { svg } from "../lib/svg.js";
import { shown } from "./chars.js";

export const GROUP_COLORS = {
  vowel: "#d64545", consonant: "#0877bd", "capital vowel": "#e0559b", "capital consonant": "#00a3a3",
  digit: "#2e9e52", punctuation: "#f59322", space: "#9c4dcc", unknown: "#8d6e63",
};

export function renderEmbedding(container, legend, map) {
  const n = map.symbols.length;
  const xs = [];
  const ys = [];
  for (let i = 0; i < n; i++) { xs.push(map.coords.data[2 * i]); ys.push(map.coords.data[2 * i + 1]); }
  const pad = 16;
  const width = 520;
  const height = 360;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (v) => pad + ((v - x0) / (x1 - x0 || 1)) * (width - 2 * pad);
  const sy = (v) => height - pad - ((v - y0) / (y1 - y0 || 1)) * (height - 2 * pad);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Characters on the first two principal components of the embedding" });
  root.append(svg("line", { x1: sx(0), x2: sx(0), y1: 0, y2: height, class: "lm-axis" }),
    svg("line", { x1: 0, x2: width, y1: sy(0), y2: sy(0), class: "lm-axis" }));
  for (let i = 0; i < n; i++) {
    const group = map.groups[i];
    const label = svg("text", { x: sx(xs[i]), y: sy(ys[i]), "text-anchor": "middle", "dominant-baseline": "central",
      fill: GROUP_COLORS[group], class: "lm-embed-label", "data-testid": `lm-embed-${i}`,
      text: shown(map.symbols[i]) });
    label.append(svg("title", { text: `${JSON.stringify(map.symbols[i])} (${group})` }));
    root.append(label);
  }
  container.replaceChildren(root);
  legend.replaceChildren(...Object.entries(GROUP_COLORS).filter(([g]) => map.groups.includes(g)).map(([g, c]) => {
    const s = document.createElement("span");
    s.className = "lm-group";
    s.style.setProperty("--c", c);
    s.textContent = g;
    return s;
  }));
}
