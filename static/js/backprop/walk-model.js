// Rearrange what the walk API has revealed so far into one record per dense layer, whatever the
// granularity: a layer stage fills whole matrices, a neuron stage one column. Nothing here computes a
// number; entries not revealed yet stay null.

const grid = (rows, cols) => Array.from({ length: rows }, () => Array(cols).fill(null));
const column = (matrix, j) => matrix.map((r) => r[j]);

/** Dense blocks of a walk state's parameters, in order: [{index, weight, bias}] ('0.weight' → layer index 0). */
export function denseParams(params) {
  return Object.keys(params)
    .filter((k) => k.endsWith(".weight"))
    .map((k) => Number(k.split(".")[0]))
    .sort((a, b) => a - b)
    .map((index) => ({ index, weight: params[`${index}.weight`], bias: params[`${index}.bias`] ?? null }));
}

/**
 * walk: a GET/POST /walk answer; activations: the activation of each dense layer ("linear", "sigmoid", …).
 * Returns {layers: [...], loss, update, current, points: N}.
 */
export function assembleWalk(walk, activations) {
  const names = walk.labels;
  const dense = denseParams(walk.params);
  const count = walk.inputs ? walk.inputs.length : 0;
  const layers = dense.map((p, k) => {
    const inLabels = names.neurons[k];
    const outLabels = names.neurons[k + 1];
    const nin = inLabels.length;
    const nout = outLabels.length;
    return {
      number: k + 1, index: p.index, activation: activations[k] ?? "linear", isOutput: k === dense.length - 1,
      inLabels, outLabels, weightLabels: names.weights[k], biasLabels: names.biases[k],
      // weights as the forward pass used them (from the stage, else the network's current ones)
      weight: p.weight.map((r) => r.slice()), bias: p.bias ? p.bias.slice() : null,
      current: { weight: p.weight, bias: p.bias },
      inputs: k === 0 && walk.inputs ? walk.inputs : grid(count, nin),
      z: grid(count, nout), a: grid(count, nout),
      dE_da: grid(count, nout), g_prime: grid(count, nout), delta: grid(count, nout),
      grad_weight: grid(nin, nout), grad_bias: p.bias ? Array(nout).fill(null) : null,
      forwardDone: Array(nout).fill(false), backwardDone: Array(nout).fill(false),
    };
  });
  const setColumn = (matrix, j, values) => values?.forEach((v, n) => { matrix[n][j] = v; });
  let loss = null;
  let update = null;
  for (const s of walk.revealed) {
    if (s.phase === "loss") loss = s;
    else if (s.phase === "update") update = s;
    else {
      const layer = layers[s.layer - 1];
      const js = s.neuron === null ? layer.outLabels.map((_, j) => j) : [s.neuron];
      if (s.phase === "forward") {
        if (s.neuron === null) {
          for (const key of ["inputs", "weight", "bias", "z", "a"]) layer[key] = s[key];
        } else {
          const j = s.neuron;
          s.terms.forEach((t, i) => {
            setColumn(layer.inputs, i, t.input);
            layer.weight[i][j] = t.weight;
          });
          if (s.bias !== null) layer.bias[j] = s.bias;
          setColumn(layer.z, j, s.z);
          setColumn(layer.a, j, s.a);
        }
        js.forEach((j) => { layer.forwardDone[j] = true; });
      } else if (s.phase === "backward") {
        if (s.neuron === null) {
          for (const key of ["inputs", "dE_da", "delta", "grad_weight", "grad_bias"]) layer[key] = s[key];
          if (s.g_prime) layer.g_prime = s.g_prime; // none for softmax, whose slope is not one number per neuron
        } else {
          const j = s.neuron;
          setColumn(layer.dE_da, j, s.dE_da);
          if (s.g_prime) setColumn(layer.g_prime, j, s.g_prime);
          setColumn(layer.delta, j, s.delta);
          s.weight_grads.forEach((g, i) => {
            layer.grad_weight[i][j] = g.grad;
            setColumn(layer.inputs, i, g.input);
          });
          if (s.bias_grad) layer.grad_bias[j] = s.bias_grad.grad;
        }
        js.forEach((j) => { layer.backwardDone[j] = true; });
      }
    }
  }
  return { layers, loss, update, current: walk.current, points: count };
}

/**
 * One record per neuron for a forward stage (a layer stage gives one per neuron of the layer):
 * {label, activation, terms: [{input_label, weight_label, input[N], weight, product[N]|null}], bias, bias_label,
 *  z[N], a[N]}.
 */
