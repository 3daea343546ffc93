// A lesson page: progress in the lesson list, the live widgets (the tools' own components in preset states),
// the checked exercises and presenter mode.
import { createPresenter } from "./presenter.js";
import { adoptLinkProgress, renderLessonList } from "./progress.js";
import { wireExercises } from "./exercises.js";
import { mountWidgets } from "./widgets.js";

const article = document.querySelector("article.lesson");
const lesson = Number(article.dataset.lesson);
const nextLink = document.querySelector(".lesson-nav-bottom a[rel=next]");
const next = lesson < 12 ? { number: lesson + 1, path: nextLink.getAttribute("href") } : null;

adoptLinkProgress();
renderLessonList();
// On a narrow screen the lesson list starts folded: the lesson comes first.
if (matchMedia("(max-width: 900px)").matches) document.querySelector(".lesson-list-toggle").open = false;

const presenter = createPresenter({ lesson, total: 12, next });
document.querySelector(".presenter-button").addEventListener("click", () => presenter.enter(0));

async function main() {
  // Exercises answer at once (typed ones need no widget); a widget's exercise reads it once it has mounted.
  const widgets = {};
  wireExercises(widgets, { onPassed: () => renderLessonList() });
  wireLessonExtras(widgets);
  await mountWidgets(article, widgets);
  document.body.dataset.ready = "true";
}

/** The few controls a lesson adds around a widget (lesson 8's neuron counts, lesson 11's fresh 7). */
function wireLessonExtras(widgets) {
  document.querySelectorAll("[data-units]").forEach((button) => {
    button.addEventListener("click", () => {
      const curve = widgets.curve;
      if (!curve) return;
      document.querySelectorAll("[data-units]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      curve.load({ ...curve.state().config, hidden: [Number(button.dataset.units)] });
    });
  });
  document.querySelector(".lenet-restore")?.addEventListener("click", () => widgets.lenet?.reset());
}

const params = new URLSearchParams(location.search);
const slideHash = /^#slide-(\d+)$/.exec(location.hash);
if (params.has("present")) presenter.enter(slideHash ? Number(slideHash[1]) - 1 : 0);
main().catch((err) => console.error(err));
