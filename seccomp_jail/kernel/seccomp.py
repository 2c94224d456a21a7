"""Installing a BPF program with seccomp(2), from the child just before exec."""

from __future__ import annotations

import ctypes
import errno
import struct

from seccomp_jail.kernel import libc

SYS_SECCOMP = 317  # x86_64; the child runs on the native arch
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
PR_SET_NO_NEW_PRIVS = 38

# struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}
INSN = struct.Struct("<HBBI")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_filter(bpf: bytes) -> None:
    """Load `bpf` for the calling thread (inherited by every descendant).

    Without CAP_SYS_ADMIN the kernel demands no_new_privs first; as root we
    skip it so that setuid programs keep working inside the jail.
    """
    buf = ctypes.create_string_buffer(bpf, len(bpf))
    prog = _SockFprog(len(bpf) // INSN.size, ctypes.addressof(buf))
    try:
        libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, ctypes.c_void_p(ctypes.addressof(prog)))
    except OSError as exc:
        if exc.errno != errno.EACCES:
            raise
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1)
        libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, ctypes.c_void_p(ctypes.addressof(prog)))
