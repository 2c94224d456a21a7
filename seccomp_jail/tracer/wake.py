"""Waking the tracer's blocking waitpid(-1) from another thread.

waitpid has no timeout and Python retries it after signal handlers (PEP 475),
so we wake it the way it listens: a tiny child process that we stop with
SIGSTOP. waitpid(..., WUNTRACED) then returns that child's stop; the loop
continues it and runs the queued requests. No signal handler ever runs in the
middle of the tracer's bookkeeping, and the hot path pays nothing.
"""

from __future__ import annotations

import os
import signal

from seccomp_jail.kernel import libc

PR_SET_PDEATHSIG = 1


class Waker:
    def __init__(self) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # hold no pipe end of ours open
                libc.become_helper()
                if os.getppid() == parent:
                    while True:
                        signal.pause()
            finally:
                os._exit(0)
        self.pid = pid

    def wake(self) -> None:
        """Callable from any thread; several wakes before the loop looks merge into one."""
        try:
            os.kill(self.pid, signal.SIGSTOP)
        except ProcessLookupError:
            pass

    def rearm(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
