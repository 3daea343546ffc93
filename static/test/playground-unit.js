// Unit tests for the Playground's pure modules; results land in window.__results for pytest to read.
import {
  formatEdits, formatEpoch, modelCaption, parseEdits, parseHash, roundCoord, toHash,
} from "/static/js/playground-state.js";
import { colorTable, toByte } from "/static/js/value-maps.js";

const DEFAULTS = {
  dataset: "circle", noise: 0, train_ratio: 0.5, data_seed: 0, features: ["x1", "x2"], hidden: [4, 2],
  activation: "tanh", activations: null, loss: "mse", optimizer: "sgd", learning_rate: 0.03, batch_size: 10,
  regularization: "none", reg_rate: 0, seed: 0,
};
const VIEW = { showTestData: false, discretize: false, showGradients: false };

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
function assertEqual(actual, expected, what = "") {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what} expected ${e}, got ${a}`);
}

test("an empty hash gives the defaults", () => {
  const { config, view, edits } = parseHash("", DEFAULTS);
  assertEqual(config, DEFAULTS);
  assertEqual(view, VIEW);
  assertEqual(edits, []);
});

test("hash round trip keeps every setting", () => {
  const config = { ...DEFAULTS, dataset: "spiral3", noise: 0.15, train_ratio: 0.7, seed: 12, data_seed: 99,
    features: ["x1", "x2", "sinx1"], hidden: [8, 3, 1], activation: "relu", activations: ["relu", "tanh", null],
    loss: "cross_entropy", optimizer: "adam", learning_rate: 0.003, batch_size: 25, regularization: "l2",
    reg_rate: 0.01 };
  const view = { showTestData: true, discretize: true, showGradients: true };
  const edits = [{ op: "add", point: [1.25, -3.5], label: 1, split: "train" }, { op: "remove", at: [0.5, 0.5] },
                 { op: "add", point: [2, 2], label: 0, split: "test" }];
  const parsed = parseHash(toHash(config, view, edits), DEFAULTS);
  assertEqual(parsed.config, config);
  assertEqual(parsed.view, view);
  assertEqual(parsed.edits, edits);
});

test("TensorFlow Playground links open", () => {
  const hash = "#activation=relu&batchSize=20&dataset=xor&regDataset=reg-plane&learningRate=0.1&" +
    "regularizationRate=0.003&noise=10&networkShape=6,3&seed=0.59613&showTestData=true&discretize=false&" +
    "percTrainData=60&x=true&y=true&xTimesY=true&xSquared=false&ySquared=false&cosX=false&sinX=false&cosY=false&" +
    "sinY=false&collectStats=false&problem=classification&initZero=false&hideText=false&regularization=L2";
  const { config, view } = parseHash(hash, DEFAULTS);
  assertEqual([config.dataset, config.activation, config.batch_size, config.learning_rate], ["xor", "relu", 20, 0.1]);
  assertEqual([config.noise, config.train_ratio, config.hidden], [0.1, 0.6, [6, 3]]);
  assertEqual([config.regularization, config.reg_rate, config.seed], ["l2", 0.003, 59613]);
  assertEqual(config.features, ["x1", "x2", "x1x2"]);
  assertEqual(view.showTestData, true);
  assertEqual(parseHash("#problem=regression&regDataset=reg-gauss", DEFAULTS).config.dataset, "multigauss");
  assertEqual(parseHash("#networkShape=", DEFAULTS).config.hidden, []);
});

test("point edits: text form and bad parts skipped", () => {
  assertEqual(formatEdits([{ op: "add", point: [1.2, 3.4], label: 1 }, { op: "remove", at: [2.1, 0.5] }]),
              "a1.2,3.4,1;r2.1,0.5");
  assertEqual(parseEdits("a1,2,1;zz;r3,x;t0.5,0.25"),
              [{ op: "add", point: [1, 2], label: 1, split: "train" }, { op: "add", point: [0.5], label: 0.25, split: "test" }]);
  assertEqual(roundCoord(1.23456), 1.23);
});

test("epoch counter is six digits with a separator", () => {
  assertEqual(formatEpoch(0), "000,000");
  assertEqual(formatEpoch(1234), "001,234");
  assertEqual(formatEpoch(1234567), "1,234,567");
});

test("caption names the linear classifier, the kernel model and learned features", () => {
  assertEqual(modelCaption({ ...DEFAULTS, hidden: [] }, "binary").startsWith("Linear classifier"), true);
  assertEqual(modelCaption({ ...DEFAULTS, hidden: [], features: ["x1", "x1sq"] }, "binary").startsWith("Kernel model"), true);
  assertEqual(modelCaption(DEFAULTS, "binary").startsWith("Neural network"), true);
  assertEqual(modelCaption({ ...DEFAULTS, hidden: [] }, "regression").startsWith("Linear model"), true);
});

test("map colours: the bytes' middle is grey, the ends orange and blue; discretize snaps", () => {
  const table = colorTable(false);
  assertEqual(Array.from(table.slice(0, 3)), [0xf5, 0x93, 0x22]);
  assertEqual(Array.from(table.slice(255 * 3, 255 * 3 + 3)), [0x08, 0x77, 0xbd]);
  const snapped = colorTable(true);
  assertEqual(Array.from(snapped.slice(127 * 3, 127 * 3 + 3)), [0xf5, 0x93, 0x22]);
  assertEqual(Array.from(snapped.slice(128 * 3, 128 * 3 + 3)), [0x08, 0x77, 0xbd]);
  assertEqual([toByte(-1, -1, 1), toByte(0.001, -1, 1), toByte(-0.001, -1, 1), toByte(5, -1, 1)], [0, 128, 127, 255]);
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
  list.append(li);
}
const failed = results.filter((r) => !r.ok).length;
document.querySelector("[data-testid=js-summary]").textContent = `${results.length - failed} passed, ${failed} failed`;
window.__results = results;
