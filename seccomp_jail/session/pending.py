"""Pending decisions: tasks held at a `notify` syscall, waiting for someone.

Any number can be pending at once, across tasks; they are answered in any
order. With no front end attached, each waits `timeout` seconds and then
gets the timeout action (fail closed by default). A front end (terminal
prompt, GUI, API client) lists them and answers through the session.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
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
    """Thread-safe table of pending decisions with their timeouts.

    One clock thread times them all, started with the first timeout: a
    thread per held call would fail to start where the program has used up
    the tasks it may have (RLIMIT_NPROC, pids.max), a limit the jail shares.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._items: dict[int, Pending] = {}
        self._due: list[tuple[float, int, Callable[[int], None]]] = []  # heap: (monotonic deadline, id, on_timeout)
        self._clock: threading.Thread | None = None
        self._ids = itertools.count(1)

    def add(self, tid: int, pid: int, nr: int, syscall: str, args: tuple[int, ...], rule: str | None,
            timeout: float | None, on_timeout: Callable[[int], None]) -> Pending:
        """Hold a call; `on_timeout(id)` is called (in the clock thread) once
        `timeout` seconds have passed without a decision, or at once when no
        clock thread can be started."""
        now = time.time()
        item = Pending(next(self._ids), tid, pid, nr, syscall, args, rule, now,
                       None if timeout is None else now + timeout)
        with self._lock:
            self._items[item.id] = item
            if timeout is None:
                return item
            heapq.heappush(self._due, (time.monotonic() + timeout, item.id, on_timeout))
            self._lock.notify()
            timed = self._start_clock()
        if not timed:
            on_timeout(item.id)  # fail closed: nothing would ever end the wait
        return item

    def take(self, pending_id: int) -> Pending | None:
        """Remove and return it: exactly one decision wins."""
        with self._lock:
            return self._items.pop(pending_id, None)  # its entry in _due is skipped when due

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

    def _start_clock(self) -> bool:
        """Start the clock thread unless it runs (holding the lock); False when it cannot start."""
        if self._clock is not None:
            return True
        clock = threading.Thread(target=self._run_clock, name="notify-timeouts", daemon=True)
        try:
            clock.start()
        except RuntimeError:  # can't start new thread
            return False
        self._clock = clock
        return True

    def _run_clock(self) -> None:
        while True:
            with self._lock:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._lock.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, pending_id, on_timeout = heapq.heappop(self._due)
                if pending_id not in self._items:  # decided meanwhile
                    continue
            on_timeout(pending_id)
