"""What seccomp-jail does with the signals it receives itself, and where it
stands among process groups (ProcessGroups).

Like `strace -o FILE PROG`, the jail keeps running while the target decides:

* A signal from the terminal (Ctrl-C, Ctrl-\\) reaches the terminal's
  foreground process group: the program, which `seccomp-jail run` puts
  there. Where the jail shares the program's group (an application using
  the Python API without `separate_group`), the jail ignores its copy and
  goes on logging until the target is gone, so the log shows how the target
  handled it.
* A signal sent to the jail alone with kill(1) (SIGINT, SIGTERM, SIGHUP,
  SIGQUIT, and the others below) is forwarded to the target's root process
  (to every traced process once the root is gone), so `kill`, `timeout` and
  service managers stop the jailed program as they would stop it without
  the jail. When the target got its own copy (the signal went to the whole
  process group, as `timeout` sends it), nothing is forwarded: programs that
  treat a second SIGINT as "force quit" must not see one.
* A signal the jailed program sent to a group the jail is in is not passed
  on either.

Every signal whose default would end the jail is handled so (SIGUSR1,
SIGALRM, real-time signals...). SIGKILL cannot be caught: then
PTRACE_O_EXITKILL kills every traced task; ProcessGroups keeps the
program's own kill(0, SIGKILL) away from the jail. The signals are blocked
in every thread and collected by one thread with sigwaitinfo, which tells
the cases apart by si_code and si_pid.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Callable

# Signals whose default action ends a process (SIGPIPE and SIGXFSZ aside:
# Python ignores them). The synchronous ones (SIGSEGV...) too: the kernel
# delivers a real fault even when it is blocked.
FORWARDED = (
    signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
    signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGIO, signal.SIGPWR, signal.SIGSTKFLT,
    signal.SIGXCPU, signal.SIGSYS, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL,
    signal.SIGSEGV, signal.SIGTRAP, *range(signal.SIGRTMIN, signal.SIGRTMAX + 1),
)
SI_USER = 0
SI_TKILL = -6
SI_QUEUE = -1


def block() -> set[int]:
    """Block the forwarded signals in this thread (threads started later inherit
    it); returns the mask before, for the program and for `unblock`."""
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED))


def unblock(before: set[int]) -> None:
    """Back to the mask `before`, dropping copies that arrived after the run: the program had its own."""
    newly = set(FORWARDED) - before
    while signal.sigtimedwait(newly, 0) is not None:
        pass
    signal.pthread_sigmask(signal.SIG_SETMASK, before)


def current_mask() -> set[int]:
    return set(signal.pthread_sigmask(signal.SIG_BLOCK, ()))


class ProcessGroups:
    """Where the program and the jail stand among process groups, so that the
    program cannot SIGKILL or SIGSTOP the jail by signalling its own group
    (kill(0, ...)), and the job control that follows from it.

    The program takes the jail's place. Where the jail merely belongs to its
    parent's group, the program stays in it and the jail moves out (`leave`).
    Where the jail leads its group (a job of an interactive shell, a
    `setsid` or start_new_session child), the program would have led it: it
    leads a group of its own (`own_group`). On a terminal it then also takes
    the terminal's foreground when the jail had it, and the jail mirrors its
    job-control stops: the shell knows the jail's group only, so when the
    program stops (Ctrl-Z, SIGTTIN) the jail takes the terminal back and
    stops as well, and when the shell continues the jail (fg, bg) the jail
    continues the program, handing the terminal on if it got it.
    """

    def __init__(self) -> None:
        self.leave = os.getpgrp() != os.getpid()
        self.own_group = not self.leave
        self.tty = -1  # the controlling terminal, while job control is mirrored
        self.foreground = False  # the program starts in the terminal's foreground
        self._program = 0
        if self.leave:
            return
        try:
            self.tty = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
            self.foreground = os.tcgetpgrp(self.tty) == os.getpgrp()
        except OSError:
            pass  # no controlling terminal

    def started(self, pid: int) -> None:
        """The program (`pid`) is forked; with `leave`, move the jail out of its
        group. In the terminal's background from now on, the jail ignores
        SIGTTOU: its own writes to the terminal (and tcsetpgrp) go through."""
        self._program = pid
        if self.leave:
            try:
                os.setpgid(0, 0)
            except OSError:
                return
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)

    def stopped(self, signo: int) -> None:
        """The program's first process stopped for `signo`: stop the jail as its
        job, and once continued, continue the program (tracer thread)."""
        if self.tty < 0 or not self._program:
            return
        ours = os.getpgrp()
        self._hand_terminal(self._program, ours)
        # The shell sees its job stop; we go on after fg or bg. SIGTTOU is ignored here.
        os.kill(os.getpid(), signal.SIGSTOP if signo == signal.SIGTTOU else signo)
        self._hand_terminal(ours, self._program)
        try:
            os.killpg(self._program, signal.SIGCONT)
        except ProcessLookupError:
            pass

    def _hand_terminal(self, holder: int, to: int) -> None:
        """Give the terminal's foreground to group `to` if `holder` has it."""
        try:
            if os.tcgetpgrp(self.tty) == holder:
                os.tcsetpgrp(self.tty, to)
        except OSError:
            pass  # hung up

    def close(self) -> None:
        if self.tty >= 0:
            os.close(self.tty)
            self.tty = -1


# How long a forwarded signal waits for the target to show that it got its own
# copy (a kill of the whole process group reaches both of us).
SETTLE = 0.05


class SignalForwarder:
    def __init__(self, targets: Callable[[], list[int]], traced: Callable[[], set[int]],
                 delivered: Callable[[int, int], float | None]) -> None:
        self._targets = targets
        self._traced = traced
        self._delivered = delivered
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
            since = time.monotonic()
            for pid in self._targets():
                if self._got_own_copy(pid, info.si_signo, since):
                    continue  # sent to the whole group: a second copy would be one too many
                try:
                    os.kill(pid, info.si_signo)
                except ProcessLookupError:
                    pass

    def _got_own_copy(self, pid: int, signo: int, since: float) -> bool:
        """Whether `pid` received `signo` itself around `since`: delivered, or still pending."""
        while True:
            seen = self._delivered(pid, signo)
            if seen is not None and seen >= since - SETTLE:
                return True
            if _pending(pid, signo):
                return True
            if time.monotonic() >= since + SETTLE:
                return False
            time.sleep(0.002)

    def stop(self) -> None:
        """End the thread (it wakes on a signal we send ourselves)."""
        self._stop = True
        if self._thread.is_alive():
            signal.pthread_kill(self._thread.ident, signal.SIGHUP)
            self._thread.join(timeout=1)


def _pending(pid: int, signo: int) -> bool:
    """Whether `signo` waits in the process's or its main thread's pending set."""
    bit = 1 << (signo - 1)
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            return any(int(line.split()[1], 16) & bit for line in f if line.startswith((b"SigPnd:", b"ShdPnd:")))
    except (OSError, ValueError, IndexError):
        return False
