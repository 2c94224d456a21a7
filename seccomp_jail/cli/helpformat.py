"""Help formatting for every seccomp-jail parser, without shutil.

argparse's own formatter asks `shutil.get_terminal_size` for the width, and
importing shutil (with bz2 and lzma) costs a few milliseconds on every start,
`run` included, since argparse makes a formatter for each `add_argument`.
`terminal_columns` reads the width the same way, straight from os.
"""

from __future__ import annotations

import argparse
import os
import sys


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
    """Descriptions and epilogs printed as written, options wrapped to the terminal."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:
            width = terminal_columns() - 2  # the margin argparse leaves
        super().__init__(prog, indent_increment, max_help_position, width)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser formatting with HelpFormatter; its subparsers are Parsers too
    (argparse makes them of the parent's class)."""

    def __init__(self, *args, formatter_class: type = HelpFormatter, **kwargs) -> None:
        super().__init__(*args, formatter_class=formatter_class, **kwargs)
