"""A watchdog for the tracer's reads of the traced program's memory.

Why: the tracer reads a syscall's paths and structs from the stopped task,
and a page of a file on FUSE is read by asking the file system's server.
When that server is a process of the jailed program, it can only answer
through a syscall, which waits for the tracer, which waits for the answer:
both wait for ever (a path argument pointing into a mapped FUSE file is
enough, and the program runs fine without the jail). The kernel waits for
the answer killably only, so nothing can interrupt the read: the watchdog
ends the deadlock the one way there is, by killing the program, whose
server's death aborts the read. It acts only when a read has not ended
after STUCK_AFTER seconds and a process of the program holds /dev/fuse: a
read stuck on anything else (a network file system that stalls) waits, as
the program would without the jail.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable

from seccomp_jail.kernel.memory import TaskMemory

STUCK_AFTER = 2.0  # s: a read this old is looked at
POLL = 0.25  # s


class ReadWatchdog:
    def __init__(self, on_stuck: Callable[[int], bool]) -> None:
        """`on_stuck(pid)`: called in the watchdog's thread while a read of
        `pid`'s memory is stuck; True when it dealt with it."""
        self._on_stuck = on_stuck
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="read-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=1)

    def _run(self) -> None:
        seen, since = (0, 0), time.monotonic()
        while not self._done.wait(POLL):
            read = (TaskMemory.reading, TaskMemory.reads)
            if not read[0] or read != seen:
                seen, since = read, time.monotonic()
            elif time.monotonic() - since >= STUCK_AFTER:
                since = float("inf") if self._on_stuck(read[0]) else time.monotonic()


def serves_fuse(pids: Iterable[int]) -> bool:
    """Whether one of these processes holds /dev/fuse open (a FUSE server)."""
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == "/dev/fuse":
                    return True
            except OSError:
                pass
    return False
