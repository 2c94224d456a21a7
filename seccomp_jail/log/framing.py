"""How batches of raw log records travel from the tracer to the writer.

One frame is a 4-byte little-endian header followed by the serialised batch
(a list of raw tuples). The header's low 31 bits are the payload's length;
its top bit says the payload is a pickle rather than marshal data. Both ends
live in this module so that the format is defined once.

marshal, because records are plain lists, tuples, dicts, bytes, strings and
numbers, which it writes and reads in about half pickle's time, on the
tracer's hot path and in the writer; pickle for a batch holding anything
else (an IntEnum, say). Both are safe here: both ends are seccomp-jail
itself, the jailed program never reaches the pipe (it is close-on-exec).
"""

from __future__ import annotations

import marshal
import os
import struct
from collections.abc import Callable, Iterator

from seccomp_jail.message import Message

_HEADER = struct.Struct("<I")
_PICKLED = 1 << 31


def send_batch(fd: int, batch: list) -> None:
    """Write one batch as one frame; blocks while the writer is behind.

    A blocking pipe write is only short when a signal interrupts it after
    some bytes went through, so the loop finishes the frame: a frame cut in
    two would desynchronise every frame after it.
    """
    try:
        payload = marshal.dumps(batch)
        header = len(payload)
    except ValueError:  # "unmarshallable object"
        import pickle

        payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        header = len(payload) | _PICKLED
    parts = [memoryview(_HEADER.pack(header)), memoryview(payload)]
    while parts:
        written = os.writev(fd, parts)
        while parts and written >= len(parts[0]):
            written -= len(parts[0])
            parts.pop(0)
        if parts:
            parts[0] = parts[0][written:]


def iter_batches(fd: int, warn: Callable[[Message], None]) -> Iterator[list]:
    """Yield each batch read from `fd` until the write end is closed.

    A batch that does not decode is reported through `warn` and skipped
    (the framing around it is intact); a frame cut short by a dying tracer
    is reported and ends the stream. The fd is not closed. Nothing is read
    ahead of the frame being yielded, so FIONREAD on `fd` tells whether
    more is waiting.
    """
    header = bytearray(_HEADER.size)
    while True:
        got = _read_into(fd, header)
        if not got:
            return
        if got < _HEADER.size:
            warn(Message("log stream ends inside a frame header"))
            return
        (word,) = _HEADER.unpack(header)
        size = word & ~_PICKLED
        payload = bytearray(size)
        got = _read_into(fd, payload)
        if got < size:
            warn(Message("log stream ends inside a frame ({got} of {size} bytes)", got=got, size=size))
            return
        try:
            batch = _unpickle(payload) if word & _PICKLED else marshal.loads(payload)
        except Exception as exc:  # any decoding failure: skip this frame only
            warn(Message("undecodable log batch skipped: {error}", error=repr(exc)))
            continue
        yield batch


def _read_into(fd: int, buffer: bytearray) -> int:
    """Fill `buffer` from `fd`; fewer bytes only at end of file."""
    view = memoryview(buffer)
    done = 0
    while done < len(buffer):
        got = os.readv(fd, [view[done:]])
        if not got:
            break
        done += got
    return done


def _unpickle(payload: bytes) -> list:
    import pickle

    return pickle.loads(payload)
