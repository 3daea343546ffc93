// The gallery's uploaded photo: decoded in the browser and downscaled to the server's size limit, it becomes
// plain pixel numbers (0–255) that travel to the engine as nested lists. (A drawn digit: draw-pad.js.)

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
