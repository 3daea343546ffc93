// Where the gallery's image comes from besides the built-in samples: a photo decoded in the browser and
// downscaled to the server's size limit, or a digit drawn on a small canvas. Both become plain pixel
// numbers (0–255) that travel to the engine as nested lists.

/** Decode an image file and scale it so its longer side is at most maxSide; returns RGB as 3×H×W lists. */
export async function decodePhoto(file, maxSide) {
  if (!file.type.startsWith("image/")) throw new Error(`${file.name} is not an image file`);
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error(`the browser could not decode ${file.name}; try a PNG or JPEG`);
  }
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  return { rgb: channelsOf(ctx.getImageData(0, 0, width, height), 3), width, height };
}

/** The first `count` channels of ImageData as count×H×W nested lists. */
function channelsOf(imageData, count) {
  const { data, width, height } = imageData;
  return Array.from({ length: count }, (_, ch) =>
    Array.from({ length: height }, (_, r) =>
      Array.from({ length: width }, (_, c) => data[4 * (r * width + c) + ch])));
}

/**
 * A drawing pad: white ink on black, strokes about a twelfth of the pad wide (MNIST's thickness).
 * onStroke() runs at the end of every stroke (as in Harley's LeNet demo, no "Go" button).
 * pixels(size) returns the drawing downscaled to size×size as one channel of nested lists.
 */
export function createDigitPad(canvas, { onStroke }) {
  const ctx = canvas.getContext("2d");
  let drawing = false;
  let last = null;
  let inked = false;

  function clear() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    inked = false;
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (canvas.width / box.width),
            (event.clientY - box.top) * (canvas.height / box.height)];
  }

  function line(from, to) {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = canvas.width / 12;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(...from);
    ctx.lineTo(...to);
    ctx.stroke();
    inked = true;
  }

  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    line(last, last);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const p = point(event);
    line(last, p);
    last = p;
  });
  const end = () => {
    if (!drawing) return;
    drawing = false;
    onStroke();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clear();

  return {
    clear,
    get inked() { return inked; },
    pixels(size) {
      const small = document.createElement("canvas");
      small.width = size;
      small.height = size;
      const sctx = small.getContext("2d");
      sctx.imageSmoothingQuality = "high";
      sctx.drawImage(canvas, 0, 0, size, size);
      return channelsOf(sctx.getImageData(0, 0, size, size), 1)[0];
    },
  };
}