export function forwardRecords(stage, model) {
  if (stage.neuron !== null) return [{ ...stage, label: stage.neuron_label }];
  const layer = model.layers[stage.layer - 1];
  return layer.outLabels.map((label, j) => ({
    label, activation: stage.activation,
    terms: layer.inLabels.map((inLabel, i) => ({
      input_label: inLabel, weight_label: layer.weightLabels[i][j], input: column(stage.inputs, i),
      weight: stage.weight[i][j], product: null,
    })),
    bias: stage.bias ? stage.bias[j] : null, bias_label: stage.bias ? layer.biasLabels[j] : null,
    z: column(stage.z, j), a: column(stage.a, j),
  }));
}

/**
 * One record per neuron for a backward stage:
 * {label, layer, activation, isOutput, dE_da[N], sources: [{weight_label, weight, delta_label, delta[N],
 *  activation}] | null, z[N], g_prime[N]|null, delta[N], weights: [{weight_label, input_label, input[N],
 *  per_example[N]|null, grad}], bias: {bias_label, per_example|null, grad} | null}.
 */
export function backwardRecords(stage, model) {
  const layer = model.layers[stage.layer - 1];
  const next = model.layers[stage.layer] ?? null;
  const sourcesOf = (j, given) => {
    if (!next) return null;
    return (given ?? next.outLabels.map((label, k) => ({
      weight_label: next.weightLabels[j][k], weight: next.weight[j][k], delta_label: label,
      delta: column(next.delta, k),
    }))).map((s) => ({ ...s, activation: next.activation, isOutput: next.isOutput }));
  };
  if (stage.neuron !== null) {
    const j = stage.neuron;
    return [{
      label: stage.neuron_label, layer: stage.layer, activation: stage.activation, isOutput: layer.isOutput,
      dE_da: stage.dE_da, sources: sourcesOf(j, stage.dE_da_sources), z: stage.z, g_prime: stage.g_prime,
      delta: stage.delta, weights: stage.weight_grads, bias: stage.bias_grad,
    }];
  }
  return layer.outLabels.map((label, j) => ({
    label, layer: stage.layer, activation: stage.activation, isOutput: layer.isOutput,
    dE_da: column(stage.dE_da, j), sources: sourcesOf(j, null), z: column(layer.z, j),
    g_prime: stage.g_prime ? column(stage.g_prime, j) : null, delta: column(stage.delta, j),
    weights: layer.inLabels.map((inLabel, i) => ({
      weight_label: layer.weightLabels[i][j], input_label: inLabel, input: column(stage.inputs, i),
      per_example: null, grad: stage.grad_weight[i][j],
    })),
    bias: stage.grad_bias ? { bias_label: layer.biasLabels[j], per_example: null, grad: stage.grad_bias[j] } : null,
  }));
}

/** What the graph shows for data point `point`: neurons with values and ∂E/∂a, links with weights and gradients. */
export function graphView(model, walk, point, lossLabel) {
  const first = model.layers[0];
  const inputs = walk.inputs;
  const neurons = [first.inLabels.map((label, i) => ({
    label, value: inputs && inputs[point] ? inputs[point][i] : null, grad: null, bias: null,
  }))];
  const updated = model.update !== null;
  model.layers.forEach((layer) => {
    neurons.push(layer.outLabels.map((label, j) => ({
      label,
      value: layer.forwardDone[j] ? layer.a[point][j] : null,
      grad: layer.backwardDone[j] ? layer.dE_da[point][j] : null,
      bias: layer.current.bias ? {
        label: layer.biasLabels[j], value: layer.current.bias[j],
        grad: layer.backwardDone[j] ? layer.grad_bias[j] : null,
      } : null,
    })));
  });
  const links = model.layers.map((layer) => layer.current.weight.map((row, i) => row.map((value, j) => ({
    label: layer.weightLabels[i][j], value, grad: layer.backwardDone[j] ? layer.grad_weight[i][j] : null,
  }))));
  const last = model.layers[model.layers.length - 1];
  const loss = {
    name: lossLabel,
    outputs: last.outLabels.map((label, k) => ({
      label, target: walk.targets ? walk.targets[point][k] : null,
      delta: model.loss ? model.loss.delta[point][k] : null,
    })),
    error: model.loss ? model.loss.value : null,
  };
  const current = model.current;
  const highlight = current ? { phase: current.phase, layer: current.layer, neuron: current.neuron } : null;
  return { neurons, links, loss, highlight, weightsUpdated: updated };
}
