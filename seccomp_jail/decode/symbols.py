"""Symbolic arguments: one enum formatter, one flag formatter, and the named sets built from `tables`.

`SYMBOLS` maps an argument kind (as used in `signatures`) to its formatter;
the same sets give `lookup_constant` its names, so a name printed in a log
line can be written back into a rule condition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from seccomp_jail.decode import tables as t
from seccomp_jail.decode.text import U32, U64, hexnum, s32


class Enum:
    """A value that is one of a list (SEEK_END, SIGKILL, AT_FDCWD); others print as numbers."""

    __slots__ = ("fallback", "names", "norm")

    def __init__(self, *tables: t.Table, norm: Callable[[int], int] = s32, hex_fallback: bool = False) -> None:
        self.names = {value: name for table in tables for value, name in table}
        self.norm = norm  # how the register is read: a C int by default
        self.fallback = hexnum if hex_fallback else str

    def format(self, value: int) -> str:
        value = self.norm(value)
        name = self.names.get(value)
        return self.fallback(value) if name is None else name

    def items(self) -> Iterator[tuple[str, int]]:
        return ((name, value) for value, name in self.names.items())


class Flags:
    """An OR of bits, printed `A|B|0x40` in table order.

    Some flag words carry a small number in a bit field (the access mode of
    open, the mapping type of mmap, the exit signal of clone): `field` names
    it, printed first or, with `field_last`, last; a zero field with no name
    of its own is left out.
    """

    __slots__ = ("bits", "field", "field_last", "field_mask", "mask", "zero")

    def __init__(self, bits: t.Table, *, mask: int = U32, zero: str = "0", field: Enum | None = None,
                 field_mask: int = 0, field_last: bool = False) -> None:
        self.bits = bits
        self.mask = mask
        self.zero = zero
        self.field = field
        self.field_mask = field_mask
        self.field_last = field_last

    def format(self, value: int) -> str:
        value &= self.mask
        parts = []
        field = None
        if self.field is not None:
            number = value & self.field_mask
            value &= ~self.field_mask
            if number or number in self.field.names:
                field = self.field.format(number)
        for bit, name in self.bits:
            if value & bit == bit:
                parts.append(name)
                value &= ~bit
        if value:
            parts.append(hexnum(value))
        if field is not None:
            parts.insert(len(parts) if self.field_last else 0, field)
        return "|".join(parts) or self.zero

    def items(self) -> Iterator[tuple[str, int]]:
        yield from ((name, value) for value, name in self.bits)
        if self.zero != "0":
            yield self.zero, 0
        if self.field is not None:
            yield from self.field.items()


def _u32(value: int) -> int:
    return value & U32


def _u64(value: int) -> int:
    return value & U64


SIGNAL = Enum(t.SIGNALS, t.REALTIME_SIGNALS)
ADDRESS_FAMILY = Enum(t.ADDRESS_FAMILIES)
CLONE3_FLAGS = Flags(t.CLONE3_FLAGS, mask=U64)
OPEN_FLAGS = Flags(t.OPEN_FLAGS, field=Enum(t.OPEN_ACCMODES), field_mask=t.O_ACCMODE)
SOCK_TYPE = Flags(t.SOCK_FLAGS, field=Enum(t.SOCK_TYPES), field_mask=t.SOCK_TYPE_MASK)
PTRACE_EVENT = Enum(t.PTRACE_EVENTS)
SIG_HANDLER = Enum(t.SIG_HANDLERS, norm=_u64, hex_fallback=True)
SA_FLAGS = Flags(t.SA_FLAGS, mask=U64)

SYMBOLS: dict[str, Enum | Flags] = {
    # files
    "dirfd": Enum(t.DIRFDS),
    "open_flags": OPEN_FLAGS,
    "o_flags": Flags(t.OPEN_FLAGS),  # O_ flags without an access mode: pipe2, dup3
    "at_flags": Flags(t.AT_FLAGS),
    "statx_flags": Flags(t.AT_FLAGS, field=Enum(t.STATX_SYNC_TYPES), field_mask=t.STATX_SYNC_TYPE),
    "faccess_flags": Flags(t.FACCESS_FLAGS),
    "access_mode": Flags(t.ACCESS_MODES, zero="F_OK"),
    "rename_flags": Flags(t.RENAME_FLAGS),
    "statx_mask": Flags(t.STATX_MASK),
    "whence": Enum(t.WHENCES),
    "flock_op": Flags(t.FLOCK_OPS),
    "xattr_flags": Flags(t.XATTR_FLAGS),
    "fadvice": Enum(t.FADVICES),
    "falloc_flags": Flags(t.FALLOC_FLAGS),
    "splice_flags": Flags(t.SPLICE_FLAGS),
    "rwf_flags": Flags(t.RWF_FLAGS),
    "close_range_flags": Flags(t.CLOSE_RANGE_FLAGS),
    "mount_flags": Flags(t.MOUNT_FLAGS, mask=U64),
    "umount_flags": Flags(t.UMOUNT_FLAGS),
    "fcntl_cmd": Enum(t.FCNTL_CMDS),
    "fd_flags": Flags(t.FD_FLAGS),
    "seals": Flags(t.SEALS),
    "lease_type": Enum(t.LEASE_TYPES),
    "ioctl_req": Enum(t.IOCTL_REQUESTS, norm=_u32, hex_fallback=True),
    # memory
    "prot": Flags(t.PROT_FLAGS, zero="PROT_NONE"),
    "map_flags": Flags(t.MAP_FLAGS, field=Enum(t.MAP_TYPES), field_mask=t.MAP_TYPE),
    "mremap_flags": Flags(t.MREMAP_FLAGS),
    "msync_flags": Flags(t.MSYNC_FLAGS),
    "mlockall_flags": Flags(t.MLOCKALL_FLAGS),
    "madvice": Enum(t.MADVICES),
    "mfd_flags": Flags(t.MFD_FLAGS),
    # processes
    "clone_flags": Flags(t.CLONE_FLAGS, mask=U64, field=SIGNAL, field_mask=t.CSIGNAL, field_last=True),
    "clone3_flags": CLONE3_FLAGS,
    "ns_flags": Flags(t.NAMESPACE_FLAGS),
    "wait_options": Flags(t.WAIT_OPTIONS),
    "idtype": Enum(t.IDTYPES),
    "pidfd_flags": Flags(t.PIDFD_FLAGS),
    "rlimit": Enum(t.RLIMITS),
    "rusage_who": Enum(t.RUSAGE_WHO),
    "itimer": Enum(t.ITIMERS),
    "prctl_option": Enum(t.PRCTL_OPTIONS, hex_fallback=True),
    "arch_prctl_code": Enum(t.ARCH_PRCTL_CODES, hex_fallback=True),
    "ptrace_req": Enum(t.PTRACE_REQUESTS, norm=_u64, hex_fallback=True),
    "ptrace_opts": Flags(t.PTRACE_OPTIONS),
    "ptrace_event": PTRACE_EVENT,
    "seccomp_op": Enum(t.SECCOMP_OPS, norm=_u32),
    "seccomp_flags": Flags(t.SECCOMP_FLAGS),
    "seccomp_mode": Enum(t.SECCOMP_MODES, norm=_u64),
    # signals
    "signal": SIGNAL,
    "sighow": Enum(t.SIGPROCMASK_HOWS),
    "sa_handler": SIG_HANDLER,
    "sa_flags": SA_FLAGS,
    # time and futexes
    "clockid": Enum(t.CLOCKS),
    "timer_flags": Flags(t.TIMER_FLAGS),
    "tfd_settime_flags": Flags(t.TIMERFD_SETTIME_FLAGS),
    "futex_op": Flags(t.FUTEX_FLAGS, field=Enum(t.FUTEX_OPS), field_mask=t.FUTEX_CMD_MASK | t.FUTEX_PRIVATE_FLAG),
    "futex_bitset": Enum(t.FUTEX_BITSETS, norm=_u32, hex_fallback=True),
    # sockets
    "af": ADDRESS_FAMILY,
    "sock_type": SOCK_TYPE,
    "sock_flags": Flags(t.SOCK_FLAGS),
    "ipproto": Enum(t.IP_PROTOCOLS),
    "netlink_proto": Enum(t.NETLINK_PROTOCOLS),
    "msg_flags": Flags(t.MSG_FLAGS),
    "shut_how": Enum(t.SHUTDOWN_HOWS),
    "sock_level": Enum(t.SOCKET_LEVELS),
    "so_opt": Enum(t.SOCKET_OPTIONS),
    "tcp_opt": Enum(t.TCP_OPTIONS),
    # descriptors with flags of their own
    "epoll_op": Enum(t.EPOLL_CTL_OPS),
    "epoll_flags": Flags(t.EPOLL_FLAGS),
    "efd_flags": Flags(t.EVENTFD_FLAGS),
    "tfd_flags": Flags(t.TIMERFD_FLAGS),
    "sfd_flags": Flags(t.SIGNALFD_FLAGS),
    "inotify_flags": Flags(t.INOTIFY_FLAGS),
    "grnd_flags": Flags(t.GETRANDOM_FLAGS),
    "io_uring_enter_flags": Flags(t.IO_URING_ENTER_FLAGS),
}
