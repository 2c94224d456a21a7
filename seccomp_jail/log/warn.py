"""One-line complaints from the writer process, capped so a bug cannot flood stderr.

Written straight to fd 2: the writer is a forked process whose `sys.stderr`
may be a wrapper with its own buffer (or somebody else's capture).
"""

from __future__ import annotations

from seccomp_jail.log.patient import write_all

_LIMIT = 20
_count = 0


def warn(message: str) -> None:
    """Print `seccomp-jail: log: MESSAGE` on stderr, at most _LIMIT times; never raises."""
    global _count
    _count += 1
    if _count <= _LIMIT:
        _write(message)


def report_suppressed() -> None:
    """Say how many warnings the cap hid (call once, at the end)."""
    if _count > _LIMIT:
        _write(f"{_count - _LIMIT} more warnings not shown")


def _write(message: str) -> None:
    try:
        write_all(2, f"seccomp-jail: log: {message}\n".encode("utf-8", "backslashreplace"))
    except OSError:
        pass
