// The multi-channel view: an RGB input and one 3×3×3 filter. Each channel's window meets its own kernel
// slice; the three channel sums plus the bias make one output number. Numbers from POST /api/conv/apply.
import { api } from "../lib/api.js";
import { renderSum } from "./arithmetic.js";
import { formatValue } from "../lib/format.js";
import { createGrid, rangeOf } from "./grid.js";

const NAMES = ["R", "G", "B"];
const CELL = 32;

export function initMultiChannel(root, { onError }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const rowsEl = $("mc-channels");
  const outputEl = $("mc-output-grid");
  const totalEl = $("mc-total-line");
  const state = { example: null, result: null, pos: 0, grids: [], kernels: [], output: null };

  function buildChannelRows() {
    const { image, kernel, padding } = state.example;
    rowsEl.replaceChildren();
    state.grids = [];
    state.kernels = [];
    state.sums = [];
    image.forEach((channel, ch) => {
      const row = document.createElement("div");
      row.className = `mc-col channel-${NAMES[ch].toLowerCase()}`;
      row.innerHTML = `
        <div class="mc-head"><span class="mc-name" aria-hidden="true">${NAMES[ch]}</span>
          <span>${["Red", "Green", "Blue"][ch]} channel</span></div>
        <figure class="mc-input"><div></div></figure>
        <div class="mc-op" aria-hidden="true">⊙</div>
        <figure class="mc-kernel"><figcaption>kernel slice ${NAMES[ch]}</figcaption><div></div></figure>
        <div class="mc-op" aria-hidden="true">=</div>
        <div class="mc-sum arith" data-testid="mc-sum-${ch}"></div>`;
      rowsEl.append(row);
      const [inputBox, kernelBox] = row.querySelectorAll("figure > div");
      state.grids.push(createGrid(inputBox, { rows: channel.length, cols: channel[0].length, padding,
                                              cellSize: CELL, label: `${NAMES[ch]} channel` }));
      state.kernels.push(createGrid(kernelBox, {
        rows: kernel[ch].length, cols: kernel[ch].length, cellSize: CELL, editable: true,
        label: `kernel ${NAMES[ch]}`, cellTestid: (r, c) => `mc-kernel-${ch}-${r}-${c}`,
        onEdit: (r, c, v) => { state.example.kernel[ch][r][c] = v; recompute(); },
      }));
      state.sums.push(row.querySelector(".mc-sum"));
    });
  }

  function buildOutput() {
    const [oh, ow] = state.result.shape;
    state.output = createGrid(outputEl, {
      rows: oh, cols: ow, cellSize: 40, label: "output",
      cellTestid: (r, c) => `mc-cell-${r}-${c}`,
      onCellEnter: (r, c) => select(r * ow + c), onCellClick: (r, c) => select(r * ow + c),
    });
  }

  /** One line of the receipt: a label and a number, "+" before every term but the first. */
  function line(label, value, className, first = false) {
    const el = document.createElement("div");
    el.className = `receipt-line ${className}`;
    el.innerHTML = `<span class="receipt-label"></span><span class="receipt-op"></span><b class="mono"></b>`;
    el.querySelector(".receipt-label").textContent = label;
    el.querySelector(".receipt-op").textContent = first ? "" : className === "receipt-total" ? "=" : "+";
    el.querySelector("b").textContent = formatValue(value);
    return el;
  }

  function render() {
    const { image, kernel } = state.example;
    const result = state.result;
    const [, ow] = result.shape;
    const r = Math.floor(state.pos / ow);
    const c = state.pos % ow;
    const w = result.windows;
    const range = rangeOf(image.flat());
    state.grids.forEach((grid, ch) => {
      grid.setValues(image[ch], range);
      grid.showWindow(w.top[r], w.left[c], kernel[ch].length, kernel[ch]);
      state.kernels[ch].setValues(kernel[ch], rangeOf(kernel.flat()));
      renderSum(state.sums[ch], { window: w.window[0][r][c][ch], kernel: kernel[ch],
                                  products: w.products[0][r][c][ch], total: w.channel_sums[0][r][c][ch] });
    });
    state.output.setValues(result.output, rangeOf(result.output));
    state.output.mark(r, c);
    totalEl.replaceChildren();
    const sums = w.channel_sums[0][r][c];
    sums.forEach((s, ch) => {
      totalEl.append(line(`${["Red", "Green", "Blue"][ch]} channel sum`, s, `channel-${NAMES[ch].toLowerCase()}`,
                          ch === 0));
    });
    totalEl.append(line("bias", w.bias, "bias"));
    const out = line(`output at row ${r}, column ${c}`, w.total[0][r][c], "receipt-total");
    out.dataset.testid = "mc-total";
    totalEl.append(out);
  }

  function select(pos) {
    state.pos = pos;
    render();
  }

  async function recompute() {
    const { image, kernel, bias, stride, padding } = state.example;
    try {
      state.result = await api("/api/conv/apply", {
        method: "POST", body: { image, kernel, bias, stride, padding, windows: true },
      });
      if (!state.output) buildOutput();
      render();
      onError(null);
    } catch (err) {
      onError(err);
    }
  }

  $("mc-step").addEventListener("click", () => {
    const [oh, ow] = state.result.shape;
    select((state.pos + 1) % (oh * ow));
  });
  $("mc-new").addEventListener("click", async () => {
    try {
      const seed = Math.floor(Math.random() * 1e6);
      const examples = await api("/api/conv/examples", { query: { seed } });
      await start(examples.rgb);
    } catch (err) {
      onError(err);
    }
  });

  async function start(example) {
    state.example = structuredClone(example);
    state.pos = 0;
    state.output = null;
    $("mc-params").textContent = `${example.image.length}×${example.image[0].length}×${example.image[0][0].length} ` +
      `input · ${example.kernel.length}×${example.kernel[0].length}×${example.kernel[0][0].length} kernel · ` +
      `stride ${example.stride} · padding ${example.padding} · bias ${example.bias}`;
    buildChannelRows();
    await recompute();
  }

  return { start };
}
