// Unit tests for the shared ES modules; results land in window.__results for pytest to read.
import { ApiError, decodeArray, decodeArrays, errorMessage } from "/static/js/api.js";
import { diverging, sequential, symmetricRange, textOn } from "/static/js/colors.js";
import { drawHeatmap, formatNumber } from "/static/js/heatmap.js";
import { extent, niceTicks, pathData, scaleLinear } from "/static/js/plot.js";
import { reconnectDelay } from "/static/js/socket.js";

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

test("drawHeatmap paints pixels with the scale", () => {
  const canvas = document.createElement("canvas");
  const range = drawHeatmap(canvas, [-1, 0, 1, 0.5], 2, 2);
  assertEqual(range, 1);
  assertEqual([canvas.width, canvas.height], [2, 2]);
  const px = canvas.getContext("2d").getImageData(0, 0, 2, 2).data;
  assertEqual(Array.from(px.slice(0, 4)), [0xf5, 0x93, 0x22, 255], "top-left −1");
  assertEqual(Array.from(px.slice(8, 12)), [0x08, 0x77, 0xbd, 255], "bottom-left +1");
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
