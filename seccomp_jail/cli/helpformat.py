"""Help formatting for every seccomp-jail parser, without shutil.

argparse's own formatter asks `shutil.get_terminal_size` for the width, and
importing shutil (with bz2 and lzma) costs a few milliseconds on every start,
`run` included, since argparse makes a formatter for each `add_argument`.
`terminal_columns` reads the width the same way, straight from os.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from collections.abc import Iterable

from seccomp_jail.i18n import tr


def terminal_columns(fallback: int = 80) -> int:
    """The terminal's width as shutil.get_terminal_size sees it: $COLUMNS, else
    the size of the terminal on stdout, else `fallback`."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):  # no stdout, closed, or not a terminal
            columns = 0
    return columns or fallback


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs printed as written, options wrapped to the
    terminal, every text in the user's language (seccomp_jail.i18n): help is
    translated as it is printed, so the parsers are written in English only."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = terminal_columns() - 2  # the margin argparse leaves
        super().__init__(prog, indent_increment, max_help_position, width)

    def _format_text(self, text: str) -> str:
        return super()._format_text(tr(text))

    def _get_help_string(self, action: argparse.Action) -> str | None:
        return tr(action.help) if action.help else action.help

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap_text(text, width)

    def start_section(self, heading: str | None) -> None:
        super().start_section(tr(heading) if heading else heading)


def translate_argparse() -> None:
    """argparse's own words ("usage:", its error messages) come through its
    module-level gettext `_`: through our catalog instead. In English too,
    where it is empty: gettext searches the system's locale folders at
    every call, milliseconds of each jail's start-up."""
    argparse._ = tr
    argparse.ngettext = lambda singular, plural, n: tr(singular if n == 1 else plural)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser formatting with HelpFormatter; its subparsers are Parsers too
    (argparse makes them of the parent's class)."""

    def __init__(self, *args, formatter_class: type = HelpFormatter, **kwargs) -> None:
        super().__init__(*args, formatter_class=formatter_class, **kwargs)


_UNITS = re.compile(r"[\x21-\x7e]+| |.")  # an ASCII word, a space, or one other character
_NO_LINE_START = frozenset("，。、；：！？）」』】")  # hang past the margin instead


def display_width(text: str) -> int:
    """Terminal columns: a wide (CJK) character takes two."""
    if text.isascii():
        return len(text)
    import unicodedata  # here: only translated text pays for it, not every start

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def joined(words: Iterable[str], pair: str) -> str:
    """`a or b or c`, `pair` being the translated "{a} or {b}": a list as the
    user's language says it, where a comma would be English."""
    return functools.reduce(lambda a, b: pair.format(a=a, b=b), words)


def pad(text: str, columns: int, right: bool = False) -> str:
    """`text` filled with spaces to `columns` terminal columns, after it (or
    before it, `right`): str.ljust and rjust count characters, and a column of
    translated words would not line up."""
    fill = " " * max(0, columns - display_width(text))
    return fill + text if right else text + fill


def wrap_text(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns, runs of white space made one: as
    textwrap makes them from English, as `wrap_wide` from translated text."""
    text = " ".join(text.split())
    if text.isascii():
        import textwrap  # here: as argparse imports it, when help is printed

        return textwrap.wrap(text, width)
    return wrap_wide(text, width)


def wrap_wide(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns (closing punctuation may hang past
    it). textwrap counts characters and breaks at spaces only; Chinese text
    has two-column characters and few spaces, and may break between any two
    of its characters."""
    lines, line, used = [], "", 0
    for unit in _UNITS.findall(text):
        size = display_width(unit)
        if used + size > width and line.strip() and unit not in _NO_LINE_START:
            lines.append(line.rstrip())
            line, used = ("", 0) if unit == " " else (unit, size)
        else:
            line, used = line + unit, used + size
    if line.strip():
        lines.append(line.rstrip())
    return lines
