"""Symbolic constants for rule conditions: `O_WRONLY|O_CREAT`, `AF_INET`, `SIGKILL`, `EPERM`, `0x10`.

The names are exactly those the decoders print, so whatever a log line
shows can be pasted into a rule.
"""

from __future__ import annotations

import functools
import re

from seccomp_jail.decode.retval import ERRNO_CONSTANTS
from seccomp_jail.decode.symbols import SYMBOLS
from seccomp_jail.decode.tables import ALIASES

# C integer literals: 0x1f, 0o17 or C's 017, 0b101, 17, with an optional minus.
_INTEGER = re.compile(r"-?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[1-9][0-9]*|0)")


@functools.cache
def _index() -> dict[str, int]:
    """Every name -> value; a name with two values is a bug in the tables, so it raises."""
    index: dict[str, int] = {}
    pairs = [pair for symbols in SYMBOLS.values() for pair in symbols.items()]
    pairs += [(name, value) for value, name in ALIASES]
    pairs += ERRNO_CONSTANTS.items()
    for name, value in pairs:
        if index.setdefault(name, value) != value:
            raise ValueError(f"constant {name} has two values: {index[name]} and {value}")
    return index


def _term(text: str) -> int | None:
    value = _index().get(text)
    if value is not None or not _INTEGER.fullmatch(text):
        return value
    digits = text.lstrip("-")
    if len(digits) > 1 and digits[0] == "0" and digits[1].isdigit():
        digits = "0o" + digits[1:]  # C's leading-zero octal, e.g. a mode 0644
    number = int(digits, 0)
    return -number if text.startswith("-") else number


def lookup_constant(name: str) -> int | None:
    """The value of a constant, an OR of constants (`O_WRONLY|O_CREAT`) or an integer literal; None if unknown."""
    value = 0
    for term in name.split("|"):
        number = _term(term.strip())
        if number is None:
            return None
        value |= number
    return value


def constant_names() -> list[str]:
    return sorted(_index())
