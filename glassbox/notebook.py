"""A session's page inside a notebook cell: an anywidget widget (JupyterLab, Notebook 7, VS Code, marimo), or an
IPython IFrame when anywidget is not installed (`pip install 'glassbox-nn[notebook]'` adds it).

The widget is an iframe on the server's page for the session (`/playground?session=…`, `/lenet?session=…`, …):
the page attaches to that session instead of creating its own, and its WebSocket follows the session, so
training started from Python shows in the cell as it happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glassbox.client import Session

# The widget's front end, inline (no build step, nothing fetched): an iframe that follows the `url` trait.
ESM = """
function render({ model, el }) {
  const frame = document.createElement("iframe");
  frame.className = "glassbox-view";
  frame.style.width = "100%";
  frame.style.border = "1px solid #d0d7de";
  frame.style.borderRadius = "6px";
  const update = () => {
    frame.src = model.get("url");
    frame.style.height = `${model.get("height")}px`;
    frame.title = `Glassbox: ${model.get("url")}`;
  };
  update();
  model.on("change:url", update);
  model.on("change:height", update);
  el.replaceChildren(frame);
  return () => frame.remove();
}
export default { render };
"""

try:
    import anywidget
    import traitlets

    class GlassboxView(anywidget.AnyWidget):
        """An iframe on a Glassbox page; set `url` to show another session."""

        _esm = ESM
        url = traitlets.Unicode("").tag(sync=True)
        height = traitlets.Int(720).tag(sync=True)

        def __repr__(self) -> str:
            return f"GlassboxView(url={self.url!r})"

    HAVE_ANYWIDGET = True
except ImportError:  # the optional extra is absent: show() falls back to an IFrame
    HAVE_ANYWIDGET = False


def show(session: Session, page: str | None = None, *, height: int = 720) -> Any:
    """The page for `session` as a notebook display object (make it a cell's last expression, or display() it).

    `page` picks another view of the same session: "walk" (the backprop walk of a network), "lenet" (a digit
    network on the LeNet page), or a path such as "/playground".
    """
    url = session.client.page_url(session, page)
    if HAVE_ANYWIDGET:
        return GlassboxView(url=url, height=height)
    from IPython.display import IFrame

    return IFrame(url, width="100%", height=height)
