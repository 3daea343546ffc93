"""Turn engine and validation errors into clear 4xx JSON responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from engine.core.errors import EngineError, SizeLimitError
from engine.core.training import DivergedError

from .store import ReadOnlySession, SessionBusy, SessionExpired, SessionNotFound


def too_large(what: str, got: int | float, limit: int | float, setting: str) -> SizeLimitError:
    """A 413 that names the setting which raises the limit."""
    return SizeLimitError(f"{what} is {got:g}, over the limit of {limit:g} (setting GLASSBOX_{setting.upper()})")


# Most specific first: DivergedError and SizeLimitError are EngineErrors too.
STATUS_OF: dict[type[Exception], int] = {
    SessionExpired: 410,
    SessionNotFound: 404,
    ReadOnlySession: 403,
    SessionBusy: 409,
    SizeLimitError: 413,
    DivergedError: 409,
    EngineError: 422,
}


def status_of(exc: Exception) -> int:
    """The HTTP status an error answers with (a live stream's error messages carry it too)."""
    return next((code for cls, code in STATUS_OF.items() if isinstance(exc, cls)), 500)


def describe_errors(errors: list) -> str:
    """Pydantic validation errors as one sentence per error (the first five): what a 422 says."""
    return "; ".join(_describe(e) for e in errors[:5])


def _describe(err: dict) -> str:
    if err.get("type") == "json_invalid":
        reason = (err.get("ctx") or {}).get("error", "malformed JSON")
        pos = err.get("loc", ("body", "?"))[-1]
        return f"the request body is not valid JSON ({reason} at character {pos}); send a JSON object"
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    msg = err.get("msg", "invalid value")
    return f"{where}: {msg}" if where else msg


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        detail = describe_errors(list(errors))
        return JSONResponse(status_code=422, content={"detail": detail, "errors": _jsonable(errors)})

    async def detail_only(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=status_of(exc), content={"detail": str(exc)})

    for exc_class in STATUS_OF:
        app.add_exception_handler(exc_class, detail_only)


def _jsonable(errors: list) -> list:
    out = []
    for e in errors:
        e = {k: v for k, v in e.items() if k in ("loc", "msg", "type")}
        e["loc"] = [str(p) for p in e.get("loc", ())]
        out.append(e)
    return out
