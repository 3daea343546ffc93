// The lessons' exercises: each form sends its attempt — the widget's state or the typed answer — to
// POST /api/lessons/{n}/exercises/{id}/check and shows the engine's verdict.
import { api } from "../lib/api.js";
import { markPassed, passedExercises } from "./progress.js";

function attemptOf(form, widgets) {
  const kind = form.dataset.input;
  if (kind === "widget") {
    const widget = widgets[form.dataset.widget];
    if (!widget) throw new Error("The widget above is still starting (or could not start): give it a moment.");
    const state = widget.state();
    return { state };
  }
  if (kind === "number") {
    const text = form.elements.answer.value.trim().replace("−", "-").replace(/,/g, "");
    if (!text) throw new Error("Type your answer first.");
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`“${form.elements.answer.value}” is not a number.`);
    return { answer: value };
  }
  if (kind === "choice") {
    const chosen = form.querySelector("input[name=answer]:checked");
    if (!chosen) throw new Error("Choose an answer first.");
    return { answer: chosen.value };
  }
  const answer = {};
  for (const select of form.querySelectorAll("select")) {
    if (!select.value) throw new Error("Answer every question first.");
    answer[select.name] = select.value;
  }
  return { answer };
}

function show(form, { passed, message }) {
  const out = form.querySelector(".exercise-result");
  out.textContent = message;
  out.dataset.passed = String(passed);
  form.dataset.passed = String(passed);
}

/** Wire every exercise form of the page; `onPassed(id)` runs after a passing check. */
export function wireExercises(widgets, { onPassed = () => {} } = {}) {
  const passed = passedExercises();
  for (const form of document.querySelectorAll("form.exercise")) {
    if (passed.has(form.dataset.exercise)) form.dataset.done = "true";
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = form.querySelector(".exercise-result");
      const button = form.querySelector("[type=submit]");
      let body;
      try {
        body = attemptOf(form, widgets);
      } catch (err) {
        show(form, { passed: false, message: err.message });
        return;
      }
      button.disabled = true;
      out.dataset.passed = "";
      out.textContent = "Checking…";
      try {
        const verdict = await api(`/api/lessons/${form.dataset.lesson}/exercises/${form.dataset.exercise}/check`,
          { method: "POST", body });
        show(form, verdict);
        if (verdict.passed) {
          markPassed(form.dataset.exercise);
          form.dataset.done = "true";
          onPassed(form.dataset.exercise);
        }
      } catch (err) {
        show(form, { passed: false, message: err.message });
      } finally {
        button.disabled = false;
      }
    });
  }
}
