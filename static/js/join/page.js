// The /join page: a room code and a display name → a student token (kept in this tab), then the teacher's page.
import { api, showError } from "../lib/api.js";
import { rememberStudent } from "../lib/teach.js";

const $ = (id) => document.getElementById(id);
const codeInput = $("join-code");
const nameInput = $("join-name");

const given = new URLSearchParams(location.search).get("code");
if (given) {
  codeInput.value = given.toUpperCase();
  nameInput.focus();
} else {
  codeInput.focus();
}

$("join-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = codeInput.value.trim().toUpperCase().replace(/[\s-]/g, "");
  const name = nameInput.value.trim();
  if (!code || !name) {
    showError($("join-error"), new Error(!code ? "Type the room code your teacher shows." : "Type your name."));
    return;
  }
  const button = $("join-button");
  button.disabled = true;
  try {
    const joined = await api(`/api/rooms/${encodeURIComponent(code)}/join`, { method: "POST", body: { name } });
    rememberStudent(joined.code, { token: joined.student_token, name: joined.name });
    location.assign(`${joined.page}?room=${encodeURIComponent(joined.code)}`);
  } catch (err) {
    showError($("join-error"), err);
    button.disabled = false;
  }
});
document.body.dataset.ready = "true";
