"""How numbers and byte strings are spelled in a decoded call, as strace spells them.

Strings are quoted C-style with octal escapes (`"\\177ELF\\2\\1"`), a string cut
short is followed by `...` outside the quotes, and hexadecimal zero is `0`
(C's `%#x`), so that a log line reads the same as `strace` would print it.
"""

from __future__ import annotations

import re

U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF


def _escapes() -> list[str]:
    """One escape per byte: printable ASCII as itself, C's letter escapes, else the shortest octal."""
    table = [f"\\{b:o}" for b in range(256)]
    for b in range(0x20, 0x7F):
        table[b] = chr(b)
    letters = {0x22: '\\"', 0x5C: "\\\\", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r"}
    for b, esc in letters.items():
        table[b] = esc
    return table


_ESCAPES = _escapes()
# A short octal escape followed by an octal digit would swallow it: those get three digits.
_SHORT_OCTAL = frozenset(b for b in range(256) if _ESCAPES[b][1:].isdigit())
_OCTAL_DIGITS = frozenset(b"01234567")
_NEEDS_ESCAPE = re.compile(rb'[^\x20\x21\x23-\x5b\x5d-\x7e]')
_SWALLOWS = re.compile(b"[%s][0-7]" % re.escape(bytes(sorted(_SHORT_OCTAL))))


def s32(value: int) -> int:
    """A C `int` argument: the low 32 bits, signed (the upper half of the register is ignored)."""
    value &= U32
    return value - (1 << 32) if value >> 31 else value


def s64(value: int) -> int:
    value &= U64
    return value - (1 << 64) if value >> 63 else value


def hexnum(value: int) -> str:
    """C's `%#lx`: `0` for zero, `0x1f` otherwise."""
    return hex(value) if value else "0"  # hex(): the same text as f"{value:#x}", faster


def pointer(value: int) -> str:
    return hex(value) if value else "NULL"


def octal(value: int) -> str:
    """C's `%#03o`, strace's file mode: `0644`, `022`, `000`."""
    return ("0" + format(value, "o") if value else "0").rjust(3, "0")


def escape(data: bytes) -> str:
    """The inside of a C string literal holding `data`."""
    if not _NEEDS_ESCAPE.search(data):
        return data.decode("ascii")
    if not _SWALLOWS.search(data):  # the usual binary data: byte by byte in C
        return "".join(map(_ESCAPES.__getitem__, data))
    out = []
    last = len(data) - 1
    for i, b in enumerate(data):
        if b in _SHORT_OCTAL and i < last and data[i + 1] in _OCTAL_DIGITS:
            out.append(f"\\{b:03o}")
        else:
            out.append(_ESCAPES[b])
    return "".join(out)


def quote(data: bytes, limit: int) -> str:
    """`data` as a C string literal, cut after `limit` bytes with strace's `...` mark."""
    if len(data) <= limit and data.isascii():  # most paths need no escape; these tests beat a regex
        text = data.decode("ascii")
        if text.isprintable() and '"' not in text and "\\" not in text:
            return f'"{text}"'
    if len(data) > limit:
        return f'"{escape(data[:limit])}"...'
    return f'"{escape(data)}"'
