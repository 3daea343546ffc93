// Classrooms: "Teach this" on every page (templates/macros.html teach_button, room_panel, follow_bar).
//
// The teacher opens a room (POST /api/rooms) driven by the page's current session (what share.js's
// shareSource says); the room panel shows the code, the join link and its QR code, the roster with each
// student's copy and its live metrics, checkpoints, and a consenting student's copy on the big screen. The
// teacher's token stays in this browser (localStorage), so the room follows the teacher from page to page.
//
// A student opens a page with ?room=CODE (after /join): the page follows the teacher — it registers with
// followTeacher() and is handed the read-only snapshot to draw from and the teacher's live frames — until the
// student takes a copy (?room=CODE&session=ID: their own session, exploring) and follows again.
// Names are shown with textContent only: never parsed as HTML.

import { api } from "./api.js";
import { flashNote } from "./notice.js";
import { formatNumber, formatPercent } from "./format.js";
import { pageSource } from "./share.js";
import { connectSocket } from "./socket.js";

const TEACHING = "glassbox-teaching";
const ROSTER_EVERY = 2500; // ms between roster refreshes (metrics update every second on the server)

const params = new URLSearchParams(location.search);
const roomParam = params.get("room");
const exploring = Boolean(roomParam && params.get("session"));

// --- who we are here --------------------------------------------------------------------------------------

/** The room this page follows as a student (?room=CODE without a copy of one's own), or null. */
export function followedRoom() {
  return roomParam && !exploring ? roomParam.toUpperCase() : null;
}

function studentKey(code) {
  return `glassbox-room:${code.toUpperCase()}`;
}

/** The student's token for a room: kept per tab (sessionStorage), so several students may share a browser. */
export function studentToken(code) {
  try {
    return JSON.parse(sessionStorage.getItem(studentKey(code)) || "null");
  } catch {
    return null;
  }
}

export function rememberStudent(code, entry) {
  sessionStorage.setItem(studentKey(code), JSON.stringify(entry));
}

function teaching() {
  try {
    return JSON.parse(localStorage.getItem(TEACHING) || "null");
  } catch {
    return null;
  }
}

const tokenHeader = (token) => ({ "X-Room-Token": token });

// --- following (a student's page) ----------------------------------------------------------------------------

let followHandlers = null;
let registered = () => {};
const pageRegistered = new Promise((resolve) => { registered = resolve; });

/**
 * A page that can follow the teacher says how: session(msg) (async: draw the read-only snapshot msg.share of
 * the teacher's session; msg.view is the teacher's view state), frame(msg) (a live frame of the teacher's
 * session, as the page's own live stream would send it) and view(view) (the teacher's page shows something
 * else). Frames that come while session() works are applied after it, in order.
 */
export function followTeacher(handlers) {
  followHandlers = handlers;
  registered();
}

function followBar() {
  return document.querySelector(".follow-bar");
}

function showFollowBar(code, mode) {
  const bar = followBar();
  if (!bar) return;
  bar.hidden = false;
  bar.dataset.mode = mode;
  document.body.classList.add(mode === "following" ? "following" : "exploring");
  if (mode === "following") document.body.classList.add("read-only");
  const indicator = bar.querySelector(".follow-indicator");
  indicator.dataset.state = mode;
  indicator.textContent = mode === "following" ? `Following the teacher · room ${code}`
    : `Exploring your own copy · room ${code}`;
  bar.querySelector(".follow-take").hidden = mode !== "following";
  bar.querySelector(".follow-again").hidden = mode !== "exploring";
}

async function studentState(code, token) {
  return api(`/api/rooms/${encodeURIComponent(code)}`, { headers: tokenHeader(token) });
}

function showCheckpoint(state) {
  const bar = followBar();
  const out = bar && bar.querySelector(".follow-checkpoint");
  if (!out) return;
  const check = state.checkpoint;
  if (!check) {
    out.textContent = "";
    return;
  }
  const passed = state.me && state.me.passed;
  out.dataset.passed = String(Boolean(passed));
  out.textContent = `Checkpoint: ${check.title}${passed ? " — passed ✓" : exploring ? "" : " (take a copy to try)"}`;
  bar.querySelector("input[type=checkbox]").checked = Boolean(state.me && state.me.consent);
}

