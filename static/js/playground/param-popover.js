// A tooltip that follows the mouse, and a small form to type a new value for a weight or a bias.
import { formatNumber } from "../lib/format.js";

const TITLES = { weight: "Weight", bias: "Bias" };
const SYMBOLS = { weight: "w", bias: "b" };

export class ParamPopover {
  constructor(tooltip, editor) {
    this.tooltip = tooltip;
    this.editor = editor;
    this.input = editor.querySelector("input");
    this.title = editor.querySelector(".pg-editor-title");
    this.help = editor.querySelector(".pg-editor-help");
    this.onSubmit = null;
    editor.addEventListener("submit", (e) => {
      e.preventDefault();
      const value = Number(this.input.value);
      if (this.input.value.trim() === "" || !Number.isFinite(value)) {
        this.help.textContent = "Type a finite number, e.g. 0.25 or -1.5.";
        this.input.classList.add("invalid");
        return;
      }
      const submit = this.onSubmit;
      this.close();
      if (submit) submit(value);
    });
    editor.addEventListener("keydown", (e) => { if (e.key === "Escape") this.close(); });
    document.addEventListener("pointerdown", (e) => {
      if (!editor.hidden && !editor.contains(e.target)) this.close({ restoreFocus: false });
    });
  }

  showTooltip(text, event) {
    if (!this.editor.hidden) return;
    this.tooltip.textContent = text;
    this.tooltip.hidden = false;
    this.place(this.tooltip, event, 14);
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }

  /** The tooltip for a parameter p: {name: "weight"|"bias", value, grad, what (the neurons it joins)}. */
  showParam(p, event) {
    this.showTooltip(`${TITLES[p.name]} is ${formatNumber(p.value, 4)} · ∂L/∂${SYMBOLS[p.name]} = ` +
                     `${formatNumber(p.grad, 3)}  (${p.what}; click to edit)`, event);
  }

  /** The editor for parameter p (as for showParam); `onSubmit(number)` applies a typed value. */
  editParam(p, event, onSubmit) {
    this.openEditor({ title: `${TITLES[p.name]}: ${p.what}`, value: Number(p.value.toPrecision(6)),
                      help: `∂L/∂${SYMBOLS[p.name]} = ${formatNumber(p.grad, 4)} (training loss)` }, event, onSubmit);
  }

  /** Open the editor at the mouse with `value`; `onSubmit(number)` runs when the person presses Enter. */
  openEditor({ title, value, help = "" }, event, onSubmit) {
    this.hideTooltip();
    this.title.textContent = title;
    this.help.textContent = help;
    this.input.value = String(value);
    this.input.classList.remove("invalid");
    this.onSubmit = onSubmit;
    this.returnFocus = document.activeElement; // the keyboard comes back to the weight or bias it edited
    this.editor.hidden = false;
    this.place(this.editor, event, 8);
    this.input.focus();
    this.input.select();
  }

  close({ restoreFocus = true } = {}) {
    const wasOpen = !this.editor.hidden;
    this.editor.hidden = true;
    this.onSubmit = null;
    if (wasOpen && restoreFocus && this.returnFocus?.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }

  place(element, event, offset) {
    const x = event ? event.clientX : window.innerWidth / 2;
    const y = event ? event.clientY : window.innerHeight / 2;
    const w = element.offsetWidth;
    const h = element.offsetHeight;
    element.style.left = `${Math.min(window.innerWidth - w - 8, x + offset)}px`;
    element.style.top = `${Math.min(window.innerHeight - h - 8, y + offset)}px`;
  }
}
