"""The course (/learn): lesson pages, the lesson catalogue, exercise checks and lesson 6's loss surface.

The checks' maths is in engine/course/checks.py; this module validates what the learner sends, finds the
resources a check needs (a session's configuration, the shipped LeNet) and answers typed records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup
from pydantic import BaseModel, ValidationError

from engine.core.errors import EngineError
from engine.course import checks, lessons, surface
from engine.playground import config as pg

from ..arrays import encode
from ..pages import discovered_pages, render, templates, tool_block
from ..schemas.lessons import (
    Attempt,
    CheckResult,
    DigitState,
    KernelState,
    LessonInfo,
    LessonList,
    NeuronState,
    PlaygroundWidgetState,
    SurfaceRequest,
    SurfaceResult,
    SurfaceState,
)
from ..store import SessionNotFound, SessionStore
from .deps import Enc, Store
from .lenet import shared as lenet_shared
from .networks import KIND as NETWORK_KIND

PAGE = {"path": "/learn", "title": "Course", "order": 0,
        "blurb": "Start here: twelve short lessons from a single neuron to attention, each with the tools "
                 "themselves as live widgets and exercises the engine checks."}

router = APIRouter(tags=["course"])
M = TypeVar("M", bound=BaseModel)


def lesson_record(lesson: lessons.Lesson) -> dict[str, Any]:
    return {
        "number": lesson.number, "slug": lesson.slug, "title": lesson.title, "summary": lesson.summary,
        "path": f"/learn/{lesson.number}", "tools": list(lesson.tools),
        "widgets": [{"id": w.id, "kind": w.kind, "tool": w.tool, "preset": w.preset, "caption": w.caption,
                     "parts": list(w.parts)} for w in lesson.widgets],
        "exercises": [{"id": e.id, "title": e.title, "prompt": e.prompt, "input": e.input, "widget": e.widget,
                       "options": [{"value": v, "label": t} for v, t in e.options],
                       "questions": [{"key": k, "question": q} for k, q in e.questions], "unit": e.unit}
                      for e in lesson.exercises],
        "links": [{"value": path, "label": label} for path, label in lesson.links],
    }


def find_lesson(number: int) -> lessons.Lesson:
    if number not in lessons.BY_NUMBER:
        raise SessionNotFound(f"no lesson {number}; the course has lessons 1 to {len(lessons.LESSONS)}")
    return lessons.BY_NUMBER[number]


# --- pages ----------------------------------------------------------------------------------------------


@router.get("/learn", response_class=HTMLResponse, include_in_schema=False)
def course_page(request: Request) -> HTMLResponse:
    return render(request, "learn/index.html", title="Course",
                  lessons=[lesson_record(lesson) for lesson in lessons.LESSONS])


@router.get("/learn/notes", response_class=HTMLResponse, include_in_schema=False)
def notes_page(request: Request) -> HTMLResponse:
    return render(request, "learn/notes.html", title="Speaker notes")


@router.get("/learn/{number}", response_class=HTMLResponse, response_model=None, include_in_schema=False)
def lesson_page(request: Request, number: str) -> HTMLResponse | RedirectResponse:
    slug_match = next((lesson for lesson in lessons.LESSONS if lesson.slug == number), None)
    if slug_match is not None:
        return RedirectResponse(f"/learn/{slug_match.number}")
    if not number.isdigit() or int(number) not in lessons.BY_NUMBER:
        return RedirectResponse("/learn")
    lesson = lessons.BY_NUMBER[int(number)]
    records = [lesson_record(item) for item in lessons.LESSONS]
    record = records[lesson.number - 1]
    return render(request, "learn/lesson.html", title=f"{lesson.number}. {lesson.title}",
                  lesson=record, lessons=records, stylesheets=widget_stylesheets(record),
                  available={page["path"] for page in discovered_pages()},
                  previous=records[lesson.number - 2] if lesson.number > 1 else None,
                  next=records[lesson.number] if lesson.number < len(records) else None)


# --- the catalogue --------------------------------------------------------------------------------------


@router.get("/api/lessons", response_model=LessonList, summary="Every lesson, its widgets and exercises")
def list_lessons() -> dict[str, Any]:
    """The course in order: each lesson's widgets with the preset states they open in, and its exercises with
    what an attempt must send."""
    return {"lessons": [lesson_record(lesson) for lesson in lessons.LESSONS]}


@router.get("/api/lessons/{number}", response_model=LessonInfo, summary="One lesson")
def get_lesson(number: int) -> dict[str, Any]:
    return lesson_record(find_lesson(number))


# --- checks ---------------------------------------------------------------------------------------------


def parse_state(model: type[M], attempt: Attempt, what: str) -> M:
    if attempt.state is None:
        raise EngineError(f"send the {what}'s state as 'state'")
    try:
        return model.model_validate(attempt.state)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise EngineError(f"the {what}'s state is not right: {where}: {first['msg']}") from None


def need_answer(attempt: Attempt) -> Any:
    if attempt.answer is None or attempt.answer == "":
        raise EngineError("send your answer as 'answer'")
    return attempt.answer


def playground_config(attempt: Attempt, store: SessionStore) -> dict[str, Any]:
    """The configuration to check: a Playground session's (by id) or the one sent as state."""
    if attempt.session is not None:
        with store.use(attempt.session, NETWORK_KIND) as session:
            return pg.config_from_trainer(session.obj)
    return parse_state(PlaygroundWidgetState, attempt, "Playground").config.model_dump()


