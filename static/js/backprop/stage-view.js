// The per-weight view of one walk stage: a plain-language caption and the formulas, symbol by symbol and
// then with the engine's numbers. Nothing here computes a number; it only places the engine's values.
import {
  equalities, formula, frac, mi, mn, mo, mtext, num, partial, product, row, sub, sum, sup, symbol, table,
} from "../lib/mathml.js";
import { backwardRecords, forwardRecords } from "./walk-model.js";
import { formatNumber } from "../lib/format.js";

const E = () => mi("E");
const ALPHA = () => mi("α");
const mn1 = () => mn("1");
const HALF = () => frac(mn1(), mn("2"));
const gPrime = () => row(mi("g"), mo("′"));
const sigma = () => mi("σ");

const ACTIVATION_NAMES = { sigmoid: "sigmoid", tanh: "tanh", relu: "ReLU", softmax: "softmax", step: "the step function",
  linear: "none" };
export const LOSS_NAMES = { mse: "squared error", bce: "cross-entropy", cross_entropy: "cross-entropy",
  softmax_cross_entropy: "cross-entropy" };

/** The activation g applied to `z` (a MathML node). */
function applyG(activation, z) {
  if (activation === "sigmoid") return row(sigma(), mo("("), z, mo(")"));
  if (activation === "tanh") return row(mi("tanh"), mo("("), z, mo(")"));
  if (activation === "relu") return row(mi("max"), mo("("), mn("0"), mo(","), z, mo(")"));
  if (activation === "softmax") return row(mi("softmax"), mo("("), z, mo(")"));
  return z;
}

/** g′ written out for `z`. */
function primeFormula(activation, z) {
  if (activation === "sigmoid") {
    return row(applyG("sigmoid", z), mo("("), mn1(), mo("−"), applyG("sigmoid", z.cloneNode(true)), mo(")"));
  }
  if (activation === "tanh") return row(mn1(), mo("−"), sup(mi("tanh"), mn("2")), mo("("), z, mo(")"));
  if (activation === "relu") return row(mtext("1 if "), z, mo(">"), mn("0"), mtext(", else 0"));
  return mn1();
}

/** z of a neuron: the neuron itself when it has no activation. */
const zOf = (label, activation) => (activation === "linear" ? symbol(label) : sub(mi("z"), symbol(label)));

/** Δ = prediction − target (one per output). */
const bigDelta = (label, ctx) => (ctx.outputs > 1 ? sub(mi("Δ"), symbol(label)) : mi("Δ"));

/** δ of a neuron, ∂E/∂z; at a linear output under squared error that is Δ itself. */
function deltaSymbol(label, { isOutput, activation }, ctx) {
  if (isOutput && ctx.lossName === "mse" && activation === "linear") return bigDelta(label, ctx);
  return sub(mi("δ"), symbol(label));
}

function block(chain, testid) {
  return formula(equalities(chain, { testid }));
}

/**
 * Factors joined by "×". Negative factors are bracketed, except the first one of an expression (`leading`):
 * "−0.809 × 0.48", but "2 × 0.11 + (−1) × 0.21".
 */
const numbers = (values, { leading = false, ...opts } = {}) => product(values.map((v, k) => num(v,
  { paren: !(leading && k === 0), ...opts })), "×");

/** (1/N)[(a₁)(b₁) + (a₂)(b₂) + …]: the mean over the data points of a product of per-point factors. */
function meanOfProducts(factorRows, count) {
  const terms = [];
  for (let n = 0; n < count; n++) {
    terms.push(row(...factorRows.map((f) => row(mo("("), num(f[n], { digits: 3 }), mo(")")))));
  }
  return row(frac(mn1(), mn(String(count))), mo("["), sum(terms), mo("]"));
}

// --- forward --------------------------------------------------------------------------------------------