function wireStudentButtons(code, token) {
  const bar = followBar();
  if (!bar) return;
  bar.querySelector(".follow-take").addEventListener("click", async (event) => {
    event.currentTarget.disabled = true;
    try {
      const made = await api(`/api/rooms/${encodeURIComponent(code)}/fork`, {
        method: "POST", headers: tokenHeader(token) });
      location.assign(`${made.page}?room=${encodeURIComponent(code)}&session=${encodeURIComponent(made.session)}`);
    } catch (err) {
      flashNote(`Could not take a copy: ${err.message}`);
      event.currentTarget.disabled = false;
    }
  });
  bar.querySelector(".follow-again").addEventListener("click", async () => {
    try {
      const state = await api(`/api/rooms/${encodeURIComponent(code)}/me`, {
        method: "PATCH", body: { mode: "following" }, headers: tokenHeader(token) });
      location.assign(`${state.page}?room=${encodeURIComponent(code)}`);
    } catch (err) {
      flashNote(`Could not follow again: ${err.message}`);
    }
  });
  bar.querySelector("input[type=checkbox]").addEventListener("change", async (event) => {
    try {
      await api(`/api/rooms/${encodeURIComponent(code)}/me`, {
        method: "PATCH", body: { consent: event.target.checked }, headers: tokenHeader(token) });
    } catch (err) {
      flashNote(`Could not save that: ${err.message}`);
    }
  });
}

function roomClosed(detail) {
  const indicator = document.querySelector(".follow-indicator");
  if (indicator) {
    indicator.dataset.state = "closed";
    indicator.textContent = `The room has closed: ${detail}`;
  }
}

/** Follow the teacher: the room's socket hands the page its snapshot and the teacher's frames. */
function follow(code, token) {
  let opening = null; // the page is drawing a new snapshot: frames wait
  let waiting = [];
  const handlers = followHandlers || {};
  const goTo = (page) => location.assign(`${page}?room=${encodeURIComponent(code)}`);

  async function openSession(msg) {
    if (msg.page !== location.pathname) return goTo(msg.page);
    if (!handlers.session) return;
    const run = (async () => {
      try {
        await handlers.session(msg);
      } catch (err) {
        flashNote(`Could not show the teacher's page: ${err.message}`);
      }
    })();
    opening = run;
    await run;
    if (opening !== run) return;
    opening = null;
    const pending = waiting;
    waiting = [];
    for (const frame of pending) handlers.frame && handlers.frame(frame);
  }

  connectSocket(`/ws/rooms/${encodeURIComponent(code)}?room_token=${encodeURIComponent(token)}`, {
    onMessage: (msg) => {
      if (!msg || typeof msg !== "object") return;
      if (msg.type === "session") openSession(msg);
      else if (msg.type === "frame") {
        if (opening) waiting.push(msg);
        else if (handlers.frame) handlers.frame(msg);
      } else if (msg.type === "view") {
        if (msg.page !== location.pathname) goTo(msg.page);
        else if (handlers.view) handlers.view(msg.view);
      } else if (msg.type === "roster") {
        studentState(code, token).then(showCheckpoint).catch(() => {});
      } else if (msg.type === "closed") {
        roomClosed(msg.detail);
      } else if (msg.type === "error" && msg.detail) {
        roomClosed(msg.detail);
      }
    },
  });
}

async function startStudent() {
  const code = roomParam.toUpperCase();
  const entry = studentToken(code);
  if (!entry) {
    location.assign(`/join?code=${encodeURIComponent(code)}`);
    return;
  }
  showFollowBar(code, exploring ? "exploring" : "following");
  wireStudentButtons(code, entry.token);
  try {
    showCheckpoint(await studentState(code, entry.token));
  } catch (err) {
    roomClosed(err.message);
    return;
  }
  if (exploring) {
    setInterval(() => studentState(code, entry.token).then(showCheckpoint).catch(() => {}), ROSTER_EVERY);
  } else {
    // A page that follows registers its handlers once it has loaded what it needs; a page that cannot follow
    // never does, and still goes where the teacher goes.
    const loaded = new Promise((resolve) => {
      if (document.readyState === "complete") resolve();
      else window.addEventListener("load", resolve, { once: true });
    });
    await Promise.race([pageRegistered, loaded.then(() => new Promise((r) => setTimeout(r, 5000)))]);
    follow(code, entry.token);
  }
}

// --- teaching ------------------------------------------------------------------------------------------------

let room = null; // {code, token}
let teacherSocket = null;
let announced = "";
let rosterTimer = null;