def neuron_args(attempt: Attempt) -> NeuronState:
    return parse_state(NeuronState, attempt, "neuron")


def lenet_classify(image: np.ndarray) -> tuple[int, np.ndarray]:
    guarded = lenet_shared.shipped()
    with guarded.lock:
        digits, probabilities = guarded.model.classify(image[None].astype(np.float32))
    return int(digits[0]), probabilities[0].astype(np.float64)


def check_fool_lenet(attempt: Attempt) -> checks.CheckResult:
    state = parse_state(DigitState, attempt, "LeNet")
    digits = lenet_shared.digits()
    index = lessons.FOOL_DIGIT_INDEX
    original = digits.x_test[index, 0].astype(np.float64)
    return checks.fool_lenet(lenet_classify, original, int(digits.y_test[index]), state.image)


def choices(attempt: Attempt) -> dict[str, str]:
    answer = need_answer(attempt)
    if not isinstance(answer, dict):
        raise EngineError("answer each question: send {question key: kind}")
    return answer


def surface_args(attempt: Attempt) -> SurfaceState:
    return parse_state(SurfaceState, attempt, "loss surface")


Check = Callable[[Attempt, SessionStore], checks.CheckResult]

CHECKS: dict[str, Check] = {
    "fire-both-large": lambda a, s: checks.fire_both_large((st := neuron_args(a)).weights, st.bias),
    "saturate-sigmoid": lambda a, s: checks.saturate_sigmoid(
        (st := neuron_args(a)).inputs, st.weights, st.bias, st.activation),
    "dead-relu": lambda a, s: checks.dead_relu((st := neuron_args(a)).inputs, st.weights, st.bias, st.activation),
    "separate-points": lambda a, s: checks.separate_points((st := neuron_args(a)).weights, st.bias),
    "circle-features": lambda a, s: checks.circle_features(playground_config(a, s)),
    "circle-hidden": lambda a, s: checks.circle_hidden(playground_config(a, s)),
    "squared-error": lambda a, s: checks.squared_error(need_answer(a)),
    "confidently-wrong": lambda a, s: checks.confidently_wrong(
        float((st := neuron_args(a)).target), st.prediction),
    "momentum-beats-sgd": lambda a, s: checks.momentum_beats_sgd(
        (st := surface_args(a)).learning_rate, st.momentum, (st.start[0], st.start[1])),
    "sgd-diverges": lambda a, s: checks.sgd_diverges(
        (st := surface_args(a)).learning_rate, (st.start[0], st.start[1])),
    "update-w5": lambda a, s: checks.updated_weight("w5", need_answer(a)),
    "update-w1": lambda a, s: checks.updated_weight("w1", need_answer(a)),
    "three-or-twenty": lambda a, s: checks.which_reaches(need_answer(a)),
    "kinds-of-learning": lambda a, s: checks.kinds_of_learning(choices(a)),
    "feature-map-value": lambda a, s: checks.feature_map_value(need_answer(a)),
    "vertical-edges": lambda a, s: checks.vertical_edges(
        (st := parse_state(KernelState, a, "kernel gallery")).kernel, st.divisor),
    "filter-parameters": lambda a, s: checks.filter_parameters(need_answer(a)),
    "fool-lenet": lambda a, s: check_fool_lenet(a),
    "attention-weight": lambda a, s: checks.attention_weight(need_answer(a)),
}
assert set(CHECKS) == set(lessons.EXERCISES), "every exercise needs its check"


@router.post("/api/lessons/{number}/exercises/{exercise}/check", response_model=CheckResult,
             summary="Check an attempt at an exercise")
