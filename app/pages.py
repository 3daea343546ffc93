"""Jinja2 page rendering shared by every page router."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

import engine
from engine.course.lessons import lesson_for_tool

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
    lesson = lesson_for_tool(request.url.path)
    intro = {"number": lesson.number, "title": lesson.title} if lesson else None
    return templates.TemplateResponse(
        request, template,
        {"pages": discovered_pages(), "version": engine.__version__, "intro_lesson": intro, **context},
    )


def tool_block(template: str, block: str) -> Markup:
    """One named block of a tool page's template, rendered on its own: a lesson shows the page's own markup
    for a component (the component's module then mounts on it)."""
    tmpl = templates.env.get_template(template)
    if block not in tmpl.blocks:
        raise KeyError(f"{template} has no block '{block}'")
    context = tmpl.new_context({"ui": templates.env.get_template("macros.html").module})
    return Markup("".join(tmpl.blocks[block](context)))


templates.env.globals["tool_block"] = tool_block
