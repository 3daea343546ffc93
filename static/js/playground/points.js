// Points by hand: what a click on the plot adds or removes, sending an edit to the session, and the read-out
// of the network at the mouse.
import { api } from "../lib/api.js";
import { formatNumber } from "../lib/format.js";
import { neuronName, roundCoord } from "./state.js";

const EXTENT = 6;
const REMOVE_RADIUS = 0.4;

/**
 * The edit a click at data position (x, y) makes: remove the nearest point (shift), or add one — on a curve
 * at (x, y), on the plane at (x, y) with class `pointClass`. Null outside the plot.
 */
export function editAt(kind, x, y, { shift = false, pointClass = 1 } = {}) {
  x = roundCoord(x);
  y = roundCoord(y);
  if (Math.abs(x) > EXTENT || (kind === "plane" && Math.abs(y) > EXTENT)) return null;
  if (shift) return { op: "remove", at: kind === "curve" ? [x] : [x, y] };
  if (kind === "curve") return { op: "add", point: [x], label: y, split: "train" };
  return { op: "add", point: [x, y], label: pointClass, split: "train" };
}

/** Apply a point edit to session `id`; returns the session's new revision, or null when nothing was removed. */
export async function applyEdit(id, edit) {
  if (edit.op === "remove") {
    const [x1, x2] = edit.at;
    const r = await api(`/api/networks/${id}/data/points`, { method: "DELETE", query: { x1, x2, radius: REMOVE_RADIUS } });
    return r.removed ? r.revision : null;
  }
  const r = await api(`/api/networks/${id}/data/points`, {
    method: "POST", body: { point: edit.point, label: edit.label, split: edit.split || "train" },
  });
  return r.revision;
}

/**
 * The exact output (or the focused neuron's value) at data position (x1, x2), from the API's forward pass.
 * `state`: the page state (id, kind, layout, focus, config).
 */
export async function readoutAt(state, x1, x2) {
  const point = state.kind === "curve" ? [x1] : [x1, x2];
  const r = await api(`/api/networks/${state.id}/forward`, { method: "POST", body: { inputs: [point] } });
  const last = state.layout.length - 1;
  const target = state.focus && state.focus.layer > 0 ? state.focus : { layer: last, index: -1 };
  // Dense layer k's neurons are the output of engine layer 2k − 1 (each dense layer is followed by its activation).
  const out = r.layers[2 * target.layer - 1].output[0];
  const where = state.kind === "curve" ? `x = ${formatNumber(x1)}` : `x₁ = ${formatNumber(x1)}, x₂ = ${formatNumber(x2)}`;
  const value = target.index >= 0 ? formatNumber(out[target.index], 4)
    : out.length === 3 ? `P = (${out.map((v) => formatNumber(v, 3)).join(", ")})` : formatNumber(out[0], 4);
  const name = target.index >= 0 ? neuronName(target.layer, target.index, state.layout, state.config.features) : "output";
  return `${where} → ${name} ${value}`;
}
