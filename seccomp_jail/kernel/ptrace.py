"""ptrace(2): request numbers, options, and wrappers that tolerate dead tasks.

The tracer's hot path calls `raw` (the bound C function) directly and checks
for -1 itself; everything else uses the wrappers, which raise `TaskGone` when
the task vanished (ESRCH: killed by SIGKILL at any moment, which the jail
must survive) and OSError otherwise.
"""

from __future__ import annotations

import ctypes
import errno
import struct

from seccomp_jail.kernel.libc import libc

PEEKDATA = 2
PEEKUSER = 3
POKEUSER = 6
CONT = 7
KILL = 8
GETREGS = 12
SETREGS = 13
SYSCALL = 24
SETOPTIONS = 0x4200
GETEVENTMSG = 0x4201
GETSIGINFO = 0x4202
SIGINFO_SIZE = 128  # sizeof(siginfo_t): what PTRACE_GETSIGINFO writes
SEIZE = 0x4206
INTERRUPT = 0x4207
LISTEN = 0x4208
GET_SYSCALL_INFO = 0x420E
SET_SYSCALL_INFO = 0x4212

O_TRACESYSGOOD = 0x1
O_TRACEFORK = 0x2
O_TRACEVFORK = 0x4
O_TRACECLONE = 0x8
O_TRACEEXEC = 0x10
O_TRACEVFORKDONE = 0x20
O_TRACEEXIT = 0x40
O_TRACESECCOMP = 0x80
O_EXITKILL = 0x100000

EVENT_FORK = 1
EVENT_VFORK = 2
EVENT_CLONE = 3
EVENT_EXEC = 4
EVENT_VFORK_DONE = 5
EVENT_EXIT = 6
EVENT_SECCOMP = 7
EVENT_STOP = 128

# struct ptrace_syscall_info (linux/ptrace.h), 88 bytes.
INFO_NONE, INFO_ENTRY, INFO_EXIT, INFO_SECCOMP = 0, 1, 2, 3
INFO_SIZE = 88
# op, reserved, flags, arch, ip, sp, nr, args[6], ret_data, reserved2
INFO_SECCOMP_FMT = struct.Struct("<BBHIQQQ6QII")
# op, reserved, flags, arch, ip, sp, rval, is_error
INFO_EXIT_FMT = struct.Struct("<BBHIQQqB")

raw = libc.ptrace
raw.restype = ctypes.c_long
raw.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_ulong, ctypes.c_ulong]


class TaskGone(Exception):
    """The task no longer exists (or is no longer stopped for us)."""


def fail(request: int, pid: int) -> None:
    """Raise the right exception for a ptrace call that returned -1."""
    err = ctypes.get_errno()
    if err == errno.ESRCH:
        raise TaskGone(pid)
    raise OSError(err, f"ptrace({request:#x}, {pid}) failed: {errno.errorcode.get(err, err)}")


def call(request: int, pid: int, addr: int = 0, data: int = 0) -> int:
    ret = raw(request, pid, addr, data)
    if ret == -1:
        fail(request, pid)
    return ret


def seize(pid: int, options: int) -> None:
    call(SEIZE, pid, 0, options)


def geteventmsg(pid: int) -> int:
    buf = ctypes.c_ulong()
    call(GETEVENTMSG, pid, 0, ctypes.addressof(buf))
    return buf.value


def peekuser(pid: int, offset: int) -> int:
    ctypes.set_errno(0)
    ret = raw(PEEKUSER, pid, offset, 0)
    if ret == -1 and ctypes.get_errno():
        fail(PEEKUSER, pid)
    return ret & 0xFFFFFFFFFFFFFFFF


def probe_syscall_info(pid: int) -> tuple[bool, bool]:
    """Whether GET/SET_SYSCALL_INFO work, tried on a task stopped at a seccomp stop.

    GET is in Linux 5.3+, SET in 6.16+; an old kernel answers EIO. SET is
    probed by writing back exactly what GET returned.
    """
    buf = ctypes.create_string_buffer(INFO_SIZE)
    if raw(GET_SYSCALL_INFO, pid, INFO_SIZE, ctypes.addressof(buf)) <= 0:
        return False, False
    if buf.raw[0] != INFO_SECCOMP:
        return True, False
    can_set = raw(SET_SYSCALL_INFO, pid, INFO_SIZE, ctypes.addressof(buf)) == 0
    return True, can_set