function panel() {
  return document.getElementById("room-panel");
}

function currentTeaching() {
  const { session = null, kind = null, view = {} } = pageSource();
  return { page: location.pathname, session, kind: session ? kind : null, view: { hash: location.hash, ...view } };
}

async function openRoom() {
  const body = currentTeaching();
  const made = await api("/api/rooms", { method: "POST", body });
  room = { code: made.code, token: made.teacher_token };
  localStorage.setItem(TEACHING, JSON.stringify(room));
  announced = JSON.stringify([body.page, body.session]);
  return made;
}

/** Tell the room when the page teaches another session (a new network, an import) — checked every second. */
async function announce() {
  if (!room) return;
  const now = currentTeaching();
  const key = JSON.stringify([now.page, now.session]);
  if (key === announced) return;
  announced = key;
  try {
    await api(`/api/rooms/${room.code}`, { method: "PUT", body: now, headers: tokenHeader(room.token) });
  } catch (err) {
    if (err.status === 404 || err.status === 410) endTeaching(err.message);
  }
}

/** A page's view state beyond its session (a stage, a window, a drawing), sent to the followers at once. */
let lastView = 0;
let viewTimer = null;
export function teachView(view) {
  if (!room || !teacherSocket) return;
  const sendNow = () => {
    lastView = performance.now();
    teacherSocket.send({ type: "view", page: location.pathname, view });
  };
  clearTimeout(viewTimer);
  const since = performance.now() - lastView;
  if (since > 100) sendNow();
  else viewTimer = setTimeout(sendNow, 100 - since);
}

/** Whether this page teaches a room now (a page may then send its view state). */
export function isTeaching() {
  return Boolean(room);
}

function endTeaching(reason) {
  localStorage.removeItem(TEACHING);
  room = null;
  clearInterval(rosterTimer);
  if (teacherSocket) teacherSocket.close();
  teacherSocket = null;
  const p = panel();
  if (p) p.hidden = true;
  document.body.classList.remove("teaching");
  if (reason) flashNote(reason);
}

function fillPanel() {
  const p = panel();
  p.querySelector(".room-code").textContent = room.code;
  const link = p.querySelector(".room-link");
  link.href = `/join?code=${room.code}`;
  link.textContent = `${location.host}/join`;
  p.querySelector(".room-qr").src = `/api/rooms/${room.code}/qr`;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderRoster(state) {
  const p = panel();
  const body = p.querySelector(".room-roster tbody");
  const rows = (state.roster || []).map((s) => {
    const tr = document.createElement("tr");
    tr.setAttribute("data-testid", `roster-row-${s.name}`);
    tr.dataset.mode = s.mode;
    const m = s.metrics || {};
    const name = cell(s.name, "room-name");
    const spot = document.createElement("button");
    spot.type = "button";
    spot.textContent = "Show";
    spot.setAttribute("data-testid", `spotlight-${s.name}`);
    spot.disabled = !(s.consent && s.has_copy);
    spot.title = !s.has_copy ? "No copy yet" : s.consent ? "Put this copy on the big screen"
      : "The student has not allowed it";
    spot.addEventListener("click", () => showSpotlight(s.name));
    const last = document.createElement("td");
    last.append(spot);
    tr.append(name, cell(s.mode, `room-mode ${s.mode}`), cell(m.step ?? "—"),
      cell(m.test_loss != null ? formatNumber(m.test_loss) : "—"),
      cell(m.test_accuracy != null ? formatPercent(m.test_accuracy) : "—"),
      cell(s.passed == null ? "" : s.passed ? "passed" : "not yet", s.passed ? "room-passed" : ""), last);
    return tr;
  });
  body.replaceChildren(...rows);
  const following = (state.roster || []).filter((s) => s.mode === "following").length;
  p.querySelector(".room-count").textContent = state.students
    ? `${state.students} joined · ${following} following · ${state.students - following} exploring`
    : "No one has joined yet: share the code.";
  const result = p.querySelector(".room-checkpoint-result");
  const check = state.checkpoint;
  result.textContent = check ? `“${check.title}”: ${check.passed} of ${check.total} passed` : "";
  p.querySelector(".room-expiry").textContent =
    `Open until ${new Date(state.expires * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
}

async function refreshRoster() {
  if (!room) return;
  try {
    renderRoster(await api(`/api/rooms/${room.code}`, { headers: tokenHeader(room.token) }));
  } catch (err) {
    if (err.status === 404 || err.status === 410) endTeaching(`Your room closed: ${err.message}`);
  }
}

async function showSpotlight(name) {
  try {
    const spot = await api(`/api/rooms/${room.code}/spotlight`, {
      method: "POST", body: { name }, headers: tokenHeader(room.token) });
    const box = panel().querySelector(".room-spotlight");
    box.querySelector(".room-spotlight-title").textContent = `${spot.name}'s copy`;
    box.querySelector("iframe").src = spot.url;
    box.hidden = false;
  } catch (err) {
    flashNote(`Could not show that copy: ${err.message}`);
  }
}

