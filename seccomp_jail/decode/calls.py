"""Calls printed whole rather than argument by argument, as strace prints them.

clone(2): strace names its arguments and shows only those its flags give a
meaning, so a fork reads `clone(child_stack=NULL, flags=...|SIGCHLD,
child_tidptr=0x7f...)`. The x86_64 order of the registers is flags, stack,
parent_tid, child_tid, tls; strace's order of the names is its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from seccomp_jail.decode.constants import lookup_constant
from seccomp_jail.decode.symbols import SYMBOLS
from seccomp_jail.decode.text import pointer

_PARENT_TID = lookup_constant("CLONE_PARENT_SETTID|CLONE_PIDFD")
_TLS = lookup_constant("CLONE_SETTLS")
_CHILD_TID = lookup_constant("CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID")
_clone_flags = SYMBOLS["clone_flags"].format


def clone(args: tuple[int, ...], captured: Mapping[int, object] | None) -> str:
    flags, stack, parent_tid, child_tid, tls = args[:5]
    parts = [f"child_stack={pointer(stack)}", f"flags={_clone_flags(flags)}"]
    if flags & _PARENT_TID:
        parts.append(f"parent_tid={pointer(parent_tid)}")
    if flags & _TLS:
        parts.append(f"tls={pointer(tls)}")
    if flags & _CHILD_TID:
        parts.append(f"child_tidptr={pointer(child_tid)}")
    return f"clone({', '.join(parts)})"


CALLS: dict[str, Callable[[tuple[int, ...], Mapping[int, object] | None], str]] = {"clone": clone}
