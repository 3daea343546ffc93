// A tiny in-browser test runner for the JS unit pages: register tests, run them, list the results and leave
// them in window.__results for pytest to read.

const tests = [];

/** Register a test; `fn` may be async and fails by throwing. */
export function test(name, fn) {
  tests.push({ name, fn });
}

/** Equal as JSON (so arrays and plain objects compare by content). */
export function assertEqual(actual, expected, what = "") {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what} expected ${e}, got ${a}`);
}

/** Run every registered test in order; fill the page's #results list and [data-testid=js-summary]. */
export async function run() {
  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (err) {
      results.push({ name, ok: false, error: String(err.message || err) });
    }
  }
  const list = document.getElementById("results");
  for (const r of results) {
    const li = document.createElement("li");
    li.textContent = `${r.ok ? "✓" : "✗"} ${r.name}${r.ok ? "" : ` — ${r.error}`}`;
    li.style.color = r.ok ? "var(--ok)" : "var(--danger)";
    list.append(li);
  }
  const failed = results.filter((r) => !r.ok).length;
  document.querySelector("[data-testid=js-summary]").textContent = `${results.length - failed} passed, ${failed} failed`;
  window.__results = results;
  return results;
}
