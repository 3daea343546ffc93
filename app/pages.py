"""Jinja2 page rendering shared by every page router."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

import engine

from . import api
from .settings import get_settings

templates = Jinja2Templates(directory=str(get_settings().templates_dir))


def discovered_pages() -> list[dict[str, Any]]:
    """Every router module's PAGE, in reading order: the navigation bar and the home page list these."""
    pages = []
    for info in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"{api.__name__}.{info.name}")
        page = getattr(module, "PAGE", None)
        if page:
            pages.append(page)
    return sorted(pages, key=lambda p: p.get("order", 100))


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(
        request, template, {"pages": discovered_pages(), "version": engine.__version__, **context}
    )