async function fillChecks() {
  const select = panel().querySelector(".room-check");
  if (select.options.length) return;
  const checks = await api("/api/rooms/checks");
  for (const c of checks) {
    const option = document.createElement("option");
    option.value = c.check;
    option.textContent = c.check.replaceAll("_", " "); // "test loss below": the value comes beside it
    option.title = c.description;
    select.append(option);
  }
}

function wirePanel() {
  const p = panel();
  p.querySelector(".room-hide").addEventListener("click", () => {
    p.hidden = true;
    document.querySelector(".teach-button").setAttribute("aria-expanded", "false");
  });
  p.querySelector(".room-close").addEventListener("click", async () => {
    if (!room) return;
    try {
      await api(`/api/rooms/${room.code}`, { method: "DELETE", headers: tokenHeader(room.token) });
    } catch { /* closed already */ }
    endTeaching("The room is closed: its code no longer works.");
  });
  p.querySelector(".room-checkpoint").addEventListener("click", async () => {
    const value = Number(p.querySelector(".room-check-value").value);
    try {
      renderRoster(await api(`/api/rooms/${room.code}/checkpoint`, {
        method: "POST", body: { check: p.querySelector(".room-check").value, value },
        headers: tokenHeader(room.token) }));
    } catch (err) {
      flashNote(`Could not ask the checkpoint: ${err.message}`);
    }
  });
  p.querySelector(".room-spotlight-close").addEventListener("click", () => {
    const box = p.querySelector(".room-spotlight");
    box.hidden = true;
    box.querySelector("iframe").removeAttribute("src");
  });
}

function startTeachingUi() {
  const p = panel();
  fillPanel();
  p.hidden = false;
  document.body.classList.add("teaching");
  document.querySelector(".teach-button").setAttribute("aria-expanded", "true");
  fillChecks().catch(() => {});
  refreshRoster();
  clearInterval(rosterTimer);
  rosterTimer = setInterval(() => { refreshRoster(); announce(); }, ROSTER_EVERY);
  setInterval(announce, 1000);
  if (!teacherSocket) {
    teacherSocket = connectSocket(`/ws/rooms/${room.code}?room_token=${encodeURIComponent(room.token)}`, {
      onMessage: (msg) => {
        if (msg && msg.type === "roster") refreshRoster();
        if (msg && msg.type === "closed") endTeaching(`Your room closed: ${msg.detail}`);
      },
    });
  }
}

async function resumeTeaching(saved) {
  room = saved;
  try {
    await api(`/api/rooms/${room.code}`, { headers: tokenHeader(room.token) });
  } catch {
    endTeaching();
    return;
  }
  // This page is what the room follows now (its session, once the page made one).
  announced = "";
  startTeachingUi();
  setTimeout(announce, 300);
}

function wireTeachButton() {
  const button = document.querySelector(".teach-button");
  if (!button || !panel()) return;
  wirePanel();
  button.addEventListener("click", async () => {
    if (room) {
      const p = panel();
      p.hidden = !p.hidden;
      button.setAttribute("aria-expanded", String(!p.hidden));
      return;
    }
    button.disabled = true;
    try {
      await openRoom();
      startTeachingUi();
    } catch (err) {
      flashNote(`Could not open a room: ${err.message}`);
    } finally {
      button.disabled = false;
    }
  });
}

// A page shown inside another (the big screen's student copy) or a read-only share never teaches.
const embedded = window.top !== window || params.has("share");
if (roomParam || embedded) {
  const button = document.querySelector(".teach-button");
  if (button) button.hidden = true; // a student's page does not teach
  if (roomParam && !embedded) startStudent();
} else {
  wireTeachButton();
  const saved = teaching();
  if (saved) resumeTeaching(saved);
}
