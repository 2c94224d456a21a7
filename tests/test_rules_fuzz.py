"""Fuzzing the rule-file parser: whatever the input, RuleError or a RuleSet.

Three sources of input: arbitrary text; text assembled from TOML-ish
fragments (headers, keys, brackets, quotes), which reaches tomllib's error
paths; and valid TOML documents written by a small generator that knows the
line of every key, so KeyLines is checked against the truth as well.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seccomp_jail.policy.errors import KeyLines, RuleError
from seccomp_jail.policy.model import ACTION_NAMES, RuleSet
from seccomp_jail.policy.parse import parse_rules

FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: str) -> None:
    """The property: a RuleSet, or a one-line RuleError pointing into the text."""
    try:
        assert isinstance(parse_rules(text, "f.toml"), RuleSet)
    except RuleError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("f.toml")
        if exc.line is not None:
            assert 1 <= exc.line <= text.count("\n") + 1


@FUZZ
@given(st.text())
def test_random_text(text):
    check(text)


FRAGMENTS = [
    "version = 1",
    "version = 2",
    "[[rule]]",
    "[rule]",
    "[[rule.when]]",
    "[ rule ]",
    "syscall",
    "action",
    "errno",
    "default",
    "=",
    " = ",
    '"',
    "'",
    '"""',
    "'''",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    "\n",
    "\n",
    "\r\n",
    " ",
    "\\",
    "\\u00e9",
    "mkdir",
    '"mkdir"',
    '"@file-system"',
    '"%net"',
    '"abort"',
    '"EACCES"',
    "39",
    "-1",
    "1024",
    "1.5",
    "true",
    "1979-05-27T07:32:00Z",
    "inf",
    "0x10",
    "é",
    "\x00",
    "9" * 4400,
    "\x7f",
    "path",
    '"/etc/**"',
    '"/e/[ab"',
    "addr",
    '"10.0.0.0/8"',
    "port",
    "when",
    '"3+3"',
    '"2..1"',
    "return",
    "replace-return",
    '"-ENOENT"',
    "exe",
    "comm",
    "under",
]


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
def test_toml_ish_fragments(parts):
    check("".join(parts))


# -- valid documents with known key lines -------------------------------

WORDS = st.sampled_from(
    [
        "mkdir",
        "mkdri",
        "@mount",
        "@file-sytem",
        "%desc",
        "%nope",
        "39",
        "EACCES",
        "EPERM",
        "eacces",
        "[[rule]]",
        "a = 1",
        "# x",
        'say "hi" \\',
        *ACTION_NAMES,
        "alow",
    ]
)
NUMBERS = st.one_of(
    st.sampled_from([0, 1, 39, 1023, 1024, 4095, 4096, -1]), st.integers(-(2**63), 2**63 - 1)
)
SCALARS = st.one_of(WORDS, NUMBERS, st.text(max_size=10), st.booleans(), st.floats(allow_nan=False))
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.sampled_from("xyz"), SCALARS, max_size=2),
)
KEYS = st.sampled_from(
    [
        "syscall",
        "action",
        "errno",
        "comment",
        "args",
        "when",
        "path",
        "addr",
        "port",
        "exe",
        "comm",
        "under",
        "return",
        "replace-return",
        "default",
        "version",
        "rule",
        "x-y",
        "quoted key",
        "é",
        "a.b",
    ]
)


def mostly(good, bad):
    """Good values three times in four, so that fuzzing gets past the first check.

    (`st.one_of(good, good, good, bad)` would not do: it flattens `bad`'s own branches.)
    """
    return st.integers(0, 3).flatmap(lambda n: good if n < 3 else bad)


