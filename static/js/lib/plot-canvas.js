// Canvas plots drawn at the screen's pixel density, in the page's theme colours.

/**
 * Size `canvas`'s pixel buffer to its CSS box (height `cssHeight` when given) times the device pixel ratio,
 * keeping the buffer (and its drawing) when the size is unchanged. Returns {ctx, width, height, ratio}.
 */
export function fitCanvas(canvas, cssHeight = null) {
  const ratio = window.devicePixelRatio || 1;
  const rect = canvas.getBoundingClientRect();
  const width = Math.max(1, Math.round(rect.width * ratio));
  const height = Math.max(1, Math.round((cssHeight ?? rect.height) * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  return { ctx: canvas.getContext("2d"), width, height, ratio };
}

/** A colour canvas paint understands: "var(--name)" becomes the custom property's current value. */
export function cssColor(color, fallback = "#1d2430") {
  const match = /^var\((--[\w-]+)\)$/.exec(color);
  if (!match) return color;
  return getComputedStyle(document.documentElement).getPropertyValue(match[1]).trim() || fallback;
}
