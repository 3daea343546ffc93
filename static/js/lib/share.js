// The Share button every page has (templates/macros.html), and a page opened from a share link.
//
// Share makes a read-only snapshot on the server (POST /api/shares): the page's session — network, weights,
// data — if the page has one, and its view state (the URL's hash, plus whatever the page adds). /s/<id> opens
// the page with ?share=<id>: the page shows the snapshot read-only, and "Make my own copy" forks it into a
// session of one's own (?session=<id>).

import { api } from "./api.js";
import { flashNote } from "./notice.js";

let source = () => ({});

/**
 * A page with a session says what to share: () => ({session, kind, view}) — the session id, its kind
 * (network, lenet, transformer, …) and view state beyond the URL's hash.
 */
export function shareSource(fn) {
  source = fn;
}

/** What this page would share (and teach) now: {session, kind, view}. */
export function pageSource() {
  return source() || {};
}

/** The share id this page was opened with (a share link), or null. */
export function sharedId() {
  return new URLSearchParams(location.search).get("share");
}

/** The session this page was asked to open (a fork of a share), or null. */
export function ownSessionId() {
  return new URLSearchParams(location.search).get("session");
}

async function makeShare() {
  const { session = null, kind = null, view = {} } = source() || {};
  const body = { page: location.pathname, session, kind, view: { hash: location.hash, ...view } };
  const made = await api("/api/shares", { method: "POST", body });
  return new URL(made.url, location.href).href;
}

async function fork(id) {
  const made = await api(`/api/shares/${encodeURIComponent(id)}/fork`, { method: "POST" });
  const hash = typeof made.view.hash === "string" ? made.view.hash : "";
  location.assign(made.session ? `${made.page}?session=${encodeURIComponent(made.session)}${hash}`
    : `${made.page}${hash}`);
}

function wireButton() {
  const button = document.querySelector(".share-button");
  const panel = document.querySelector(".share-panel");
  if (!button || !panel) return;
  const input = panel.querySelector(".share-link");
  const close = () => { panel.hidden = true; button.setAttribute("aria-expanded", "false"); };
  button.addEventListener("click", async () => {
    if (!panel.hidden) return close();
    button.disabled = true;
    try {
      input.value = await makeShare();
      panel.hidden = false;
      button.setAttribute("aria-expanded", "true");
      input.select();
    } catch (err) {
      flashNote(`Could not share this page: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  });
  panel.querySelector(".share-copy").addEventListener("click", async () => {
    input.select();
    try {
      await navigator.clipboard.writeText(input.value);
      flashNote("Link copied.");
    } catch {
      flashNote("Select the link and copy it (the browser did not allow copying).");
    }
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  document.addEventListener("click", (event) => {
    if (!panel.hidden && !event.target.closest(".share")) close();
  });
}

function wireSharedPage() {
  const id = sharedId();
  const banner = document.querySelector(".share-banner");
  if (!id || !banner) return;
  document.body.classList.add("read-only");
  banner.hidden = false;
  banner.querySelector("button").addEventListener("click", () => {
    fork(id).catch((err) => flashNote(`Could not make a copy: ${err.message}`));
  });
}

wireButton();
wireSharedPage();
