"""The forwarder's test for "the target already got its own copy", on real processes."""

from __future__ import annotations

import os
import signal
import time

from seccomp_jail.session.signals import SETTLE, SignalForwarder


def _child_with_sigterm_pending() -> int:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        os.write(write_end, b"x")
        time.sleep(30)
        os._exit(0)
    os.read(read_end, 1)
    os.kill(pid, signal.SIGTERM)
    return pid


def test_own_copy_seen_as_delivered_pending_or_not_at_all():
    seen: dict[tuple[int, int], float] = {}
    forwarder = SignalForwarder(lambda: [], lambda: set(), lambda pid, sig: seen.get((pid, sig)))
    pending = _child_with_sigterm_pending()
    other = os.fork()
    if other == 0:
        time.sleep(30)
        os._exit(0)
    try:
        now = time.monotonic()
        assert forwarder._got_own_copy(pending, signal.SIGTERM, now)  # blocked, so still pending
        assert not forwarder._got_own_copy(other, signal.SIGTERM, now)  # nothing arrived
        assert time.monotonic() - now >= SETTLE  # it waited for a late delivery first
        seen[(other, signal.SIGTERM)] = time.monotonic()
        assert forwarder._got_own_copy(other, signal.SIGTERM, time.monotonic())  # the tracer saw it delivered
    finally:
        for pid in (pending, other):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
