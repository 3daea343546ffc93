// The Playground's settings controls shown as the page state has them: the menus, the sliders and their
// read-outs, the toggles, and the class chooser for new points. Listening to them is the page's job.
import { rgb } from "../lib/colors.js";
import { ACTIVATION_LABELS } from "./state.js";
import { CLASS_COLORS } from "./value-maps.js";

const $ = (id) => document.getElementById(id);

/** Fill the menus whose choices come from the server's catalogue. */
export function fillChoices(choices) {
  fillSelect($("learning-rate"), choices.learning_rates.map((v) => [String(v), String(v)]));
  fillSelect($("reg-rate"), choices.reg_rates.map((v) => [String(v), String(v)]));
  fillSelect($("activation"), choices.activations.map((a) => [a, ACTIVATION_LABELS[a] || a]));
}

function fillSelect(select, options) {
  select.replaceChildren(...options.map(([value, label]) => {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }));
}

/** Show a slider's value beside it, as the slider itself counts (percent for the train ratio). */
export function showSliderValue(id, value) {
  document.querySelector(`output[for="${id}"]`).textContent = id === "train-ratio" ? `${value}%` : String(value);
}

function setSlider(id, value) {
  $(id).value = String(value);
  showSliderValue(id, value);
}

/** Select `value` in a menu, adding it as a choice when a link brought one the menu lacks. */
function selectValue(select, value) {
  select.value = String(value);
  if (select.value === String(value)) return;
  const o = document.createElement("option");
  o.value = String(value);
  o.textContent = String(value);
  select.append(o);
  select.value = String(value);
}

/** Every control as the page `state` has it; `picker` is the data set picker. */
export function syncControls(state, picker) {
  const c = state.config;
  selectValue($("learning-rate"), c.learning_rate);
  selectValue($("reg-rate"), c.reg_rate);
  $("activation").value = c.activation;
  $("loss").value = c.loss;
  $("loss").querySelector('[value="cross_entropy"]').disabled = state.task === "regression";
  $("optimizer").value = c.optimizer;
  $("regularization").value = c.regularization;
  $("reg-rate").disabled = c.regularization === "none";
  setSlider("train-ratio", Math.round(c.train_ratio * 100));
  setSlider("noise", Math.round(c.noise * 100));
  setSlider("batch-size", c.batch_size);
  $("show-test-data").checked = state.view.showTestData;
  $("discretize").checked = state.view.discretize;
  $("show-gradients").checked = state.view.showGradients;
  $("discretize").closest("label").hidden = state.kind === "curve";
  picker.select(state.customData ? null : c.dataset);
}

/**
 * The class (or value) a click adds, one button a choice, and the hints for hand-made and uploaded points.
 * `onChoose(value)` runs when the person picks another.
 */
export function renderPointClasses(state, onChoose) {
  const box = $("point-class");
  box.replaceChildren();
  const help = document.querySelector(".pg-csv-help");
  const hint = document.querySelector(".pg-own-data .pg-hint");
  if (state.kind === "curve") {
    hint.textContent = "Click the plot to add a point there; shift-click removes the nearest.";
    help.textContent = "CSV rows: x,y with x in [−6, 6].";
    return;
  }
  hint.textContent = "Click the output to add a point of this class; shift-click removes the nearest.";
  let choices;
  if (state.task === "multiclass") choices = [0, 1, 2].map((c) => [c, `class ${c}`, CLASS_COLORS[c]]);
  else if (state.task === "binary") choices = [[0, "orange (−1)", CLASS_COLORS[0]], [1, "blue (+1)", CLASS_COLORS[1]]];
  else choices = [[-1, "−1", CLASS_COLORS[0]], [-0.5, "−0.5", null], [0.5, "+0.5", null], [1, "+1", CLASS_COLORS[1]]];
  if (!choices.some(([v]) => v === state.pointClass)) state.pointClass = choices[choices.length - 1][0];
  for (const [value, label, color] of choices) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "pg-class-choice";
    b.setAttribute("role", "radio");
    b.setAttribute("aria-checked", String(value === state.pointClass));
    b.setAttribute("data-testid", `point-class-${value}`);
    const swatch = document.createElement("span");
    swatch.className = "pg-swatch";
    swatch.style.background = color ? rgb(color) : "var(--value-zero)";
    b.append(swatch, document.createTextNode(label));
    b.addEventListener("click", () => onChoose(value));
    box.append(b);
  }
  help.textContent = state.task === "regression" ? "CSV rows: x1,x2,value." :
    state.task === "multiclass" ? "CSV rows: x1,x2,class (0, 1 or 2)." : "CSV rows: x1,x2,label (0/1 or −1/+1).";
  if (state.customData) help.textContent += " Uploaded points are not part of the page's link.";
}
