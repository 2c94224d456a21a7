"""Rule-file parser: table-driven, one row per accepted file or per mistake.

Error rows give the whole one-line message, so each checks the line number,
the wording and the hint at once.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.policy.errors import RuleError
from seccomp_jail.policy.groups import expand_group
from seccomp_jail.policy.model import Action, ArgCondition, Source
from seccomp_jail.policy.parse import load_rules, parse_rules

NR = native_table().number
A = Action

# (id, text, default, default errno, [(syscall numbers, action, errno, header line)])
VALID = [
    (
        "issue-example",
        """\
version = 1
default = "allow-forever"      # action for every syscall no rule names

[[rule]]
syscall = "mkdir"
action = "notify"

[[rule]]
syscall = ["open", "openat"]
action = "abort"
errno = "EACCES"
""",
        A.ALLOW_FOREVER,
        errno.EPERM,
        [
            ((NR("mkdir"),), A.NOTIFY, errno.EPERM, 4),
            ((NR("open"), NR("openat")), A.ABORT, errno.EACCES, 8),
        ],
    ),
    ("no-rules-default-allow", "version = 1\n", A.ALLOW, errno.EPERM, []),
    (
        "numbers-and-names",
        """\
version = 1
[[rule]]
syscall = [39, "getppid", 1023]
action = "allow"
""",
        A.ALLOW,
        errno.EPERM,
        [((39, NR("getppid"), 1023), A.ALLOW, errno.EPERM, 2)],
    ),
    (
        "duplicates-kept-once-in-order",
        """\
version = 1
[[rule]]
syscall = ["write", "read", "write", 0]
action = "abort-forever"
""",
        A.ALLOW,
        errno.EPERM,
        [((1, 0), A.ABORT_FOREVER, errno.EPERM, 2)],
    ),
    (
        "errno-integer-and-zero",
        """\
version = 1
[[rule]]
syscall = "getpid"
action = "abort"
errno = 0
[[rule]]
syscall = "getuid"
action = "abort-forever"
errno = 4095
""",
        A.ALLOW,
        errno.EPERM,
        [((NR("getpid"),), A.ABORT, 0, 2), ((NR("getuid"),), A.ABORT_FOREVER, 4095, 6)],
    ),
    (
        "errno-alias-name",
        """\
version = 1
[[rule]]
syscall = "read"
action = "abort"
errno = "EWOULDBLOCK"
""",
        A.ALLOW,
        errno.EPERM,
        [((0,), A.ABORT, errno.EAGAIN, 2)],
    ),
    (
        "default-abort-with-errno",
        """\
version = 1
default = "abort"
errno = "ENOSYS"
""",
        A.ABORT,
        errno.ENOSYS,
        [],
    ),
    (
        "quoted-and-spaced-header",
        """\
version = 1
[[ "rule" ]]   # a comment with [[rule]] in it
syscall = "getpid"
action = "allow"
""",
        A.ALLOW,
        errno.EPERM,
        [((NR("getpid"),), A.ALLOW, errno.EPERM, 2)],
    ),
    (
        "header-inside-multiline-string-is-text",
        '''\
version = 1
[[rule]]
comment = """
[[rule]]
"""
syscall = "getpid"
action = "allow"
[[rule]]
syscall = "getuid"
action = "allow"
''',
        A.ALLOW,
        errno.EPERM,
        [((NR("getpid"),), A.ALLOW, errno.EPERM, 2), ((NR("getuid"),), A.ALLOW, errno.EPERM, 8)],
    ),
    (
        "strace-class-alias",
        """\
