"""Classrooms: a teacher's session followed by a room of students (app/rooms.py, app/api/rooms.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Role = Literal["teacher", "student", "guest"]
Mode = Literal["following", "exploring"]


class CreateRoom(BaseModel):
    page: str = Field(description="The page the teacher teaches from, e.g. '/playground': where students follow",
                      pattern=r"^/[a-z0-9/-]*$", max_length=100)
    session: str | None = Field(None, description="The teacher's session (network, weights, data) the room "
                                                  "follows; none for a page without a session", max_length=100)
    kind: str | None = Field(None, description="The session's kind: network, lenet, transformer, …",
                             pattern=r"^[a-z_]+$", max_length=40)
    view: dict[str, Any] = Field(default_factory=dict, description="The page's view state (what it shows), as the "
                                                                   "page reads it back; at most 64 KB of JSON")


class UpdateRoom(CreateRoom):
    """What the teacher's page teaches now: it moved to another page, or its page made a new session."""


class CreatedRoom(BaseModel):
    code: str = Field(description="Six characters from an alphabet without look-alikes (no 0/O, 1/I/L): what "
                                  "students type on /join")
    teacher_token: str = Field(description="Send it as the X-Room-Token header (or ?room_token= on the "
                                           "WebSocket) to drive the room; keep it private")
    join_url: str = Field(description="The join link: /join?code=…")
    expires: float = Field(description="Unix time the room closes (GLASSBOX_ROOM_HOURS after it opened)")


class JoinRoom(BaseModel):
    name: str = Field(description="The display name the teacher sees (1–40 characters, unique in the room; shown "
                                  "as text, never as HTML)", min_length=1, max_length=80)


class Joined(BaseModel):
    code: str
    student_token: str = Field(description="Send it as the X-Room-Token header (or ?room_token= on the "
                                           "WebSocket); it lets its holder follow, take a copy and set consent")
    name: str = Field(description="The display name as kept (surrounding spaces removed)")
    page: str = Field(description="The page the room is on: open it with ?room={code} to follow")


class CopyMetrics(BaseModel):
    step: int | None = Field(None, description="Optimiser steps of the student's copy")
    epoch: float | None = None
    train_loss: float | None = None
    test_loss: float | None = None
    test_accuracy: float | None = None
    updated: float | None = Field(None, description="Unix time of the last metrics the copy reported")


class RosterRow(BaseModel):
    name: str = Field(description="As the student typed it: show it as text")
    mode: Mode = Field(description="following the teacher's view, or exploring a copy of their own")
    consent: bool = Field(description="The student allows their copy on the big screen (spotlight)")
    joined: float = Field(description="Unix time")
    has_copy: bool = Field(description="The student took a copy of the teacher's session")
    metrics: CopyMetrics | None = Field(description="The copy's latest metrics (null before the copy trained)")
    passed: bool | None = Field(description="The current checkpoint passed (null without a checkpoint)")


class Checkpoint(BaseModel):
    id: int = Field(description="Grows with every checkpoint the teacher asks")
    check: str = Field(description="Which check: test_loss_below, test_accuracy_above, …")
    value: float
    title: str = Field(description="What students are asked, in words")
    started: float = Field(description="Unix time")
    passed: int | None = Field(None, description="How many students passed (teacher only)")
    total: int | None = Field(None, description="How many students are in the room (teacher only)")


class StudentSelf(BaseModel):
    name: str
    mode: Mode
    consent: bool
    copy_session: str | None = Field(description="The student's own copy (a session id: theirs to change)")
    copy_kind: str | None
    passed: bool | None


class RoomState(BaseModel):
    code: str
    role: Role = Field(description="Who asked: the teacher (their token), a student (theirs) or a guest (none)")
    page: str = Field(description="The page the teacher is on")
    kind: str | None = Field(description="The kind of the teacher's session (null for a page without one)")
    share: str | None = Field(description="A read-only snapshot of the teacher's session to draw from (the "
                                          "teacher's session id itself is never given out)")
    view: dict[str, Any]
    created: float
    expires: float
    students: int = Field(description="How many have joined")
    checkpoint: Checkpoint | None
    me: StudentSelf | None = Field(description="The student's own entry (student token only)")
    roster: list[RosterRow] | None = Field(description="Every student (teacher token only)")


class UpdateMe(BaseModel):
    mode: Mode | None = Field(None, description="'following' again (after exploring a copy)")
    consent: bool | None = Field(None, description="Allow the teacher to put my copy on the big screen")


class RoomFork(BaseModel):
    session: str = Field(description="The new session: the student's own, to train and change")
    kind: str
    page: str
    view: dict[str, Any]


class AskCheckpoint(BaseModel):
    check: str = Field("test_loss_below", description="Which check (GET /api/rooms/checks lists them)",
                       pattern=r"^[a-z_]+$", max_length=40)
    value: float = Field(description="The check's threshold, e.g. 0.1 for test loss below 0.1", allow_inf_nan=False)


class CheckInfo(BaseModel):
    check: str
    description: str


class Spotlight(BaseModel):
    name: str = Field(description="The student whose copy goes on the big screen", min_length=1, max_length=80)


class Spotlit(BaseModel):
    name: str
    share: str = Field(description="A read-only snapshot of the student's copy, now")
    url: str = Field(description="The page showing it: /s/{share}")
    kind: str
