"""Work budgets of training requests: how many run at once, and how long one may run.

- `JobSlots`: at most `max_training_jobs` training requests (and live-training chunks) run at once; a REST request
  beyond that is answered 429 with Retry-After at once (it never queues a thread), a live stream waits its turn
  without holding a thread.
- `deadline(trainer, seconds)`: the trainer's `step` stops with `StopTraining` once the wall-clock deadline has
  passed or the client has gone, so that a request answers with what it did instead of running for hours.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class TooManyJobs(Exception):
    """Every training slot is taken (429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StopTraining(Exception):
    """The deadline passed (or the client went away) before the next step: the request answers what it did."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JobSlots:
    def __init__(self, slots: int, retry_after: float) -> None:
        self.slots = max(1, slots)
        self.retry_after = max(1, math.ceil(retry_after))
        self._running = 0
        self._lock = threading.Lock()

    def try_acquire(self) -> bool:
        with self._lock:
            if self._running >= self.slots:
                return False
            self._running += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._running -= 1

    @property
    def running(self) -> int:
        return self._running

    @contextmanager
    def job(self) -> Iterator[None]:
        """One training request's slot, or TooManyJobs at once."""
        if not self.try_acquire():
            raise TooManyJobs(f"the server is running {self.slots} training requests already (setting "
                              f"GLASSBOX_MAX_TRAINING_JOBS); try again in {self.retry_after} s",
                              self.retry_after)
        try:
            yield
        finally:
            self.release()

    async def wait(self, poll: float = 0.02) -> None:
        """Wait for a slot without holding a thread (live streams)."""
        while not self.try_acquire():
            await asyncio.sleep(poll)


@contextmanager
def deadline(trainer: Any, seconds: float, gone: Callable[[], bool] | None = None,
             method: str = "step") -> Iterator[None]:
    """Within the block, `trainer.<method>()` raises StopTraining once `seconds` have passed or `gone()` says the
    client disconnected (checked at most every 0.2 s). The trainer's own method is restored afterwards.

    Works on the instance only (the class is untouched), so concurrent requests on other sessions are unaffected.
    """
    original = getattr(trainer, method)
    stop_at = time.monotonic() + seconds
    next_check = [time.monotonic() + 0.2]

    def guarded(*args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now >= stop_at:
            raise StopTraining(f"stopped after {seconds:g} s (setting GLASSBOX_TRAIN_DEADLINE_SECONDS); send "
                               f"another request to train on")
        if gone is not None and now >= next_check[0]:
            next_check[0] = now + 0.2
            if gone():
                raise StopTraining("the client went away")
        return original(*args, **kwargs)

    setattr(trainer, method, guarded)
    try:
        yield
    finally:
        # Remove the instance attribute so that the class's method shows through again.
        if trainer.__dict__.get(method) is guarded:
            del trainer.__dict__[method]


def client_gone(request: Any) -> Callable[[], bool]:
    """For a sync route (run in a worker thread): a callable that says whether the HTTP client has disconnected."""
    import anyio.from_thread

    def gone() -> bool:
        try:
            return bool(anyio.from_thread.run(request.is_disconnected))
        except Exception:  # noqa: BLE001 - no event loop to ask (tests calling directly): assume still there
            return False

    return gone


def jobs_of(app: Any) -> JobSlots:
    return app.state.jobs
