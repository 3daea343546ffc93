// The next character's top-10 distribution as horizontal bars: the reshaped probability (temperature, top-k) as
// the bar, the model's own probability as a thin mark, and the character that really came next marked.
import { shown } from "./chars.js";

export function renderBars(container, result, actualNext, onPick) {
  container.replaceChildren();
  const max = Math.max(...result.top.map((t) => t.probability), 1e-9);
  result.top.forEach((entry, k) => {
    const row = document.createElement("button");
    row.type = "button";
    row.className = "lm-bar";
    row.setAttribute("data-testid", `lm-bar-${k}`);
    row.title = `Add ${JSON.stringify(entry.char)} to your text`;
    if (entry.char === actualNext) row.classList.add("lm-bar-actual");
    const label = document.createElement("span");
    label.className = "lm-bar-char mono";
    label.textContent = shown(entry.char);
    const track = document.createElement("span");
    track.className = "lm-bar-track";
    const fill = document.createElement("span");
    fill.className = "lm-bar-fill";
    fill.style.width = `${(100 * entry.probability) / max}%`;
    const own = document.createElement("span");
    own.className = "lm-bar-own";
    own.style.left = `${Math.min(100, (100 * entry.model_probability) / max)}%`;
    own.title = `the model's own probability (temperature 1): ${(100 * entry.model_probability).toFixed(1)} %`;
    track.append(fill, own);
    const value = document.createElement("span");
    value.className = "lm-bar-value mono";
    value.setAttribute("data-testid", `lm-bar-value-${k}`);
    value.textContent = `${(100 * entry.probability).toFixed(1)} %`;
    row.append(label, track, value);
    row.addEventListener("click", () => onPick(entry.char));
    container.append(row);
  });
}
