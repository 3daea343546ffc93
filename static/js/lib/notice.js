// A short note at the bottom of the page that goes away by itself ("Reconnected", "Link copied").

import { el } from "./dom.js";

let hideTimer = null;

/** Show `text` for `ms` milliseconds in the page's one note (role=status, so screen readers hear it too). */
export function flashNote(text, ms = 4000) {
  let note = document.querySelector(".flash-note");
  if (!note) {
    note = el("div", { class: "flash-note", role: "status", "data-testid": "flash-note" });
    document.body.append(note);
  }
  note.textContent = text;
  note.hidden = false;
  clearTimeout(hideTimer);
  hideTimer = setTimeout(() => { note.hidden = true; }, ms);
}
