// The catch board on a canvas and the Q-value of each action as bars.
import { cssColor, fitCanvas } from "../lib/plot-canvas.js";
import { formatNumber } from "../lib/format.js";

export const GAME_ACTIONS = ["left", "stay", "right"];

/** Draw a board (rows × cols of 0 empty, 1 fruit, 2 paddle). */
export function drawBoard(canvas, board) {
  const rows = board.length;
  const cols = board[0].length;
  const width = canvas.clientWidth || 300;
  const { ctx, width: w, height: h } = fitCanvas(canvas, width * rows / cols);
  const cw = w / cols;
  const ch = h / rows;
  ctx.fillStyle = cssColor("var(--surface-2)", "#f0f2f5");
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = cssColor("var(--border)", "#d9dde3");
  ctx.lineWidth = 1;
  for (let c = 1; c < cols; c++) { ctx.beginPath(); ctx.moveTo(c * cw, 0); ctx.lineTo(c * cw, h); ctx.stroke(); }
  for (let r = 1; r < rows; r++) { ctx.beginPath(); ctx.moveTo(0, r * ch); ctx.lineTo(w, r * ch); ctx.stroke(); }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (board[r][c] === 2) {
        ctx.fillStyle = cssColor("var(--value-positive)", "#0877bd");
        ctx.fillRect(c * cw + 1, r * ch + ch * 0.25, cw - 2, ch * 0.5);
      }
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (board[r][c] === 1) {
        ctx.fillStyle = cssColor("var(--value-negative)", "#f59322");
        ctx.beginPath();
        ctx.arc(c * cw + cw / 2, r * ch + ch / 2, Math.min(cw, ch) * 0.36, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
  }
}

/** Three bars: Q(s, left), Q(s, stay), Q(s, right); the greedy action (or `chosen`) marked. */
export function drawQBars(root, q, chosen = null) {
  if (!q) return;
  const range = Math.max(1e-6, ...q.map((v) => Math.abs(v)));
  const best = q.indexOf(Math.max(...q));
  const rows = GAME_ACTIONS.map((name, i) => {
    const row = document.createElement("div");
    row.className = "q-bar-row";
    row.classList.toggle("best", i === best);
    row.classList.toggle("chosen", chosen === i);
    row.dataset.testid = `q-bar-${name}`;
    const label = Object.assign(document.createElement("span"), { className: "q-bar-label", textContent: name });
    const track = Object.assign(document.createElement("span"), { className: "q-bar-track" });
    const bar = Object.assign(document.createElement("span"), { className: q[i] < 0 ? "q-bar neg" : "q-bar" });
    const half = (50 * Math.abs(q[i])) / range;
    bar.style.width = `${half}%`;
    bar.style.left = q[i] < 0 ? `${50 - half}%` : "50%";
    track.append(bar);
    const value = Object.assign(document.createElement("span"), { className: "q-bar-value mono",
      textContent: formatNumber(q[i], 3) });
    row.append(label, track, value);
    return row;
  });
  root.replaceChildren(...rows);
}
