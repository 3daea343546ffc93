// The skip link moves the focus to the main content without touching the URL's hash: the Playground keeps its
// whole configuration in the hash, and "#main" there would reset the page.
const link = document.querySelector(".skip-link");
const main = document.getElementById("main");
link?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus({ preventScroll: true });
  main.scrollIntoView({ block: "start" });
});