function forwardBlock(rec, ctx) {
  const p = ctx.point;
  const zs = () => zOf(rec.label, rec.activation);
  const symbolic = rec.terms.map((t) => product([symbol(t.input_label), symbol(t.weight_label)]));
  const values = rec.terms.map((t, k) => numbers([t.input[p], t.weight], { digits: 4, leading: k === 0 }));
  if (rec.bias !== null && rec.bias !== undefined) {
    symbolic.push(symbol(rec.bias_label));
    values.push(num(rec.bias, { digits: 4, paren: true }));
  }
  const chain = [zs(), sum(symbolic), sum(values)];
  if (rec.terms.length > 1 && rec.terms.every((t) => t.product)) {
    const products = rec.terms.map((t, k) => num(t.product[p], { digits: 4, paren: k > 0 }));
    if (rec.bias !== null && rec.bias !== undefined) products.push(num(rec.bias, { digits: 4, paren: true }));
    chain.push(sum(products));
  }
  chain.push(num(rec.z[p], { digits: 4 }));
  const out = [block(chain)];
  if (rec.activation !== "linear") {
    out.push(block([symbol(rec.label), applyG(rec.activation, zs()), applyG(rec.activation, num(rec.z[p])),
      num(rec.a[p], { digits: 4 })]));
  }
  return out;
}

function forwardCaption(stage, ctx) {
  const act = stage.activation === "linear" ? "" : `, then applies ${ACTIVATION_NAMES[stage.activation]} to the sum`;
  const bias = stage.bias !== null && stage.bias !== undefined ? " plus its bias" : "";
  const point = ctx.count > 1 ? ` Shown for data point ${ctx.point + 1} of ${ctx.count}.` : "";
  if (stage.neuron !== null) {
    return `${pretty(stage.neuron_label)} adds up each input times the weight on its link${bias}${act}: ` +
      `that is all a neuron does on the way forward.${point}`;
  }
  return `Layer ${stage.layer} computes every one of its neurons the same way: each input times the weight on ` +
    `its link, added up${bias}${act}.${point}`;
}

// --- loss -----------------------------------------------------------------------------------------------

function lossBlocks(stage, ctx) {
  const p = ctx.point;
  const outs = ctx.outputLabels;
  const single = outs.length === 1;
  const t = (label) => (single ? mi("target") : sub(mi("t"), symbol(label)));
  const out = [];
  outs.forEach((label, k) => {
    const d = single ? mi("Δ") : sub(mi("Δ"), symbol(label));
    out.push(block([d, row(symbol(label), mo("−"), t(label)),
      row(num(stage.prediction[p][k]), mo("−"), num(stage.target[p][k], { paren: true })),
      num(stage.delta[p][k])], single ? "delta-formula" : undefined));
  });
  let perPoint;
  let perPointNumbers;
  if (stage.loss_name === "mse") {
    const squares = outs.map((label, k) => sup(row(mo("("), symbol(label), mo("−"), t(label), mo(")")), mn("2")));
    perPoint = row(HALF(), single ? squares[0] : row(mo("("), sum(squares), mo(")")));
    const nums = outs.map((_, k) => sup(row(mo("("), num(stage.delta[p][k]), mo(")")), mn("2")));
    perPointNumbers = row(HALF(), single ? nums[0] : row(mo("("), sum(nums), mo(")")));
  } else if (stage.loss_name === "bce") {
    const yhat = symbol(outs[0]);
    perPoint = row(mo("−"), mo("("), t(outs[0]), mi("log"), yhat, mo("+"), mo("("), mn1(), mo("−"), t(outs[0]),
      mo(")"), mi("log"), mo("("), mn1(), mo("−"), yhat, mo(")"), mo(")"));
    const y = num(stage.target[p][0]);
    const pr = num(stage.prediction[p][0]);
    perPointNumbers = row(mo("−"), mo("("), y, mi("log"), pr, mo("+"), mo("("), mn1(), mo("−"),
      num(stage.target[p][0]), mo(")"), mi("log"), mo("("), mn1(), mo("−"), num(stage.prediction[p][0]), mo(")"),
      mo(")"));
  } else {
    perPoint = row(mo("−"), mo("Σ"), sub(mi("t"), mi("k")), mi("log"), sub(mi("ŷ"), mi("k")));
    perPointNumbers = null;
  }
  if (ctx.count === 1) {
    const chain = [E(), perPoint];
    if (perPointNumbers) chain.push(perPointNumbers);
    chain.push(num(stage.value));
    out.push(block(chain, "error-formula"));
  } else {
    const each = stage.per_example.map((v) => num(v));
    out.push(block([sub(E(), mn(String(p + 1))), perPoint, ...(perPointNumbers ? [perPointNumbers] : []),
      num(stage.per_example[p])]));
    out.push(block([E(), row(frac(mn1(), mi("N")), sub(mo("Σ"), mi("n")), sub(E(), mi("n"))),
      row(frac(mn1(), mn(String(ctx.count))), mo("("), sum(each), mo(")")), num(stage.value)], "error-formula"));
  }
  return out;
}

