// Presenter mode: the lesson as full-screen slides — the title, each text, each widget, each exercise — one at a
// time in large type. Arrow keys, Page Up/Down (what clickers send) and Space move; Esc leaves. The widgets are
// the page's own live elements, shown one at a time. Speaker notes open in a second window that follows over a
// BroadcastChannel and can move the slides too.
const CHANNEL = "glassbox-presenter";

export function createPresenter({ lesson, total, next }) {
  const slides = [...document.querySelectorAll(".lesson .slide")];
  const bar = document.querySelector(".presenter-bar");
  const counter = bar.querySelector(".presenter-count");
  const channel = "BroadcastChannel" in window ? new BroadcastChannel(CHANNEL) : null;
  let index = 0;
  let active = false;

  function notesOf(slide) {
    const aside = slide?.querySelector(".notes");
    return aside ? aside.textContent.trim() : "";
  }

  function titleOf(slide) {
    if (!slide) return "";
    const heading = slide.querySelector("h1, h2, h3, figcaption span");
    return heading ? heading.textContent.trim().replace(/\s+/g, " ") : slide.dataset.slideKind;
  }

  function broadcast() {
    channel?.postMessage({
      type: "slide", lesson, total, index, count: slides.length, title: titleOf(slides[index]),
      notes: notesOf(slides[index]), next: titleOf(slides[index + 1]) || (next ? `Lesson ${next.number}` : "The end"),
      presenting: active,
    });
  }

  function show(i) {
    index = Math.max(0, Math.min(slides.length - 1, i));
    slides.forEach((slide, k) => slide.classList.toggle("current", k === index));
    counter.textContent = `${index + 1} / ${slides.length}`;
    document.body.dataset.slide = String(index);
    history.replaceState(null, "", `${location.pathname}${location.search}#slide-${index + 1}`);
    // Canvases measure their box when drawn: let the widget on this slide refit now that it is visible.
    window.dispatchEvent(new Event("resize"));
    broadcast();
  }

  function move(step) {
    if (index + step >= slides.length && next) {
      location.href = `${next.path}?present#slide-1`;
      return;
    }
    if (index + step < 0) return;
    show(index + step);
  }

  function enter(at = 0) {
    active = true;
    document.body.classList.add("presenting");
    bar.hidden = false;
    document.documentElement.requestFullscreen?.().catch(() => {}); // a browser may refuse: the overlay still fills
    show(at);
  }

  function exit() {
    active = false;
    document.body.classList.remove("presenting");
    bar.hidden = true;
    slides.forEach((slide) => slide.classList.remove("current"));
    if (document.fullscreenElement) document.exitFullscreen?.().catch(() => {});
    history.replaceState(null, "", location.pathname);
    broadcast();
    window.dispatchEvent(new Event("resize"));
  }

  document.addEventListener("keydown", (event) => {
    if (!active) return;
    const typing = event.target.closest?.("input, select, textarea, [contenteditable]");
    const forward = ["PageDown", "ArrowRight", "ArrowDown", " "];
    const back = ["PageUp", "ArrowLeft", "ArrowUp"];
    // Page Up/Down are the clicker's keys and always move; arrows and Space stay with a focused control.
    if (typing && !event.key.startsWith("Page")) return;
    if (forward.includes(event.key)) {
      event.preventDefault();
      move(1);
    } else if (back.includes(event.key)) {
      event.preventDefault();
      move(-1);
    } else if (event.key === "Escape") {
      exit();
    }
  });
  bar.addEventListener("click", (event) => {
    const action = event.target.closest("[data-presenter]")?.dataset.presenter;
    if (action === "next") move(1);
    else if (action === "prev") move(-1);
    else if (action === "exit") exit();
    else if (action === "notes") {
      window.open("/learn/notes", "glassbox-notes", "width=720,height=600");
      setTimeout(broadcast, 600); // the new window's channel listens once its page has loaded
    }
  });
  channel?.addEventListener("message", (event) => {
    const msg = event.data;
    if (msg.type === "hello" && active) broadcast();
    if (!active) return;
    if (msg.type === "next") move(1);
    else if (msg.type === "prev") move(-1);
  });

  return { enter, exit, get active() { return active; }, get index() { return index; } };
}
