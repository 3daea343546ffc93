// A small line chart on a canvas: several series over a shared x axis (training steps), crisp on any screen.

/**
 * Draw `series` ([{points: [[x, y], ...], color, width}]) on `canvas`.
 * options: yMin, yMax (default: from the data), xMax (default: last x), yFormat (tick labels), grid colour.
 */
export function drawLineChart(canvas, series, options = {}) {
  const dpr = window.devicePixelRatio || 1;
  const cssWidth = canvas.clientWidth || 240;
  const cssHeight = canvas.clientHeight || 80;
  if (canvas.width !== Math.round(cssWidth * dpr) || canvas.height !== Math.round(cssHeight * dpr)) {
    canvas.width = Math.round(cssWidth * dpr);
    canvas.height = Math.round(cssHeight * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, cssWidth, cssHeight);
  const styles = getComputedStyle(canvas);
  const muted = styles.getPropertyValue("--text-muted").trim() || "#5b6573";
  const grid = styles.getPropertyValue("--border").trim() || "#d9dde3";

  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p[1]));
  const left = 30;
  const right = 6;
  const top = 6;
  const bottom = 14;
  const w = cssWidth - left - right;
  const h = cssHeight - top - bottom;
  let yMin = options.yMin ?? Math.min(...all.map((p) => p[1]), 0);
  let yMax = options.yMax ?? Math.max(...all.map((p) => p[1]), 1e-9);
  if (!(yMax > yMin)) yMax = yMin + 1;
  const xMax = Math.max(options.xMax ?? 0, ...all.map((p) => p[0]), 1);
  const fmt = options.yFormat || ((v) => (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1)));
  const X = (x) => left + (x / xMax) * w;
  const Y = (y) => top + h - ((y - yMin) / (yMax - yMin)) * h;

  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = muted;
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of [yMin, (yMin + yMax) / 2, yMax]) {
    const y = Math.round(Y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(left, y);
    ctx.lineTo(left + w, y);
    ctx.stroke();
    ctx.fillText(fmt(v), left - 4, y);
  }
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.fillText("0", left, cssHeight - 2);
  ctx.textAlign = "right";
  ctx.fillText(`${Math.round(xMax)} steps`, left + w, cssHeight - 2);

  for (const s of series) {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (!pts.length) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width || 1.6;
    ctx.lineJoin = "round";
    ctx.beginPath();
    pts.forEach(([x, y], i) => {
      const py = Y(Math.max(yMin, Math.min(yMax, y)));
      if (i === 0) ctx.moveTo(X(x), py);
      else ctx.lineTo(X(x), py);
    });
    ctx.stroke();
  }
}
