// Reading attention maps from API payloads, whichever encoding they came in.

/** Categorical: one distinguishable colour per head (as BertViz colours its heads), up to the API's 8 heads. */
export const HEAD_COLORS = ["#0877bd", "#f59322", "#2e9e52", "#9c4dcc", "#d64545", "#00a3a3", "#8d6e63", "#e0559b"];

/** An array from the API as {data: flat array-like, shape}: base64-decoded or nested lists (null → −∞). */
export function asTensor(value) {
  if (value && value.data && value.shape) return value;
  const shape = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const data = new Float64Array(shape.reduce((a, b) => a * b, 1));
  let i = 0;
  (function walk(v) {
    if (Array.isArray(v)) v.forEach(walk);
    else data[i++] = v === null ? -Infinity : v;
  })(value);
  return { data, shape };
}

/** One head's matrix (rows × cols) from a (heads, rows, cols) tensor. */
export function headMatrix(tensor, head) {
  const t = asTensor(tensor);
  const [, rows, cols] = t.shape;
  const size = rows * cols;
  return { rows, cols, values: t.data.subarray(head * size, (head + 1) * size) };
}

/** One head's vectors (rows × width) from a (heads, rows, width) tensor, as an array of arrays. */
export function headVectors(tensor, head) {
  const { rows, cols, values } = headMatrix(tensor, head);
  return Array.from({ length: rows }, (_, r) => Array.from(values.subarray(r * cols, (r + 1) * cols)));
}

/** Label of an attention layer for people: "Cross-attention, layer 2". */
export function layerTitle(kind, layer) {
  const names = { encoder: "Encoder self-attention", decoder: "Decoder masked self-attention",
    cross: "Cross-attention", self: "Self-attention" };
  return `${names[kind] || kind}, layer ${layer + 1}`;
}

/** data-testid of a model-view cell: head-<kind>-<layer>-<head>, without the kind for single-stack models. */
export function headTestId(kind, layer, head) {
  return kind === "self" ? `head-${layer}-${head}` : `head-${kind}-${layer}-${head}`;
}
