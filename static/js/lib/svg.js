// Build SVG elements from tag names and attribute objects.

export const SVG_NS = "http://www.w3.org/2000/svg";

/** svg("rect", {x: 1, width: 4}, [children]) → an SVGElement. `text` sets textContent. */
export function svg(tag, attrs = {}, children = []) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, String(v));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}
