// The parameter calculator: a fully connected layer against a convolutional layer on the same image.
// Counts and formulas come from GET /api/conv/parameters.
import { api } from "../lib/api.js";

const FIELDS = ["height", "width", "channels", "units", "filters", "kernel"];

export function initParamCalc(root, { onError }) {
  const $ = (id) => root.querySelector(`#${id}`);
  const inputs = Object.fromEntries(FIELDS.map((name) => [name, $(`param-${name}`)]));
  let request = 0;

  function show(prefix, layer) {
    $(`param-${prefix}`).textContent = layer.total.toLocaleString("en-US");
    $(`param-${prefix}-formula`).textContent = layer.formula;
    $(`param-${prefix}-explanation`).textContent = layer.explanation;
  }

  async function update() {
    const query = {};
    for (const [name, input] of Object.entries(inputs)) {
      const v = Number(input.value);
      const ok = Number.isInteger(v) && v >= 1;
      input.classList.toggle("invalid", !ok);
      if (!ok) {
        $("param-error").textContent = `${input.labels[0].textContent} must be a whole number of at least 1.`;
        return;
      }
      query[name] = v;
    }
    const id = ++request;
    try {
      const counts = await api("/api/conv/parameters", { query });
      if (id !== request) return;
      $("param-error").textContent = "";
      show("fc", counts.fc);
      show("conv", counts.conv);
      const ratio = counts.ratio >= 1
        ? `The fully connected layer needs ${Math.round(counts.ratio).toLocaleString("en-US")}× as many parameters.`
        : `Here the convolutional layer needs ${(1 / counts.ratio).toFixed(1)}× as many parameters.`;
      $("param-ratio").textContent = ratio;
      const fcShare = counts.fc.total / (counts.fc.total + counts.conv.total);
      $("param-bar-fc").style.width = `${Math.max(fcShare * 100, 0.5)}%`;
      $("param-bar-conv").style.width = `${Math.max((1 - fcShare) * 100, 0.5)}%`;
    } catch (err) {
      if (id === request) $("param-error").textContent = err.message;
    }
  }

  for (const input of Object.values(inputs)) input.addEventListener("input", update);
  return { start: update };
}
