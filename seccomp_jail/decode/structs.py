"""Structures behind pointer arguments, from the bytes the tracer captured, in strace's notation.

Each function takes the raw bytes (x86_64 layout, little endian) and
returns the text between the argument commas. They run in the log writer,
never in the tracer.
"""

from __future__ import annotations

from seccomp_jail.decode import tables as t
from seccomp_jail.decode.retval import ERRNO_NAMES
from seccomp_jail.decode.symbols import ADDRESS_FAMILY, CLONE3_FLAGS, PTRACE_EVENT, SA_FLAGS, SIG_HANDLER, SIGNAL, Enum
from seccomp_jail.decode.text import escape, hexnum, pointer

SOCKADDR_MAX = 128  # sizeof(struct sockaddr_storage)
SIGSET_SIZE = 8
SIGACTION_SIZE = 32  # the kernel's struct sigaction: handler, flags, restorer, mask
TIMESPEC_SIZE = 16
CLONE_ARGS_MAX = 88  # struct clone_args up to `cgroup`, the size glibc passes


def _u(data: bytes, start: int, size: int, order: str = "little") -> int:
    return int.from_bytes(data[start:start + size], order)


def _i64(data: bytes, start: int) -> int:
    return int.from_bytes(data[start:start + 8], "little", signed=True)


# --- sockaddr ------------------------------------------------------------------------------

def _sockaddr_unix(data: bytes) -> str:
    path = data[2:]
    if not path:
        return ""
    if path[0] == 0:  # abstract: the name is every byte of the given length, NULs included
        return f', sun_path=@"{escape(path[1:])}"'
    name = path.split(b"\0", 1)[0]
    return f', sun_path="{escape(name)}"'


def _sockaddr_inet(data: bytes) -> str:
    if len(data) < 8:
        return ""
    addr = ".".join(map(str, data[4:8]))
    return f', sin_port=htons({_u(data, 2, 2, "big")}), sin_addr=inet_addr("{addr}")'


def _sockaddr_inet6(data: bytes) -> str:
    if len(data) < 24:
        return ""
    import socket  # here: the tracer imports this package too, and only the log writer formats

    addr = socket.inet_ntop(socket.AF_INET6, data[8:24])
    scope = f", sin6_scope_id={_u(data, 24, 4)}" if len(data) >= 28 else ""
    return (f", sin6_port=htons({_u(data, 2, 2, 'big')}), sin6_flowinfo=htonl({_u(data, 4, 4, 'big')}),"
            f' inet_pton(AF_INET6, "{addr}", &sin6_addr){scope}')


def _sockaddr_netlink(data: bytes) -> str:
    if len(data) < 12:
        return ""
    return f", nl_pid={_u(data, 4, 4)}, nl_groups={_u(data, 8, 4):08x}"


def _sockaddr_other(data: bytes) -> str:
    return f', sa_data="{escape(data[2:])}"' if len(data) > 2 else ""


_SOCKADDR_BODIES = {
    t.AF_UNIX: _sockaddr_unix,
    t.AF_INET: _sockaddr_inet,
    t.AF_INET6: _sockaddr_inet6,
    t.AF_NETLINK: _sockaddr_netlink,
}


def sockaddr(data: bytes) -> str:
    """`{sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("1.2.3.4")}`, from at least the family."""
    family = _u(data, 0, 2)
    body = _SOCKADDR_BODIES.get(family, _sockaddr_other)(data)
    return f"{{sa_family={ADDRESS_FAMILY.format(family)}{body}}}"


# --- small structs -------------------------------------------------------------------------

def sigset(data: bytes) -> str:
    """`[INT TERM]`; a set holding most signals is shown by what it lacks: `~[HUP]`."""
    mask = _u(data, 0, SIGSET_SIZE)
    prefix = ""
    if mask.bit_count() > t.NSIG // 2:
        prefix, mask = "~", ~mask & ((1 << t.NSIG) - 1)
    names = [SIGNAL.format(bit + 1).removeprefix("SIG") for bit in range(t.NSIG) if mask >> bit & 1]
    return f"{prefix}[{' '.join(names)}]"


def sigaction(data: bytes) -> str:
    """`{sa_handler=SIG_IGN, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7f...}`."""
    flags = _u(data, 8, 8)
    text = (f"{{sa_handler={SIG_HANDLER.format(_u(data, 0, 8))}, sa_mask={sigset(data[24:32])},"
            f" sa_flags={SA_FLAGS.format(flags)}")
    if flags & t.SA_RESTORER:
        text += f", sa_restorer={pointer(_u(data, 16, 8))}"
    return text + "}"


def timespec(data: bytes) -> str:
    return f"{{tv_sec={_i64(data, 0)}, tv_nsec={_i64(data, 8)}}}"


def fd_pair(data: bytes) -> str:
    """The two descriptors pipe() and socketpair() wrote: `[3, 4]`."""
    first = int.from_bytes(data[0:4], "little", signed=True)
    second = int.from_bytes(data[4:8], "little", signed=True)
    return f"[{first}, {second}]"


