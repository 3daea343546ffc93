// The Playground's state in the URL hash: configuration (what the server builds) and view options.
// Keys follow TensorFlow Playground's where they overlap, so its links open here too.

export const FEATURE_KEYS = {
  x1: "x", x2: "y", x1sq: "xSquared", x2sq: "ySquared", x1x2: "xTimesY", sinx1: "sinX", sinx2: "sinY",
};
const TF_REGRESSION = { "reg-plane": "plane", "reg-gauss": "multigauss" };
const MAX_EDITS = 200;

/** The view options (drawing only; the server never sees them). */
export const DEFAULT_VIEW = { showTestData: false, discretize: false, showGradients: false };

function number(value, fallback) {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) ? n : fallback;
}

function seedOf(value, fallback) {
  const n = Number(value);
  if (value === undefined || value === "" || !Number.isFinite(n) || n < 0) return fallback;
  // TensorFlow Playground's seeds are fractions like 0.12345.
  return Number.isInteger(n) ? n : Math.round(n * 1e5);
}

/**
 * Parse a hash ("#dataset=xor&networkShape=4,2…") into {config, view, edits}.
 * Unknown or invalid values fall back to the defaults (the server validates what remains).
 */
export function parseHash(hash, defaults) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const get = (k) => (params.has(k) ? params.get(k) : undefined);
  const config = structuredClone(defaults);
  let dataset = get("dataset");
  if (get("problem") === "regression" && get("regDataset")) dataset = TF_REGRESSION[get("regDataset")];
  if (dataset) config.dataset = dataset;
  if (get("noise") !== undefined) config.noise = number(get("noise"), 0) / 100;
  if (get("percTrainData") !== undefined) config.train_ratio = number(get("percTrainData"), 50) / 100;
  config.seed = seedOf(get("seed"), config.seed);
  config.data_seed = seedOf(get("dataSeed"), config.seed);
  if (get("networkShape") !== undefined) {
    const shape = get("networkShape");
    config.hidden = shape === "" ? [] : shape.split(",").map((v) => Math.round(number(v, 1)));
  }
  if (get("activation")) config.activation = get("activation").toLowerCase();
  if (get("activations")) {
    const acts = get("activations").split(",").map((a) => a || null);
    config.activations = acts.length === config.hidden.length ? acts : null;
  }
  if (get("loss")) config.loss = get("loss");
  if (get("optimizer")) config.optimizer = get("optimizer");
  if (get("learningRate")) config.learning_rate = number(get("learningRate"), config.learning_rate);
  if (get("batchSize")) config.batch_size = Math.round(number(get("batchSize"), config.batch_size));
  if (get("regularization")) config.regularization = get("regularization").toLowerCase();
  if (get("regularizationRate")) config.reg_rate = number(get("regularizationRate"), config.reg_rate);
  const chosen = Object.entries(FEATURE_KEYS).filter(([, key]) => get(key) !== undefined);
  if (chosen.length) {
    config.features = Object.entries(FEATURE_KEYS).filter(([, key]) => get(key) === "true").map(([n]) => n);
    if (!config.features.length) config.features = structuredClone(defaults.features);
  }
  const view = {
    showTestData: get("showTestData") === "true",
    discretize: get("discretize") === "true",
    showGradients: get("showGradients") === "true",
  };
  return { config, view, edits: parseEdits(get("edits") || "") };
}

/** The hash for a configuration, view and point edits. */
export function toHash(config, view, edits = []) {
  const p = new URLSearchParams();
  p.set("dataset", config.dataset);
  p.set("noise", String(Math.round(config.noise * 100)));
  p.set("percTrainData", String(Math.round(config.train_ratio * 100)));
  p.set("seed", String(config.seed));
  if (config.data_seed !== config.seed) p.set("dataSeed", String(config.data_seed));
  p.set("networkShape", config.hidden.join(","));
  p.set("activation", config.activation);
  if (config.activations) p.set("activations", config.activations.join(","));
  p.set("loss", config.loss);
  p.set("optimizer", config.optimizer);
  p.set("learningRate", String(config.learning_rate));
  p.set("batchSize", String(config.batch_size));
  p.set("regularization", config.regularization);
  p.set("regularizationRate", String(config.reg_rate));
  for (const [name, key] of Object.entries(FEATURE_KEYS)) p.set(key, String(config.features.includes(name)));
  p.set("showTestData", String(view.showTestData));
  p.set("discretize", String(view.discretize));
  if (view.showGradients) p.set("showGradients", "true");
  if (edits.length && edits.length <= MAX_EDITS) p.set("edits", formatEdits(edits));
  return "#" + p.toString().replaceAll("%2C", ",");
}

