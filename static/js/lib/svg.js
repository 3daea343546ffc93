// Build SVG elements from tag names and attribute objects.
import { setAttributes } from "./dom.js";

export const SVG_NS = "http://www.w3.org/2000/svg";

/** svg("rect", {x: 1, width: 4}, [children]) → an SVGElement. `text` sets textContent. */
export function svg(tag, attrs = {}, children = []) {
  const node = setAttributes(document.createElementNS(SVG_NS, tag), attrs);
  for (const child of children) if (child) node.append(child);
  return node;
}