function lossCaption(stage, ctx) {
  const p = ctx.point;
  const pred = formatNumber(stage.prediction[p][0]);
  const target = formatNumber(stage.target[p][0]);
  const d = stage.delta[p][0];
  const direction = Math.abs(d) < 1e-6 ? "practically zero: the prediction is as good as right"
    : d < 0 ? "negative: the prediction is too low" : "positive: the prediction is too high";
  const avg = ctx.count > 1 ? ` With ${ctx.count} data points the error is the average of theirs.` : "";
  if (stage.loss_name === "mse") {
    return `The error ½(prediction − target)² measures how far the prediction ${pred} is from the target ` +
      `${target}. Δ = prediction − target says by how much and which way; here it is ${direction}.${avg}`;
  }
  return `Cross-entropy reads the output ${pred} as the probability that the answer is 1: the error is small ` +
    `when the right answer gets a high probability. Δ = prediction − target is ${direction}.${avg}`;
}

// --- backward -------------------------------------------------------------------------------------------

function backwardBlocks(rec, ctx) {
  const p = ctx.point;
  const J = () => symbol(rec.label);
  const zJ = () => zOf(rec.label, rec.activation);
  const fused = rec.isOutput && !rec.g_prime; // softmax + cross-entropy: the engine gives δ = ŷ − y directly
  const nonlinear = rec.activation !== "linear" && !fused;
  const out = [];
  const single = rec.sources && rec.sources.length === 1 ? rec.sources[0] : null;
  const source = (s) => ({ z: () => zOf(s.delta_label, s.activation), d: () => deltaSymbol(s.delta_label, s, ctx) });

  // 1. How the error changes with this neuron's output.
  if (fused && ctx.lossName !== "mse") {
    // Softmax with cross-entropy: the slopes cancel to prediction − target.
    out.push(block([partial(E(), zJ()), row(symbol(rec.label), mo("−"), sub(mi("t"), symbol(rec.label))),
      num(rec.delta[p])]));
  } else if (fused) {
    // Softmax under squared error: every output's z moves every output, so there is no single g′ to show.
    out.push(block([partial(E(), zJ()), row(sub(mo("Σ"), mi("k")), partial(E(), sub(mi("o"), mi("k"))),
      mo("·"), partial(sub(mi("o"), mi("k")), zJ())), num(rec.delta[p])]));
  } else if (rec.isOutput) {
    const formula = ctx.lossName === "mse" ? row(J(), mo("−"), ctx.outputs > 1 ? sub(mi("t"), J()) : mi("target"))
      : frac(row(J(), mo("−"), mi("target")), row(J(), mo("("), mn1(), mo("−"), J(), mo(")")));
    const chain = [partial(E(), J()), formula];
    if (ctx.lossName === "mse") chain.push(bigDelta(rec.label, ctx));
    chain.push(num(rec.dE_da[p]));
    out.push(block(chain));
  } else {
    const chain = [partial(E(), J()),
      sum(rec.sources.map((s) => product([partial(E(), source(s).z()), partial(source(s).z(), J())]))),
      sum(rec.sources.map((s) => product([source(s).d(), symbol(s.weight_label)]))),
      sum(rec.sources.map((s, k) => numbers([s.delta[p], s.weight], { digits: 4, leading: k === 0 }))),
      num(rec.dE_da[p], { digits: 4 })];
    out.push(block(chain));
  }
  // 2. With an activation, its slope g′(z) at this neuron, and δ = ∂E/∂z.
  if (nonlinear) {
    out.push(block([row(gPrime(), mo("("), zJ(), mo(")")), primeFormula(rec.activation, zJ()),
      primeFormula(rec.activation, num(rec.z[p])), num(rec.g_prime[p], { digits: 4 })], "g-prime"));
    out.push(block([row(sub(mi("δ"), J()), mo("="), partial(E(), zJ())),
      product([partial(E(), J()), partial(J(), zJ())]), product([partial(E(), J()), row(gPrime(), mo("("), zJ(),
        mo(")"))]), numbers([rec.dE_da[p], rec.g_prime[p]], { digits: 4, leading: true }),
      num(rec.delta[p], { digits: 4 })]));
  }
  // 3. Every weight (and the bias) into this neuron: the chain of local slopes, then its value.
  // Builders, not nodes: a DOM node can sit in one place only, and every chain needs its own copies.
  const upstream = () => {
    // The chain's factors before this neuron's own slope and input: [partials], [symbols], [values per point].
    if (fused) return { parts: [partial(E(), zJ())], symbols: [sub(mi("δ"), J())], values: [rec.delta] };
    if (single) {
      const s = source(single);
      return { parts: [partial(E(), s.z()), partial(s.z(), J())], symbols: [s.d(), symbol(single.weight_label)],
        values: [single.delta, Array(ctx.count).fill(single.weight)] };
    }
    const symbols = [rec.isOutput && ctx.lossName === "mse" ? bigDelta(rec.label, ctx) : partial(E(), J())];
    return { parts: [partial(E(), J())], symbols, values: [rec.dE_da] };
  };
  const own = () => (nonlinear ? { parts: [partial(J(), zJ())], symbols: [row(gPrime(), mo("("), zJ(), mo(")"))],
    values: [rec.g_prime] } : { parts: [], symbols: [], values: [] });
  // ∂E/∂z of this neuron, the per-point factor every weight into it shares.
  const deltaOfJ = () => (rec.isOutput && ctx.lossName === "mse" && !nonlinear && !fused
    ? deltaSymbol(rec.label, rec, ctx) : partial(E(), zJ()));
  const gradBlock = (label, inputLabel, inputValues, grad) => {
    const up = upstream();
    const mine = own();
    const last = () => (inputLabel ? [symbol(inputLabel)] : []);
    const chain = [partial(E(), symbol(label)), product([...up.parts, ...mine.parts, partial(zJ(), symbol(label))]),
      product([...up.symbols, ...mine.symbols, ...last()])];
    if (ctx.count === 1) {
      chain.push(numbers([...up.values, ...mine.values, ...(inputLabel ? [inputValues] : [])].map((v) => v[0]),
        { digits: 4, leading: true }));
    } else {
      // Several points: the gradient is the mean over them of (∂E/∂z of this neuron) × input.
      chain.push(row(frac(mn1(), mi("N")), sub(mo("Σ"), mi("n")), product([deltaOfJ(), ...last()])));
      chain.push(meanOfProducts([rec.delta, ...(inputLabel ? [inputValues] : [])], ctx.count));
    }
    chain.push(num(grad, { digits: 4, testid: `formula-grad-${label}` }));
    return block(chain);
  };
  rec.weights.forEach((w) => out.push(gradBlock(w.weight_label, w.input_label, w.input, w.grad)));
  if (rec.bias) out.push(gradBlock(rec.bias.bias_label, null, null, rec.bias.grad));
  return out;
}

