// The configuration changes the Playground's controls make: the current configuration in, the next one out.
// Pure functions; the server checks the result and builds the network from it.

/** A configuration's data fields as PUT /api/networks/{id}/data and the network import take them. */
export function dataSpec(config, seed = config.data_seed) {
  return { name: config.dataset, noise: config.noise, train_ratio: config.train_ratio, seed };
}

/** True when `next` names other points than `config` does (a rebuild then generates them afresh). */
export function dataChanged(config, next) {
  return ["dataset", "noise", "train_ratio", "data_seed"].some((k) => next[k] !== config[k]);
}

/**
 * Another data set: 1-D data keep only the features of x1 (x1 alone when none is left), and going back to the
 * plane restores the default features; regression has no cross-entropy, and classes pick it (softmax and
 * cross-entropy learn three classes in seconds where squared error stalls; the menu can change it back).
 */
export function withDataset(config, name, catalog) {
  const infoOf = (dataset) => catalog.datasets.find((d) => d.name === dataset);
  const info = infoOf(name);
  const next = { ...config, dataset: name };
  const oneD = catalog.choices.one_d_features;
  if (info.kind === "curve") {
    next.features = config.features.filter((f) => oneD.includes(f));
    if (!next.features.length) next.features = ["x1"];
  } else if (infoOf(config.dataset)?.kind === "curve") {
    next.features = [...catalog.defaults.features];
  }
  if (info.task === "regression" && next.loss === "cross_entropy") next.loss = "mse";
  if (info.task === "multiclass" && infoOf(config.dataset)?.task !== "multiclass") next.loss = "cross_entropy";
  return next;
}

/** The feature switched on or off; null when that would leave no feature at all. */
export function withFeatureToggled(config, name) {
  const features = config.features.includes(name) ? config.features.filter((f) => f !== name) : [...config.features, name];
  return features.length ? { ...config, features } : null;
}

/** Each hidden layer's activation. */
export function layerActivations(config) {
  return config.activations ? [...config.activations] : config.hidden.map(() => config.activation);
}

/** New hidden layers; per-layer activations are kept only while some layer differs from the global one. */
export function withLayers(config, hidden, activations) {
  const uniform = activations.every((a) => a === config.activation);
  return { ...config, hidden, activations: uniform ? null : activations };
}

/** One neuron more (delta +1) or fewer (−1) in hidden layer `layer` (from 1), between 1 and `maxNeurons`. */
export function withNeurons(config, layer, delta, maxNeurons) {
  const hidden = [...config.hidden];
  hidden[layer - 1] = Math.max(1, Math.min(maxNeurons, hidden[layer - 1] + delta));
  return withLayers(config, hidden, layerActivations(config));
}

export function withLayerActivation(config, layer, activation) {
  const activations = layerActivations(config);
  activations[layer - 1] = activation;
  return withLayers(config, [...config.hidden], activations);
}

/** A hidden layer of two neurons added at the end (none past `maxLayers`); null when there is no room. */
export function withLayerAdded(config, maxLayers) {
  if (config.hidden.length >= maxLayers) return null;
  return withLayers(config, [...config.hidden, 2], [...layerActivations(config), config.activation]);
}

/** The last hidden layer removed; null when there is none. */
export function withLayerRemoved(config) {
  if (!config.hidden.length) return null;
  return withLayers(config, config.hidden.slice(0, -1), layerActivations(config).slice(0, -1));
}

/** The next learning rate of the menu below `current` (the lowest when none is). */
export function lowerRate(rates, current) {
  return [...rates].reverse().find((r) => r < current) ?? rates[0];
}
