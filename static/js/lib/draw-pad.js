// The drawing pad of the LeNet page and of the convolution page's kernel gallery: pointer events (mouse, touch,
// pen), round strokes, a throttled "changed" callback while drawing and an immediate one at every stroke's end.
// Ink is opaque white on a transparent canvas, so the PNG the server reads carries the ink in its alpha channel
// whatever the page's colours.

/** Stroke width as a fraction of the canvas side: MNIST's strokes are about 1/10–1/14 of the digit's box. */
export const STROKE_FRACTION = 1 / 12;

/**
 * Make `canvas` a drawing pad.
 * options.onChange({final}) — called at most every `interval` ms while drawing (final: false) and at every
 *   stroke end (final: true);
 * options.onStart() — called when a new stroke starts (before any ink).
 * Returns {clear(), isEmpty(), toDataURL(side), pixels(side), showImage(values, side)}.
 */
export function createDrawPad(canvas, { onChange = () => {}, onStart = () => {}, interval = 100 } = {}) {
  const ctx = canvas.getContext("2d");
  let drawing = null; // the active pointer id
  let last = null;
  let inked = false;
  let lastSent = 0;
  let pending = null;

  function lineWidth() {
    return canvas.width * STROKE_FRACTION;
  }

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * canvas.width,
      y: ((event.clientY - rect.top) / rect.height) * canvas.height,
    };
  }

  function segment(from, to) {
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = lineWidth();
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    if (from.x === to.x && from.y === to.y) {
      ctx.beginPath();
      ctx.arc(to.x, to.y, lineWidth() / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.beginPath();
      ctx.moveTo(from.x, from.y);
      ctx.lineTo(to.x, to.y);
      ctx.stroke();
    }
    inked = true;
  }

  function changed(final) {
    clearTimeout(pending);
    pending = null;
    const wait = interval - (performance.now() - lastSent);
    if (final || wait <= 0) {
      lastSent = performance.now();
      onChange({ final });
    } else {
      pending = setTimeout(() => changed(false), wait);
    }
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (drawing !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    onStart();
    drawing = event.pointerId;
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    segment(last, last);
    changed(false);
  });

  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== drawing) return;
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const e of events.length ? events : [event]) {
      const p = point(e);
      segment(last, p);
      last = p;
    }
    changed(false);
  });

  function end(event) {
    if (event.pointerId !== drawing) return;
    drawing = null;
    last = null;
    changed(true);
  }
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  /** A side×side copy of the drawing, downscaled with smoothing (each pixel averages the ink it covers). */
  function scaled(side) {
    const small = document.createElement("canvas");
    small.width = side;
    small.height = side;
    const sctx = small.getContext("2d");
    sctx.imageSmoothingEnabled = true;
    sctx.imageSmoothingQuality = "high";
    sctx.drawImage(canvas, 0, 0, side, side);
    return small;
  }

  return {
    clear() {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
      clearTimeout(pending);
      pending = null;
    },
    isEmpty: () => !inked,
    /** The drawing as a PNG data URL, at `side` pixels (default: half the pad's): the server crops and scales
     *  it to 20 pixels anyway, and a quarter of the pixels is a quarter of the PNG work on both ends. */
    toDataURL(side = Math.round(canvas.width / 2)) {
      return side === canvas.width ? canvas.toDataURL("image/png") : scaled(side).toDataURL("image/png");
    },
    /** The drawing at side×side as rows of ink levels 0–255 (white ink on black, as nested lists). */
    pixels(side) {
      const { data } = scaled(side).getContext("2d").getImageData(0, 0, side, side);
      return Array.from({ length: side }, (_, r) => Array.from({ length: side }, (_, c) => data[4 * (r * side + c) + 3]));
    },
    /** Show a side×side image (values 0..1, ink high) on the pad, pixel for pixel, scaled up. */
    showImage(values, side) {
      const small = document.createElement("canvas");
      small.width = side;
      small.height = side;
      const sctx = small.getContext("2d");
      const img = sctx.createImageData(side, side);
      for (let i = 0; i < side * side; i++) {
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = 255;
        img.data[4 * i + 3] = Math.round(Math.max(0, Math.min(1, values[i])) * 255);
      }
      sctx.putImageData(img, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
      inked = false; // a shown image is not a drawing: the next stroke starts a fresh one
    },
  };
}
