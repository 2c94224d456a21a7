"""How batches of raw log records travel from the tracer to the writer.

One frame is a 4-byte little-endian payload length followed by the pickled
batch (a list of raw tuples). Both ends live in this module so that the format
is defined once. Pickle is safe here: both ends are seccomp-jail itself, the
jailed program never reaches the pipe (it is close-on-exec).
"""

from __future__ import annotations

import os
import pickle
import struct
from collections.abc import Callable, Iterator

_HEADER = struct.Struct("<I")
# Big enough that a busy tracer's batch is read in a few syscalls.
_READ_BUFFER = 1 << 16


def send_batch(fd: int, batch: list) -> None:
    """Write one batch as one frame; blocks while the writer is behind.

    A blocking pipe write is only short when a signal interrupts it after
    some bytes went through, so the loop finishes the frame: a frame cut in
    two would desynchronise every frame after it.
    """
    payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    parts = [memoryview(_HEADER.pack(len(payload))), memoryview(payload)]
    while parts:
        written = os.writev(fd, parts)
        while parts and written >= len(parts[0]):
            written -= len(parts[0])
            parts.pop(0)
        if parts:
            parts[0] = parts[0][written:]


def iter_batches(fd: int, warn: Callable[[str], None]) -> Iterator[list]:
    """Yield each batch read from `fd` until the write end is closed.

    A batch that does not unpickle is reported through `warn` and skipped
    (the framing around it is intact); a frame cut short by a dying tracer
    is reported and ends the stream. The fd is not closed.
    """
    with open(fd, "rb", buffering=_READ_BUFFER, closefd=False) as pipe:
        while True:
            header = pipe.read(_HEADER.size)
            if not header:
                return
            if len(header) < _HEADER.size:
                warn("log stream ends inside a frame header")
                return
            (size,) = _HEADER.unpack(header)
            payload = pipe.read(size)
            if len(payload) < size:
                warn(f"log stream ends inside a frame ({len(payload)} of {size} bytes)")
                return
            try:
                batch = pickle.loads(payload)
            except Exception as exc:  # any unpickling failure: skip this frame only
                warn(f"undecodable log batch skipped: {exc!r}")
                continue
            yield batch