/**
 * Point edits, replayed in order on the same data: {op: "add", point, label, split} or {op: "remove", at}.
 * Text form: "a1.2,3.4,1;t0.5,0.5,0;r2.1,0.5" (a: add to training, t: add to test, r: remove nearest).
 */
export function formatEdits(edits) {
  return edits.map((e) => {
    if (e.op === "remove") return "r" + e.at.join(",");
    return (e.split === "test" ? "t" : "a") + [...e.point, e.label].join(",");
  }).join(";");
}

export function parseEdits(text) {
  const edits = [];
  for (const part of text.split(";")) {
    const kind = part[0];
    const nums = part.slice(1).split(",").map(Number);
    if (!part || nums.some((n) => !Number.isFinite(n))) continue;
    if (kind === "r" && nums.length >= 1) edits.push({ op: "remove", at: nums });
    else if ((kind === "a" || kind === "t") && nums.length >= 2) {
      edits.push({ op: "add", point: nums.slice(0, -1), label: nums[nums.length - 1],
                   split: kind === "t" ? "test" : "train" });
    }
  }
  return edits.slice(0, MAX_EDITS);
}

/** Round a coordinate as the link stores it, so a replayed edit lands exactly where it was made. */
export function roundCoord(v) {
  return Math.round(v * 100) / 100;
}

/** The one-line description of what kind of model the configuration is. */
export function modelCaption(config, task) {
  const linearOnly = config.features.every((f) => f === "x1" || f === "x2");
  const regression = task === "regression";
  const multi = task === "multiclass";
  const out = multi ? "softmax(Wᵀ{x} + b)" : regression ? "wᵀ{x} + b" : "sign(wᵀ{x} + b)";
  if (config.hidden.length === 0) {
    if (linearOnly) {
      return `Linear ${regression ? "model" : "classifier"}: ${out.replace("{x}", "x")} — a straight boundary in the input plane.`;
    }
    return `Kernel model: fixed features φ(x) = (${config.features.map(featureLabel).join(", ")}), learned weights: ` +
      `${out.replace("{x}", "φ(x)")}.`;
  }
  const layers = config.hidden.length === 1 ? "one hidden layer learns its" : `${config.hidden.length} hidden layers learn their`;
  return `Neural network: ${layers} own features φ(x) from the inputs; the output is ${out.replace("{x}", "φ(x)")}.`;
}

const FEATURE_LABELS = { x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂", sinx1: "sin x₁", sinx2: "sin x₂" };

export function featureLabel(name) {
  return FEATURE_LABELS[name] || name;
}

/** The hidden layers' activations as the page names them. */
export const ACTIVATION_LABELS = { relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", linear: "Linear" };

/**
 * What a neuron is called on the page. Layers count dense layers: 0 the input `features`, then the hidden
 * layers, the last one the output; `layout` is the neurons per layer.
 */
export function neuronName(layer, index, layout, features) {
  const last = layout.length - 1;
  if (layer === 0) return `input ${featureLabel(features[index])}`;
  if (layer === last) return layout[last] === 3 ? `output: probability of class ${index}` : "output";
  return `neuron ${index + 1} of hidden layer ${layer}`;
}

/** The epoch counter as TensorFlow Playground shows it: six digits, a thousands separator. */
export function formatEpoch(epoch) {
  const s = String(Math.max(0, Math.floor(epoch))).padStart(6, "0");
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
