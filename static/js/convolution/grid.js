// Number grids for the convolution page: a matrix of cells coloured by value, optionally editable,
// optionally with a zero-padding border, and a movable window frame showing the kernel's weights.
import { diverging, rgb, textOn } from "../lib/colors.js";
import { formatValue } from "../lib/format.js";

const GAP = 2;

/**
 * Build a grid in `container`.
 * rows × cols real cells, surrounded by `padding` rings of padding cells (drawn dashed, value 0).
 * options.cellSize (px), options.editable (real cells become inputs), options.cellTestid(r, c) → test id,
 * options.onEdit(r, c, value, input), options.onCellEnter(r, c), options.onCellClick(r, c), options.tint
 * (a CSS colour for a channel's border). Coordinates passed to callbacks are of real cells.
 */
export function createGrid(container, { rows, cols, padding = 0, cellSize = 40, editable = false, cellTestid,
  onEdit, onCellEnter, onCellClick, label } = {}) {
  const total = { rows: rows + 2 * padding, cols: cols + 2 * padding };
  container.replaceChildren();
  container.classList.add("num-grid-wrap");
  const grid = document.createElement("div");
  grid.className = "num-grid";
  grid.style.gridTemplateColumns = `repeat(${total.cols}, ${cellSize}px)`;
  grid.style.gridAutoRows = `${cellSize}px`;
  grid.style.gap = `${GAP}px`;
  grid.style.setProperty("--cell", `${cellSize}px`);
  if (label) grid.setAttribute("aria-label", label);
  const cells = [];
  for (let pr = 0; pr < total.rows; pr++) {
    const row = [];
    for (let pc = 0; pc < total.cols; pc++) {
      const r = pr - padding;
      const c = pc - padding;
      const isPad = r < 0 || c < 0 || r >= rows || c >= cols;
      const cell = document.createElement("div");
      cell.className = isPad ? "cell pad" : "cell";
      if (isPad) {
        cell.textContent = "0";
        cell.title = "padding (zero)";
      } else {
        if (cellTestid) cell.dataset.testid = cellTestid(r, c);
        if (editable) {
          const input = document.createElement("input");
          input.type = "text";
          input.inputMode = "decimal";
          input.className = "cell-input";
          input.setAttribute("aria-label", `${label || "cell"} row ${r + 1} column ${c + 1}`);
          input.addEventListener("change", () => {
            const value = Number(input.value.replace("−", "-").replace(",", "."));
            const ok = input.value.trim() !== "" && Number.isFinite(value);
            input.classList.toggle("invalid", !ok);
            if (ok && onEdit) onEdit(r, c, value, input);
          });
          input.addEventListener("keydown", (event) => {
            if (event.key === "Enter") input.blur();
          });
          cell.append(input);
        } else {
          const span = document.createElement("span");
          cell.append(span);
        }
        if (onCellEnter) cell.addEventListener("mouseenter", () => onCellEnter(r, c));
        if (onCellClick) cell.addEventListener("click", () => onCellClick(r, c));
      }
      grid.append(cell);
      row.push(cell);
    }
    cells.push(row);
  }
  const frame = document.createElement("div");
  frame.className = "window-frame";
  frame.hidden = true;
  grid.append(frame);
  container.append(grid);

  /** The element of real cell (r, c); padding cells by negative or overflowing coordinates. */
  function cell(r, c) {
    return cells[r + padding]?.[c + padding];
  }

  /** Show values (rows × cols; null leaves a cell empty), coloured on the diverging scale of ±range. */
  function setValues(values, range = 1) {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const el = cell(r, c);
        const v = values?.[r]?.[c];
        const empty = v === null || v === undefined;
        const text = empty ? "" : formatValue(v);
        const target = el.firstChild;
        if (target.tagName === "INPUT") {
          if (document.activeElement !== target) target.value = text;
          target.classList.remove("invalid");
        } else {
          target.textContent = text;
        }
        el.classList.toggle("empty", empty);
        if (empty) {
          el.style.background = "";
          el.style.color = "";
        } else {
          // Softer than full colour so the numbers stay readable.
          const color = diverging(v, range * 1.15);
          el.style.background = rgb(color);
          el.style.color = textOn(color);
        }
      }
    }
  }

  /**
   * Frame the size×size window whose top-left real cell is (top, left) (negative inside the padding),
   * writing each covered cell's kernel weight as a small "×w"; null hides it.
   */
  function showWindow(top, left, size, weights = null) {
    for (const el of grid.querySelectorAll(".in-window")) {
      el.classList.remove("in-window");
      delete el.dataset.weight;
    }
    if (top === null || top === undefined) {
      frame.hidden = true;
      return;
    }
    const step = cellSize + GAP;
    frame.hidden = false;
    frame.style.transform = `translate(${(left + padding) * step - 3}px, ${(top + padding) * step - 3}px)`;
    frame.style.width = `${size * step - GAP + 6}px`;
    frame.style.height = `${size * step - GAP + 6}px`;
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const el = cell(top + i, left + j);
        if (!el) continue;
        el.classList.add("in-window");
        if (weights) el.dataset.weight = `×${formatValue(weights[i][j])}`;
      }
    }
  }

  /** Mark one real cell (the current output) with a class. */
  function mark(r, c, className = "current") {
    for (const el of grid.querySelectorAll(`.${className}`)) el.classList.remove(className);
    if (r !== null && r !== undefined) cell(r, c)?.classList.add(className);
  }

  return { element: grid, rows, cols, padding, cellSize, cell, setValues, showWindow, mark };
}

/** Cell size that fits `count` cells into `width` px, between min and max. */
export function fitCellSize(count, width, min = 26, max = 46) {
  return Math.max(min, Math.min(max, Math.floor((width - (count - 1) * GAP) / count)));
}

/** The largest |value| in a 2-D array (1 when all are zero), ignoring nulls. */
export function rangeOf(values) {
  let m = 0;
  for (const row of values) for (const v of row) if (v !== null && Math.abs(v) > m) m = Math.abs(v);
  return m || 1;
}
