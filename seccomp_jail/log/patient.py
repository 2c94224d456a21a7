"""Writes that wait for room on a descriptor the traced program shares.

The jail's stderr is the program's too: one open file description, so when
the program makes its fd 2 non-blocking (its right), our writes there fail
with EAGAIN as soon as the reader falls behind, and log lines would be lost.
These writes wait for room instead, as they would on a blocking descriptor.
"""

from __future__ import annotations

import io
import os
import select


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data`, waiting while the descriptor is full."""
    view = memoryview(data)
    while view:
        view = view[write_some(fd, view):]


def write_some(fd: int, data: bytes | memoryview) -> int:
    """os.write that waits for room rather than failing with EAGAIN."""
    while True:
        try:
            return os.write(fd, data)
        except BlockingIOError:
            poll = select.poll()
            poll.register(fd, select.POLLOUT)
            poll.poll()  # an error or hang-up ends it too: the next write says which


class PatientFile(io.RawIOBase):
    """A raw file over a descriptor we do not own (it stays open), for
    io.BufferedWriter: its writes wait for room (see write_some)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data) -> int:
        return write_some(self._fd, data)
