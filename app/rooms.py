"""Classrooms: a teacher's live session followed by a room of students, who may take a copy of their own.

A room is a record in the session store's backend (`room:{code}`, so it survives restarts and every worker sees
it): the code, a hash of the teacher's token, the teacher's session, page and view, the students (name, a hash of
their token, following or exploring, their copy, their consent to the big screen) and the current checkpoint.
Changes go through the backend's cross-process lock and are announced on the room's channel.

Follow frames are built ONCE per teacher frame: the teacher's live stream (app/live.py) hands every frame it
builds to this module's tap, which publishes it on the room's channel (`backend.publish`: in-process with the
embedded store, Redis pub/sub across workers) with a history delta of the room's own, plus a read-only snapshot
(a share) of the teacher's session whenever its structure changes (students draw from the snapshot; they never
get the teacher's session id, so they cannot change it). Each worker keeps a hub per room with followers here:
it serialises the frame once and hands the same text to every follower's one-slot mailbox (a slow follower drops
frames, never queues them; history entries of a dropped frame are merged into the next). A follower that comes
later gets the latest frame with the room's whole history (a keyframe); a hub that missed history asks the
teacher's worker for a keyframe.

A student's copy is a session of their own (a fork of the teacher's); its live stream reports its metrics to the
room (at most once a second) for the teacher's roster, and checkpoints are judged on them (`CHECKS`, pluggable).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import EngineError, SizeLimitError
from engine.core.training import TrainerState

from .live import HistoryFeed, LiveStream, merge_history
from .storage import Record
from .storage.sqlite_backend import LocalCoordination
from .store import Codec, ReadOnlySession, SessionBusy, SessionExpired, SessionNotFound, SessionStore, register_codec
from .work import TooManyJobs

log = logging.getLogger("glassbox.rooms")

ROOM = "room"  # the record type and kind of a room
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a projector and typed without doubt
CODE_LENGTH = 6
MAX_NAME = 40
MAX_VIEW_BYTES = 64 * 1024
EMPTY_STATE = TrainerState(ROOM, {}, {}).to_bytes()
METRICS_EVERY = 1.0  # seconds between a student copy's metrics reports
KEYFRAME_EVERY = 1.0  # seconds between a hub's keyframe requests

# A room record read as a session (e.g. a guessed share id) is an empty object, never a trainer.
register_codec(ROOM, Codec(dump=lambda _: TrainerState(ROOM, {}, {}), build=lambda _: None,
                           load_into=lambda _obj, _state: None))


class RoomNotFound(SessionNotFound):
    """404: no room with this code."""


class RoomClosed(SessionExpired):
    """410: the teacher closed the room, or its hours are over."""


class RoomForbidden(ReadOnlySession):
    """403: the token does not allow this (only the teacher drives a room; only a student takes a copy)."""


class RoomNameTaken(SessionBusy):
    """409: a display name already in the room."""


def normalize_code(code: str) -> str:
    return code.strip().upper().replace("-", "").replace(" ", "")


def clean_name(name: str) -> str:
    """A display name as kept: stripped, 1–40 characters, no control characters (shown as text everywhere)."""
    name = " ".join(name.split())
    if not name:
        raise EngineError("name: type a display name (1–40 characters)")
    if len(name) > MAX_NAME:
        raise EngineError(f"name: at most {MAX_NAME} characters, got {len(name)}")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise EngineError("name: no control characters")
    return name


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _matches(token: str | None, digest: str) -> bool:
    return token is not None and hmac.compare_digest(_hash(token), digest)


# --- checkpoints: a check judged on a student copy's metrics --------------------------------------------------


@dataclass(frozen=True)
class Check:
    description: str  # with {value}
    passed: Callable[[dict[str, Any], float], bool]


def _below(key: str) -> Callable[[dict[str, Any], float], bool]:
    return lambda m, v: m.get(key) is not None and float(m[key]) < v


def _above(key: str) -> Callable[[dict[str, Any], float], bool]:
    return lambda m, v: m.get(key) is not None and float(m[key]) > v


CHECKS: dict[str, Check] = {
    "test_loss_below": Check("reach a test loss below {value:g} in your copy", _below("test_loss")),
    "train_loss_below": Check("reach a training loss below {value:g} in your copy", _below("train_loss")),
    "test_accuracy_above": Check("reach a test accuracy above {value:.0%} in your copy", _above("test_accuracy")),
}


def register_check(name: str, check: Check) -> None:
    """Another kind of checkpoint (e.g. a lesson's exercise), judged on a student copy's latest metrics."""
    CHECKS[name] = check


# --- rooms without a backend (GLASSBOX_STORE=memory) ---------------------------------------------------------


class MemoryRecords(LocalCoordination):
    """Room records in this process's memory: the store keeps none (GLASSBOX_STORE=memory)."""

    shared = False

    def __init__(self) -> None:
        super().__init__()
        self._records: dict[str, Record] = {}

    def load(self, record_id: str) -> Record | None:
        with self._guard:
            record = self._records.get(record_id)
            return None if record is None else Record(**{**record.__dict__, "extra": json.loads(
                json.dumps(record.extra))})

    def save(self, record: Record) -> bool:
        with self._guard:
            current = self._records.get(record.id)
            if current is not None and current.version >= record.version:
                return False
            self._records[record.id] = record
            return True


# --- followers on this worker ---------------------------------------------------------------------------------


class Follower:
    """One WebSocket in a room: a one-slot frame mailbox (the latest frame replaces an unsent one) and a queue of
    other messages (session changes, roster events), which are never dropped."""

    def __init__(self, role: str, student: str | None) -> None:
        self.role, self.student = role, student
        self.frame: tuple[dict[str, Any], str | None] | None = None
        self.messages: list[str] = []
        self.ready = asyncio.Event()
        self.dropped = 0
        self.sent = 0

    def put_frame(self, frame: dict[str, Any], text: str | None) -> None:
        if self.frame is not None:
            self.dropped += 1
            frame, text = merge_history(self.frame[0], {**frame}), None  # this follower's own text now
        self.frame = (frame, text)
        self.ready.set()

    def put(self, message: dict[str, Any]) -> None:
        self.messages.append(json.dumps(message))
        self.ready.set()

    async def next(self) -> str:
        await self.ready.wait()
        if self.messages:
            text = self.messages.pop(0)
        else:
            assert self.frame is not None
            (frame, cached), self.frame = self.frame, None
            text = cached if cached is not None else json.dumps(frame)
            self.sent += 1
        if not self.messages and self.frame is None:
            self.ready.clear()
        return text


@dataclass
class Hub:
    """A room's followers on this worker and what a newcomer needs: the latest frame and the whole history."""

    code: str
    session: str | None = None
    share: str | None = None
    page: str = "/"
    kind: str | None = None
    view: dict[str, Any] = field(default_factory=dict)
    followers: set[Follower] = field(default_factory=set)
    latest: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    synced: bool = False  # history complete from the start
    asked: float = 0.0  # last keyframe request
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Publisher:
    """The teacher's side on the worker that streams the teacher's session: the room's own history feed, the
    current snapshot for followers, and the stream to ask for a keyframe."""

    session: str
    feed: HistoryFeed | None
    stream: LiveStream
    share: str | None = None
    shape: tuple[Any, ...] | None = None


class Rooms:
    def __init__(self, store: SessionStore, *, hours: float, joins_per_minute: int, max_students: int) -> None:
        self.store = store
        self.backend: Any = store.backend if store.backend is not None else MemoryRecords()
        self.seconds = hours * 3600
        self.joins_per_minute = joins_per_minute
        self.max_students = max_students
        self.loop: asyncio.AbstractEventLoop | None = None
        self._joins: dict[str, deque[float]] = {}
        self._joins_lock = threading.Lock()
        self._hubs: dict[str, Hub] = {}
        self._publishers: dict[str, Publisher] = {}
        self._metrics: dict[str, dict[str, dict[str, Any]]] = {}  # code → student → latest copy metrics
        self._reported: dict[str, float] = {}  # copy session → when its metrics were last published
        self._lock = threading.Lock()
        self.backend.listen(self._on_message)

    # --- records --------------------------------------------------------------------------------------------

    @staticmethod
    def _rid(code: str) -> str:
        return f"{ROOM}:{code}"

    def load(self, code: str) -> dict[str, Any]:
        """The room's data; RoomNotFound, or RoomClosed when revoked or past its hours."""
        return self._open(code)[1]

    def _open(self, code: str, closing: bool = False) -> tuple[Record, dict[str, Any]]:
        code = normalize_code(code)
        record = self.backend.load(self._rid(code)) if len(code) == CODE_LENGTH else None
        if record is None or record.type != ROOM:
            raise RoomNotFound(f"no room '{code}': check the code the teacher shows (six letters and digits)")
        room: dict[str, Any] = record.extra
        if closing:
            return record, room
        if room.get("revoked"):
            raise RoomClosed(f"room '{code}' was closed by the teacher")
        if time.time() > room["expires"]:
            raise RoomClosed(f"room '{code}' closed at the end of its {self.seconds / 3600:g} hours "
                             "(GLASSBOX_ROOM_HOURS); the teacher can open a new one")
        return record, room

    def _update(self, code: str, change: Callable[[dict[str, Any]], Any], *, closing: bool = False) -> Any:
        """Change the room under its cross-process lock, write it, announce it on the room's channel."""
        code = normalize_code(code)
        with self.backend.lock(self._rid(code), 10.0):
            record, room = self._open(code, closing)
            result = change(room)
            now = time.time()
            self.backend.save(Record(record.id, ROOM, ROOM, EMPTY_STATE, record.version + 1, None, record.created,
                                     now, room))
        self.backend.publish(self._rid(code), {"type": "room-changed"})
        return result

    def role(self, room: dict[str, Any], token: str | None) -> tuple[str, str | None]:
        """("teacher", None), ("student", id) or ("guest", None) for the token."""
        if _matches(token, room["teacher"]):
            return "teacher", None
        for sid, student in room["students"].items():
            if _matches(token, student["token"]):
                return "student", sid
        return "guest", None

    def as_teacher(self, room: dict[str, Any], token: str | None) -> None:
        if self.role(room, token)[0] != "teacher":
            raise RoomForbidden("only the teacher drives the room: send the teacher token (X-Room-Token) that "
                                "POST /api/rooms returned")

    def as_student(self, room: dict[str, Any], token: str | None) -> str:
        role, sid = self.role(room, token)
        if sid is None:
            raise RoomForbidden("send your student token (X-Room-Token) that POST /api/rooms/{code}/join "
                                "returned")
        return sid

    # --- the teacher ----------------------------------------------------------------------------------------

    def create(self, page: str, session: str | None, kind: str | None, view: dict[str, Any]) -> tuple[str, str,
                                                                                                        float]:
        """A new room on `page` following `session`: (code, teacher token, expiry)."""
        _check_view(view)
        token = secrets.token_urlsafe(24)
        now = time.time()
        room = {"created": now, "expires": now + self.seconds, "revoked": False, "teacher": _hash(token),
                "page": page, "session": None, "kind": None, "share": None, "view": view, "students": {},
                "checkpoint": None, "checkpoints": 0}
        for _ in range(50):
            code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
            room["code"] = code
            # Version 1 is written only if no record has the id yet: a code in use is never taken over.
            if self.backend.save(Record(self._rid(code), ROOM, ROOM, EMPTY_STATE, 1, None, now, now, room)):
                break
        else:  # pragma: no cover - 887 million codes
            raise EngineError("could not find a free room code; try again")
        if session is not None and kind is not None:
            self.teach(code, page, session, kind, view)
        return code, token, now + self.seconds

    def teach(self, code: str, page: str, session: str | None, kind: str | None, view: dict[str, Any]) -> None:
        """The room follows `session` on `page` now: mark the session (its live stream publishes to the room),
        take a read-only snapshot for followers to draw from."""
        _check_view(view)
        share = None
        if session is not None and kind is not None:
            marker = {"code": code, "session": session, "role": "teacher", "page": page}
            with self.store.use(session, kind) as s:
                s.extra["room"] = marker
                share = self.store.share(s, {"room": None, "page": page, "view": {}, "shared_kind": kind}).id

        def change(room: dict[str, Any]) -> None:
            room.update(page=page, session=session, kind=kind if session else None, share=share, view=view)

        self._update(code, change)

    def set_view(self, code: str, page: str, view: dict[str, Any]) -> None:
        """The teacher's page shows something else (a stage, a window, a drawing): tell the followers now,
        keep it in the record for those who come later."""
        _check_view(view)
        self.backend.publish(self._rid(code), {"type": "room-view", "page": page, "view": view})

        self._quietly(code, lambda room: room.update(view=view))

    def revoke(self, code: str) -> None:
        room = self.load(code)
        session, kind = room.get("session"), room.get("kind")

        def change(r: dict[str, Any]) -> None:
            r["revoked"] = True

        self._update(code, change, closing=True)
        if session and kind:  # its stream stops publishing
            try:
                with self.store.use(session, kind) as s:
                    if (s.extra.get("room") or {}).get("code") == room["code"]:
                        s.extra.pop("room", None)
            except (SessionNotFound, EngineError):
                pass

    def ask(self, code: str, check: str, value: float) -> None:
        if check not in CHECKS:
            raise EngineError(f"unknown check '{check}'; use {', '.join(sorted(CHECKS))}")

        def change(room: dict[str, Any]) -> None:
            room["checkpoints"] = room.get("checkpoints", 0) + 1
            room["checkpoint"] = {"id": room["checkpoints"], "check": check, "value": value,
                                  "title": CHECKS[check].description.format(value=value), "started": time.time()}

        self._update(code, change)

    # --- students -------------------------------------------------------------------------------------------

    def allow_join(self, address: str) -> None:
        """At most `joins_per_minute` join attempts per address (429 with Retry-After beyond): a class behind
        one address joins within a minute; guessing codes does not get far."""
        now = time.monotonic()
        with self._joins_lock:
            times = self._joins.setdefault(address, deque())
            while times and now - times[0] > 60:
                times.popleft()
            if len(times) >= self.joins_per_minute:
                wait = max(1, int(60 - (now - times[0])) + 1)
                raise TooManyJobs(f"too many joins from this address ({self.joins_per_minute} a minute, setting "
                                  f"GLASSBOX_ROOM_JOINS_PER_MINUTE); try again in {wait} s", wait)
            times.append(now)
            if len(self._joins) > 10_000:  # forget the quiet ones
                for key in [k for k, v in self._joins.items() if not v or now - v[-1] > 60]:
                    del self._joins[key]

    def join(self, code: str, name: str) -> tuple[str, str, dict[str, Any]]:
        """(student id, student token, room) for a new student named `name`."""
        name = clean_name(name)
        token = secrets.token_urlsafe(24)
        sid = secrets.token_hex(6)

        def change(room: dict[str, Any]) -> dict[str, Any]:
            students = room["students"]
            if any(s["name"].casefold() == name.casefold() for s in students.values()):
                raise RoomNameTaken(f"someone in this room is already called '{name}'; choose another name")
            if len(students) >= self.max_students:
                raise SizeLimitError(f"the room is full ({self.max_students} students, setting "
                                     "GLASSBOX_MAX_ROOM_STUDENTS)")
            students[sid] = {"name": name, "token": _hash(token), "joined": time.time(), "mode": "following",
                             "copy": None, "copy_kind": None, "consent": False}
            return room

        room = self._update(code, change)
        return sid, token, room

    def set_me(self, code: str, sid: str, mode: str | None, consent: bool | None) -> dict[str, Any]:
        def change(room: dict[str, Any]) -> dict[str, Any]:
            student = room["students"][sid]
            if mode is not None:
                student["mode"] = mode
            if consent is not None:
                student["consent"] = consent
            return room

        return self._update(code, change)

    def fork(self, code: str, sid: str) -> tuple[str, str, dict[str, Any]]:
        """A copy of the teacher's current session for the student: (session id, kind, room)."""
        room = self.load(code)
        session, kind = room.get("session"), room.get("kind")
        if not session or not kind:
            raise EngineError("the teacher's page has no session to copy; follow along instead")
        copy = self.store.fork(session, kind, drop=("room", "page", "view", "shared_kind"))
        with self.store.use(copy.id, kind) as s:
            s.extra["room"] = {"code": room["code"], "session": copy.id, "role": "student", "student": sid}

        def change(r: dict[str, Any]) -> dict[str, Any]:
            student = r["students"][sid]
            student.update(mode="exploring", copy=copy.id, copy_kind=kind)
            return r

        room = self._update(code, change)
        with self._lock:
            self._metrics.setdefault(room["code"], {}).pop(sid, None)  # a new copy: its own metrics from now
        return copy.id, kind, room

    def spotlight(self, code: str, name: str) -> tuple[str, str]:
        """A read-only snapshot of a consenting student's copy, for the big screen: (share id, kind)."""
        room = self.load(code)
        student = next((s for s in room["students"].values() if s["name"].casefold() == name.casefold()), None)
        if student is None:
            raise RoomNotFound(f"no student '{name}' in room '{room['code']}'")
        if not student["consent"]:
            raise RoomForbidden(f"'{student['name']}' has not allowed their copy on the big screen")
        if not student["copy"]:
            raise EngineError(f"'{student['name']}' has not taken a copy yet")
        with self.store.use(student["copy"], student["copy_kind"], changes=False) as s:
            share = self.store.share(s, {"room": None, "page": room["page"], "view": {},
                                         "shared_kind": student["copy_kind"]})
        return share.id, student["copy_kind"]

    # --- what the API shows ---------------------------------------------------------------------------------

    def metrics_of(self, code: str, student: dict[str, Any], sid: str) -> dict[str, Any] | None:
        with self._lock:
            reported = self._metrics.get(code, {}).get(sid)
        if reported is not None or not student.get("copy"):
            return reported
        try:  # this worker has heard nothing yet (it just started): the copy as stored
            session = self.store.get(student["copy"], student["copy_kind"])
            history = getattr(session.obj, "history", None)
            return _metrics(history[-1], getattr(session.obj, "step_count", None)) if history else None
        except (SessionNotFound, EngineError):
            return None

    def state(self, code: str, token: str | None) -> dict[str, Any]:
        room = self.load(code)
        role, sid = self.role(room, token)
        check = room.get("checkpoint")
        out: dict[str, Any] = {
            "code": room["code"], "role": role, "page": room["page"], "kind": room.get("kind"),
            "share": room.get("share"), "view": room.get("view", {}), "created": room["created"],
            "expires": room["expires"], "students": len(room["students"]),
            "checkpoint": dict(check) if check else None, "me": None, "roster": None}

        def passed(metrics: dict[str, Any] | None) -> bool | None:
            if check is None:
                return None
            return bool(metrics is not None and CHECKS[check["check"]].passed(metrics, check["value"])) \
                if check["check"] in CHECKS else False

        if role == "teacher":
            rows = []
            for s_id, s in room["students"].items():
                metrics = self.metrics_of(room["code"], s, s_id)
                rows.append({"name": s["name"], "mode": s["mode"], "consent": s["consent"], "joined": s["joined"],
                             "has_copy": bool(s["copy"]), "metrics": metrics, "passed": passed(metrics)})
            out["roster"] = sorted(rows, key=lambda r: r["joined"])
            if check is not None:
                out["checkpoint"].update(passed=sum(1 for r in rows if r["passed"]), total=len(rows))
        elif role == "student" and sid is not None:
            s = room["students"][sid]
            out["me"] = {"name": s["name"], "mode": s["mode"], "consent": s["consent"], "copy_session": s["copy"],
                         "copy_kind": s["copy_kind"],
                         "passed": passed(self.metrics_of(room["code"], s, sid))}
        return out

    # --- the tap on every live stream (app/live.py): the teacher's frames, a copy's metrics ---------------------

    def wants(self, stream: LiveStream) -> bool:
        """Whether `sent` would use this stream's frames (a session in a room): the stream builds the tap's
        JSON form of a binary frame only then."""
        marker = stream.session.extra.get("room")
        return isinstance(marker, dict) and marker.get("session") == stream.session.id

    def sent(self, stream: LiveStream, message: dict[str, Any]) -> None:
        session = stream.session
        marker = session.extra.get("room")
        if not isinstance(marker, dict) or marker.get("session") != session.id:
            return  # not in a room (or a fork or snapshot of a session that is)
        code = marker["code"]
        if marker.get("role") == "student":
            self._report(code, marker.get("student"), session.id, message)
            return
        pub = self._publishers.get(code)
        if pub is None or pub.session != session.id:
            feed = HistoryFeed(stream.handlers.history) if stream.handlers.history is not None else None
            pub = self._publishers[code] = Publisher(session.id, feed, stream)
        pub.stream = stream
        shape = (message.get("revision"), tuple(message.get("layout") or ()))
        if pub.share is None or shape != pub.shape:
            # The structure changed (a new network or data): followers redraw from a new snapshot, taken now,
            # under the lock this runs under.
            try:
                pub.share = self.store.share(session, {"room": None, "page": marker.get("page", "/"), "view": {},
                                                       "shared_kind": session.kind}).id
            except EngineError:
                pub.share = None
            pub.shape = shape
            threading.Thread(target=self._record_share, args=(code, session.id, pub.share), daemon=True).start()
        frame = {k: v for k, v in message.items() if k != "history"}
        if pub.feed is not None:
            frame["history"] = pub.feed.delta()
        self.backend.publish(self._rid(code), {"type": "room-frame", "session": session.id, "share": pub.share,
                                               "frame": frame})

    def ended(self, stream: LiveStream) -> None:
        for code, pub in list(self._publishers.items()):
            if pub.stream is stream:
                self._publishers.pop(code, None)

    def _record_share(self, code: str, session: str, share: str | None) -> None:
        def change(room: dict[str, Any]) -> None:
            if room.get("session") == session:
                room["share"] = share

        try:
            self._quietly(code, change)
        except Exception:  # noqa: BLE001 - followers still get the share in every frame message
            log.exception("recording room %s's snapshot failed", code)

    def _quietly(self, code: str, change: Callable[[dict[str, Any]], Any]) -> None:
        """Change the record without announcing it (what followers already got in a message)."""
        with self.backend.lock(self._rid(code), 10.0):
            record = self.backend.load(self._rid(code))
            if record is None or record.type != ROOM:
                return
            change(record.extra)
            self.backend.save(Record(record.id, ROOM, ROOM, EMPTY_STATE, record.version + 1, None, record.created,
                                     time.time(), record.extra))

    def _report(self, code: str, sid: str | None, copy: str, message: dict[str, Any]) -> None:
        now = time.monotonic()
        # While playing, at most once a second; a frame that ends a run (a step, a pause) always reports.
        if sid is None or (message.get("playing") and now - self._reported.get(copy, 0.0) < METRICS_EVERY):
            return
        self._reported[copy] = now
        entry = message.get("metrics")
        if not isinstance(entry, dict):
            return
        self.backend.publish(self._rid(code), {"type": "room-metrics", "student": sid,
                                               "metrics": _metrics(entry, message.get("step"))})

    # --- messages on the rooms' channels (every worker hears every room) ------------------------------------

    def _on_message(self, record_id: str, message: dict[str, Any]) -> None:
        if not record_id.startswith(ROOM + ":"):
            return
        code = record_id[len(ROOM) + 1:]
        kind = message.get("type")
        if kind == "room-metrics":
            with self._lock:
                self._metrics.setdefault(code, {})[str(message.get("student"))] = message["metrics"]
            return
        if kind == "room-keyframe":
            pub = self._publishers.get(code)
            if pub is not None:
                if pub.feed is not None:
                    pub.feed.sent_list = None  # the next delta starts from 0
                pub.stream.want_frame()
            return
        hub = self._hubs.get(code)
        if hub is None or self.loop is None:
            return
        if kind == "room-frame":
            self._hub_frame(hub, message)
        elif kind == "room-view":
            hub.view, hub.page = message.get("view", {}), message.get("page", hub.page)
            self._deliver(hub, {"type": "view", "page": hub.page, "view": hub.view}, roles=("student",))
        elif kind == "room-changed":
            threading.Thread(target=self._hub_changed, args=(hub,), daemon=True).start()

    def _hub_frame(self, hub: Hub, message: dict[str, Any]) -> None:
        if hub.session is not None and message.get("session") != hub.session:
            return  # from a session the room no longer follows
        frame = message["frame"]
        delta = frame.get("history")
        with hub.lock:
            if delta is not None:
                start = int(delta["from"])
                if start <= len(hub.history):
                    del hub.history[start:]
                    hub.history.extend(delta["entries"])
                    hub.synced = hub.synced or start == 0
                else:
                    hub.synced = False
            hub.latest = frame
            share_changed = message.get("share") != hub.share and message.get("share") is not None
            if share_changed:
                hub.share = message.get("share")
        if not hub.synced:
            self._ask_keyframe(hub)
        text = json.dumps(frame)
        session = self._session_message(hub) if share_changed else None
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self._fan_out, hub, session, frame, text)

    def _fan_out(self, hub: Hub, session: dict[str, Any] | None, frame: dict[str, Any], text: str) -> None:
        for follower in list(hub.followers):
            if follower.role != "student":
                continue
            if session is not None:
                follower.put(session)
            follower.put_frame(frame, text)

    def _deliver(self, hub: Hub, message: dict[str, Any], roles: tuple[str, ...] = ("student", "teacher")) -> None:
        def put() -> None:
            for follower in list(hub.followers):
                if follower.role in roles:
                    follower.put(message)

        assert self.loop is not None
        self.loop.call_soon_threadsafe(put)

    def _ask_keyframe(self, hub: Hub) -> None:
        now = time.monotonic()
        if now - hub.asked >= KEYFRAME_EVERY:
            hub.asked = now
            self.backend.publish(self._rid(hub.code), {"type": "room-keyframe"})

    @staticmethod
    def _session_message(hub: Hub) -> dict[str, Any]:
        return {"type": "session", "page": hub.page, "kind": hub.kind, "share": hub.share, "view": hub.view}

    def _hub_changed(self, hub: Hub) -> None:
        """The room's record changed: a new session or page for followers, roster news for the teacher, or the
        room closed."""
        try:
            room = self.load(hub.code)
        except (RoomClosed, RoomNotFound) as exc:
            self._deliver(hub, {"type": "closed", "detail": str(exc)})
            return
        moved = room.get("session") != hub.session or room.get("page") != hub.page
        with hub.lock:
            if moved:
                hub.session, hub.kind, hub.page = room.get("session"), room.get("kind"), room["page"]
                hub.share, hub.latest, hub.history, hub.synced = room.get("share"), None, [], False
            hub.view = room.get("view", {})
        if moved:
            self._deliver(hub, self._session_message(hub), roles=("student",))
            self._ask_keyframe(hub)
        self._deliver(hub, {"type": "roster", "checkpoint": room.get("checkpoint"),
                            "students": len(room["students"])})

    # --- a follower connects ------------------------------------------------------------------------------------

    def attach(self, code: str, follower: Follower, room: dict[str, Any]) -> list[dict[str, Any] | str]:
        """Add a follower (on the event loop) and return what it is sent first: the room, the snapshot to draw
        from, the latest frame with the whole history."""
        self.loop = asyncio.get_running_loop()
        hub = self._hubs.get(code)
        if hub is None:
            hub = self._hubs[code] = Hub(code, room.get("session"), room.get("share"), room["page"],
                                         room.get("kind"), room.get("view", {}))
        hub.followers.add(follower)
        first: list[dict[str, Any] | str] = [self._session_message(hub)]
        with hub.lock:
            latest, synced = hub.latest, hub.synced
            history = list(hub.history)
        if latest is not None and synced:
            first.append({**latest, "history": {"from": 0, "entries": history}})
        elif follower.role == "student":
            hub.asked = 0.0
            self._ask_keyframe(hub)
        return first

    def detach(self, code: str, follower: Follower) -> None:
        hub = self._hubs.get(code)
        if hub is None:
            return
        hub.followers.discard(follower)
        if not hub.followers:
            self._hubs.pop(code, None)


def _metrics(entry: dict[str, Any], step: Any) -> dict[str, Any]:
    return {"step": entry.get("step", step), "epoch": entry.get("epoch"), "train_loss": entry.get("train_loss"),
            "test_loss": entry.get("test_loss"), "test_accuracy": entry.get("test_accuracy"),
            "updated": time.time()}


def _check_view(view: dict[str, Any]) -> None:
    size = len(json.dumps(view))
    if size > MAX_VIEW_BYTES:
        raise SizeLimitError(f"the view state is {size} bytes of JSON, over the limit of {MAX_VIEW_BYTES}: send "
                             "what the page needs to show the same thing, not its data")