# Rule tables that are valid but for the odd value, so fuzzing reaches every check.
SYSCALL_OK = st.sampled_from(["mkdir", "read", "openat", "connect", "@mount", "%desc", "%net", 0, 39, 1023])
ERRNO_OK = st.sampled_from(["EACCES", "EPERM", "EWOULDBLOCK", 0, 13, 4095])
ACTION_OK = st.sampled_from(["abort", "abort-forever", *ACTION_NAMES])  # errno needs abort
CONDITION = st.builds(
    "{}{}{}{}".format,
    st.sampled_from(["arg0", "arg2", "arg5", " arg1", "arg9", "x"]),
    st.sampled_from(["", " & O_ACCMODE", "&3", " & ", " & 999999999999999999999999"]),
    st.sampled_from([" == ", "!=", " < ", ">=", " = ", ""]),
    st.sampled_from(
        ["O_WRONLY", "O_WRONLY|O_CREAT", "AT_FDCWD", "-1", "0x10", "O_WRONY", "", "1|", "9" * 30]
    ),
)
GLOB = st.sampled_from(["/etc/**", "/a/*/b?", "/[!x]", "/[a", "/x**", "etc", "", "/\x00"])
TEXTS = st.one_of(st.text(max_size=8), st.sampled_from(["make", "a" * 16, "/usr/bin/*", "x/y"]))
ADDR = st.sampled_from(["10.0.0.0/8", "10.0.0.1/8", "::1", "::/0", "1.2.3.4", "nope", "1"])
WHEN = st.one_of(
    st.integers(-1, 5),
    st.sampled_from(["3", "2..4", "3+3", "1+", "2..10+2", "0", "4..2", "1+0", "x", "9" * 40]),
)
RESULT = st.one_of(NUMBERS, st.sampled_from(["0", "-ENOENT", "AT_FDCWD", "-", "O_WRONLY|", "EPERM"]))
MEANT_RULE = st.fixed_dictionaries(
    {
        "syscall": mostly(
            st.one_of(SYSCALL_OK, st.lists(SYSCALL_OK, min_size=1, max_size=3)), VALUES
        ),
        "action": mostly(ACTION_OK, SCALARS),
    },
    optional={
        "errno": mostly(ERRNO_OK, SCALARS),
        "comment": mostly(st.text(max_size=5), SCALARS),
        "args": mostly(st.lists(CONDITION, max_size=3), VALUES),
        "path": mostly(st.one_of(GLOB, st.lists(GLOB, max_size=3)), VALUES),
        "addr": mostly(st.one_of(ADDR, st.lists(ADDR, max_size=3)), VALUES),
        "port": mostly(st.one_of(st.integers(-1, 70000), st.lists(st.integers(0, 65536), max_size=3)), VALUES),
        "exe": mostly(st.one_of(GLOB, st.lists(GLOB, max_size=2)), VALUES),
        "comm": mostly(st.one_of(TEXTS, st.lists(TEXTS, max_size=2)), VALUES),
        "under": mostly(st.one_of(TEXTS, GLOB, st.lists(TEXTS, max_size=2)), VALUES),
        "when": mostly(WHEN, VALUES),
        "return": mostly(RESULT, VALUES),
        "replace-return": mostly(RESULT, VALUES),
    },
)
MEANT_TOP = st.fixed_dictionaries({}, optional={"default": mostly(ACTION_OK, SCALARS)})


def as_rows(table: st.SearchStrategy) -> st.SearchStrategy:
    """(key, value, multiline) rows in any order; arrays written over several lines."""
    return table.flatmap(
        lambda d: st.permutations([(k, v, isinstance(v, list)) for k, v in d.items()])
    )


ANY_TABLE = st.lists(st.tuples(KEYS, VALUES, st.booleans()), max_size=5, unique_by=lambda t: t[0])


def scalar(v) -> str:
    """A TOML scalar; JSON's string escapes are TOML's too."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return "inf" if v == float("inf") else "-inf" if v == float("-inf") else repr(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")


def key(k: str) -> str:
    return k if k.replace("-", "").replace("_", "").isalnum() and k.isascii() else json.dumps(k)


@dataclass
class Doc:
    """Writes TOML line by line, remembering where each key went."""

    lines: list[str] = field(default_factory=list)
    where: dict[tuple, int] = field(default_factory=dict)

    def add(self, text: str, path: tuple | None = None) -> None:
        if path is not None:
            self.where[path] = len(self.lines) + 1
        self.lines.extend(text.split("\n"))

    def value(self, v, multiline: bool) -> str:
        if isinstance(v, list):
            items = [scalar(x) for x in v]
            return (
                "[\n  " + ",\n  ".join(items) + ",\n]"
                if multiline and items
                else "[" + ", ".join(items) + "]"
            )
        if isinstance(v, dict):
            return "{" + ", ".join(f"{key(k)} = {scalar(x)}" for k, x in v.items()) + "}"
        if multiline and isinstance(v, str) and v.isprintable() and "'" not in v and "\\" not in v:
            return f"'''\n[[rule]]\n{v}'''"
        return scalar(v)


@FUZZ
@given(
    top=mostly(as_rows(MEANT_TOP), ANY_TABLE),
    rules=st.lists(mostly(as_rows(MEANT_RULE), ANY_TABLE), max_size=4),
    header=st.sampled_from(["[[rule]]", "[[ rule ]]", '[["rule"]]']),
    version=st.sampled_from([1, 1, 1, 1, 1, None, 2]),
)
def test_valid_toml_documents(top, rules, header, version):
    doc = Doc()
    if version is not None:
        doc.add(f"version = {version}  # [[rule]]", ("version",))
    for k, v, multi in top:
        if k not in ("version", "rule") and "." not in k:
            doc.add(f"{key(k)} = {doc.value(v, multi)}", (k,))
    for n, table in enumerate(rules):
        doc.add("", None)
        doc.add(header + " # a rule", ("rule", n))
        for k, v, multi in table:
            doc.add(f"{key(k)} = {doc.value(v, multi)}", ("rule", n, k))
    text = "\n".join(doc.lines) + "\n"
    tomllib.loads(text)  # the generator writes valid TOML
    lines = KeyLines(text)
    assert {path: lines.line(path) for path in doc.where} == doc.where
    check(text)
