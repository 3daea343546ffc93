// What the LeNet page's modules share for building their elements: `h`, and the 28×28 digit thumbnails.
import { drawGray } from "../lib/image-canvas.js";

/** A new `tag` element with a class name and text (both optional). */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A 28×28 digit (values 0..1, ink high) as light ink on a dark ground, as the drawing pad shows it. */
export function paintDigit(canvas, values) {
  drawGray(canvas, values, 28, 28, (v) => 20 + 235 * v);
}
