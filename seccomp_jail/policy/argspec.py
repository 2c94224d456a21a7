"""Which arguments of a syscall are paths or socket addresses.

Derived from the decoder's signature table (one place says what each
argument is); path and sockaddr conditions in rules use it to know what to
read, and the parser to reject a `path` on a syscall that has none.
"""

from __future__ import annotations

import functools

from seccomp_jail.decode.signatures import SIGNATURES


def _kinds(name: str) -> list[str]:
    sig = SIGNATURES.get(name)
    return sig.split() if isinstance(sig, str) else []


@functools.cache
def path_args(name: str) -> tuple[tuple[int, int | None], ...]:
    """(path argument, its dirfd argument or None) for each path the syscall takes."""
    kinds = _kinds(name)
    return tuple(
        (i, i - 1 if i > 0 and kinds[i - 1] == "dirfd" else None)
        for i, kind in enumerate(kinds)
        if kind == "path"
    )


@functools.cache
def sockaddr_args(name: str) -> tuple[tuple[int, int], ...]:
    """(sockaddr argument, its length argument) for each address the syscall passes in."""
    kinds = _kinds(name)
    return tuple((i, i + 1) for i, kind in enumerate(kinds) if kind == "sockaddr" and i + 1 < len(kinds))


# Kinds the kernel reads as a 32-bit C int: glibc passes -100 as 0xffffff9c.
INT32_KINDS = frozenset(("fd", "dirfd", "int", "pid", "signal", "af", "whence"))


def is_int32(name: str, arg: int) -> bool:
    kinds = _kinds(name)
    return arg < len(kinds) and kinds[arg] in INT32_KINDS
