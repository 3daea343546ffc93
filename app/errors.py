"""Turn engine and validation errors into clear 4xx JSON responses, and document them in OpenAPI as sent.

Every error body is `{"detail": "<what went wrong and how to fix it>"}`; a 422 from request validation adds
`errors`, one `{loc, msg, type}` per problem (at most 20). The OpenAPI document describes exactly these shapes
(`Problem`, `ValidationProblem`) on every operation, with the status codes the operation can answer.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from engine.core.errors import EngineError, SizeLimitError
from engine.core.training import DivergedError

from .store import MemoryBudgetExceeded, ReadOnlySession, SessionBusy, SessionExpired, SessionNotFound
from .work import TooManyJobs

MAX_LISTED_ERRORS = 20


def too_large(what: str, got: int | float, limit: int | float, setting: str) -> SizeLimitError:
    """A 413 that names the setting which raises the limit."""
    return SizeLimitError(f"{what} is {got:g}, over the limit of {limit:g} (setting GLASSBOX_{setting.upper()})")


class Unsupported(EngineError):
    """A body in a content type the operation does not take (415)."""


# Most specific first: DivergedError and SizeLimitError are EngineErrors too.
STATUS_OF: dict[type[Exception], int] = {
    SessionExpired: 410,
    SessionNotFound: 404,
    ReadOnlySession: 403,
    SessionBusy: 409,
    MemoryBudgetExceeded: 413,
    TooManyJobs: 429,
    SizeLimitError: 413,
    DivergedError: 409,
    Unsupported: 415,
    EngineError: 422,
}


def status_of(exc: Exception) -> int:
    """The HTTP status an error answers with (a live stream's error messages carry it too)."""
    return next((code for cls, code in STATUS_OF.items() if isinstance(exc, cls)), 500)


class ErrorItem(BaseModel):
    loc: list[str] = Field(description="Where: 'body', then the field path; or 'query' / 'path' and the name")
    msg: str = Field(description="What is wrong there")
    type: str = Field(description="pydantic's error type, e.g. missing, int_parsing, json_invalid")


class Problem(BaseModel):
    detail: str = Field(description="What went wrong and how to fix it")


class ValidationProblem(BaseModel):
    detail: str = Field(description="The problems in one sentence each (the first five), saying what to fix")
    errors: list[ErrorItem] = Field(description="Every problem (at most 20) with its location; empty when the "
                                                "engine refused the values as a whole (the detail says why)")


def _describe(err: dict) -> str:
    if err.get("type") == "json_invalid":
        reason = (err.get("ctx") or {}).get("error", "malformed JSON")
        pos = err.get("loc", ("body", "?"))[-1]
        return f"the request body is not valid JSON ({reason} at character {pos}); send a JSON object"
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def describe_errors(errors: list) -> str:
    """Pydantic validation errors as one sentence per error (the first five): what a 422 says."""
    return "; ".join(_describe(e) for e in errors[:5]) or "invalid request"


def validation_body(errors: list) -> dict[str, Any]:
    return {"detail": describe_errors(errors), "errors": _jsonable(errors[:MAX_LISTED_ERRORS])}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content=validation_body(list(exc.errors())))

    async def detail_only(_: Request, exc: Exception) -> JSONResponse:
        status = status_of(exc)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyJobs) else None
        content: dict[str, Any] = {"detail": str(exc)}
        if status == 422:
            content["errors"] = []  # the engine refused the values as a whole: the detail says which and why
        return JSONResponse(status_code=status, content=content, headers=headers)

    for exc_class in STATUS_OF:
        app.add_exception_handler(exc_class, detail_only)


def _jsonable(errors: list) -> list:
    out = []
    for e in errors:
        e = {k: v for k, v in e.items() if k in ("loc", "msg", "type")}
        e["loc"] = [str(p) for p in e.get("loc", ())]
        e.setdefault("msg", "invalid value")
        e.setdefault("type", "value_error")
        out.append(e)
    return out


# --- OpenAPI: the errors each operation can answer ----------------------------------------------------------

ERROR_TEXT = {
    401: "GLASSBOX_TOKEN is set and the request did not carry it (Authorization: Bearer, ?token= or the page's "
         "cookie)",
    403: "The id is a share's: it opens a snapshot for reading only; fork it to change it",
    404: "Unknown session (or named item)",
    410: "The session expired: the store removed it after its retention period; the message says when",
    409: "The session is busy with another request, or its training diverged (only a reset helps)",
    413: "Over a limit: the body's size, a size, the memory or work budget; the message names the setting",
    415: "The body's Content-Type is not one this operation takes",
    422: "Invalid request: the message says what to fix",
    429: "Every training slot is taken (training), or too many room joins from this address (join); retry after "
         "the seconds in Retry-After",
}
SESSION_PARAMS = re.compile(r"\{[^}]+\}")  # any path parameter names something that may not exist
TRAINING_PATH = re.compile(r"/(train|step)$")


def error_codes(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The 4xx an operation can answer, from what it takes: every API operation can be over a limit (413) or
    refused without the token (401); one with parameters or a body can be invalid (422), one with a body in the
    wrong type (415); one on a session can find it unknown (404) or busy (409); training can find every slot
    taken (429)."""
    codes = [401, 413]
    takes_session = bool(SESSION_PARAMS.search(path)) or any(
        p.get("name") == "session" for p in operation.get("parameters", []))
    body = operation.get("requestBody")
    if operation.get("parameters") or body:
        codes.append(422)
    if body:
        codes.append(415)
        if any(prop == "session" for content in body.get("content", {}).values()
               for prop in _properties(content.get("schema", {}), operation)):
            takes_session = True
    if takes_session:
        codes += [403, 404, 409, 410]
    if TRAINING_PATH.search(path) and method == "post":
        codes += [409, 429]
    if path.endswith("/join") and method == "post":
        codes.append(429)
    return sorted(set(codes))


_components: dict[str, Any] = {}


def _properties(schema: dict[str, Any], _: dict[str, Any]) -> list[str]:
    ref = schema.get("$ref")
    if ref:
        schema = _components.get(ref.rsplit("/", 1)[-1], {})
    return list(schema.get("properties", {}))


def install_openapi(app: FastAPI) -> None:
    """Replace FastAPI's generated 422 (`detail` as an array) by the body the server sends, and document the
    other error codes on every operation that can answer them."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorItem, Problem, ValidationProblem):
            components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        _components.clear()
        _components.update(components)
        for path, item in schema.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for method, operation in item.items():
                responses = operation.setdefault("responses", {})
                for code in error_codes(path, method, operation):
                    name = "ValidationProblem" if code == 422 else "Problem"
                    response: dict[str, Any] = {
                        "description": ERROR_TEXT[code],
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
                    if code == 429:
                        response["headers"] = {"Retry-After": {"description": "Seconds to wait",
                                                               "schema": {"type": "integer"}}}
                    responses[str(code)] = response
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
