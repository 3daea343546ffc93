// Unit tests for the shared ES modules; results land in window.__results for pytest to read.
import { ApiError, decodeArray, decodeArrays, errorMessage } from "/static/js/lib/api.js";
import { diverging, sequential, symmetricRange, textOn } from "/static/js/lib/colors.js";
import { drawHeatmap, drawLegend } from "/static/js/lib/heatmap.js";
import { formatFixed, formatNumber, formatPercent, formatProbability, formatValue } from "/static/js/lib/format.js";
import { extent, niceTicks, pathData, scaleLinear } from "/static/js/lib/plot.js";
import { applyHistory, reconnectDelay } from "/static/js/lib/socket.js";
import { num, symbol } from "/static/js/lib/mathml.js";
import { pretty } from "/static/js/backprop/stage-view.js";
import { assembleWalk, backwardRecords, denseParams, graphView } from "/static/js/backprop/walk-model.js";

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assertEqual(actual, expected, what = "") {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what} expected ${e}, got ${a}`);
}

function base64Of(typed) {
  const bytes = new Uint8Array(typed.buffer);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

test("diverging scale ends and middle", () => {
  assertEqual(diverging(-1), [0xf5, 0x93, 0x22], "−1");
  assertEqual(diverging(0), [0xe8, 0xea, 0xeb], "0");
  assertEqual(diverging(1), [0x08, 0x77, 0xbd], "+1");
  assertEqual(diverging(5, 2), [0x08, 0x77, 0xbd], "clamped");
  assertEqual(diverging(-0.5, 1), [0xef, 0xbf, 0x87], "half way to orange");
});

test("diverging scale quantises to steps", () => {
  assertEqual(diverging(0.01, 1, 31), diverging(0, 1), "tiny value snaps to zero colour");
});

test("sequential scale", () => {
  assertEqual(sequential(0), [0xf2, 0xf7, 0xf6]);
  assertEqual(sequential(1), [0x0b, 0x6e, 0x69]);
  assertEqual(sequential(2), [0x0b, 0x6e, 0x69], "clamped");
});

test("symmetric range and text contrast", () => {
  assertEqual(symmetricRange([0.5, -2, 1]), 2);
  assertEqual(symmetricRange([0, 0]), 1);
  assertEqual(textOn([255, 255, 255]), "#1d2430");
  assertEqual(textOn([8, 119, 189]), "#ffffff");
});

test("formatNumber", () => {
  assertEqual(formatNumber(0.191), "0.191");
  assertEqual(formatNumber(-0.809), "−0.809");
  assertEqual(formatNumber(0.32724049999), "0.327");
  assertEqual(formatNumber(12345.6), "1.23e+4");
  assertEqual(formatNumber(0), "0");
  assertEqual(formatNumber(null), "—");
  assertEqual(formatNumber(-Infinity), "−∞");
});

test("formatValue: whole numbers exactly, others to 3 significant decimals", () => {
  assertEqual(formatValue(4), "4");
  assertEqual(formatValue(-0.0000000001), "0");
  assertEqual(formatValue(-2.5), "−2.5");
  assertEqual(formatValue(123.456), "123.5");
  assertEqual(formatValue(1.23456), "1.23");
  assertEqual(formatValue(0.0123456), "0.0123");
  assertEqual(formatValue(null), "");
});

test("formatFixed: fixed decimals, ASCII minus, no negative zero", () => {
  assertEqual(formatFixed(0.12345), "0.123");
  assertEqual(formatFixed(-1.5, 2), "-1.50");
  assertEqual(formatFixed(-0.0001), "0.000");
  assertEqual(formatFixed(123456), "1.23e+5");
  assertEqual(formatFixed(NaN), "—");
  assertEqual(formatFixed(-Infinity), "-∞");
  assertEqual(formatFixed(undefined), "—");
});

test("formatPercent and formatProbability", () => {
  assertEqual(formatPercent(0.1234), "12.3%");
  assertEqual(formatPercent(0.5, 0), "50%");
  assertEqual(formatPercent(0.98765, 2), "98.77%");
  assertEqual(formatPercent(null), "—");
  assertEqual(formatProbability(0.9996), "100%");
  assertEqual(formatProbability(0.0001), "<0.1%");
  assertEqual(formatProbability(0), "0%");
  assertEqual(formatProbability(0.4567), "45.7%");
});

test("decodeArray float32 and uint8", () => {
  const f = new Float32Array([1.5, -2, 0.25, 3]);
  const out = decodeArray({ dtype: "float32", shape: [2, 2], data: base64Of(f) });
  assertEqual(Array.from(out.data), [1.5, -2, 0.25, 3]);
  assertEqual(out.shape, [2, 2]);
  const u = new Uint8Array([0, 128, 255]);
  assertEqual(Array.from(decodeArray({ dtype: "uint8", shape: [3], data: base64Of(u) }).data), [0, 128, 255]);
});

test("decodeArrays walks nested responses", () => {
  const f = new Float32Array([7]);
  const out = decodeArrays({ a: { dtype: "float32", shape: [1], data: base64Of(f) }, b: [1, 2], c: "x" });
  assertEqual(Array.from(out.a.data), [7]);
  assertEqual(out.b, [1, 2]);
  assertEqual(out.c, "x");
});

test("errorMessage reads FastAPI errors", () => {
  assertEqual(errorMessage(404, { detail: "no network session 'x'" }), "no network session 'x'");
  assertEqual(errorMessage(422, { detail: [{ loc: ["body", "steps"], msg: "must be >= 0" }] }), "steps: must be >= 0");
  assertEqual(errorMessage(500, null), "The server answered 500.");
  const e = new ApiError(413, "too big", null);
  assertEqual([e.status, e.message], [413, "too big"]);
});

test("reconnect back-off", () => {
  assertEqual([0, 1, 2, 10].map((a) => reconnectDelay(a, 8000)), [250, 500, 1000, 8000]);
});

test("live history deltas: truncate to from, append the entries", () => {
  const local = [{ step: 0 }, { step: 5 }, { step: 9 }];
  assertEqual(applyHistory(local, { from: 2, entries: [{ step: 10 }, { step: 20 }] }),
    [{ step: 0 }, { step: 5 }, { step: 10 }, { step: 20 }]);
  assertEqual(applyHistory(local, { from: 0, entries: [{ step: 0 }] }), [{ step: 0 }]); // a reset
  assertEqual(applyHistory(local, undefined), local); // a frame without history
});

test("drawHeatmap paints pixels with the scale", () => {
  const canvas = document.createElement("canvas");
  const range = drawHeatmap(canvas, [-1, 0, 1, 0.5], 2, 2);
  assertEqual(range, 1);
  assertEqual([canvas.width, canvas.height], [2, 2]);
  const px = canvas.getContext("2d").getImageData(0, 0, 2, 2).data;
  assertEqual(Array.from(px.slice(0, 4)), [0xf5, 0x93, 0x22, 255], "top-left −1");
  assertEqual(Array.from(px.slice(8, 12)), [0x08, 0x77, 0xbd, 255], "bottom-left +1");
});

test("drawLegend labels its ends, gray and custom", () => {
  const box = document.createElement("div");
  drawLegend(box, { range: 2.5, label: "z" });
  assertEqual(Array.from(box.querySelectorAll("span"), (s) => s.textContent), ["z", "−2.5", "2.5"]);
  drawLegend(box, { scale: "gray" });
  assertEqual(Array.from(box.querySelectorAll("span"), (s) => s.textContent), ["0", "255"]);
  const bar = box.querySelector("canvas").getContext("2d");
  assertEqual(Array.from(bar.getImageData(0, 0, 1, 1).data), [0, 0, 0, 255], "gray starts black");
  drawLegend(box, { ends: ["−max", "+max"] });
  assertEqual(Array.from(box.querySelectorAll("span"), (s) => s.textContent), ["−max", "+max"]);
});

test("plot: round ticks, scales, extents", () => {
  assertEqual(niceTicks(-6, 6, 6), [-6, -4, -2, 0, 2, 4, 6]);
  assertEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEqual(niceTicks(-0.03, 0.27, 4), [0, 0.1, 0.2]);
  assertEqual(scaleLinear([0, 10], [100, 0])(2.5), 75);
  assertEqual(extent([0, 1], { pad: 0 }), [0, 1]);
  assertEqual(extent([2, 2], { pad: 0 }), [1.5, 2.5], "flat data still gets a range");
  assertEqual(extent([null, NaN], {}), [-1, 1], "no finite data");
});

test("plot: paths break at gaps", () => {
  const id = (v) => v;
  assertEqual(pathData([0, 1, 2, 3], [0, 1, null, 3], id, id), "M0.00,0.00L1.00,1.00M3.00,3.00");
});

// --- backprop walkthrough -------------------------------------------------------------------------------

test("mathml: engine labels become subscripted symbols", () => {
  assertEqual(symbol("h1").tagName, "msub");
  assertEqual(symbol("h1").textContent, "h1");
  assertEqual(symbol("h2_3").textContent, "h2,3", "neuron 3 of hidden layer 2");
  assertEqual(symbol("w12").lastChild.textContent, "12");
  assertEqual(symbol("prediction").tagName, "mi");
  assertEqual(pretty("w6"), "w₆");
  assertEqual(pretty("h2_1"), "h₂,₁");
});

test("mathml: numbers keep the engine's value and bracket negatives on request", () => {
  const n = num(-0.8089999999999999);
  assertEqual(n.textContent, "−0.809");
  assertEqual(n.getAttribute("data-value"), "-0.8089999999999999");
  assertEqual(num(-0.809, { paren: true }).textContent, "(−0.809)");
  assertEqual(num(0.48, { paren: true }).textContent, "0.48");
});

const WALK_221 = {
  labels: { neurons: [["i1", "i2"], ["h1", "h2"], ["prediction"]],
    weights: [[["w1", "w3"], ["w2", "w4"]], [["w5"], ["w6"]]], biases: [null, null] },
  params: { "1.weight": [[0.14], [0.15]], "0.weight": [[0.11, 0.12], [0.21, 0.08]] },
  inputs: [[2, 3]], targets: [[1]], position: 0, total: 8, step: 0,
  revealed: [{ phase: "forward", layer: 1, neuron: 0, neuron_label: "h1", activation: "linear", index: 0,
    terms: [{ input_label: "i1", weight_label: "w1", input: [2], weight: 0.11, product: [0.22] },
      { input_label: "i2", weight_label: "w2", input: [3], weight: 0.21, product: [0.63] }],
    bias: null, bias_label: null, z: [0.85], a: [0.85] }],
};
WALK_221.current = WALK_221.revealed[0];

test("walk model: dense blocks in layer order, a neuron stage fills one column", () => {
  assertEqual(denseParams(WALK_221.params).map((p) => p.index), [0, 1]);
  const model = assembleWalk(WALK_221, ["linear", "linear"]);
  assertEqual(model.layers[0].forwardDone, [true, false]);
  assertEqual(model.layers[0].z, [[0.85, null]]);
  assertEqual(model.layers[1].a, [[null]], "the prediction is not revealed yet");
  assertEqual(model.loss, null);
  const view = graphView(model, WALK_221, 0, "squared error");
  assertEqual(view.neurons.map((c) => c.map((n) => n.value)), [[2, 3], [0.85, null], [null]]);
  assertEqual(view.links[0].map((r) => r.map((w) => w.label)), [["w1", "w3"], ["w2", "w4"]]);
  assertEqual(view.links[1][1][0].value, 0.15);
  assertEqual(view.highlight, { phase: "forward", layer: 1, neuron: 0 });
  assertEqual(view.loss.error, null);
});

test("walk model: a backward layer stage gives one record per neuron, sources from the next layer", () => {
  const walk = { ...WALK_221, revealed: [
    { phase: "forward", layer: 1, neuron: null, activation: "linear", inputs: [[2, 3]],
      weight: [[0.11, 0.12], [0.21, 0.08]], bias: null, z: [[0.85, 0.48]], a: [[0.85, 0.48]] },
    { phase: "forward", layer: 2, neuron: null, activation: "linear", inputs: [[0.85, 0.48]],
      weight: [[0.14], [0.15]], bias: null, z: [[0.191]], a: [[0.191]] },
    { phase: "backward", layer: 2, neuron: null, activation: "linear", dE_da: [[-0.809]], g_prime: [[1]],
      delta: [[-0.809]], inputs: [[0.85, 0.48]], grad_weight: [[-0.688], [-0.388]], grad_bias: null },
    { phase: "backward", layer: 1, neuron: null, activation: "linear", dE_da: [[-0.113, -0.121]],
      g_prime: [[1, 1]], delta: [[-0.113, -0.121]], inputs: [[2, 3]],
      grad_weight: [[-0.227, -0.243], [-0.340, -0.364]], grad_bias: null }] };
  const model = assembleWalk(walk, ["linear", "linear"]);
  const records = backwardRecords(walk.revealed[3], model);
  assertEqual(records.map((r) => r.label), ["h1", "h2"]);
  assertEqual(records[1].sources, [{ weight_label: "w6", weight: 0.15, delta_label: "prediction", delta: [-0.809],
    activation: "linear", isOutput: true }]);
  assertEqual(records[1].weights.map((w) => [w.weight_label, w.grad]), [["w3", -0.243], ["w4", -0.364]]);
  assertEqual(graphView(model, walk, 0, "").links[0][1][1].grad, -0.364);
});

const results = [];
for (const { name, fn } of tests) {
  try {
    await fn();
    results.push({ name, ok: true });
  } catch (err) {
    results.push({ name, ok: false, error: String(err.message || err) });
  }
}
const list = document.getElementById("results");
for (const r of results) {
  const li = document.createElement("li");
  li.textContent = `${r.ok ? "✓" : "✗"} ${r.name}${r.ok ? "" : ` — ${r.error}`}`;
  li.style.color = r.ok ? "var(--ok)" : "var(--danger)";
  list.append(li);
}
const failed = results.filter((r) => !r.ok).length;
document.querySelector("[data-testid=js-summary]").textContent =
  `${results.length - failed} passed, ${failed} failed`;
window.__results = results;
