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

/**
 * One tab stop for a grid of many controls (thumbnails, table cells): the items matching `selector` in
 * `container` get tabindex −1 but the current one (0); the arrow keys move along a row (←/→) and between rows
 * (↑/↓, by the number of items in the first row as laid out), Home and End to the ends. Call again after the
 * items change; the current item is kept by position.
 */
export function rovingFocus(container, selector) {
  const items = () => [...container.querySelectorAll(selector)];
  const all = items();
  if (!all.length) return;
  const current = Math.max(0, all.findIndex((item) => item.tabIndex === 0));
  all.forEach((item, i) => { item.tabIndex = i === current ? 0 : -1; });
  if (container.dataset.roving) return; // the key handler is already there
  container.dataset.roving = "true";
  container.addEventListener("keydown", (event) => {
    const list = items();
    const i = list.indexOf(event.target);
    if (i < 0) return;
    const top = list[0].getBoundingClientRect().top;
    const perRow = Math.max(1, list.filter((item) => Math.abs(item.getBoundingClientRect().top - top) < 2).length);
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: perRow, ArrowUp: -perRow, Home: -i, End: list.length - 1 - i };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = list[Math.max(0, Math.min(list.length - 1, i + moves[event.key]))];
    list[i].tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });
}
