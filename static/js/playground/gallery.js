// The universal-approximation gallery: one card per preset, each painted with the output the server trained
// for it; a click opens the preset on the page.
import { api, ApiError, decodeArrays } from "../lib/api.js";
import { formatNumber, formatPercent } from "../lib/format.js";
import { drawPoints } from "./dataset-picker.js";
import { paintBytes } from "./value-maps.js";

const SIZE = 50; // the server paints each card's output on a 50 × 50 grid
const DRAWN = 200; // the card's canvas: the output scaled up, the training points over it

/** Build the cards of `items` (the catalogue's gallery) in `grid`; `onOpen(config)` runs on a click. */
export async function buildGallery(grid, items, onOpen) {
  const cards = items.map((item) => {
    const card = document.createElement("button");
    card.className = "pg-gallery-card";
    card.setAttribute("data-testid", `gallery-${item.name}`);
    const canvas = document.createElement("canvas");
    canvas.width = DRAWN;
    canvas.height = DRAWN;
    const title = document.createElement("strong");
    title.textContent = item.title;
    const note = document.createElement("span");
    note.className = "tiny muted";
    note.textContent = "training…";
    card.append(canvas, title, note);
    card.addEventListener("click", () => onOpen(item.config));
    grid.append(card);
    return { item, canvas, note };
  });
  // One at a time: the server trains each preset on first request.
  for (const { item, canvas, note } of cards) {
    try {
      const r = decodeArrays(await api(`/api/playground/gallery/${item.name}`));
      const output = document.createElement("canvas");
      output.width = SIZE;
      output.height = SIZE;
      paintBytes(output, r.output.data, SIZE);
      const ctx = canvas.getContext("2d");
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(output, 0, 0, DRAWN, DRAWN);
      const task = r.points.y.data.some((v) => v > 1) ? "multiclass" : "binary";
      canvas.closest("button").dataset.points = String(drawPoints(canvas, task, r.points, { outline: true }));
      note.textContent = `${r.epochs} epochs · test loss ${formatNumber(r.test_loss, 3)} · ` +
        `${formatPercent(r.test_accuracy, 0)} right`;
    } catch (err) {
      note.textContent = err instanceof ApiError ? err.message : "could not train";
    }
  }
}
