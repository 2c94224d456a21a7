"""Syscall names and numbers, from libseccomp's tables.

The installed libseccomp may be older than the kernel: numbers it does not
name are filled from `_NEWER`, the syscalls added to Linux after
libseccomp 2.5.4. Since Linux 5.1 new syscalls get the same number on every
architecture, so this small table is arch-independent.
"""

from __future__ import annotations

import functools

from seccomp_jail.kernel import libseccomp

_NEWER = {
    451: "cachestat",
    452: "fchmodat2",
    453: "map_shadow_stack",
    454: "futex_wake",
    455: "futex_wait",
    456: "futex_requeue",
    457: "statmount",
    458: "listmount",
    459: "lsm_get_self_attr",
    460: "lsm_set_self_attr",
    461: "lsm_list_modules",
    462: "mseal",
    463: "setxattrat",
    464: "getxattrat",
    465: "listxattrat",
    466: "removexattrat",
    467: "open_tree_attr",
    468: "file_getattr",
    469: "file_setattr",
}

# Numbers we look up in libseccomp; every architecture tops out in the 400s.
_SCAN_LIMIT = 512


class SyscallTable:
    """Name <-> number for one architecture; unknown numbers have no name."""

    def __init__(self, arch: int = libseccomp.ARCH_X86_64) -> None:
        self.arch = arch
        names: dict[int, str] = {}
        for nr in range(_SCAN_LIMIT):
            name = libseccomp.resolve_num(nr, arch)
            if name is not None:
                names[nr] = name
        for nr, name in _NEWER.items():
            names.setdefault(nr, name)
        self._by_nr = names
        self._by_name = {name: nr for nr, name in names.items()}
        self.numbers_set = frozenset(names)
        size = max(names) + 1
        # A list indexed by number: the tracer's hot path reads it.
        self.names_by_nr: list[str | None] = [names.get(nr) for nr in range(size)]

    def name(self, nr: int) -> str:
        """The name, or `syscall_<nr>` for a number no table knows (strace's style)."""
        return self._by_nr.get(nr) or f"syscall_{nr}"

    def number(self, name: str) -> int | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def numbers(self) -> list[int]:
        return sorted(self._by_nr)


@functools.cache
def native_table() -> SyscallTable:
    return SyscallTable(libseccomp.arch_native())