def check_exercise(number: int, exercise: str, attempt: Attempt, store: Store) -> dict[str, Any]:
    """The engine measures the attempt (trains the configuration, runs the neuron, convolves with the kernel,
    classifies the digit …) and answers whether it passed, what was right or what to look at, and the
    numbers it measured."""
    lesson = find_lesson(number)
    if exercise not in {e.id for e in lesson.exercises}:
        known = ", ".join(e.id for e in lesson.exercises)
        raise SessionNotFound(f"lesson {number} has no exercise '{exercise}'; its exercises: {known}")
    result = CHECKS[exercise](attempt, store)
    return {"passed": result.passed, "message": result.message, "measured": encode(result.measured)}


# --- lesson 6's loss surface ----------------------------------------------------------------------------


@router.post("/api/loss-surface", response_model=SurfaceResult,
             summary="A loss surface of two weights and the paths of SGD, momentum and Adam over it")
def loss_surface(body: SurfaceRequest, encoding: Enc = "json") -> dict[str, Any]:
    """E(w₁, w₂) = ½·mean((t − w₁x₁ − w₂x₂)²) of one linear neuron on correlated inputs, on a grid, and the
    engine's SGD, momentum and Adam stepping the same neuron from `start` with the same learning rate."""
    grid = surface.surface(body.resolution)
    start = (body.start[0], body.start[1])
    paths = [surface.optimizer_path(name, start, body.learning_rate, body.steps, body.momentum)
             for name in surface.OPTIMIZERS]
    return {
        "w1": grid.w1.tolist(), "w2": grid.w2.tolist(), "loss": encode(grid.loss, encoding),
        "minimum": list(grid.minimum), "min_loss": grid.min_loss, "curvatures": list(grid.curvatures),
        "paths": [{"optimizer": p.optimizer, "points": encode(p.points), "losses": encode(p.losses),
                   "diverged": p.diverged, "steps_to_minimum": p.steps_to_minimum} for p in paths],
    }


# --- the widgets' markup: the tool pages' own blocks -----------------------------------------------------

NEURON_PARTS = {"analogy": "neuron_analogy", "knobs": "neuron_knobs", "activation": "neuron_activation",
                "plane": "neuron_plane", "losses": "neuron_losses"}
WIDGET_BLOCKS: dict[str, list[tuple[str, str]]] = {
    "playground": [("playground.html", "playground_widget"), ("playground.html", "playground_popovers")],
    "sliding-window": [("convolution.html", "conv_sliding")],
    "kernel-gallery": [("convolution.html", "conv_gallery")],
    "param-calc": [("convolution.html", "conv_params")],
    "backprop": [("backprop.html", "backprop_widget")],
    "lenet": [("lenet.html", "lenet_stage")],
    "attention": [("attention.html", "attention_widget")],
    "autoencoder": [("autoencoder.html", "autoencoder_widget")],
    "surface": [("learn/surface.html", "surface_widget")],
}
# What a component needs beyond its markup, shown folded: the LeNet component also drives its unit detail,
# filters, mistakes and training panel.
WIDGET_MORE: dict[str, tuple[str, str, str]] = {
    "lenet": ("lenet.html", "lenet_more", "More of LeNet: any unit's arithmetic, the filters, the mistakes, training"),
}
WIDGET_CSS = {"neuron": "neuron", "playground": "playground", "sliding-window": "convolution",
              "kernel-gallery": "convolution", "param-calc": "convolution", "backprop": "backprop", "lenet": "lenet",
              "attention": "attention", "autoencoder": "autoencoder", "surface": "course"}


def widget_markup(kind: str, parts: list[str]) -> Markup:
    """The markup a widget mounts on: the blocks of its tool page's template (the page's own elements)."""
    if kind == "neuron":
        banner = Markup('<p class="error-banner" id="error" data-testid="error" role="alert"></p>')
        return banner + Markup("").join(tool_block("neuron.html", NEURON_PARTS[p]) for p in parts)
    html = Markup("").join(tool_block(template, block) for template, block in WIDGET_BLOCKS[kind])
    if kind in WIDGET_MORE:
        template, block, summary = WIDGET_MORE[kind]
        html += Markup('<details class="widget-more"><summary>{}</summary>{}</details>').format(
            summary, tool_block(template, block))
    return html


def widget_stylesheets(lesson: dict[str, Any]) -> list[str]:
    sheets = {WIDGET_CSS[w["kind"]] for w in lesson["widgets"]}
    return [f"/static/css/{name}.css" for name in sorted(sheets)]


templates.env.globals["widget_markup"] = widget_markup
