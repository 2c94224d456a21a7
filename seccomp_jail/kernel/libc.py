"""The C library, loaded once, with the few raw entry points the jail needs.

ctypes is used instead of a compiled extension so that the package installs
without a compiler; the hot calls bind their argtypes once here.
"""

from __future__ import annotations

import ctypes
import os
import signal


def load_library(soname: str, name: str) -> ctypes.CDLL:
    """Load by soname; ctypes.util.find_library runs ldconfig, costing start-up time."""
    try:
        return ctypes.CDLL(soname, use_errno=True)
    except OSError:
        from ctypes import util

        found = util.find_library(name)
        if not found:
            raise
        return ctypes.CDLL(found, use_errno=True)


libc = load_library("libc.so.6", "c")


# Signals a user sends to end or suspend the jail (Ctrl-C, kill, Ctrl-Z):
# its helper processes outlive them, and go with the jail.
USER_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGTSTP)
PR_SET_DUMPABLE = 4


def become_helper(also_ignore: tuple[int, ...] = ()) -> None:
    """First steps of a helper process of the jail (log writer, tracepoint
    helper, waker): ignore USER_SIGNALS (and `also_ignore`), and leave the
    program's process group, so that its kill(0, SIGKILL) is not for us. Not
    setsid: a session leader opening a terminal (-o /dev/tty) would take it over.
    Not dumpable: a jailed program of our uid could otherwise write our
    memory through /proc/PID/mem, and run code of its own unsupervised.
    """
    prctl(PR_SET_DUMPABLE, 0)
    for signo in (*USER_SIGNALS, *also_ignore):
        signal.signal(signo, signal.SIG_IGN)
    os.setpgid(0, 0)


def read_line(fd: int) -> str:
    """One line from a pipe, read a byte at a time: what follows is not ours to take."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace").strip()

# long syscall(long nr, ...): used for seccomp(2) and prctl-less raw calls.
_syscall = libc.syscall
_syscall.restype = ctypes.c_long

_prctl = libc.prctl
_prctl.restype = ctypes.c_int
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def raise_errno(what: str) -> None:
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}")


def syscall(nr: int, *args: int | ctypes.c_void_p) -> int:
    """Raw syscall(2); raises OSError on -1."""
    ret = _syscall(ctypes.c_long(nr), *[a if isinstance(a, ctypes.c_void_p) else ctypes.c_ulong(a) for a in args])
    if ret == -1:
        raise_errno(f"syscall {nr}")
    return ret


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    ret = _prctl(option, arg2, arg3, arg4, arg5)
    if ret == -1:
        raise_errno(f"prctl {option}")
    return ret


PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37


def child_subreaper(on: bool) -> bool:
    """Make this process the reaper of its descendants' orphans, or stop;
    returns whether it was one before."""
    was = ctypes.c_int(0)
    prctl(PR_GET_CHILD_SUBREAPER, ctypes.addressof(was))
    prctl(PR_SET_CHILD_SUBREAPER, int(on))
    return bool(was.value)


_sched_getcpu = libc.sched_getcpu
_sched_getcpu.restype = ctypes.c_int
_sched_getcpu.argtypes = []


def current_cpu() -> int:
    """The CPU the calling thread runs on (os has no sched_getcpu)."""
    return _sched_getcpu()
