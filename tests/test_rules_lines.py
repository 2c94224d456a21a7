"""KeyLines: the line of every header and key of a TOML text (tomllib gives none)."""

from __future__ import annotations

import tomllib

import pytest

from seccomp_jail.policy.errors import KeyLines, did_you_mean, shown

TEXT = '''\
# comment with [[rule]] and key = 1
version = 1
default = "allow"  # [[rule]]
say = "\\" [ \\\\"
note = """
[[rule]]
x = 1
"""
lit = \'\'\'it's [[rule]]\'\'\'\'\'

[[rule]]
syscall = [
  "open",  # ] not the end
  '[[rule]]',
]
action = "notify"
[[ "rule" ]]
a.b = 1
"quoted key" = { x = "}", y = [1, 2] }
errno = "EPERM"
[[rule.when]]
n = 1
[rule.extra]
y = 2
[[rule]]
'''

ROWS = [
    (("version",), 2),
    (("default",), 3),
    (("say",), 4),
    (("note",), 5),
    (("lit",), 9),
    (("rule",), 11),
    (("rule", 0), 11),
    (("rule", 0, "syscall"), 12),
    (("rule", 0, "action"), 16),
    (("rule", 1), 17),
    (("rule", 1, "a"), 18),
    (("rule", 1, "a", "b"), 18),
    (("rule", 1, "quoted key"), 19),
    (("rule", 1, "quoted key", "x"), 19),  # inside an inline table: the key's line
    (("rule", 1, "errno"), 20),
    (("rule", 1, "when", 0), 21),
    (("rule", 1, "when", 0, "n"), 22),
    (("rule", 1, "extra"), 23),
    (("rule", 1, "extra", "y"), 24),
    (("rule", 2), 25),
    (("rule", 2, "syscall"), 25),  # missing key: its rule's header
    (("absent",), None),
    ((), None),
]


@pytest.mark.parametrize("path,line", ROWS, ids=[".".join(map(str, p)) or "root" for p, _ in ROWS])
def test_line(path, line):
    assert KeyLines(TEXT).line(path) == line


def test_text_is_valid_toml():
    assert tomllib.loads(TEXT)["rule"][1]["when"] == [{"n": 1}]


def test_crlf_line_ends():
    lines = KeyLines('version = 1\r\n[[rule]]\r\naction = "x"\r\n')
    assert (lines.line(("rule", 0)), lines.line(("rule", 0, "action"))) == (2, 3)


@pytest.mark.parametrize(
    "word,choices,hint",
    [
        ("mkdri", ["mkdir", "rmdir"], "did you mean 'mkdir'?"),
        ("EACCES".lower(), ["EACCES"], "did you mean 'EACCES'?"),
        ("zzz", ["mkdir"], None),
    ],
)
def test_did_you_mean(word, choices, hint):
    assert did_you_mean(word, choices) == hint


def test_shown_quotes_escapes_and_shortens():
    assert shown("a\nb") == "'a\\nb'"
    assert shown(3) == "3"
    assert shown(1.5) == "a float"
    assert len(shown("x" * 500)) == 60
