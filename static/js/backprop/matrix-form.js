// The matrix form of the walked step: forward as row-vector × matrix products, the loss with Δ as a vector
// (one entry per data point), the gradients as (1/N)·aᵀδ and the update W ← W − α·∂E/∂W, every matrix filled
// with the engine's numbers as far as the walk has revealed them ("?" where it has not yet).
import { formula, frac, mi, mn, mo, mtext, num, numberMatrix, row, space, sub, sup, symbolMatrix } from "../lib/mathml.js";

/** The transpose of `base`: Xᵀ, or (W²)ᵀ when the base already carries a superscript. */
const tr = (base) => sup(base.tagName === "msup" ? row(mo("("), base, mo(")")) : base, mi("T"));
const transpose = (m) => (m.length ? m[0].map((_, j) => m.map((r) => r[j])) : []);
const W = (l) => sup(mi("W"), mn(l));
const B = (l) => sup(mi("b"), mn(l));

/** Name of the activation vector of layer l (0: inputs) as the worked example writes it. */
function vectorName(l, layers) {
  if (l === 0) return mi("i");
  if (l === layers.length) return layers.length === 1 || layers[l - 1].outLabels.length === 1 ? mi("prediction")
    : mi("o");
  return layers.length === 2 ? mi("h") : sup(mi("h"), mn(l));
}

const gOf = (z) => row(mi("g"), mo("′"), mo("("), z, mo(")"));
const zName = (l) => sup(mi("z"), mn(l));

/** δ of the output layer is Δ itself when the loss pairs with the output activation (or there is none). */
function outputDeltaIsDelta(layer, lossName) {
  return (lossName === "mse" && layer.activation === "linear") || (lossName === "bce" && layer.activation ===
    "sigmoid") || lossName === "cross_entropy" || lossName === "softmax_cross_entropy";
}

/** The symbolic δ of layer l, expanded one level as in W¹ ← W¹ − α iᵀ(Δ W²ᵀ). */
function deltaSymbol(l, layers, lossName) {
  const layer = layers[l - 1];
  if (l === layers.length) {
    return outputDeltaIsDelta(layer, lossName) ? mi("Δ") : row(mi("Δ"), mo("⊙"), gOf(zName(l)));
  }
  const next = l + 1 === layers.length ? deltaSymbol(l + 1, layers, lossName) : sup(mi("δ"), mn(l + 1));
  const back = row(next, tr(W(l + 1)));
  return layer.activation === "linear" ? back : row(mo("("), back, mo(")"), mo("⊙"), gOf(zName(l)));
}

function section(title, note, formulas, wide = false) {
  const box = document.createElement("section");
  box.className = `matrix-section${wide ? " wide" : ""}`;
  const h = document.createElement("h3");
  h.textContent = title;
  box.append(h);
  if (note) {
    const p = document.createElement("p");
    p.className = "muted small";
    p.textContent = note;
    box.append(p);
  }
  for (const f of formulas) box.append(formula(f));
  return box;
}

/**
 * Render the matrix form into `container`. model: assembleWalk(); ctx: {count, lossName, learningRate}.
 */
