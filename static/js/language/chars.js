// How characters are shown on the Language model page, and the clickable text the model read.
import { rgb, sequential, textOn } from "../lib/colors.js";

/** A character as people can see it: newline ↵, space ␣ (in lists), others as they are. */
export function shown(char, { space = "␣" } = {}) {
  if (char === "\n") return "↵";
  if (char === " ") return space;
  if (char === "\t") return "⇥";
  return char;
}

/** A small span for one character on a background coloured by a probability (null: no colour). */
export function charSpan(char, probability, { className = "lm-ch", space = "\u00a0", tag = "span" } = {}) {
  const span = document.createElement(tag);
  span.className = className;
  span.textContent = shown(char, { space });
  if (probability !== null && probability !== undefined) {
    const colour = sequential(Math.sqrt(probability)); // √: most probabilities are small; keep them apart
    span.style.background = rgb(colour);
    span.style.color = textOn(colour);
  }
  if (char === "\n") span.classList.add("lm-newline");
  return span;
}

/**
 * The window the model read, one button per character, coloured by the probability the model gave each
 * character after the ones before it. `onSelect(position)` is called on click; `selected` is highlighted.
 */
export function renderChars(container, { chars, char_probabilities: probs, unknown_positions: unknown }, selected,
  onSelect) {
  container.replaceChildren();
  const unknownSet = new Set(unknown);
  chars.forEach((char, i) => {
    const b = charSpan(char, probs[i], { className: "lm-ch lm-char", tag: "button" });
    b.type = "button";
    b.setAttribute("data-testid", `lm-char-${i}`);
    b.setAttribute("aria-pressed", String(i === selected));
    const p = probs[i];
    b.title = `${JSON.stringify(char)} at ${i}` + (p === null ? " (the first: nothing before it)"
      : ` — the model gave it ${(100 * p).toFixed(1)} % after the characters before`)
      + (unknownSet.has(i) ? " · outside the vocabulary, read as the unknown symbol" : "");
    if (unknownSet.has(i)) b.classList.add("lm-unknown");
    b.addEventListener("click", () => onSelect(i));
    container.append(b);
    if (char === "\n") container.append(document.createElement("br"));
  });
}