def wait_status(data: bytes) -> str:
    """`[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]` and its siblings, as <sys/wait.h> reads a status."""
    status = _u(data, 0, 4)
    low = status & 0x7F
    if status == 0xFFFF:
        text = "{WIFCONTINUED(s)}"
    elif low == 0:
        text = f"{{WIFEXITED(s) && WEXITSTATUS(s) == {status >> 8 & 0xFF}}}"
    elif low == 0x7F:
        text = f"{{WIFSTOPPED(s) && WSTOPSIG(s) == {SIGNAL.format(status >> 8 & 0xFF)}}}"
        if status >> 16:
            text += f"|{PTRACE_EVENT.format(status >> 16)} << 16"
    else:
        core = " && WCOREDUMP(s)" if status & 0x80 else ""
        text = f"{{WIFSIGNALED(s) && WTERMSIG(s) == {SIGNAL.format(low)}{core}}}"
    return f"[{text}]"


# struct clone_args: (field, formatter, flag that gives it a meaning). `flags` and `exit_signal` are
# always shown, the others when set; pidfd only with CLONE_PIDFD (glibc fills it in regardless).
_CLONE_PIDFD = 0x1000
_CLONE_ARGS = (
    ("flags", CLONE3_FLAGS.format, 0), ("pidfd", pointer, _CLONE_PIDFD), ("child_tid", pointer, 0),
    ("parent_tid", pointer, 0), ("exit_signal", SIGNAL.format, 0), ("stack", pointer, 0),
    ("stack_size", hexnum, 0), ("tls", pointer, 0), ("set_tid", pointer, 0), ("set_tid_size", str, 0),
    ("cgroup", str, 0),
)
_CLONE_ARGS_SHOWN = frozenset(("flags", "exit_signal"))


def clone_args(data: bytes) -> str:
    """`{flags=CLONE_VM|..., exit_signal=SIGCHLD, stack=0x7f..., stack_size=0x7fff80}`."""
    flags = _u(data, 0, 8)
    fields = []
    for i, (name, fmt, needs) in enumerate(_CLONE_ARGS):
        if len(data) < (i + 1) * 8:
            break
        value = _u(data, i * 8, 8)
        if name in _CLONE_ARGS_SHOWN or (value and flags & needs == needs):
            fields.append(f"{name}={fmt(value)}")
    return f"{{{', '.join(fields)}}}"


# --- siginfo -------------------------------------------------------------------------------

SIGINFO_HEAD = 48  # bytes at the start of a siginfo_t that every field shown comes from
_SI_KERNEL = 0x80
_SIGCHLD = 17
_CLD_EXITED = 1


def _i32(data: bytes, start: int) -> int:
    return int.from_bytes(data[start:start + 4], "little", signed=True)


def _sender(d: bytes) -> list[str]:
    return [f"si_pid={_i32(d, 16)}", f"si_uid={_u(d, 20, 4)}"]


def _queued(d: bytes) -> list[str]:
    """sigqueue(3), a POSIX message queue: the sender and the value sent."""
    return [*_sender(d), f"si_int={_i32(d, 24)}", f"si_ptr={pointer(_u(d, 24, 8))}"]


def _timer(d: bytes) -> list[str]:
    return [f"si_timerid={_i32(d, 16)}", f"si_overrun={_i32(d, 20)}", *_queued(d)[2:]]


def _child(d: bytes) -> list[str]:
    code, status = _i32(d, 8), _i32(d, 24)
    shown = str(status) if code == _CLD_EXITED else SIGNAL.format(status)
    return [*_sender(d), f"si_status={shown}", f"si_utime={_i64(d, 32)}", f"si_stime={_i64(d, 40)}"]


def _fault(d: bytes) -> list[str]:
    return [f"si_addr={pointer(_u(d, 16, 8))}"]


def _poll(d: bytes) -> list[str]:
    return [f"si_band={_i64(d, 16)}", f"si_fd={_i32(d, 24)}"]


SIGINFO_ARCH = Enum(t.AUDIT_ARCHES, norm=lambda v: v, hex_fallback=True)


def _seccomp(d: bytes) -> list[str]:
    from seccomp_jail.arch.syscalls import native_table

    nr, arch = _i32(d, 24), _u(d, 28, 4)
    name = native_table().name(nr) if arch == t.AUDIT_ARCHES[0][0] else None
    return [f"si_call_addr={pointer(_u(d, 16, 8))}", f"si_syscall={'__NR_' + name if name else nr}",
            f"si_arch={SIGINFO_ARCH.format(arch)}"]


# The union member a siginfo holds: by si_code when a process sent it, by signal when the kernel did.
_SENT = {0: _sender, -6: _sender, -1: _queued, -3: _queued, -2: _timer}
_BY_SIGNAL = {_SIGCHLD: _child, 4: _fault, 5: _fault, 7: _fault, 8: _fault, 11: _fault, 29: _poll, 31: _seccomp}


def siginfo(data: bytes) -> str:
    """`{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7, si_uid=0, si_status=0, si_utime=0, si_stime=0}`,
    from a siginfo_t (PTRACE_GETSIGINFO) of at least SIGINFO_HEAD bytes."""
    signo, error, code = _i32(data, 0), _i32(data, 4), _i32(data, 8)
    names = dict(t.SIGNAL_CODES.get(signo, ())) if 0 < code < _SI_KERNEL else dict(t.SI_CODES)
    fields = [f"si_signo={SIGNAL.format(signo)}", f"si_code={names.get(code, code)}"]
    if error:
        fields.append(f"si_errno={ERRNO_NAMES.get(error, error)}")
    shown = _SENT.get(code, _sender) if code <= 0 else _BY_SIGNAL.get(signo)
    if code == _SI_KERNEL and shown is not _fault:  # a fault's address is there whoever raised it (int3)
        shown = None
    if shown is not None:
        fields += shown(data)
    return f"{{{', '.join(fields)}}}"