function backwardCaption(stage, recs, ctx) {
  const rec = recs[0];
  const slope = stage.activation !== "linear" && rec.g_prime
    ? ` The ${ACTIVATION_NAMES[stage.activation]} slope g′(z) joins every chain: where it is flat, little ` +
      "gradient gets through."
    : "";
  const mean = ctx.count > 1 ? ` Each gradient is the average over the ${ctx.count} data points.` : "";
  if (stage.neuron === null) {
    return `The chain rule carries the error back through layer ${stage.layer}: each weight's gradient is ` +
      `how much the error changes when that weight changes by a little.${slope}${mean}`;
  }
  const first = rec.weights[rec.weights.length - 1]?.weight_label ?? rec.label;
  if (rec.isOutput && ctx.lossName !== "mse") {
    return `∂E/∂${pretty(first)} is how much the error changes when ${pretty(first)} changes by a little. With ` +
      "cross-entropy on a sigmoid (or softmax) output the two slopes cancel: δ = ∂E/∂z is exactly Δ = " +
      `prediction − target, and each weight's gradient is δ times its input.${mean}`;
  }
  if (rec.isOutput) {
    return `∂E/∂${pretty(first)} is how much the error changes when ${pretty(first)} changes by a little: the ` +
      `error's slope at ${pretty(rec.label)} times how much ${pretty(rec.label)} moves with the weight, which is ` +
      `the input on its link.${slope}${mean}`;
  }
  const via = rec.sources.map((s) => pretty(s.weight_label)).join(" and ");
  return `The error reaches ${pretty(rec.label)} only through ${via}, so ∂E/∂${pretty(rec.label)} is the ` +
    `gradient arriving along ${rec.sources.length > 1 ? "those links" : "that link"} times its weight; every ` +
    `weight into ${pretty(rec.label)} then gets that times its own input.${slope}${mean}`;
}

