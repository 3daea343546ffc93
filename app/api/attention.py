"""The Attention page: a tiny transformer trained live, with its attention maps."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.transformer.tasks import DEFAULT_PRESET, list_presets

from ..pages import render

PAGE = {
    "path": "/attention",
    "title": "Attention",
    "blurb": "Train a small transformer in seconds and watch every head's attention form: model view, head view, "
             "matrix view, and Q·Kᵀ → ÷√dₖ → mask → softmax → ·V step by step with real numbers.",
    "order": 6,
}

router = APIRouter()


@router.get("/attention", response_class=HTMLResponse, include_in_schema=False)
def attention_page(request: Request) -> HTMLResponse:
    return render(request, "attention.html", title="Attention", presets=list_presets(), default=DEFAULT_PRESET)
