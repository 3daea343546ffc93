// The logit lens: per layer, the characters the output layer would predict from the residual stream there.
import { rgb, sequential, textOn } from "../lib/colors.js";
import { shown } from "./chars.js";

export function renderLens(container, lens) {
  container.replaceChildren();
  lens.forEach((layer, depth) => {
    const row = document.createElement("div");
    row.className = "lm-lens-row";
    row.setAttribute("data-testid", `lm-lens-${depth}`);
    const name = document.createElement("span");
    name.className = "lm-lens-name tiny";
    name.textContent = depth === lens.length - 1 ? `${layer.name} = output` : layer.name;
    row.append(name);
    for (const { char, probability } of layer.top) {
      const cell = document.createElement("span");
      cell.className = "lm-lens-cell mono";
      const colour = sequential(Math.sqrt(probability));
      cell.style.background = rgb(colour);
      cell.style.color = textOn(colour);
      cell.textContent = shown(char);
      cell.title = `${JSON.stringify(char)}: ${(100 * probability).toFixed(1)} %`;
      const p = document.createElement("small");
      p.textContent = `${Math.round(100 * probability)}%`;
      cell.append(p);
      row.append(cell);
    }
    container.append(row);
  });
}
