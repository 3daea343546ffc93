// The course's index: progress per lesson, and "continue" pointing at the first lesson not yet done.
import { adoptLinkProgress, renderLessonList } from "./progress.js";

adoptLinkProgress();
renderLessonList();
const open = document.querySelector(".lesson-list a[data-lesson]:not([data-state=done])");
const button = document.querySelector(".course-continue");
if (open && open.dataset.lesson !== "1") {
  button.href = open.getAttribute("href");
  button.textContent = `Continue with lesson ${open.dataset.lesson}`;
}
document.body.dataset.ready = "true";
