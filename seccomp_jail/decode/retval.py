"""Return values: `3`, `-1 ENOENT (No such file or directory)`, `? ERESTARTSYS (...)`.

The kernel returns -errno in -4095..-1. Names come from Python's errno
module (glibc's list), with strace's choice where two names share a value,
plus the kernel-internal restart codes a tracer sees when a signal
interrupts a syscall that will be restarted.
"""

from __future__ import annotations

import errno as _errno
import functools
import os
from collections.abc import Callable

from seccomp_jail.decode.text import s64

MAX_ERRNO = 4095

# Where glibc has two names for one value, strace prints these.
_PREFERRED = {_errno.EAGAIN: "EAGAIN", _errno.EDEADLK: "EDEADLK", _errno.EOPNOTSUPP: "EOPNOTSUPP"}
_MISSING = {133: "EHWPOISON"}  # newer than Python's errno module
# include/linux/errno.h: never returned to a program, but seen by a tracer at syscall exit.
_RESTARTS = {
    512: ("ERESTARTSYS", "To be restarted if SA_RESTART is set"),
    513: ("ERESTARTNOINTR", "To be restarted"),
    514: ("ERESTARTNOHAND", "To be restarted if no handler"),
    516: ("ERESTART_RESTARTBLOCK", "Interrupted by signal"),
}
_KERNEL_INTERNAL = {515: "ENOIOCTLCMD"} | {code: name for code, (name, _) in _RESTARTS.items()}

ERRNO_NAMES: dict[int, str] = {**_errno.errorcode, **_PREFERRED, **_MISSING, **_KERNEL_INTERNAL}
# Names a rule may use: every spelling, the restart codes excepted (a program never sees them).
ERRNO_CONSTANTS: dict[str, int] = {
    **{name: getattr(_errno, name) for name in dir(_errno) if name.startswith("E")},
    **{name: code for code, name in _MISSING.items()},
}


def errno_of(retval: int) -> int | None:
    """The errno a return value carries, or None for a success."""
    value = s64(retval)
    return -value if -MAX_ERRNO <= value <= -1 else None


def errno_name(retval: int | None) -> str | None:
    code = None if retval is None else errno_of(retval)
    return None if code is None else ERRNO_NAMES.get(code)


def format_error(code: int) -> str:
    restart = _RESTARTS.get(code)
    if restart is not None:
        return f"? {restart[0]} ({restart[1]})"
    return f"-1 {ERRNO_NAMES.get(code, code)} ({os.strerror(code)})"


class ResultTexts(dict):
    """retval -> (`format_retval`'s text, `errno_name`), for results printed by
    `render` (str, or hexnum for an address); None gives ("?", None).

    For the log writer, which reads one per record: a mapping that fills
    itself, so a result seen before (0, a small count, an errno) costs one
    dict lookup. Bounded: addresses rarely repeat.
    """

    __slots__ = ("render",)
    MAX = 4096

    def __init__(self, render: Callable[[int], str]) -> None:
        super().__init__()
        self.render = render

    def __missing__(self, retval: int | None) -> tuple[str, str | None]:
        if len(self) >= self.MAX:
            self.clear()
        texts = self[retval] = self._texts(retval)
        return texts

    def _texts(self, retval: int | None) -> tuple[str, str | None]:
        if retval is None:
            return "?", None
        value = s64(retval)
        code = errno_of(value)
        if code is None:
            return self.render(value), None
        return format_error(code), ERRNO_NAMES.get(code)


@functools.cache
def result_texts(render: Callable[[int], str]) -> ResultTexts:
    """The one `ResultTexts` of `render`, shared by every syscall printed with it."""
    return ResultTexts(render)
