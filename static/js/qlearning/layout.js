// Grid-world layouts as the API takes them: one string per row, one character per cell.
// Pure functions (no DOM), so the edits are easy to reason about and to test.

export const TOOL_CHARS = { empty: ".", wall: "#", goal: "G", pit: "P", cliff: "C", start: "S" };
export const CELL_KIND = { ".": "empty", "#": "wall", G: "goal", P: "pit", C: "cliff", S: "start" };
export const MIN_SIDE = 2;
export const MAX_SIDE = 12;

/**
 * The layout after placing `tool` at (r, c). Placing the start moves it; the start cell itself only changes by
 * moving the start elsewhere. Returns {layout} or {error} (a sentence saying what to do instead).
 */
export function applyTool(layout, r, c, tool) {
  const ch = TOOL_CHARS[tool];
  if (!ch) return { error: `unknown tool ${tool}` };
  const rows = layout.map((row) => row.split(""));
  const here = rows[r][c];
  if (here === "S" && tool !== "start") {
    return { error: "That is the start: pick the Start tool and click another cell to move it first." };
  }
  if (tool === "start") {
    for (const row of rows) for (let j = 0; j < row.length; j++) if (row[j] === "S") row[j] = ".";
  }
  rows[r][c] = here === ch && tool !== "start" ? "." : ch; // clicking a cell with its own kind clears it
  return { layout: rows.map((row) => row.join("")) };
}

/** The layout cut or padded (with empty cells) to rows × cols, keeping a start and a goal. */
export function resize(layout, rows, cols) {
  rows = Math.max(MIN_SIDE, Math.min(MAX_SIDE, Math.round(rows)));
  cols = Math.max(MIN_SIDE, Math.min(MAX_SIDE, Math.round(cols)));
  const out = [];
  for (let i = 0; i < rows; i++) {
    const old = layout[i] || "";
    out.push(Array.from({ length: cols }, (_, j) => old[j] || ".").join(""));
  }
  const text = out.join("");
  const grid = out.map((row) => row.split(""));
  if (!text.includes("S")) grid[0][0] = "S";
  if (!text.includes("G")) grid[rows - 1][cols - 1] = "G";
  return grid.map((row) => row.join(""));
}
