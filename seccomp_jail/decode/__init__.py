"""strace-style decoding of x86_64 syscall arguments and return values.

Two halves, split by process: the tracer calls `capture_plan` /
`exit_capture_plan` once per syscall name and runs the returned functions
at every stop to copy the few bytes worth showing out of the tracee (raw,
unparsed); the log writer calls `format_call` / `format_retval` on the
record later (through `call_formatter` / `result_texts`, which keep
what repeats). Everything here is pure: memory comes in through `MemReader`.

What each syscall's arguments are is data (`signatures`), printed by one
formatter per argument kind (`kinds`, `symbols`); the few calls strace
prints in a shape of their own have a formatter of their own (`calls`).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

from seccomp_jail.decode.calls import CALLS
from seccomp_jail.decode.constants import constant_names, lookup_constant
from seccomp_jail.decode.kinds import KINDS, Kind
from seccomp_jail.decode.memory import MemReader
from seccomp_jail.decode.retval import ResultTexts, errno_name
from seccomp_jail.decode.retval import result_texts as _result_texts
from seccomp_jail.decode.signatures import RESULTS, SIGNATURES, SWITCHES
from seccomp_jail.decode.text import U64, hexnum

__all__ = [
    "MemReader",
    "call_formatter",
    "capture_plan",
    "constant_names",
    "errno_name",
    "exit_capture_plan",
    "format_call",
    "format_retval",
    "lookup_constant",
    "result_texts",
]

NARGS = 6
_MAX_RESULT = (1 << 63) - 1

Captured = dict[int, object]
EntryPlan = Callable[[tuple[int, ...], MemReader], Captured]
ExitPlan = Callable[[tuple[int, ...], int, MemReader], Captured]
CallFormatter = Callable[[tuple[int, ...], Captured | None], str]


class _Signature:
    """The argument kinds of one syscall; with a switch, the kinds depend on the value of argument `selector`."""

    __slots__ = ("kinds", "selector", "mask", "variants")

    def __init__(self, kinds: tuple[Kind, ...], selector: int = -1, mask: int = 0,
                 variants: dict[int, tuple[Kind, ...]] | None = None) -> None:
        self.kinds = kinds
        self.selector = selector
        self.mask = mask
        self.variants = variants

    def kinds_for(self, args: tuple[int, ...]) -> tuple[Kind, ...]:
        if self.variants is None:
            return self.kinds
        return self.variants.get(args[self.selector] & self.mask, self.kinds)


def _kinds(text: str) -> tuple[Kind, ...]:
    return tuple(KINDS[word] for word in text.split())


@functools.cache
def _signature(name: str) -> _Signature | None:
    text = SIGNATURES.get(name)
    if text is None:
        return None
    kinds = _kinds(text)
    if name not in SWITCHES:
        return _Signature(kinds)
    mask, tails, default = SWITCHES[name]
    variants = {}
    for values, tail in tails.items():
        for value in values.split():
            number = lookup_constant(value)
            if number is None:
                raise ValueError(f"{name}: unknown constant {value} in SWITCHES")
            variants[number & mask] = kinds + _kinds(tail)
    return _Signature(kinds + _kinds(default), len(kinds) - 1, mask, variants)


Steps = tuple[tuple[int, Callable], ...]


def _steps(kinds: tuple[Kind, ...], when: str) -> Steps:
    """(argument index, capture function) for the arguments captured at entry or at exit."""
    return tuple((i, getattr(kind, when)) for i, kind in enumerate(kinds) if getattr(kind, when))


def _choose_steps(name: str, when: str) -> Callable[[tuple[int, ...]], Steps] | None:
    """A function of the arguments giving the captures to make; None when there is never any."""
    sig = _signature(name)
    if sig is None:
        return None
    default = _steps(sig.kinds, when)
    by_value = {value: _steps(kinds, when) for value, kinds in (sig.variants or {}).items()}
    if all(steps == default for steps in by_value.values()):
        if not default:
            return None
        fixed = lambda args: default  # noqa: E731
        fixed.steps = default  # for capture_plan's one-capture fast path
        return fixed
    selector, mask = sig.selector, sig.mask
    return lambda args: by_value.get(args[selector] & mask, default)


def capture_plan(name: str) -> EntryPlan | None:
    """What to copy out of the tracee at syscall entry: a function (args, mem) -> {arg index: captured}.

    None when nothing is needed, which is the common case and the fast path.
    The function does only the reads its syscall needs; call this once per
    name and keep the result.
    """
    choose = _choose_steps(name, "enter")
    if choose is None:
        return None
    steps = getattr(choose, "steps", ())
    if len(steps) == 1:  # most calls: one path or string, whatever the other arguments
        ((index, one),) = steps
        return lambda args, mem: {index: one(args, index, mem)}
    return lambda args, mem: {i: capture(args, i, mem) for i, capture in choose(args)}


def exit_capture_plan(name: str) -> ExitPlan | None:
    """The same at syscall exit, given the return value: what read() put in its buffer, pipe()'s fds.

    A failed syscall wrote nothing, so nothing is read then.
    """
    choose = _choose_steps(name, "exit")
    if choose is None:
        return None

    def plan(args: tuple[int, ...], retval: int, mem: MemReader) -> Captured:
        if not 0 <= retval <= _MAX_RESULT:
            return {}
        return {i: capture(args, i, retval, mem) for i, capture in choose(args)}
    return plan


def captures_at_exit(name: str | None) -> bool:
    """Whether `exit_capture_plan(name)` could ever read anything: the same
    answer from the table's words alone, without building the plans (the
    tracer asks it of every syscall number while the jail starts)."""
    text = SIGNATURES.get(name)
    if text is None:
        return False
    words = text.split()
    if name in SWITCHES:
        _, tails, default = SWITCHES[name]
        words += default.split()
        for tail in tails.values():
            words += tail.split()
    return any(KINDS[word].exit for word in words)


def format_call(name: str, args: tuple[int, ...], captured: Captured | None) -> str:
    """`openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)`, without ` = result`.

    `captured` is what the entry and exit plans returned, merged. A syscall
    with no row in the table shows its six arguments in hexadecimal.
    """
    args = tuple(a & U64 for a in args) + (0,) * (NARGS - len(args))
    return call_formatter(name)(args, captured)


def call_formatter(name: str) -> CallFormatter:
    """`format_call` for one syscall, for a caller that formats many: it takes six
    arguments already in 0..2**64-1.

    Much of a call's text comes from arguments (fds, flags) that repeat from
    call to call while paths, buffers and pointers change: the text around
    the changing arguments is kept per value of the repeating ones (`Kind.kept`),
    so a call costs one lookup plus formatting what changes.
    """
    if name in CALLS:
        return CALLS[name]
    if name in SIGNATURES:
        return _known_call_formatter(name)
    return lambda args, captured: f"{name}({', '.join(hexnum(a) for a in args)})"


def result_texts(name: str) -> ResultTexts:
    """retval -> (`format_retval(name, retval)`, `errno_name(retval)`), for the same
    caller: a mapping, filled as it is read."""
    return _result_texts(RESULTS.get(name, str))


def format_retval(name: str, retval: int | None) -> str:
    """`3`, `-1 ENOENT (No such file or directory)`, `0x7f12a000` for mmap, `?` when unknown."""
    return result_texts(name)[retval][0]


# A call's text from its arguments and captures, with the kept arguments' text built in.
_Fill = Callable[[tuple[int, ...], Captured], str]
# Per syscall; a bound for unusual programs (many fds, flags that keep changing).
_FILLS_MAX = 4096
_NO_CAPTURE: Captured = {}


@functools.cache
def _known_call_formatter(name: str) -> CallFormatter:
    sig = _signature(name)
    positions = _kept_positions(sig)
    key_of = operator.itemgetter(*positions) if positions else lambda args: None
    fills: dict[object, _Fill] = {}

    def format_one(args: tuple[int, ...], captured: Captured | None) -> str:
        key = key_of(args)
        fill = fills.get(key)
        if fill is None:
            if len(fills) >= _FILLS_MAX:
                fills.clear()
            fill = fills[key] = _fill(name, sig.kinds_for(args), args)
        return fill(args, captured or _NO_CAPTURE)
    return format_one


def _kept_positions(sig: _Signature) -> tuple[int, ...]:
    """The arguments a fill depends on: the selector of the variants and
    every argument that is kept in one of them."""
    positions = {sig.selector} if sig.selector >= 0 else set()
    for kinds in (sig.kinds, *(sig.variants or {}).values()):
        positions.update(i for i, kind in enumerate(kinds) if kind.kept)
    return tuple(sorted(positions))


def _fill(name: str, kinds: tuple[Kind, ...], args: tuple[int, ...]) -> _Fill:
    """The text of calls whose kept arguments are those of `args`: fixed text
    around the other arguments, formatted at each call. The usual shapes (no
    such argument, one, two) get a function of their own, one f-string each."""
    pieces = [f"{name}("]
    holes = []
    for i, kind in enumerate(kinds):
        if i:
            pieces[-1] += ", "
        if kind.kept:
            pieces[-1] += kind.fmt(args, i, _NO_CAPTURE)
        else:
            holes.append((i, kind.fmt))
            pieces.append("")
    pieces[-1] += ")"
    if not holes:
        text = pieces[0]
        return lambda args, cap: text
    if len(holes) == 1:
        (i, f), (head, tail) = holes[0], pieces
        return lambda args, cap: f"{head}{f(args, i, cap)}{tail}"
    if len(holes) == 2:
        (i, f), (j, g) = holes
        head, middle, tail = pieces
        return lambda args, cap: f"{head}{f(args, i, cap)}{middle}{g(args, j, cap)}{tail}"
    parts = tuple((i, f, after) for (i, f), after in zip(holes, pieces[1:]))
    head = pieces[0]
    return lambda args, cap: head + "".join(f(args, i, cap) + after for i, f, after in parts)
