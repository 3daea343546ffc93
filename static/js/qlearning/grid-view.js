// The grid world drawn in SVG: four Q-value triangles per cell, the greedy arrow, walls, goals, pits, the cliff,
// the agent and its path. Built once per layout; every frame only recolours.
import { diverging, rgb, symmetricRange, textOn } from "../lib/colors.js";
import { formatNumber } from "../lib/format.js";
import { svg } from "../lib/svg.js";
import { CELL_KIND } from "./layout.js";

export const ACTIONS = ["up", "right", "down", "left"];
const SIZE = 60; // one cell in SVG units
const ARROW = { 0: [0, -1], 1: [1, 0], 2: [0, 1], 3: [-1, 0] };

function triangle(x, y, action) {
  const c = [x + SIZE / 2, y + SIZE / 2];
  const corners = [[x, y], [x + SIZE, y], [x + SIZE, y + SIZE], [x, y + SIZE]];
  const [a, b] = [[0, 1], [1, 2], [2, 3], [3, 0]][action];
  return [corners[a], corners[b], c].map((p) => p.join(",")).join(" ");
}

export function fmtReward(v) {
  return (v > 0 ? "+" : "") + formatNumber(v, 3);
}

export class GridView {
  constructor(root, tooltip, { onCell }) {
    this.root = root;
    this.tooltip = tooltip;
    this.onCell = onCell;
    this.layout = [];
    this.q = null;
    this.root.addEventListener("click", (e) => {
      const cell = e.target.closest("[data-row]");
      if (cell) this.onCell(Number(cell.dataset.row), Number(cell.dataset.col));
    });
    this.root.addEventListener("mousemove", (e) => this.hover(e));
    this.root.addEventListener("mouseleave", () => { this.tooltip.hidden = true; });
  }