version = 1
[[rule]]
syscall = "%net"
action = "notify"
""",
        A.ALLOW,
        errno.EPERM,
        [(tuple(sorted(NR(n) for n in expand_group("%network"))), A.NOTIFY, errno.EPERM, 2)],
    ),
]


@pytest.mark.parametrize(
    "text,default,default_errno,rules", [r[1:] for r in VALID], ids=[r[0] for r in VALID]
)
def test_valid(text, default, default_errno, rules):
    rs = parse_rules(text, "r.toml")
    assert (rs.default, rs.default_errno, rs.source) == (default, default_errno, "r.toml")
    got = [(r.syscalls, r.action, r.errno, r.source) for r in rs.rules]
    assert got == [(s, a, e, Source("r.toml", line)) for s, a, e, line in rules]


CONDITIONS = [
    ("arg2 & O_ACCMODE == O_WRONLY", ArgCondition(2, "&", 1, 3)),
    ("arg1&O_CREAT|O_EXCL==O_CREAT", ArgCondition(1, "&", 0o100, 0o300)),
    # int arguments: `==` tests the low 32 bits, others the form glibc passes
    (" arg0 != AT_FDCWD ", ArgCondition(0, "!=", 2**32 - 100)),
    ("arg0 == AT_FDCWD", ArgCondition(0, "&", 2**32 - 100, 2**32 - 1)),
    ("arg3 == 0644", ArgCondition(3, "==", 0o644)),
    ("arg2 < 0x10", ArgCondition(2, "<", 16)),
    ("arg2 <= 0b11", ArgCondition(2, "<=", 3)),
    ("arg2 > 0o17", ArgCondition(2, ">", 15)),
    ("arg2 >= -1", ArgCondition(2, ">=", 2**64 - 1)),
]


@pytest.mark.parametrize("text,condition", CONDITIONS, ids=[c for c, _ in CONDITIONS])
def test_condition(text, condition):
    rs = parse_rules(
        V + f'[[rule]]\nsyscall = "openat"\naction = "abort"\nargs = [{text!r}]\n', "r.toml"
    )
    assert rs.rules[0].args == (condition,)


def test_conditions_all_kept_and_symbols_of_other_kinds():
    rs = parse_rules(
        V + '[[rule]]\nsyscall = ["socket", "kill"]\naction = "allow-forever"\n'
        'args = ["arg0 == AF_INET", "arg1 == SIGKILL"]\n',
        "r.toml",
    )
    assert rs.rules[0].args == (ArgCondition(0, "==", 2), ArgCondition(1, "==", 9))


def test_group_expands_in_place_and_keeps_what_was_written():
    rs = parse_rules(
        'version = 1\n[[rule]]\nsyscall = ["getpid", "@mount", 5]\naction = "allow"\n', "r.toml"
    )
    mount = sorted(NR(n) for n in expand_group("@mount"))
    assert NR("mount") in mount and NR("umount2") in mount
    assert rs.rules[0].syscalls == (NR("getpid"), *mount, 5)
    assert rs.rules[0].written == ("getpid", "@mount", "5")


def test_first_matching_rule_wins_order_is_file_order():
    rs = parse_rules(
        'version = 1\n[[rule]]\nsyscall = "read"\naction = "abort"\n'
        '[[rule]]\nsyscall = ["read", "write"]\naction = "allow"\n',
        "r.toml",
    )
    assert [r.action for r in rs.rules_for(0)] == [A.ABORT, A.ALLOW]


V = "version = 1\n"
FORM = "write 'argN OP VALUE' or 'argN & MASK == VALUE', OP one of == != < <= > >="


def with_args(args: str) -> str:
    """A rule file whose rule (header on line 2) has `args = <args>` on line 5."""
    return V + f'[[rule]]\nsyscall = "openat"\naction = "abort"\nargs = {args}\n'


ERRORS = [
    ("toml-syntax", V + '[[rule]]\nsyscall = "mkdir\nACTION', "r.toml:3: TOML syntax error: "),
    ("toml-syntax-end", V + "[[rule]]\nsyscall = [1,\n\n", "r.toml:3: TOML syntax error: "),
    (
        "toml-duplicate-key",
        V + 'default = "allow"\ndefault = "abort"\n',
        "r.toml:3: TOML syntax error: ",
    ),
    (
        "rule-and-table-mixed",
        V + '[rule]\nsyscall = 1\naction = "allow"\n[[rule]]\n',
        "r.toml:5: TOML syntax error: ",
    ),
    (
        "single-table-rule",
        V + 'default = "allow"\n[rule]\nsyscall = 1\naction = "allow"\n',
        "r.toml:3: 'rule' is a single table, not a list of rules (write [[rule]] with double brackets before each rule)",
    ),
    (
        "rule-not-table",
        V + "rule = [1, 2]\n",
        "r.toml:2: each rule must be a table, not an integer (start each rule with a [[rule]] header)",
    ),
    (
        "missing-version",
        'default = "allow"\n',
        "r.toml:1: missing 'version = 1' at the top of the file (this seccomp-jail reads rule files of version 1)",
    ),
    (
        "version-2",
        "# new\nversion = 2\nfuture = true\n",
        "r.toml:2: unsupported rule file version 2 (this seccomp-jail reads rule files of version 1)",
    ),
    (
        "version-string",
        'version = "1"\n',
        "r.toml:1: 'version' must be an integer, not a string (this seccomp-jail reads rule files of version 1)",
    ),
    (
        "unknown-top-key",
        V + 'defualt = "allow"\n',
        "r.toml:2: unknown top-level key 'defualt' (did you mean 'default'?)",
    ),
    ("unknown-top-key-no-hint", V + "zzz = 1\n", "r.toml:2: unknown top-level key 'zzz'"),
    (
        "rule-key-at-top",
        V + 'syscall = "read"\n',
        "r.toml:2: 'syscall' does not belong at the top level (put it below a [[rule]] header)",
    ),
    (
        "top-key-in-rule",
        V + '[[rule]]\nsyscall = 0\naction = "allow"\ndefault = "abort"\n',
        "r.toml:5: 'default' does not belong in a rule (put it above the first [[rule]])",
    ),
    (
        "unknown-rule-key",
        V + '[[rule]]\nsyscal = "read"\naction = "allow"\n',
        "r.toml:3: unknown rule key 'syscal' (did you mean 'syscall'?)",
    ),
    (
        "path-on-syscall-without-path",
        V + '[[rule]]\nsyscall = 0\naction = "allow"\npath = "/etc/**"\n',
        "r.toml:5: 'path' needs syscalls with a path argument; read takes none "
        "(give those syscalls a rule of their own)",
    ),
    ("missing-syscall", V + '[[rule]]\naction = "allow"\n', "r.toml:2: rule has no 'syscall'"),
    ("missing-action", V + "\n[[rule]]\nsyscall = 0\n", "r.toml:3: rule has no 'action'"),
    (
        "unknown-action",
        V + '[[rule]]\nsyscall = 0\naction = "alow"\n',
        "r.toml:4: unknown action 'alow' (did you mean 'allow'?)",
    ),
    (
        "unknown-action-underscore",
        V + '[[rule]]\nsyscall = 0\naction = "abort_forever"\n',
        "r.toml:4: unknown action 'abort_forever' (did you mean 'abort-forever'?)",
    ),
    (
        "unknown-action-no-match",
        V + '[[rule]]\nsyscall = 0\naction = "zzz"\n',
        "r.toml:4: unknown action 'zzz' (one of allow-forever, abort-forever, allow, abort, notify)",
    ),
    (
        "unknown-default",
        V + 'default = "deny"\n',
        "r.toml:2: unknown action 'deny' (one of allow-forever, abort-forever, allow, abort, notify)",
    ),
    (
        "action-wrong-type",
        V + "[[rule]]\nsyscall = 0\naction = 1\n",
        "r.toml:4: 'action' must be a string, not an integer (one of allow-forever, abort-forever, allow, abort, notify)",
    ),
    (
        "unknown-syscall",
        V + 'default = "allow"\n\n\n[[rule]]\nsyscall = "mkdri"\naction = "notify"\n',
        "r.toml:6: unknown syscall 'mkdri' (did you mean 'mkdir'?)",
    ),
    (
        "unknown-syscall-in-multiline-list",
        V + '[[rule]]\nsyscall = [\n  "open",\n  "opne",\n]\naction = "abort"\n',
        "r.toml:3: unknown syscall 'opne' (did you mean 'open'?)",
    ),
    (
        "group-without-at",
        V + '[[rule]]\nsyscall = "file-system"\naction = "abort"\n',
        "r.toml:3: unknown syscall 'file-system' (did you mean '@file-system'?)",
    ),
    (
        "quoted-number",
        V + '[[rule]]\nsyscall = "39"\naction = "abort"\n',
        "r.toml:3: unknown syscall '39' (write numbers without quotes)",
    ),
    (
        "unknown-group",
        V + '[[rule]]\nsyscall = ["read", "@file-sytem"]\naction = "abort"\n',
        "r.toml:3: unknown syscall group '@file-sytem' (did you mean '@file-system'?)",
    ),
    (
        "unknown-strace-class",
        V + '[[rule]]\nsyscall = "%netwrk"\naction = "abort"\n',
        "r.toml:3: unknown syscall group '%netwrk' (did you mean '%network'?)",
    ),
    (
        "syscall-number-too-big",
        V + '[[rule]]\nsyscall = 1024\naction = "abort"\n',
        "r.toml:3: syscall number 1024 is out of range (0 to 1023)",
    ),
    (
        "syscall-number-negative",
        V + '[[rule]]\nsyscall = [-1]\naction = "abort"\n',
        "r.toml:3: syscall number -1 is out of range (0 to 1023)",
    ),
    (
        "syscall-bool",
        V + '[[rule]]\nsyscall = true\naction = "abort"\n',
        "r.toml:3: 'syscall' must be a name, a number, a group or a list of them, not a boolean",
    ),
    (
        "syscall-nested-list",
        V + '[[rule]]\nsyscall = [["read"]]\naction = "abort"\n',
        "r.toml:3: 'syscall' must be a name, a number, a group or a list of them, not an array",
    ),
    (
        "syscall-table",
        V + '[[rule]]\naction = "abort"\n[rule.syscall]\nname = "read"\n',
        "r.toml:4: 'syscall' must be a name, a number, a group or a list of them, not a table",
    ),
    (
        "empty-syscall-list",
        V + '[[rule]]\nsyscall = []\naction = "abort"\n',
        "r.toml:3: 'syscall' is an empty list (name at least one syscall or group)",
    ),
    (
        "unknown-errno",
        V + '[[rule]]\nsyscall = 0\naction = "abort"\nerrno = "EACCESS"\n',
        "r.toml:5: unknown errno 'EACCESS' (did you mean 'EACCES'?)",
    ),
    (
        "errno-lowercase",
        V + '[[rule]]\nsyscall = 0\naction = "abort"\nerrno = "eacces"\n',
        "r.toml:5: unknown errno 'eacces' (did you mean 'EACCES'?)",
    ),
    (
        "errno-quoted-number",
        V + '[[rule]]\nsyscall = 0\naction = "abort"\nerrno = "13"\n',
        "r.toml:5: unknown errno '13' (write numbers without quotes)",
    ),
    (
        "errno-out-of-range",
        V + '[[rule]]\nsyscall = 0\naction = "abort"\nerrno = 4096\n',
        "r.toml:5: errno 4096 is out of range (0 to 4095)",
    ),
    (
        "errno-float",
        V + '[[rule]]\nsyscall = 0\naction = "abort"\nerrno = 1.5\n',
        "r.toml:5: 'errno' must be a name like \"EACCES\" or an integer, not a float",
    ),
    (
        "errno-on-notify",
        V + '[[rule]]\nsyscall = 0\nerrno = "EPERM"\naction = "notify"\n',
        "r.toml:4: 'errno' only applies to abort and abort-forever, not to 'notify' (remove errno or change the action)",
    ),
    (
        "errno-on-allow-default",
        V + 'default = "allow-forever"\nerrno = 1\n',
        "r.toml:3: 'errno' only applies to abort and abort-forever, not to 'allow-forever' "
        "(remove errno or change the action)",
    ),
    (
        "comment-not-string",
        V + '[[rule]]\nsyscall = 0\naction = "allow"\ncomment = 3\n',
        "r.toml:5: 'comment' must be a string, not an integer",
    ),
    (
        "error-in-second-rule-points-there",
        V + '[[rule]]\nsyscall = 0\naction = "allow"\n'
        '[[rule]]\nsyscall = 1\naction = "allow"\nerrno = 1\n',
        "r.toml:8: 'errno' only applies to abort and abort-forever, not to 'allow' (remove errno or change the action)",
    ),
    (
        "inline-rule-points-at-key",
        V + 'rule = [{syscall = "mkdri", action = "allow"}]\n',
        "r.toml:2: unknown syscall 'mkdri' (did you mean 'mkdir'?)",
    ),
    (
        "args-not-list",
        with_args('"arg0 == 1"'),
        "r.toml:5: 'args' must be a list of strings (" + FORM + ")",
    ),
    (
        "args-not-strings",
        with_args("[1]"),
        "r.toml:5: 'args' must be a list of strings (" + FORM + ")",
    ),
    (
        "condition-unreadable",
        with_args('["arg0 = 1"]'),
        "r.toml:5: cannot read condition 'arg0 = 1' (" + FORM + ")",
    ),
    (
        "condition-no-value",
        with_args('["arg0 == "]'),
        "r.toml:5: cannot read condition 'arg0 == ' (" + FORM + ")",
    ),
    (
        "condition-arg6",
        with_args('["arg6 == 1"]'),
        "r.toml:5: no argument arg6 in 'arg6 == 1' (arg0 to arg5)",
    ),
    (
        "condition-arg-the-syscall-lacks",
        with_args('["arg4 == 1"]'),
        "r.toml:5: openat has no argument arg4 (openat takes arg0 to arg3)",
    ),
    (
        "condition-unknown-constant",
        with_args('["arg2 & O_ACCMODE == O_WRONY"]'),
        "r.toml:5: unknown value 'O_WRONY' in a condition (did you mean 'O_WRONLY'?)",
    ),
    (
        "condition-unknown-in-or",
        with_args('["arg2 == O_WRONLY|O_CRAET"]'),
        "r.toml:5: unknown value 'O_CRAET' in a condition (did you mean 'O_CREAT'?)",
    ),
    (
        "condition-nonsense-value",
        with_args('["arg1 == zzz"]'),
        "r.toml:5: unknown value 'zzz' in a condition (an integer or a constant)",
    ),
    (
        "condition-masked-not-equal",
        with_args('["arg2 & 3 != 1"]'),
        "r.toml:5: a masked condition can only test == in 'arg2 & 3 != 1' (the kernel compares (arg & MASK) == VALUE)",
    ),
    (
        "condition-never-holds",
        with_args('["arg2 & 3 == 4"]'),
        "r.toml:5: 'arg2 & 3 == 4' can never hold (VALUE has bits outside MASK)",
    ),
    (
        "condition-too-big",
        with_args('["arg1 == 0x10000000000000000"]'),
        "r.toml:5: value '0x10000000000000000' does not fit in 64 bits",
    ),
    (
        "value-with-newline-stays-one-line",
        V + '[[rule]]\nsyscall = "a\\nb"\naction = "allow"\n',
        "r.toml:3: unknown syscall 'a\\nb'",
    ),
]


@pytest.mark.parametrize("text,expected", [r[1:] for r in ERRORS], ids=[r[0] for r in ERRORS])
def test_error(text, expected):
    with pytest.raises(RuleError) as info:
        parse_rules(text, "r.toml")
    message = str(info.value)
    assert "\n" not in message
    if expected.endswith(": "):  # tomllib's own wording may change between Pythons
        assert message.startswith(expected)
    else:
        assert message == expected
    assert info.value.file == "r.toml"
    assert info.value.line == int(expected.split(":")[1])


def test_single_rule_header_hint_on_clash():
    with pytest.raises(RuleError) as info:
        parse_rules(V + '[rule]\nsyscall = 1\naction = "allow"\n[[rule]]\n', "r.toml")
    assert info.value.hint == "line 2 has [rule]: write [[rule]] for every rule"


def test_error_fields():
    with pytest.raises(RuleError) as info:
        parse_rules(V + '[[rule]]\nsyscall = "mkdri"\naction = "notify"\n', "rules.toml")
    e = info.value
    assert (e.file, e.line, e.message, e.hint) == (
        "rules.toml",
        3,
        "unknown syscall 'mkdri'",
        "did you mean 'mkdir'?",
    )


def test_too_deeply_nested():
    with pytest.raises(RuleError, match="nested too deeply"):
        parse_rules("version = 1\nx = " + "[" * 100_000, "r.toml")


def test_huge_integer():
    with pytest.raises(RuleError, match="^r.toml: TOML syntax error: Exceeds the limit"):
        parse_rules("version = " + "9" * 5000, "r.toml")


def test_long_values_are_shortened():
    with pytest.raises(RuleError) as info:
        parse_rules("version = " + "9" * 4000, "r.toml")
    assert len(str(info.value)) < 200


def test_load_rules_reads_a_file(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(V + '[[rule]]\nsyscall = "mkdir"\naction = "notify"\n')
    rs = load_rules(str(path))
    assert rs.source == str(path) and rs.rules[0].source == Source(str(path), 2)


def test_load_rules_missing_file(tmp_path):
    path = str(tmp_path / "nope.toml")
    with pytest.raises(RuleError) as info:
        load_rules(path)
    assert info.value.line is None
    assert str(info.value) == f"{path}: cannot read rule file: No such file or directory"


def test_load_rules_directory(tmp_path):
    with pytest.raises(RuleError, match="cannot read rule file") as info:
        load_rules(str(tmp_path))
    assert info.value.line is None


def test_load_rules_unreadable(tmp_path):
    """Root reads any file, so a forked child checks it as `nobody` when we are root."""
    path = tmp_path / "r.toml"
    path.write_text(V)
    path.chmod(0)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            try:
                load_rules(str(path))
                message = "no error"
            except RuleError as exc:
                message = str(exc)
            os.write(write_end, message.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    message = os.read(read_end, 4096).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert message.endswith("cannot read rule file: Permission denied"), message


def test_load_rules_not_utf8(tmp_path):
    path = tmp_path / "r.toml"
    path.write_bytes(b"version = 1\n# caf\xe9\n")
    with pytest.raises(RuleError) as info:
        load_rules(str(path))
    assert str(info.value) == f"{path}:2: rule files must be UTF-8 text"


def test_newline_in_file_name_stays_one_line():
    with pytest.raises(RuleError) as info:
        parse_rules("", "a\nb.toml")
    assert "\n" not in str(info.value)


def test_rules_without_conditions_do_not_load_the_decoders():
    """Start-up stays small: the decoders' tables are only for `args`."""
    code = (
        "import sys\n"
        "from seccomp_jail.policy.parse import parse_rules\n"
        "parse_rules('version = 1\\n[[rule]]\\nsyscall = \"@system-service\"\\naction = \"allow\"\\n', 'r')\n"
        "assert not [m for m in sys.modules if m.startswith('seccomp_jail.decode')]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)
