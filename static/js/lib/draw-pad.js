// The drawing pad of the LeNet page and of the convolution page's kernel gallery: pointer events (mouse, touch,
// pen), round strokes, a throttled "changed" callback while drawing and an immediate one at every stroke's end.
// Ink is opaque white on a transparent canvas, so the PNG the server reads carries the ink in its alpha channel
// whatever the page's colours.
//
// The pad keeps the strokes' centre lines and draws them with a pen whose width follows the drawing's size:
// MNIST scales every digit to a 20-pixel box, so a fixed pen would turn a small digit into a blob once scaled
// up. The width is STROKE_OF_BOX of the drawing's longer side (about 2.5 px of MNIST's 20), kept between
// MIN_ and MAX_STROKE_FRACTION of the pad; the page shows exactly the ink it sends. scripts/make_drawn_digits.py
// renders its evaluation set with the same rule.

/** The pen's width as a share of the drawing's longer side (centre lines). */
export const STROKE_OF_BOX = 0.14;
/** Bounds on the pen's width, as shares of the pad's side (a dot; a digit filling the pad). */
export const MIN_STROKE_FRACTION = 1 / 40;
export const MAX_STROKE_FRACTION = 1 / 9;

/** The pen's width for strokes (arrays of {x, y}) on a pad `side` pixels wide. */
export function strokeWidth(strokes, side) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const stroke of strokes) {
    for (const { x, y } of stroke) {
      minX = Math.min(minX, x); maxX = Math.max(maxX, x);
      minY = Math.min(minY, y); maxY = Math.max(maxY, y);
    }
  }
  const longer = Number.isFinite(minX) ? Math.max(maxX - minX, maxY - minY) : 0;
  return Math.min(side * MAX_STROKE_FRACTION, Math.max(side * MIN_STROKE_FRACTION, STROKE_OF_BOX * longer));
}

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
  let strokes = []; // centre lines, in canvas pixels

  function point(event) {
    const rect = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - rect.left) / rect.width) * canvas.width,
      y: ((event.clientY - rect.top) / rect.height) * canvas.height,
    };
  }

  /** Draw every stroke again with the pen the drawing's size calls for. */
  function paint() {
    const width = strokeWidth(strokes, canvas.width);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = "#fff";
    ctx.fillStyle = "#fff";
    ctx.lineWidth = width;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const stroke of strokes) {
      ctx.beginPath();
      if (stroke.length === 1) {
        ctx.arc(stroke[0].x, stroke[0].y, width / 2, 0, Math.PI * 2);
        ctx.fill();
        continue;
      }
      ctx.moveTo(stroke[0].x, stroke[0].y);
      for (const p of stroke.slice(1)) ctx.lineTo(p.x, p.y);
      ctx.stroke();
    }
    canvas.dataset.strokeWidth = width.toFixed(2); // for scripts and tests: the pen this drawing is drawn with
    inked = strokes.length > 0;
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
    strokes.push([last]);
    paint();
    changed(false);
  });

  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== drawing) return;
    // Coalesced events keep fast strokes smooth where the browser batches pointer moves.
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    const stroke = strokes[strokes.length - 1];
    for (const e of events.length ? events : [event]) {
      const p = point(e);
      if (p.x !== last.x || p.y !== last.y) stroke.push(p);
      last = p;
    }
    paint();
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
      strokes = [];
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
      strokes = [];
      inked = false; // a shown image is not a drawing: the next stroke starts a fresh one
    },
  };
}
