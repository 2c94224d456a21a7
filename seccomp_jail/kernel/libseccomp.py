"""Thin ctypes binding to the system libseccomp (libseccomp2 on Debian and deepin).

Why not a PyPI binding: the official Python binding (python3-seccomp) is built
for the distribution's own interpreter only, and pyseccomp has been
unmaintained since 2021. We need a dozen functions, so we bind them here.
"""

from __future__ import annotations

import ctypes
import os
from typing import NamedTuple

from seccomp_jail.kernel.libc import load_library

try:
    _lib = load_library("libseccomp.so.2", "seccomp")
except OSError as exc:  # pragma: no cover - depends on the host
    raise ImportError(
        "libseccomp is not installed (Debian/deepin: apt install libseccomp2)"
    ) from exc

# Actions (seccomp.h). The low 16 bits carry data for ERRNO and TRACE.
ACT_KILL_PROCESS = 0x80000000
ACT_KILL_THREAD = 0x00000000
ACT_TRAP = 0x00030000
ACT_NOTIFY = 0x7FC00000
ACT_LOG = 0x7FFC0000
ACT_ALLOW = 0x7FFF0000


def ACT_ERRNO(errno: int) -> int:
    return 0x00050000 | (errno & 0xFFFF)


def ACT_TRACE(data: int = 0) -> int:
    return 0x7FF00000 | (data & 0xFFFF)


# Filter attributes.
ATTR_ACT_DEFAULT = 1
ATTR_ACT_BADARCH = 2
ATTR_CTL_NNP = 3
ATTR_CTL_OPTIMIZE = 8

# Comparison operators (enum scmp_compare).
CMP_NE, CMP_LT, CMP_LE, CMP_EQ, CMP_GE, CMP_GT, CMP_MASKED_EQ = range(1, 8)

ARCH_X86_64 = 0xC000003E
ARCH_X86 = 0x40000003
ARCH_X32 = 0x4000003E
ARCH_AARCH64 = 0xC00000B7


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


class ArgCmp(NamedTuple):
    """One argument comparison: `args[arg] OP a` (MASKED_EQ: `args[arg] & a == b`)."""

    arg: int
    op: int
    a: int
    b: int = 0


def _bind(name: str, restype, argtypes):
    fn = getattr(_lib, name)
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


_init = _bind("seccomp_init", ctypes.c_void_p, [ctypes.c_uint32])
_release = _bind("seccomp_release", None, [ctypes.c_void_p])
_attr_set = _bind("seccomp_attr_set", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32])
_rule_add_array = _bind(
    "seccomp_rule_add_array",
    ctypes.c_int,
    [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)],
)
_export_bpf = _bind("seccomp_export_bpf", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int])
_export_pfc = _bind("seccomp_export_pfc", ctypes.c_int, [ctypes.c_void_p, ctypes.c_int])
_resolve_name_arch = _bind("seccomp_syscall_resolve_name_arch", ctypes.c_int, [ctypes.c_uint32, ctypes.c_char_p])
# Returns a malloc()ed string: keep it as a raw pointer so we can free it.
_resolve_num_arch = _bind("seccomp_syscall_resolve_num_arch", ctypes.c_void_p, [ctypes.c_uint32, ctypes.c_int])
_arch_native = _bind("seccomp_arch_native", ctypes.c_uint32, [])

_free = ctypes.CDLL(None).free  # the process's own malloc, which libseccomp used
_free.argtypes = [ctypes.c_void_p]
_free.restype = None


def _check(ret: int, what: str) -> None:
    if ret < 0:
        raise OSError(-ret, f"libseccomp {what}: {os.strerror(-ret)}")


def arch_native() -> int:
    return _arch_native()


def resolve_name(name: str, arch: int = ARCH_X86_64) -> int | None:
    """Syscall number of `name` on `arch`, or None when libseccomp does not know it."""
    nr = _resolve_name_arch(arch, name.encode())
    return nr if nr >= 0 else None


def resolve_num(nr: int, arch: int = ARCH_X86_64) -> str | None:
    ptr = _resolve_num_arch(arch, nr)
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode()
    finally:
        _free(ptr)


class Filter:
    """A libseccomp filter context; build it, then export the BPF program."""

    def __init__(self, default_action: int) -> None:
        self._ctx = _init(default_action)
        if not self._ctx:
            raise OSError("seccomp_init failed")

    def close(self) -> None:
        if self._ctx:
            _release(self._ctx)
            self._ctx = None

    def __enter__(self) -> "Filter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_attr(self, attr: int, value: int) -> None:
        _check(_attr_set(self._ctx, attr, value), f"attr {attr}")

    def add_rule(self, action: int, nr: int, conds: tuple[ArgCmp, ...] = ()) -> None:
        arr = (_ArgCmp * max(1, len(conds)))(*[_ArgCmp(c.arg, c.op, c.a, c.b) for c in conds])
        _check(_rule_add_array(self._ctx, action, nr, len(conds), arr), f"rule nr={nr}")

    def _export(self, fn, what: str) -> bytes:
        fd = os.memfd_create("seccomp-jail-" + what)
        try:
            _check(fn(self._ctx, fd), "export " + what)
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)

    def export_bpf(self) -> bytes:
        """The raw `struct sock_filter[]` program, ready for seccomp(2)."""
        return self._export(_export_bpf, "bpf")

    def export_pfc(self) -> str:
        """libseccomp's pseudo-filter-code listing, for humans."""
        return self._export(_export_pfc, "pfc").decode()