export function renderMatrixForm(container, model, walk, ctx) {
  const layers = model.layers;
  const count = ctx.count;
  const out = [];
  const several = count > 1;
  const rowsNote = several
    ? `${count} data points: every vector becomes a matrix with one row per point, Δ a column of ${count} ` +
      `errors, and each weight change is the average over the points (the 1/${count}).`
    : "One data point: every layer's values are a row vector.";
  out.push(Object.assign(document.createElement("p"), { className: "matrix-intro small", textContent: rowsNote }));

  layers.forEach((layer, k) => {
    const l = k + 1;
    const started = layer.forwardDone.some(Boolean);
    const lhs = row(vectorName(l - 1, layers), mo("·"), W(l), ...(layer.bias ? [mo("+"), B(l)] : []));
    const labelsIn = symbolMatrix([layer.inLabels]);
    const labelsOut = symbolMatrix([layer.outLabels]);
    const symbolic = row(labelsIn, mo("·"), symbolMatrix(layer.weightLabels),
      ...(layer.bias ? [mo("+"), symbolMatrix([layer.biasLabels])] : []), mo("="),
      layer.activation === "linear" ? labelsOut : zName(l));
    const formulas = [row(lhs, mo("="), layer.activation === "linear" ? vectorName(l, layers) : zName(l)), symbolic];
    if (started) {
      formulas.push(row(numberMatrix(layer.inputs), mo("·"), numberMatrix(layer.weight, { digits: 4 }),
        ...(layer.bias ? [mo("+"), numberMatrix([layer.bias], { digits: 4 })] : []), mo("="),
        numberMatrix(layer.z, { digits: 4, testid: `matrix-z${l}` })));
      if (layer.activation !== "linear") {
        formulas.push(row(vectorName(l, layers), mo("="), mi(layer.activation === "relu" ? "ReLU" : layer.activation),
          mo("("), zName(l), mo(")"), mo("="), numberMatrix(layer.a, { digits: 4, testid: `matrix-a${l}` })));
      }
    }
    out.push(section(`Forward, layer ${l}`, started ? null : "Not computed yet: press next.", formulas));
  });

  const lossFormulas = [row(mi("Δ"), mo("="), vectorName(layers.length, layers), mo("−"), mi("target"))];
  if (model.loss) {
    lossFormulas.push(row(mi("Δ"), mo("="), numberMatrix(model.loss.prediction), mo("−"),
      numberMatrix(model.loss.target), mo("="), numberMatrix(model.loss.delta, { testid: "matrix-delta" })));
    lossFormulas.push(row(mi("E"), mo("="), num(model.loss.value, { testid: "matrix-error" }),
      ...(several ? [space("1em"), mtext(`the mean of the ${count} points' errors`)] : [])));
  }
  out.push(section("Loss", model.loss ? null : "Not computed yet.", lossFormulas));

  for (let l = layers.length; l >= 1; l--) {
    const layer = layers[l - 1];
    const started = layer.backwardDone.some(Boolean);
    const formulas = [];
    const isDelta = l === layers.length && outputDeltaIsDelta(layer, ctx.lossName);
    // Builders, not nodes: each formula needs its own copy of a symbol.
    const dSym = () => (isDelta ? mi("Δ") : sup(mi("δ"), mn(l)));
    const dEda = () => frac(row(mo("∂"), mi("E")), row(mo("∂"), vectorName(l, layers)));
    const linear = layer.activation === "linear";
    if (l < layers.length) {
      // ∂E/∂a of a hidden layer: the next layer's δ sent back through its weights.
      const next = layers[l];
      const nextSym = l + 1 === layers.length && outputDeltaIsDelta(next, ctx.lossName) ? mi("Δ")
        : sup(mi("δ"), mn(l + 1));
      formulas.push(row(...(linear ? [dSym(), mo("=")] : []), dEda(), mo("="), nextSym, tr(W(l + 1))));
      if (started) {
        formulas.push(row(numberMatrix(next.delta, { digits: 4 }), mo("·"),
          numberMatrix(transpose(next.weight), { digits: 4 }), mo("="),
          numberMatrix(layer.dE_da, { digits: 4, testid: `matrix-dA${l}` })));
      }
    }
    if (!isDelta && !(linear && l < layers.length)) {
      // δ = ∂E/∂a ⊙ g′(z): the activation's slope, element by element.
      formulas.push(row(dSym(), mo("="), dEda(), mo("⊙"), gOf(zName(l))));
      if (started && layer.g_prime.some((r) => r.some((v) => v !== null))) {
        formulas.push(row(numberMatrix(layer.dE_da, { digits: 4 }), mo("⊙"), numberMatrix(layer.g_prime,
          { digits: 4 }), mo("="), numberMatrix(layer.delta, { digits: 4, testid: `matrix-delta${l}` })));
      }
    }
    const scale = several ? [frac(mn(1), mi("N"))] : [];
    formulas.push(row(frac(row(mo("∂"), mi("E")), row(mo("∂"), W(l))), mo("="), ...scale,
      tr(vectorName(l - 1, layers)), dSym()));
    if (started) {
      formulas.push(row(...(several ? [frac(mn(1), mn(count))] : []), numberMatrix(transpose(layer.inputs)), mo("·"),
        numberMatrix(layer.delta, { digits: 4 }), mo("="),
        numberMatrix(layer.grad_weight, { digits: 4, testid: `matrix-dW${l}` })));
      if (layer.grad_bias) {
        formulas.push(row(frac(row(mo("∂"), mi("E")), row(mo("∂"), B(l))), mo("="),
          several ? row(frac(mn(1), mi("N")), sub(mo("Σ"), mi("n")), dSym()) : dSym(), mo("="),
          numberMatrix([layer.grad_bias], { digits: 4, testid: `matrix-db${l}` })));
      }
    }
    out.push(section(`Backward, layer ${l}`, started ? null : "Not computed yet.", formulas));
  }

  const updateFormulas = [];
  for (let l = layers.length; l >= 1; l--) {
    const scale = several ? [frac(mn(1), mi("N"))] : [];
    const delta = deltaSymbol(l, layers, ctx.lossName);
    updateFormulas.push(row(W(l), mo("←"), W(l), mo("−"), mi("α"), ...scale, tr(vectorName(l - 1, layers)),
      l < layers.length ? row(mo("("), delta, mo(")")) : delta));
  }
  if (model.update) {
    const rate = model.update.learning_rate;
    for (let l = layers.length; l >= 1; l--) {
      const layer = layers[l - 1];
      const key = `${layer.index}.weight`;
      const rule = model.update.optimizer === "sgd"
        ? [mo("−"), num(rate, { digits: 4 }), mo("·"), numberMatrix(layer.grad_weight, { digits: 4 }), mo("=")]
        : [mo("→")];
      updateFormulas.push(row(numberMatrix(model.update.before[key], { digits: 4 }), ...rule,
        numberMatrix(model.update.after[key], { digits: 4, testid: `matrix-W${l}-new` })));
    }
  }
  out.push(section("Update", model.update ? (model.update.optimizer === "sgd" ? null
    : `The ${model.update.optimizer} optimiser does more than subtract α·gradient; the new weights are its.`)
    : "Not computed yet.", updateFormulas, true));
  container.replaceChildren(...out);
}
