// The LeNet page's 28×28 digit thumbnails, shared by the training probes and the evaluation's mistakes.
import { drawGray } from "../lib/image-canvas.js";

/** A 28×28 digit (values 0..1, ink high) as light ink on a dark ground, as the drawing pad shows it. */
export function paintDigit(canvas, values) {
  drawGray(canvas, values, 28, 28, (v) => 20 + 235 * v);
}
