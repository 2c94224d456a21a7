"""Argument kinds: how one argument is captured from the tracee and how it is printed.

A kind has a formatter and at most one capture: at syscall entry (a path, a
buffer being written) or at exit (a buffer being read, the fds pipe() made).
Captures read only what will be printed (32 bytes of a buffer, one more to
know it was cut) and keep the raw bytes; all parsing happens in the
formatter, which runs in the log writer, off the tracer's hot path.

A formatter gets all six arguments, its index and the captured values,
because some arguments are printed from their neighbours (a buffer's length
is the next argument; `[16]` is the length accept() wrote beside the address).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from seccomp_jail.decode import structs
from seccomp_jail.decode.memory import MemReader, read_words
from seccomp_jail.decode.symbols import SYMBOLS
from seccomp_jail.decode.text import U32, hexnum, octal, pointer, quote, s32, s64

STRLEN = 32  # bytes of a string or buffer shown, like strace's default -s 32
PATH_MAX = 4096
ARRAY_MAX = 32  # argv elements shown
ENV_MAX = 4096  # envp entries counted before giving up

Args = tuple[int, ...]
Captured = Mapping[int, object]
Formatter = Callable[[Args, int, Captured], str]
EntryCapture = Callable[[Args, int, MemReader], object]
ExitCapture = Callable[[Args, int, int, MemReader], object]


class Kind:
    """`kept`: printed from its own register alone and worth remembering per
    value (fds, flags, symbols), so the text of a call is kept per value of
    such arguments and only the others are formatted anew. Pointers and sizes
    are not kept: cheap to print, and rarely the same twice.

    A plain class: dataclasses costs the tracer ~18 ms of start-up to import.
    """

    __slots__ = ("fmt", "enter", "exit", "kept")

    def __init__(self, fmt: Formatter, enter: EntryCapture | None = None, exit: ExitCapture | None = None,
                 kept: bool = False) -> None:
        self.fmt = fmt
        self.enter = enter
        self.exit = exit
        self.kept = kept


# --- captures --------------------------------------------------------------------------------

def _string(limit: int) -> EntryCapture:
    def capture(args: Args, i: int, mem: MemReader) -> object:
        return mem.read_str(args[i], limit) if args[i] else None
    return capture


def _struct_in(size: int) -> EntryCapture:
    def capture(args: Args, i: int, mem: MemReader) -> object:
        return mem.read(args[i], size) if args[i] else None
    return capture


def _struct_out(size: int) -> ExitCapture:
    def capture(args: Args, i: int, retval: int, mem: MemReader) -> object:
        return mem.read(args[i], size) if args[i] else None
    return capture


def _sized_in(limit: int) -> EntryCapture:
    """A buffer whose length is the next argument, of which `limit` bytes are kept."""
    def capture(args: Args, i: int, mem: MemReader) -> object:
        size = min(args[i + 1], limit)
        return mem.read(args[i], size) if args[i] and size else None
    return capture


def _read_out(args: Args, i: int, retval: int, mem: MemReader) -> object:
    """A buffer the syscall filled: its return value says how many bytes."""
    if not args[i]:
        return None
    return mem.read(args[i], min(retval, STRLEN + 1)) if retval else b""


def _path_out(args: Args, i: int, retval: int, mem: MemReader) -> object:
    return mem.read_str(args[i], PATH_MAX) if args[i] else None


def _sockaddr_out(args: Args, i: int, retval: int, mem: MemReader) -> object:
    """The address accept()/recvfrom() wrote, prefixed by the 4-byte length it wrote beside it."""
    if not args[i] or not args[i + 1]:
        return None
    length = mem.read(args[i + 1], 4)
    if not length or len(length) < 4:
        return None
    size = min(int.from_bytes(length, "little"), structs.SOCKADDR_MAX)
    data = mem.read(args[i], size) if size else b""
    return None if data is None else length + data


def _argv(args: Args, i: int, mem: MemReader) -> object:
    """(strings, more): the first ARRAY_MAX strings (an int where a string was unreadable)."""
    if not args[i]:
        return None
    got = read_words(mem, args[i], ARRAY_MAX + 1)
    if got is None:
        return None
    words, complete = got
    items = []
    for word in words[:ARRAY_MAX]:
        text = mem.read_str(word, STRLEN + 1)
        items.append(word if text is None else text)
    return tuple(items), len(words) > ARRAY_MAX or not complete


def _envp(args: Args, i: int, mem: MemReader) -> object:
    """How many variables: the strings themselves are not shown."""
    got = read_words(mem, args[i], ENV_MAX) if args[i] else None
    return len(got[0]) if got and got[1] else None


# --- formatters ------------------------------------------------------------------------------

def _text(limit: int) -> Formatter:
    def fmt(args: Args, i: int, cap: Captured) -> str:
        data = cap.get(i)
        return pointer(args[i]) if data is None else quote(data, limit)
    return fmt


def _struct(render: Callable[[bytes], str], size: int) -> Formatter:
    """A struct captured from its first byte; shorter than `size` (a fault midway), the pointer is shown."""
    def fmt(args: Args, i: int, cap: Captured) -> str:
        data = cap.get(i)
        return pointer(args[i]) if data is None or len(data) < size else render(data)
    return fmt


def _buffer_in(args: Args, i: int, cap: Captured) -> str:
    data = cap.get(i)
    if data is None:
        return '""' if args[i] and not args[i + 1] else pointer(args[i])
    return quote(data, STRLEN) + ("..." if args[i + 1] > STRLEN else "")


def _sockaddr_written(args: Args, i: int, cap: Captured) -> str:
    data = cap.get(i)
    return pointer(args[i]) if not data or len(data) < 4 + 2 else structs.sockaddr(data[4:])


def _socklen_written(args: Args, i: int, cap: Captured) -> str:
    data = cap.get(i - 1)
    return pointer(args[i]) if not data else f"[{int.from_bytes(data[:4], 'little')}]"


def _argv_fmt(args: Args, i: int, cap: Captured) -> str:
    got = cap.get(i)
    if got is None:
        return pointer(args[i])
    items, more = got
    shown = [hexnum(x) if isinstance(x, int) else quote(x, STRLEN) for x in items]
    if more:
        shown.append("...")
    return f"[{', '.join(shown)}]"


def _envp_fmt(args: Args, i: int, cap: Captured) -> str:
    count = cap.get(i)
    if count is None:
        return pointer(args[i])
    return f"{pointer(args[i])} /* {count} var{'' if count == 1 else 's'} */"


def _scalar(render: Callable[[int], str], kept: bool = True) -> Kind:
    return Kind(lambda args, i, cap: render(args[i]), kept=kept)


_INT = _scalar(lambda v: str(s32(v)))

KINDS: dict[str, Kind] = {
    "int": _INT,
    "fd": _INT,
    "pid": _INT,
    "uint": _scalar(lambda v: str(v & U32)),
    "long": _scalar(lambda v: str(s64(v)), kept=False),
    "ulong": _scalar(str, kept=False),
    "size": _scalar(str, kept=False),
    "hex": _scalar(hexnum, kept=False),
    "ptr": _scalar(pointer, kept=False),
    "mode": _scalar(lambda v: octal(v & U32)),
    # entry captures
    "path": Kind(_text(PATH_MAX - 1), enter=_string(PATH_MAX)),
    "str": Kind(_text(STRLEN), enter=_string(STRLEN + 1)),
    "wbuf": Kind(_buffer_in, enter=_sized_in(STRLEN)),
    "argv": Kind(_argv_fmt, enter=_argv),
    "envp": Kind(_envp_fmt, enter=_envp),
    "sockaddr": Kind(_struct(structs.sockaddr, 2), enter=_sized_in(structs.SOCKADDR_MAX)),
    "sigset": Kind(_struct(structs.sigset, structs.SIGSET_SIZE), enter=_struct_in(structs.SIGSET_SIZE)),
    "sigaction": Kind(_struct(structs.sigaction, structs.SIGACTION_SIZE), enter=_struct_in(structs.SIGACTION_SIZE)),
    "timespec": Kind(_struct(structs.timespec, structs.TIMESPEC_SIZE), enter=_struct_in(structs.TIMESPEC_SIZE)),
    "clone_args": Kind(_struct(structs.clone_args, 8), enter=_sized_in(structs.CLONE_ARGS_MAX)),
    # exit captures
    "rbuf": Kind(_text(STRLEN), exit=_read_out),
    "opath": Kind(_text(PATH_MAX - 1), exit=_path_out),
    "sockaddr_out": Kind(_sockaddr_written, exit=_sockaddr_out),
    "socklen_out": Kind(_socklen_written),
    "fds_out": Kind(_struct(structs.fd_pair, 8), exit=_struct_out(8)),
    "sigset_out": Kind(_struct(structs.sigset, structs.SIGSET_SIZE), exit=_struct_out(structs.SIGSET_SIZE)),
    "sigaction_out": Kind(_struct(structs.sigaction, structs.SIGACTION_SIZE),
                          exit=_struct_out(structs.SIGACTION_SIZE)),
    "wstatus_out": Kind(_struct(structs.wait_status, 4), exit=_struct_out(4)),
}
KINDS.update({name: _scalar(symbols.format) for name, symbols in SYMBOLS.items()})
