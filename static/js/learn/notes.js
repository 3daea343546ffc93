// The speaker-notes window: follows the presenting lesson over a BroadcastChannel (its slide, notes and what
// comes next) and can move the slides; a clock since the window opened.
const channel = "BroadcastChannel" in window ? new BroadcastChannel("glassbox-presenter") : null;
const $ = (id) => document.getElementById(id);
const opened = Date.now();

channel?.addEventListener("message", (event) => {
  const msg = event.data;
  if (msg.type !== "slide") return;
  $("notes-lesson").textContent = msg.presenting ? `Lesson ${msg.lesson} of ${msg.total}` : "Presentation paused";
  $("notes-slide").textContent = msg.title || "Slide";
  $("notes-count").textContent = `slide ${msg.index + 1} of ${msg.count}`;
  const body = $("notes-text");
  body.replaceChildren();
  const p = document.createElement("p");
  p.textContent = msg.notes || "No notes for this slide.";
  body.append(p);
  $("notes-next").textContent = `Next: ${msg.next}`;
});
$("notes-prev").addEventListener("click", () => channel?.postMessage({ type: "prev" }));
$("notes-nextbtn").addEventListener("click", () => channel?.postMessage({ type: "next" }));
document.addEventListener("keydown", (event) => {
  if (["PageDown", "ArrowRight", " "].includes(event.key)) channel?.postMessage({ type: "next" });
  if (["PageUp", "ArrowLeft"].includes(event.key)) channel?.postMessage({ type: "prev" });
});
setInterval(() => {
  const s = Math.floor((Date.now() - opened) / 1000);
  $("notes-clock").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}, 1000);
channel?.postMessage({ type: "hello" });
