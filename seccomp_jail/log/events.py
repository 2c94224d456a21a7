"""Log events: what the sinks receive, built from the tracer's raw tuples.

The tracer sends bare tuples (cheap to build on its hot path); everything
that costs time -- syscall names, strace-style decoding, errno names --
happens here, in the writer process. The raw formats are:

    ("S", seq, time, pid, tid, nr, args, captured, action, origin, retval, rule, duration)
    ("T", seq, time, kind, pid, tid, ppid, detail)
    ("G", seq, time, pid, tid, signo, siginfo, stopped)   (siginfo: bytes or None)
"""

from __future__ import annotations

import errno as _errno
import signal as _signal
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.log.warn import warn
from seccomp_jail.message import Message

U64 = (1 << 64) - 1
# The number of the record of a SIGKILL the jail sent (see docs/log-schema.md):
# named and decoded as the kill(2) it is, numbered apart from the program's.
JAIL_KILL_NR = -1
TASK_KINDS = ("spawn", "exec", "exit")
# The kernel's first real-time signal; strace names them SIGRT_<n> from here.
_SIGRTMIN_KERNEL = 32
_SIGNAL_NAMES = {s.value: s.name for s in _signal.Signals
                 if s.name not in ("SIGRTMIN", "SIGRTMAX")}


class SyscallEvent(NamedTuple):
    """One syscall as the tracer saw and decided it.

    `text` is the decoded call without its result ('openat(AT_FDCWD, ...)');
    `retval` is None when the result is unknown (the task died inside the
    syscall, or the run ended first), and `retval_text` is then "?".
    `duration`: seconds from when the jail let the call run to its return
    (strace -T), None when it did not run or its return is unknown.
    """

    seq: int
    time: float
    pid: int
    tid: int
    nr: int
    syscall: str
    args: tuple[int, ...]
    text: str
    action: str
    origin: str
    retval: int | None
    errno: str | None
    retval_text: str
    rule: str | None
    duration: float | None = None


class TaskEvent(NamedTuple):
    """A task was created ("spawn", detail "thread"|"process"), exec'd a program
    ("exec", detail the executable path) or ended ("exit", detail the wait
    status; None for a task that ended with no status of its own, superseded
    by another thread's execve, as strace puts it)."""

    seq: int
    time: float
    kind: str
    pid: int
    tid: int
    ppid: int
    detail: str | int | None


class SignalEvent(NamedTuple):
    """A signal delivered to a task (strace's '--- SIGINT {si_signo=SIGINT, ...} ---'), or,
    with `stopped`, a task that entered a group-stop by it ('--- stopped by SIGSTOP ---')."""

    seq: int
    time: float
    pid: int
    tid: int
    signo: int
    signal: str
    info: str | None = None  # its siginfo in strace's notation; None when not read
    stopped: bool = False


Event = SyscallEvent | TaskEvent | SignalEvent
_new_tuple = tuple.__new__  # SyscallEvent's fields in one C call: _make is a Python function around it
# NamedTuples, not dataclasses: importing dataclasses costs the writer ~10 ms of start-up.


class Sink(Protocol):
    """Where events go. `flush` ends a batch: sinks buffer until then.
    `where` names the destination for the user (a path, or "stderr")."""

    where: str

    def handle(self, event: Event) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


def signal_name(signo: int) -> str:
    """SIGINT, SIGRT_3 (strace's spelling of real-time signals), or the bare number."""
    name = _SIGNAL_NAMES.get(signo)
    if name:
        return name
    if signo >= _SIGRTMIN_KERNEL:
        return f"SIGRT_{signo - _SIGRTMIN_KERNEL}"
    return str(signo)


def from_raw(raw: Sequence) -> Event:
    """Build the event for one raw record (a tuple, or a list the tracer filled
    in place); raises ValueError/TypeError on a malformed one."""
    tag = raw[0]
    if tag == "S":  # nearly every record: decoded here, in one call
        _, seq, time, pid, tid, nr, args, captured, action, origin, retval, rule, duration = raw
        a0, a1, a2, a3, a4, a5 = args  # ValueError unless exactly six
        if type(args) is not tuple or (a0 | a1 | a2 | a3 | a4 | a5) >> 64:  # a list; negative or too big
            args = (a0 & U64, a1 & U64, a2 & U64, a3 & U64, a4 & U64, a5 & U64)
        name, call_text, result_texts = _DECODERS[nr]
        try:
            text = call_text(args, captured)
            retval_text, errno = result_texts[retval]
        except Exception as exc:  # a decoder bug, whatever it is, must not lose the record
            warn(Message("cannot decode {name}: {error}; logged with raw arguments", name=name, error=repr(exc)))
            text, retval_text, errno = _undecoded(name, args, retval)
        return _new_tuple(SyscallEvent, (seq, float(time), pid, tid, nr, name, args, text, action, origin,
                                         retval, errno, retval_text, rule, duration))
    if tag == "T":
        return _task(*raw[1:])
    if tag == "G":
        _, seq, time, pid, tid, signo, info, stopped = raw
        return SignalEvent(seq, float(time), pid, tid, signo, signal_name(signo), _siginfo(info), bool(stopped))
    raise ValueError(f"unknown record type {tag!r}")


def _siginfo(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    from seccomp_jail.decode.structs import SIGINFO_HEAD, siginfo

    if len(raw) < SIGINFO_HEAD:
        raise ValueError(f"siginfo of {len(raw)} bytes")
    return siginfo(raw)


def _task(seq, time, kind, pid, tid, ppid, detail) -> TaskEvent:
    if kind not in TASK_KINDS:
        raise ValueError(f"unknown task event {kind!r}")
    if kind != "exit":
        detail = str(detail)
        if not detail.isascii():  # an exe path: bytes that are no UTF-8 become \xNN, as strace writes them
            detail = detail.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    elif detail is not None:
        detail = int(detail)
    return TaskEvent(seq, float(time), kind, pid, tid, ppid, detail)


class _Decoders(dict):
    """nr -> (name, call formatter, result texts): one dict lookup per record,
    filled on first use. Bounded, as a program can call any number of unknown
    syscall numbers."""

    MAX = 1024

    def __missing__(self, nr: int) -> tuple:
        # Here, not at import: only the writer process pays for the table and the decoders.
        from seccomp_jail import decode

        name = "kill" if nr == JAIL_KILL_NR else native_table().name(nr)
        found = (name, decode.call_formatter(name), decode.result_texts(name))
        if len(self) < self.MAX:
            self[nr] = found
        return found


_DECODERS = _Decoders()


def _undecoded(name: str, args: tuple[int, ...], retval: int | None) -> tuple[str, str, str | None]:
    """(call text, result text, errno name) without the decoders: raw hexadecimal arguments."""
    text = f"{name}({', '.join(hex(a) for a in args)})"
    if retval is None:
        return text, "?", None
    errno = _errno.errorcode.get(-retval) if -4096 < retval < 0 else None
    return text, (f"-1 {errno}" if errno else str(retval)), errno
