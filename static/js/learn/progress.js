// The learner's progress: the exercises passed, kept in this browser (localStorage) and carried by a link
// (?progress=id,id,…), which merges into what the browser already holds.
const KEY = "glassbox-course-progress";

function read() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "{}");
    return new Set(Array.isArray(saved.passed) ? saved.passed.filter((id) => typeof id === "string") : []);
  } catch {
    return new Set();
  }
}

function write(passed) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ passed: [...passed].sort() }));
  } catch {
    // storage full or blocked (private mode): progress lives for this page only
  }
}

/** Merge a link's ?progress=… into the stored progress, and drop it from the address. */
export function adoptLinkProgress() {
  const url = new URL(location.href);
  const carried = url.searchParams.get("progress");
  if (carried === null) return;
  const passed = read();
  for (const id of carried.split(",")) if (/^[a-z0-9-]+$/.test(id)) passed.add(id);
  write(passed);
  url.searchParams.delete("progress");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

export const passedExercises = () => read();

export function markPassed(id) {
  const passed = read();
  passed.add(id);
  write(passed);
}

/** A link to the course that carries this progress. */
export function progressLink() {
  const passed = [...read()].sort();
  return passed.length ? `${location.origin}/learn?progress=${passed.join(",")}` : `${location.origin}/learn`;
}

/** Mark each lesson of a list done (every exercise passed) or started. */
export function renderLessonList(root = document) {
  const passed = read();
  let done = 0;
  const items = root.querySelectorAll(".lesson-list a[data-lesson]");
  items.forEach((link) => {
    const ids = link.dataset.exercises ? link.dataset.exercises.split(",") : [];
    const count = ids.filter((id) => passed.has(id)).length;
    const finished = ids.length > 0 && count === ids.length;
    if (finished) done += 1;
    link.dataset.state = finished ? "done" : count ? "started" : "";
    const mark = link.querySelector(".lesson-state");
    mark.textContent = finished ? "✓" : count ? `${count}/${ids.length}` : "";
    mark.setAttribute("aria-label", finished ? "done" : count ? `${count} of ${ids.length} exercises done` : "");
  });
  root.querySelectorAll(".progress-count").forEach((el) => {
    el.textContent = `${done} of ${items.length} done`;
  });
  root.querySelectorAll(".progress-link").forEach((a) => { a.href = progressLink(); });
  return { passed, done };
}