// --- update ---------------------------------------------------------------------------------------------

function updateBlocks(stage) {
  const w = () => mi("w");
  const rule = stage.optimizer === "sgd"
    ? formula(row(w(), mo("←"), w(), mo("−"), ALPHA(), mo("·"), partial(E(), w())))
    : formula(mtext(stage.rule));
  const rows = stage.params.map((p) => (stage.optimizer === "sgd"
    ? [symbol(p.label), mo("←"), row(num(p.old, { digits: 4 }), mo("−"), num(stage.learning_rate, { digits: 4 }),
      mo("×"), num(p.grad, { digits: 4, paren: true })), mo("="), num(p.new, { digits: 4 })]
    : [symbol(p.label), mo(":"), num(p.old, { digits: 4 }), mo("→"), num(p.new, { digits: 4 })]));
  return [rule, formula(table(rows, { class: "math-update", "data-testid": "update-table" }))];
}

function updateCaption(stage) {
  return `Every weight takes a small step (α = ${formatNumber(stage.learning_rate, 4)}) against its gradient: a ` +
    "weight whose increase would raise the error goes down, and the other way round. Next starts the next " +
    "step from the new weights.";
}

/** "h1" → "h₁" for captions. */
export function pretty(label) {
  const subs = "₀₁₂₃₄₅₆₇₈₉";
  return label.replace(/(\d)/g, (d) => subs[Number(d)]).replace("_", ",");
}

/**
 * The caption (a string) and formula nodes for `stage`. ctx = {point, count, lossName, outputs, outputLabels}.
 */
export function describeStage(stage, model, ctx) {
  if (stage.phase === "forward") {
    return { caption: forwardCaption(stage, ctx),
      formulas: forwardRecords(stage, model).flatMap((r) => forwardBlock(r, ctx)) };
  }
  if (stage.phase === "loss") return { caption: lossCaption(stage, ctx), formulas: lossBlocks(stage, ctx) };
  if (stage.phase === "backward") {
    const recs = backwardRecords(stage, model);
    return { caption: backwardCaption(stage, recs, ctx), formulas: recs.flatMap((r) => backwardBlocks(r, ctx)) };
  }
  return { caption: updateCaption(stage), formulas: updateBlocks(stage) };
}
