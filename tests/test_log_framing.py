"""Frames through a real pipe: order, big batches, and what a broken stream does."""

from __future__ import annotations

import os
import signal
import threading

from seccomp_jail.log.framing import iter_batches, send_batch


def _read_all(data: bytes | None = None, batches: list | None = None) -> tuple[list, list[str]]:
    """Write `data` raw or `batches` framed into a pipe from a thread; read it back."""
    r, w = os.pipe()

    def feed() -> None:
        try:
            if data is not None:
                os.write(w, data)
            for batch in batches or []:
                send_batch(w, batch)
        finally:
            os.close(w)

    thread = threading.Thread(target=feed)
    thread.start()
    warnings: list[str] = []
    try:
        got = list(iter_batches(r, warnings.append))
    finally:
        thread.join()
        os.close(r)
    return got, warnings


def test_batches_arrive_whole_and_in_order():
    # Far larger than a pipe buffer (64 KiB), so frames arrive in pieces.
    big = [("S", i, 1.5, 10, 11, 0, (i, 0, 0, 0, 0, 2**64 - 1), {0: b"x" * 100}, "allow",
            "default", 0, None, None) for i in range(5000)]
    batches = [[("G", 0, 1.0, 1, 1, 2)], big, [], [("T", 5, 2.0, "exit", 1, 1, 0, 0)]]
    got, warnings = _read_all(batches=batches)
    assert got == batches
    assert warnings == []


def test_truncated_frame_is_reported_and_ends_the_stream():
    r, w = os.pipe()
    send_batch(w, [("G", 0, 1.0, 1, 1, 2)])
    os.close(w)
    whole = os.read(r, 1 << 16)
    os.close(r)
    got, warnings = _read_all(data=whole + whole[:-3])
    assert got == [[("G", 0, 1.0, 1, 1, 2)]]
    assert len(warnings) == 1 and "inside a frame" in warnings[0]


def test_undecodable_frame_is_skipped_and_the_next_one_read():
    garbage = b"not a pickle"
    frame = len(garbage).to_bytes(4, "little") + garbage
    got, warnings = _read_all(data=frame, batches=[[("G", 1, 1.0, 1, 1, 15)]])
    assert got == [[("G", 1, 1.0, 1, 1, 15)]]
    assert len(warnings) == 1 and "undecodable" in warnings[0]


def test_a_batch_marshal_cannot_write_is_pickled():
    # The tracer's kill record carries signal.SIGKILL, an IntEnum: marshal refuses it.
    batch = [("S", 1, 1.0, 10, 10, -1, (11, signal.SIGKILL, 0, 0, 0, 0), None, "kill", "jail",
              None, None, None)]
    got, warnings = _read_all(batches=[batch, [("G", 2, 1.0, 1, 1, 15)]])
    assert got == [batch, [("G", 2, 1.0, 1, 1, 15)]] and warnings == []
    assert got[0][0][6][1] is signal.SIGKILL


def test_undecodable_pickled_frame_is_skipped():
    garbage = b"not a pickle"
    frame = (len(garbage) | 1 << 31).to_bytes(4, "little") + garbage
    got, warnings = _read_all(data=frame, batches=[[("G", 1, 1.0, 1, 1, 15)]])
    assert got == [[("G", 1, 1.0, 1, 1, 15)]]
    assert len(warnings) == 1 and "undecodable" in warnings[0]
