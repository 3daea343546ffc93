"""The backprop walkthrough page: one training step, stage by stage, with the engine's numbers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..pages import render

PAGE = {
    "path": "/backprop",
    "title": "Backprop",
    "blurb": "Step through one training step of the classic worked example: every weighted sum, the error, each "
             "gradient as its chain-rule product and the update, with the real numbers, per weight or as matrices.",
    "order": 3,
}

router = APIRouter()


@router.get("/backprop", response_class=HTMLResponse, include_in_schema=False)
def backprop_page(request: Request) -> HTMLResponse:
    return render(request, "backprop.html", title="Backprop")