  /** Build the cells for a world ({layout, rows, cols, goal_reward, pit_reward, cliff_reward}). */
  build(world) {
    this.world = world;
    this.layout = world.layout;
    const { rows, cols } = world;
    this.root.setAttribute("viewBox", `-2 -2 ${cols * SIZE + 4} ${rows * SIZE + 4}`);
    this.root.style.setProperty("--aspect", `${cols} / ${rows}`);
    const cells = svg("g");
    this.triangles = {};
    this.arrows = {};
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const kind = CELL_KIND[this.layout[r][c]];
        const x = c * SIZE;
        const y = r * SIZE;
        const g = svg("g", { class: `cell cell-${kind}`, "data-testid": `cell-${r}-${c}`, "data-row": r,
          "data-col": c, "data-kind": kind });
        g.append(svg("rect", { x, y, width: SIZE, height: SIZE, class: "cell-bg" }));
        if (kind === "empty" || kind === "start") { // the agent never stands on a wall, a cliff or a terminal cell
          for (let a = 0; a < 4; a++) {
            const t = svg("polygon", { points: triangle(x, y, a), class: "q-tri", "data-testid": `q-${r}-${c}-${a}`,
              "data-action": a });
            this.triangles[`${r}-${c}-${a}`] = t;
            g.append(t);
          }
        }
        if (kind === "goal" || kind === "pit" || kind === "cliff") {
          const reward = { goal: world.goal_reward, pit: world.pit_reward, cliff: world.cliff_reward }[kind];
          g.append(svg("text", { x: x + SIZE / 2, y: y + SIZE / 2 + 5, class: "cell-label",
            text: kind === "cliff" ? `cliff ${fmtReward(reward)}` : fmtReward(reward) }));
        }
        if (kind === "start") g.append(svg("text", { x: x + 5, y: y + 13, class: "start-label", text: "S" }));
        cells.append(g);
      }
    }
    this.pathLine = svg("polyline", { class: "agent-path", points: "" });
    this.arrowLayer = svg("g", { class: "arrows" });
    this.agent = svg("circle", { r: SIZE * 0.16, class: "agent", "data-testid": "agent" });
    this.root.replaceChildren(cells, this.arrowLayer, this.pathLine, this.agent);
  }

  /** Recolour from a snapshot {q (rows, cols, 4), policy, agent, path}; `changed` = [r, c, a] to highlight. */
  update(snapshot, changed = null) {
    const { rows, cols } = this.world;
    this.q = snapshot.q;
    const active = [];
    for (const key of Object.keys(this.triangles)) {
      const [r, c, a] = key.split("-").map(Number);
      active.push(this.q[r][c][a]);
    }
    const range = symmetricRange(active);
    this.range = range;
    for (const [key, tri] of Object.entries(this.triangles)) {
      const [r, c, a] = key.split("-").map(Number);
      tri.setAttribute("fill", rgb(diverging(this.q[r][c][a], range)));
      tri.classList.toggle("changed", !!changed && changed[0] === r && changed[1] === c && changed[2] === a);
    }
    this.arrowLayer.replaceChildren();
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const a = snapshot.policy[r][c];
        if (a < 0 || !this.triangles[`${r}-${c}-0`]) continue;
        const cx = c * SIZE + SIZE / 2;
        const cy = r * SIZE + SIZE / 2;
        const [dx, dy] = ARROW[a];
        const tip = [cx + dx * SIZE * 0.3, cy + dy * SIZE * 0.3];
        const tail = [cx - dx * SIZE * 0.12, cy - dy * SIZE * 0.12];
        const side = [-dy * SIZE * 0.1, dx * SIZE * 0.1];
        const back = [tip[0] - dx * SIZE * 0.14, tip[1] - dy * SIZE * 0.14];
        const d = `M${tail.join(",")}L${tip.join(",")}M${back[0] + side[0]},${back[1] + side[1]}L${tip.join(",")}`
          + `L${back[0] - side[0]},${back[1] - side[1]}`;
        this.arrowLayer.append(svg("path", { d, class: "policy-arrow", "data-testid": `policy-arrow-${r}-${c}`,
          "data-action": a, "aria-label": ACTIONS[a] }));
      }
    }
    const center = ([r, c]) => `${c * SIZE + SIZE / 2},${r * SIZE + SIZE / 2}`;
    this.pathLine.setAttribute("points", snapshot.path.map(center).join(" "));
    const [ar, ac] = snapshot.agent;
    this.agent.setAttribute("cx", ac * SIZE + SIZE / 2);
    this.agent.setAttribute("cy", ar * SIZE + SIZE / 2);
  }

  hover(e) {
    const tri = e.target.closest(".q-tri");
    const cell = e.target.closest("[data-row]");
    if (!cell || !this.q) {
      this.tooltip.hidden = true;
      return;
    }
    const r = Number(cell.dataset.row);
    const c = Number(cell.dataset.col);
    let text = `(${r}, ${c}) ${cell.dataset.kind}`;
    if (tri) {
      const a = Number(tri.dataset.action);
      text = `Q((${r}, ${c}), ${ACTIONS[a]}) = ${formatNumber(this.q[r][c][a], 4)}`;
    }
    this.tooltip.textContent = text;
    this.tooltip.hidden = false;
    this.tooltip.style.left = `${e.clientX + 12}px`;
    this.tooltip.style.top = `${e.clientY + 12}px`;
  }
}

/** V(s) = max Q per cell as a small heatmap with its numbers; walls and terminal cells stay blank. */
export function drawValues(root, world, values) {
  const { rows, cols } = world;
  const S = 40;
  root.setAttribute("viewBox", `0 0 ${cols * S} ${rows * S}`);
  const live = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if ("S.".includes(world.layout[r][c])) live.push(values[r][c]);
  }
  const range = symmetricRange(live);
  const out = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const ch = world.layout[r][c];
      const kind = CELL_KIND[ch];
      const v = values[r][c];
      const colour = "S.".includes(ch) ? diverging(v, range) : null;
      out.push(svg("rect", { x: c * S, y: r * S, width: S, height: S, class: `v-cell v-${kind}`,
        fill: colour ? rgb(colour) : null }));
      if (colour) {
        out.push(svg("text", { x: c * S + S / 2, y: r * S + S / 2 + 4, class: "v-label", fill: textOn(colour),
          text: formatNumber(v, 2) }));
      }
    }
  }
  root.replaceChildren(...out);
}
