"""examples/glassbox-tour.ipynb runs top to bottom in a kernel (nbclient), and its show() cells hold the widget."""

from __future__ import annotations

import json

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT

WIDGET = "application/vnd.jupyter.widget-view+json"


def test_tour_notebook_runs_and_shows_widgets():
    nb = nbformat.read(ROOT / "examples" / "glassbox-tour.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    shown = [cell for cell in nb.cells if cell.cell_type == "code" and "show(" in cell.source]
    assert len(shown) == 5
    for cell in shown:
        assert any(WIDGET in out.get("data", {}) for out in cell.outputs), cell.source
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    urls = [model["state"]["url"] for model in state.values() if "url" in model.get("state", {})]
    pages = sorted(url.split("/", 3)[3].split("?")[0] for url in urls)
    assert pages == ["attention", "autoencoder", "backprop", "lenet", "playground"]
    assert all("session=" in url or "network=" in url for url in urls)
    text = json.dumps([cell.outputs for cell in nb.cells if cell.cell_type == "code"])
    assert "[[0.191]]" in text and "LeNet says 7" in text and "[[4., 3., 4.]," in text
