"""Pending decisions: tasks held at a `notify` syscall, waiting for someone.

Any number can be pending at once, across tasks; they are answered in any
order. With no front end attached, each waits `timeout` seconds and then
gets the timeout action (fail closed by default). A front end (terminal
prompt, GUI, API client) lists them and answers through the session.
"""

from __future__ import annotations

import itertools
import threading
import time
from typing import NamedTuple


class Pending(NamedTuple):
    """One held syscall, as front ends list it."""

    id: int
    tid: int
    pid: int
    nr: int
    syscall: str
    args: tuple[int, ...]
    rule: str | None
    created: float
    deadline: float | None  # None: waits until someone decides


class PendingTable:
    """Thread-safe table of pending decisions with their timeout timers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, Pending] = {}
        self._timers: dict[int, threading.Timer] = {}
        self._ids = itertools.count(1)

    def add(self, tid: int, pid: int, nr: int, syscall: str, args: tuple[int, ...], rule: str | None,
            timeout: float | None, on_timeout) -> Pending:
        now = time.time()
        item = Pending(next(self._ids), tid, pid, nr, syscall, args, rule, now,
                       None if timeout is None else now + timeout)
        with self._lock:
            self._items[item.id] = item
            if timeout is not None:
                timer = threading.Timer(timeout, on_timeout, (item.id,))
                timer.daemon = True
                self._timers[item.id] = timer
                timer.start()
        return item

    def take(self, pending_id: int) -> Pending | None:
        """Remove and return it: exactly one decision wins."""
        with self._lock:
            item = self._items.pop(pending_id, None)
            timer = self._timers.pop(pending_id, None)
        if timer:
            timer.cancel()
        return item

    def take_tid(self, tid: int) -> Pending | None:
        with self._lock:
            match = next((p.id for p in self._items.values() if p.tid == tid), None)
        return self.take(match) if match is not None else None

    def list(self) -> list[Pending]:
        with self._lock:
            return sorted(self._items.values(), key=lambda p: p.id)

    def clear(self) -> list[Pending]:
        with self._lock:
            ids = list(self._items)
        return [p for p in (self.take(i) for i in ids) if p]
