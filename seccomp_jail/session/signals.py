"""What seccomp-jail does with the signals it receives itself.

Like `strace -o FILE PROG`, the jail keeps running while the target decides:

* A signal from the terminal (Ctrl-C, Ctrl-\\) reached the whole foreground
  process group, the target included; the jail ignores its copy and goes on
  logging until the target is gone, so the log shows how the target handled it.
* A signal sent to the jail alone with kill(1) (SIGINT, SIGTERM, SIGHUP,
  SIGQUIT) is forwarded to the target's root process (to every traced
  process once the root is gone), so `kill`, `timeout` and service managers
  stop the jailed program as they would stop it without the jail.

SIGKILL cannot be caught: then PTRACE_O_EXITKILL kills every traced task.
The signals are blocked in every thread and collected by one thread with
sigwaitinfo, which tells the two cases apart by si_code.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Callable

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
SI_USER = 0
SI_TKILL = -6
SI_QUEUE = -1


def block() -> None:
    """Block the forwarded signals in this thread (threads started later inherit it)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)


def unblock() -> None:
    """Unblock, dropping copies that arrived after the run: the program had its own."""
    while signal.sigtimedwait(FORWARDED, 0) is not None:
        pass
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)


class SignalForwarder:
    def __init__(self, targets: Callable[[], list[int]], traced: Callable[[], set[int]]) -> None:
        self._targets = targets
        self._traced = traced
        self._thread = threading.Thread(target=self._run, name="signals", daemon=True)
        self._stop = False

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            info = signal.sigwaitinfo(set(FORWARDED))
            if self._stop:
                return
            if info.si_code not in (SI_USER, SI_TKILL, SI_QUEUE) or info.si_pid == os.getpid():
                continue  # from the terminal: the target has its own copy
            if info.si_pid in self._traced():
                continue  # the jailed program signalled its process group, us included
            for pid in self._targets():
                try:
                    os.kill(pid, info.si_signo)
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        """End the thread (it wakes on a signal we send ourselves)."""
        self._stop = True
        if self._thread.is_alive():
            signal.pthread_kill(self._thread.ident, signal.SIGHUP)
            self._thread.join(timeout=1)
