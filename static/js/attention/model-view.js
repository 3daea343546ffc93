// Model view: every attention layer × head as a small heatmap, grouped by stack; click one to select it.
import { drawHeatmap } from "../lib/heatmap.js";
import { headMatrix, headTestId } from "./maps.js";

const GROUPS = [
  ["encoder", "Encoder self-attention"],
  ["decoder", "Decoder masked self-attention"],
  ["cross", "Cross-attention (decoder → encoder)"],
  ["self", "Self-attention"],
];

export class ModelView {
  /** `onSelect(id, head)` is called when a cell is clicked. */
  constructor(container, onSelect) {
    this.container = container;
    this.onSelect = onSelect;
    this.cells = new Map(); // "id/head" → {button, canvas}
    this.layout = "";
  }

  /** Build the grid for a model's attention layers (from the session state). */
  build(attention) {
    this.layout = attention.map((a) => `${a.id}:${a.heads}`).join(",");
    // Few maps get big thumbnails; many stay small enough to see the whole model at once.
    const biggest = attention.length <= 2 ? 130 : attention.length <= 4 ? 104 : 84;
    this.cells.clear();
    this.container.replaceChildren();
    for (const [kind, title] of GROUPS) {
      const layers = attention.filter((a) => a.kind === kind);
      if (!layers.length) continue;
      const heads = layers[0].heads;
      const group = document.createElement("div");
      group.className = "mv-group";
      const h = document.createElement("h3");
      h.textContent = title + (layers[0].causal ? " · masked" : "");
      const grid = document.createElement("div");
      grid.className = "mv-grid";
      grid.style.gridTemplateColumns = `44px repeat(${heads}, minmax(34px, ${biggest}px))`;
      grid.append(document.createElement("span"));
      for (let hd = 0; hd < heads; hd++) {
        const label = document.createElement("span");
        label.className = "mv-collabel";
        label.textContent = `head ${hd + 1}`;
        grid.append(label);
      }
      for (const a of layers) {
        const label = document.createElement("span");
        label.className = "mv-rowlabel";
        label.textContent = `layer ${a.layer + 1}`;
        grid.append(label);
        for (let hd = 0; hd < heads; hd++) {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "mv-cell";
          button.setAttribute("data-testid", headTestId(a.kind, a.layer, hd));
          button.setAttribute("aria-pressed", "false");
          button.setAttribute("aria-label", `${title}, layer ${a.layer + 1}, head ${hd + 1}`);
          const canvas = document.createElement("canvas");
          button.append(canvas);
          button.addEventListener("click", () => this.onSelect(a.id, hd));
          grid.append(button);
          this.cells.set(`${a.id}/${hd}`, { button, canvas });
        }
      }
      group.append(h, grid);
      this.container.append(group);
    }
  }

  /** Paint every cell from the maps of one pass ([{id, weights}]). */
  update(maps) {
    for (const map of maps) {
      for (let hd = 0; ; hd++) {
        const cell = this.cells.get(`${map.id}/${hd}`);
        if (!cell) break;
        const { rows, cols, values } = headMatrix(map.weights, hd);
        drawHeatmap(cell.canvas, values, rows, cols, { scale: "sequential" });
      }
    }
  }

  select(id, head) {
    for (const [key, { button }] of this.cells) button.setAttribute("aria-pressed", String(key === `${id}/${head}`));
  }
}
