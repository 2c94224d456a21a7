"""Errors in rule files, and finding the line each one is on.

A rule-file mistake is reported as one line a user can act on:
`rules.toml:7: unknown syscall 'mkdri' (did you mean 'mkdir'?)`; its words
are Messages, so a front end can say it in the user's language. tomllib
gives the parsed data but no positions, so `KeyLines` scans the (already
valid) TOML text once and remembers the line of every table header and key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from seccomp_jail.message import Message, with_hint

# A key path into the parsed document: table and key names, and indexes into
# arrays of tables, e.g. ("rule", 2, "errno") for `errno` in the third [[rule]].
KeyPath = tuple[str | int, ...]


class RuleError(Exception):
    """A mistake in a rule file; `str()` is one line: `file:line: message (hint)`,
    `render(tr)` the same line in the user's language."""

    def __init__(
        self, file: str, line: int | None, message: Message, hint: Message | None = None
    ) -> None:
        super().__init__(file, line, message, hint)
        self.file = file
        self.line = line
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.render()

    def render(self, translate: Callable[[str], str] = str) -> str:
        """The line with our words passed through `translate` (a front end's);
        `file:line: ` stays as it is, as compilers print it in any language."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {with_hint(self.message, self.hint).render(translate)}"
        # Messages quote user text with repr(), but file names and OS messages
        # are not ours: keep the promise of one line whatever they hold.
        return " ".join(text.splitlines())


def did_you_mean(word: str, choices: Iterable[str]) -> Message | None:
    """A "did you mean 'x'?" hint for the closest choice, or None.

    Case is ignored when comparing, so `EACCES` is offered for `eacces`.
    """
    import difflib  # only when there is a mistake to explain

    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return Message("did you mean {choice}?", choice=repr(by_lower[close[0]])) if close else None


def shown(value: object) -> str:
    """A user value as it goes into a message: quoted, escaped, not too long."""
    if not isinstance(value, str | int):
        return type_name(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def type_name(value: object) -> Message:
    """The TOML name of a parsed value's type, for "must be X, not Y" messages."""
    names = {
        bool: Message("a boolean"),
        int: Message("an integer"),
        float: Message("a float"),
        str: Message("a string"),
        list: Message("an array"),
        dict: Message("a table"),
    }
    return names.get(type(value)) or Message("a date or time")


class KeyLines:
    """Line numbers of the headers and keys of a valid TOML text.

    `line(path)` answers for a key path as the parser walks the data; when a
    path has no line of its own (a key inside an inline table, say) it
    answers for the closest enclosing one, so every error gets a line.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines: dict[KeyPath, int] = {}
        self._scan()

    def line(self, path: KeyPath) -> int | None:
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None

    # -- scanning ---------------------------------------------------------
    # The text is valid TOML (tomllib accepted it), so the scanner only has
    # to tell statements apart: headers, keys, and values to skip over,
    # which may span lines (arrays, multi-line strings) and hold `#`, `[`
    # or `=` inside strings.

    def _scan(self) -> None:
        text, i, line = self._text, 0, 1
        table: KeyPath = ()
        arrays: dict[KeyPath, int] = {}  # array-of-tables path -> last index
        while i < len(text):
            c = text[i]
            if c == "\n":
                line += 1
                i += 1
            elif c in " \t\r":
                i += 1
            elif c == "#":
                i = _line_end(text, i)
            elif c == "[":
                is_array = text.startswith("[[", i)
                start = i + (2 if is_array else 1)
                end = _key_end(text, start, "]")
                keys = _decode_key(text[start:end])
                table = _resolve(keys, arrays, is_array)
                self._remember(table, line, 1)
                i = _line_end(text, end)
            else:
                end = _key_end(text, i, "=")
                self._remember(table + _decode_key(text[i:end]), line, len(table) + 1)
                i, line = _skip_value(text, end + 1, line)

    def _remember(self, path: KeyPath, line: int, start: int) -> None:
        """Give `line` to `path` and its prefixes from length `start`, first mention wins."""
        for n in range(start, len(path) + 1):
            self._lines.setdefault(path[:n], line)


def _resolve(keys: KeyPath, arrays: dict[KeyPath, int], is_array: bool) -> KeyPath:
    """Insert array indexes into a header or key path, as TOML defines.

    `[[rule.when]]` means "a new table in `when` of the *last* `rule`"; with
    `is_array`, the final name is a new element of its own array.
    """
    path: KeyPath = ()
    for n, key in enumerate(keys):
        path += (key,)
        if is_array and n == len(keys) - 1:
            index = arrays.get(path, -1) + 1
            arrays[path] = index
            path += (index,)
        elif path in arrays:
            path += (arrays[path],)
    return path


def _decode_key(raw: str) -> KeyPath:
    """The names of a dotted, possibly quoted key; tomllib does the unquoting."""
    import tomllib  # not at the top: a run without a rule file needs RuleError only

    try:
        doc = tomllib.loads(raw + " = 0")
    except tomllib.TOMLDecodeError:
        return ()
    path: KeyPath = ()
    while isinstance(doc, dict) and doc:
        key = next(iter(doc))
        path += (key,)
        doc = doc[key]
    return path


def _line_end(text: str, i: int) -> int:
    """Index of the newline ending the line that holds `i` (or of the end)."""
    end = text.find("\n", i)
    return len(text) if end < 0 else end


def _key_end(text: str, i: int, stop: str) -> int:
    """Index of the `stop` character ending a key that starts at `i`."""
    while i < len(text) and text[i] != stop:
        i = _string_end(text, i) if text[i] in "\"'" else i + 1
    return i


def _skip_value(text: str, i: int, line: int) -> tuple[int, int]:
    """Skip one value; returns the index of its ending newline and its line."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == "\n":
            if depth == 0:
                return i, line
            line += 1
            i += 1
        elif c in "\"'":
            end = _string_end(text, i)
            line += text.count("\n", i, end)
            i = end
        elif c == "#":
            i = _line_end(text, i)
        else:
            depth += (c in "[{") - (c in "]}")
            i += 1
    return i, line


def _string_end(text: str, i: int) -> int:
    """Index just past the string literal starting at `i`, any of TOML's four kinds."""
    quote = text[i]
    multi = text.startswith(quote * 3, i)
    i += 3 if multi else 1
    while i < len(text):
        c = text[i]
        if c == "\\" and quote == '"':
            i += 2
        elif multi and text.startswith(quote * 3, i):
            # Up to two more quotes may belong to the content ('''a''''').
            run = len(text[i : i + 5]) - len(text[i : i + 5].lstrip(quote))
            return i + run
        elif c == quote and not multi:
            return i + 1
        else:
            i += 1
    return i
