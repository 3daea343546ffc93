// Build HTML elements, and draw at most once per animation frame.

/**
 * Set `attrs` on an element (HTML, SVG or MathML): `text` sets its text; a null or undefined value is left
 * out; every other value (`class` included) becomes an attribute.
 */
export function setAttributes(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "text") node.textContent = String(value);
    else node.setAttribute(key, String(value));
  }
  return node;
}

/**
 * el("button", {class: "icon", text: "+", title: "Add"}, [children]) → a new HTML element.
 * Children are nodes or strings; null, undefined and false children are skipped.
 */
export function el(tag, attrs = {}, children = []) {
  const node = setAttributes(document.createElement(tag), attrs);
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

const pendingDraws = new Set();

/**
 * Run `draw` on the next animation frame; asking again for the same `draw` before that frame changes nothing,
 * so a burst of updates (a fast stream, a drag) paints once per frame.
 */
export function scheduleDraw(draw) {
  if (pendingDraws.has(draw)) return;
  pendingDraws.add(draw);
  requestAnimationFrame(() => {
    pendingDraws.delete(draw);
    draw();
  });
}
