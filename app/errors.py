"""Turn engine and validation errors into clear 4xx JSON responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from engine.errors import EngineError, SizeLimitError
from engine.trainer import DivergedError

from .store import SessionNotFound


class TooLarge(Exception):
    """A request over a configured size limit (413)."""


def too_large(what: str, got: int | float, limit: int | float, setting: str) -> TooLarge:
    return TooLarge(f"{what} is {got:g}, over the limit of {limit:g} (setting GLASSBOX_{setting.upper()})")


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
        detail = "; ".join(_describe(e) for e in errors[:5])
        return JSONResponse(status_code=422, content={"detail": detail, "errors": _jsonable(errors)})

    @app.exception_handler(SessionNotFound)
    async def not_found(_: Request, exc: SessionNotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(SizeLimitError)
    async def engine_too_large(_: Request, exc: SizeLimitError) -> JSONResponse:
        return JSONResponse(status_code=413, content={"detail": str(exc)})

    @app.exception_handler(TooLarge)
    async def too_large_handler(_: Request, exc: TooLarge) -> JSONResponse:
        return JSONResponse(status_code=413, content={"detail": str(exc)})

    @app.exception_handler(DivergedError)
    async def diverged(_: Request, exc: DivergedError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(EngineError)
    async def engine_error(_: Request, exc: EngineError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})


def _jsonable(errors: list) -> list:
    out = []
    for e in errors:
        e = {k: v for k, v in e.items() if k in ("loc", "msg", "type")}
        e["loc"] = [str(p) for p in e.get("loc", ())]
        out.append(e)
    return out
