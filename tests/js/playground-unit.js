// Unit tests for the Playground's pure modules; results land in window.__results for pytest to read.
import { paramValue } from "/static/js/playground/network-view.js";
import {
  dataChanged, dataSpec, lowerRate, withDataset, withFeatureToggled, withLayerActivation, withLayerAdded,
  withLayerRemoved, withNeurons,
} from "/static/js/playground/config.js";
import { editAt } from "/static/js/playground/points.js";
import {
  formatEdits, formatEpoch, modelCaption, neuronName, parseEdits, parseHash, roundCoord, toHash,
} from "/static/js/playground/state.js";
import { colorTable, pointColor, toByte } from "/static/js/playground/value-maps.js";
import { assertEqual, run, test } from "./harness.js";

const DEFAULTS = {
  dataset: "circle", noise: 0, train_ratio: 0.5, data_seed: 0, features: ["x1", "x2"], hidden: [4, 2],
  activation: "tanh", activations: null, loss: "mse", optimizer: "sgd", learning_rate: 0.03, batch_size: 10,
  regularization: "none", reg_rate: 0, seed: 0,
};
const VIEW = { showTestData: false, discretize: false, showGradients: false };

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

test("point colours: classes, and values on the diverging scale", () => {
  assertEqual([pointColor("binary", 0), pointColor("binary", 1)], [[0xf5, 0x93, 0x22], [0x08, 0x77, 0xbd]]);
  assertEqual(pointColor("multiclass", 2), [0x2e, 0x9e, 0x5b]);
  assertEqual([pointColor("regression", -1), pointColor("regression", 0)], [[0xf5, 0x93, 0x22], [0xe8, 0xea, 0xeb]]);
});

const CATALOG = {
  datasets: [{ name: "circle", kind: "plane", task: "binary" }, { name: "plane", kind: "plane", task: "regression" },
             { name: "sin", kind: "curve", task: "regression" },
             { name: "spiral3", kind: "plane", task: "multiclass" }],
  choices: { one_d_features: ["x1", "x1sq", "sinx1"] },
  defaults: DEFAULTS,
};

test("config changes: data sets keep the features they can and the loss they may", () => {
  const oneD = withDataset({ ...DEFAULTS, features: ["x1", "x2", "sinx1"], loss: "cross_entropy" }, "sin", CATALOG);
  assertEqual([oneD.dataset, oneD.features, oneD.loss], ["sin", ["x1", "sinx1"], "mse"]);
  assertEqual(withDataset({ ...DEFAULTS, features: ["x2"] }, "sin", CATALOG).features, ["x1"]);
  const back = withDataset({ ...DEFAULTS, dataset: "sin", features: ["sinx1"] }, "circle", CATALOG);
  assertEqual(back.features, ["x1", "x2"]);
  assertEqual(withDataset({ ...DEFAULTS, features: ["x1x2"] }, "plane", CATALOG).features, ["x1x2"]);
  // Three classes pick cross-entropy; squared error chosen afterwards stays while the classes do.
  assertEqual(withDataset(DEFAULTS, "spiral3", CATALOG).loss, "cross_entropy");
  assertEqual(withDataset({ ...DEFAULTS, dataset: "spiral3", loss: "mse" }, "spiral3", CATALOG).loss, "mse");
  assertEqual([dataChanged(DEFAULTS, { ...DEFAULTS, hidden: [3] }), dataChanged(DEFAULTS, { ...DEFAULTS, noise: 0.1 })],
              [false, true]);
  assertEqual(dataSpec(DEFAULTS, 7), { name: "circle", noise: 0, train_ratio: 0.5, seed: 7 });
});

test("config changes: features, neurons, layers and per-layer activations", () => {
  assertEqual(withFeatureToggled(DEFAULTS, "x1sq").features, ["x1", "x2", "x1sq"]);
  assertEqual(withFeatureToggled({ ...DEFAULTS, features: ["x1"] }, "x1"), null);
  assertEqual(withNeurons(DEFAULTS, 1, 1, 8).hidden, [5, 2]);
  assertEqual(withNeurons({ ...DEFAULTS, hidden: [8, 1] }, 1, 1, 8).hidden, [8, 1]);
  assertEqual(withNeurons({ ...DEFAULTS, hidden: [8, 1] }, 2, -1, 8).hidden, [8, 1]);
  const relu = withLayerActivation(DEFAULTS, 2, "relu");
  assertEqual(relu.activations, ["tanh", "relu"]);
  assertEqual(withLayerActivation(relu, 2, "tanh").activations, null);
  assertEqual([withLayerAdded(relu, 6).hidden, withLayerAdded(relu, 6).activations], [[4, 2, 2], ["tanh", "relu", "tanh"]]);
  assertEqual(withLayerAdded({ ...DEFAULTS, hidden: [1, 1] }, 2), null);
  assertEqual([withLayerRemoved(relu).hidden, withLayerRemoved(relu).activations], [[4], null]);
  assertEqual(withLayerRemoved({ ...DEFAULTS, hidden: [] }), null);
  assertEqual([lowerRate([0.01, 0.03, 0.1], 0.1), lowerRate([0.01, 0.03, 0.1], 0.01)], [0.03, 0.01]);
});

test("a click on the plot: add, remove (shift), nothing outside", () => {
  assertEqual(editAt("plane", 1.234, -2.5, { pointClass: 0 }), { op: "add", point: [1.23, -2.5], label: 0, split: "train" });
  assertEqual(editAt("plane", 1, 2, { shift: true }), { op: "remove", at: [1, 2] });
  assertEqual(editAt("curve", 0.5, 1.5), { op: "add", point: [0.5], label: 1.5, split: "train" });
  assertEqual(editAt("curve", 0.5, 1.5, { shift: true }), { op: "remove", at: [0.5] });
  assertEqual([editAt("plane", 6.5, 0), editAt("plane", 0, -7), editAt("curve", 0, 9) !== null], [null, null, true]);
});

test("names of neurons and values of parameters in a frame", () => {
  const layout = [2, 4, 3];
  assertEqual(neuronName(0, 1, layout, ["x1", "x1sq"]), "input x₁²");
  assertEqual(neuronName(1, 0, layout, []), "neuron 1 of hidden layer 1");
  assertEqual(neuronName(2, 2, layout, []), "output: probability of class 2");
  assertEqual(neuronName(1, 0, [2, 1], []), "output");
  const frame = { weights: [{ shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }], weight_grads: [{ shape: [2, 3], data: [0, 0, 0, 0, -5, 0] }],
                  biases: [{ data: [7, 8, 9] }], bias_grads: [{ data: [0, 0.5, 0] }] };
  assertEqual(paramValue(frame, { kind: "weight", layer: 1, from: 1, to: 1 }), 5);
  assertEqual(paramValue(frame, { kind: "weight", layer: 1, from: 1, to: 1 }, true), -5);
  assertEqual([paramValue(frame, { kind: "bias", layer: 1, to: 1 }), paramValue(frame, { kind: "bias", layer: 1, to: 1 }, true)],
              [8, 0.5]);
});

await run();
