"""Classrooms: a teacher opens a room from any page ("Teach this"), students join it with a short code and follow
the teacher's page live, take a copy of their own, and the teacher sees the room's progress (app/rooms.py)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.core.errors import EngineError

from ..live import SESSION_EXPIRED, SESSION_GONE, reject
from ..pages import discovered_pages, render
from ..rooms import CHECKS, Follower, RoomClosed, RoomNotFound, Rooms, normalize_code
from ..schemas.rooms import (
    AskCheckpoint,
    CheckInfo,
    CreatedRoom,
    CreateRoom,
    Joined,
    JoinRoom,
    RoomFork,
    RoomState,
    Spotlight,
    Spotlit,
    UpdateMe,
    UpdateRoom,
)

router = APIRouter(tags=["rooms"])

FORBIDDEN_CLOSE = 4403  # WebSocket close code: no room token, or not one of this room's

Token = Annotated[str | None, Header(alias="X-Room-Token", description="The teacher's or a student's room token")]


def rooms_of(request: Request) -> Rooms:
    return request.app.state.rooms


def _check_page(page: str) -> None:
    paths = {"/"} | {p["path"] for p in discovered_pages()}
    if page not in paths:
        raise EngineError(f"page '{page}' is not one of this site's pages: {', '.join(sorted(paths))}")


def _session_pair(body: CreateRoom) -> None:
    _check_page(body.page)
    if (body.session is None) != (body.kind is None):
        raise EngineError("give both 'session' and its 'kind', or neither (a page without a session)")


@router.post("/api/rooms", response_model=CreatedRoom, status_code=201, summary="Open a room (Teach this)")
def create_room(body: CreateRoom, request: Request) -> dict[str, Any]:
    """A room follows the teacher's `session` on `page`: students who join see what the teacher's page shows,
    live. Keep `teacher_token`: it is the only way to drive the room. The room closes after GLASSBOX_ROOM_HOURS
    (4) hours."""
    _session_pair(body)
    code, token, expires = rooms_of(request).create(body.page, body.session, body.kind, body.view)
    return {"code": code, "teacher_token": token, "join_url": f"/join?code={code}", "expires": expires}


@router.get("/api/rooms/checks", response_model=list[CheckInfo], summary="The checkpoints a teacher may ask")
def list_checks() -> list[dict[str, Any]]:
    return [{"check": name, "description": check.description.replace("{value:g}", "X").replace("{value:.0%}", "X")}
            for name, check in sorted(CHECKS.items())]


@router.get("/api/rooms/{code}", response_model=RoomState, summary="A room's state (the roster: teacher only)")
def get_room(code: str, request: Request, x_room_token: Token = None) -> dict[str, Any]:
    """Anyone with the code sees the page, the snapshot to draw from and how many joined; the teacher's token adds
    the roster (names, following or exploring, each copy's latest metrics, who passed the checkpoint), a
    student's token adds their own entry. A revoked or expired room answers 410."""
    return rooms_of(request).state(code, x_room_token)


@router.put("/api/rooms/{code}", response_model=RoomState, summary="Teach another page or session (teacher)")
def update_room(code: str, body: UpdateRoom, request: Request, x_room_token: Token = None) -> dict[str, Any]:
    _session_pair(body)
    rooms = rooms_of(request)
    room = rooms.load(code)
    rooms.as_teacher(room, x_room_token)
    rooms.teach(room["code"], body.page, body.session, body.kind, body.view)
    return rooms.state(code, x_room_token)


@router.delete("/api/rooms/{code}", status_code=204, summary="Close a room: the code stops working (teacher)")
def revoke_room(code: str, request: Request, x_room_token: Token = None) -> Response:
    rooms = rooms_of(request)
    rooms.as_teacher(rooms.load(code), x_room_token)
    rooms.revoke(code)
    return Response(status_code=204)


@router.post("/api/rooms/{code}/join", response_model=Joined, status_code=201, summary="Join a room with its code")
def join_room(code: str, body: JoinRoom, request: Request) -> dict[str, Any]:
    """Join with a display name (unique in the room, 409 if taken). Keep `student_token`. Join attempts are
    limited per address (GLASSBOX_ROOM_JOINS_PER_MINUTE, 429 with Retry-After)."""
    rooms = rooms_of(request)
    rooms.allow_join(request.client.host if request.client else "unknown")
    sid, token, room = rooms.join(code, body.name)
    return {"code": room["code"], "student_token": token, "name": room["students"][sid]["name"],
            "page": room["page"]}


@router.patch("/api/rooms/{code}/me", response_model=RoomState, summary="Follow again, or set consent (student)")
def update_me(code: str, body: UpdateMe, request: Request, x_room_token: Token = None) -> dict[str, Any]:
    rooms = rooms_of(request)
    sid = rooms.as_student(rooms.load(code), x_room_token)
    rooms.set_me(code, sid, body.mode, body.consent)
    return rooms.state(code, x_room_token)


@router.post("/api/rooms/{code}/fork", response_model=RoomFork, status_code=201,
             summary="Take a copy of the teacher's session (student)")
def fork_room(code: str, request: Request, x_room_token: Token = None) -> dict[str, Any]:
    """A session of the student's own, copied from the teacher's session as it is now: train it, change it; the
    teacher's session is untouched. The student shows as exploring until they follow again."""
    rooms = rooms_of(request)
    room = rooms.load(code)
    sid = rooms.as_student(room, x_room_token)
    session, kind, room = rooms.fork(code, sid)
    return {"session": session, "kind": kind, "page": room["page"], "view": room.get("view", {})}


@router.post("/api/rooms/{code}/checkpoint", response_model=RoomState, summary="Ask everyone a checkpoint (teacher)")
def ask_checkpoint(code: str, body: AskCheckpoint, request: Request, x_room_token: Token = None) -> dict[str, Any]:
    """Students see the question; the roster shows who passed, judged on each copy's latest metrics (computed by
    the engine). GET /api/rooms/checks lists the checks."""
    rooms = rooms_of(request)
    rooms.as_teacher(rooms.load(code), x_room_token)
    rooms.ask(code, body.check, body.value)
    return rooms.state(code, x_room_token)


@router.post("/api/rooms/{code}/spotlight", response_model=Spotlit, summary="A student's copy on the big screen")
def spotlight(code: str, body: Spotlight, request: Request, x_room_token: Token = None) -> dict[str, Any]:
    """A read-only snapshot of the student's copy as it is now, if the student allowed it (403 otherwise)."""
    rooms = rooms_of(request)
    rooms.as_teacher(rooms.load(code), x_room_token)
    share, kind = rooms.spotlight(code, body.name)
    room = rooms.load(code)
    name = next(s["name"] for s in room["students"].values() if s["name"].casefold() == body.name.casefold())
    return {"name": name, "share": share, "url": f"/s/{share}", "kind": kind}


@router.get("/api/rooms/{code}/qr", response_class=Response, summary="The join link as a QR code (SVG)",
            responses={200: {"content": {"image/svg+xml": {}}, "description": "An SVG image"}})
def join_qr(code: str, request: Request) -> Response:
    """Drawn on the server (no external service): the absolute join link for phones to scan."""
    room = rooms_of(request).load(code)
    url = f"{str(request.base_url).rstrip('/')}/join?code={room['code']}"
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, dark="#1b2433", light="#ffffff", border=2,
                                    xmldecl=False, title=f"Join room {room['code']}")
    return Response(out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/join", include_in_schema=False)
def join_page(request: Request) -> HTMLResponse:
    return render(request, "join.html", title="Join a class")


async def _admit(websocket: WebSocket, rooms: Rooms, code: str, token: str | None) -> Follower | None:
    """The follower for the token, accepted; None when refused (unknown or closed room, no token of its)."""
    try:
        room = await run_in_threadpool(rooms.load, code)
    except RoomClosed as exc:
        await reject(websocket, str(exc), SESSION_EXPIRED)
        return None
    except RoomNotFound as exc:
        await reject(websocket, str(exc), SESSION_GONE)
        return None
    role, sid = rooms.role(room, token)
    if role == "guest":
        await reject(websocket, "send your room token (?room_token=…): join the room first", FORBIDDEN_CLOSE)
        return None
    await websocket.accept()
    follower = Follower(role, sid)
    follower.put({"type": "room", "role": role, "code": room["code"], "expires": room["expires"],
                  "checkpoint": room.get("checkpoint")})
    for message in rooms.attach(room["code"], follower, room):
        if isinstance(message, dict) and message.get("type") == "session":
            follower.put(message)
        elif isinstance(message, dict):
            follower.put_frame(message, None)
    return follower


async def _send(websocket: WebSocket, follower: Follower) -> None:
    while True:
        text = await follower.next()
        await websocket.send_text(text)
        if text.startswith('{"type": "closed"'):
            await websocket.close(code=SESSION_EXPIRED, reason="the room closed")
            return


async def _handle(rooms: Rooms, code: str, follower: Follower, text: str | None) -> None:
    """One message from a follower: the teacher's view state (students only ping)."""
    try:
        message = json.loads(text or "null")
    except json.JSONDecodeError:
        message = None
    if not isinstance(message, dict):
        follower.put({"type": "error", "detail": "messages are JSON objects with a 'type'"})
    elif message.get("type") == "view" and follower.role == "teacher":
        page, view = message.get("page"), message.get("view")
        if not isinstance(page, str) or not isinstance(view, dict):
            follower.put({"type": "error", "detail": "a view message has 'page' (a path) and 'view' (an object)"})
            return
        try:
            await run_in_threadpool(rooms.set_view, code, page, view)
        except EngineError as exc:
            follower.put({"type": "error", "detail": str(exc)})
    elif message.get("type") != "ping":
        follower.put({"type": "error", "detail": "send {\"type\": \"view\", …} (teacher) or ping"})


@router.websocket("/ws/rooms/{code}")
async def follow(websocket: WebSocket, code: str,
                 room_token: Annotated[str | None, Query(description="The room token")] = None) -> None:
    """A room's live channel. A student receives `{"type": "room"}` (who they are), `{"type": "session", page,
    kind, share, view}` (draw from this read-only snapshot: the teacher's page or network changed), the teacher's
    frames (`{"type": "frame", …}` exactly as the teacher's live stream sends them, built once for the whole
    room; a history delta `{from, entries}`), `{"type": "view", page, view}` (what the teacher's page shows) and
    `{"type": "roster"}` (the checkpoint changed). The teacher receives `room` and `roster` events and may send
    `{"type": "view", "page": …, "view": {…}}`. A closed room ends with close code 4410."""
    rooms: Rooms = websocket.app.state.rooms
    code = normalize_code(code)
    follower = await _admit(websocket, rooms, code, room_token)
    if follower is None:
        return
    sender = asyncio.create_task(_send(websocket, follower))
    try:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                break
            await _handle(rooms, code, follower, received.get("text"))
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        rooms.detach(code, follower)
