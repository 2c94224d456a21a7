"""The tracer-only rule keys: path, addr, port, exe/comm/under, when, return, replace-return.

Table-driven like test_rules_parse.py: accepted rules with the Rule fields
they become, and mistakes with their whole one-line message.
"""

from __future__ import annotations

import errno

import pytest

from seccomp_jail.policy.errors import RuleError
from seccomp_jail.policy.model import Action, Scope, When
from seccomp_jail.policy.parse import parse_rules

HEAD = "version = 1\n[[rule]]\n"


def rule(body: str):
    (only,) = parse_rules(HEAD + body, "r.toml").rules
    return only


# (id, rule body, {Rule field: expected value})
VALID = [
    ("path-one", 'syscall = "openat"\naction = "abort"\npath = "/etc/**"', {"path": ("/etc/**",)}),
    (
        "path-list-classes",
        'syscall = ["openat", "execve", "renameat2"]\naction = "notify"\npath = ["/a/*/b?", "/t/[!x]*", "/[]]"]',
        {"path": ("/a/*/b?", "/t/[!x]*", "/[]]")},
    ),
    (
        "addr-normalised",
        'syscall = ["connect", "sendto"]\naction = "abort"\naddr = ["10.0.0.0/8", "192.0.2.7", "::1"]',
        {"addr": ("10.0.0.0/8", "192.0.2.7/32", "::1/128")},
    ),
    ("port-int", 'syscall = "bind"\naction = "allow"\nport = 0', {"port": (0,)}),
    ("port-list", 'syscall = "connect"\naction = "allow"\nport = [53, 65535]', {"port": (53, 65535)}),
    (
        "scope",
        'syscall = "read"\naction = "allow"\nexe = "/**/curl"\ncomm = ["make", "cc1"]\nunder = ["make", "/usr/bin/*"]',
        {"scope": Scope(exe=("/**/curl",), comm=("make", "cc1"), under=("make", "/usr/bin/*"))},
    ),
    ("scope-under-only", 'syscall = "read"\naction = "allow"\nunder = "bash"', {"scope": Scope(under=("bash",))}),
    ("no-scope", 'syscall = "read"\naction = "allow"', {"scope": None, "when": None, "returns": None}),
    ("when-int", 'syscall = "write"\naction = "abort"\nwhen = 3', {"when": When(3, None, 0)}),
    ("when-nth", 'syscall = "write"\naction = "abort"\nwhen = "3"', {"when": When(3, None, 0)}),
    ("when-range", 'syscall = "write"\naction = "abort"\nwhen = "2..4"', {"when": When(2, 4, 0)}),
    ("when-every-third", 'syscall = "write"\naction = "abort"\nwhen = "3+3"', {"when": When(3, None, 3)}),
    ("when-plus", 'syscall = "write"\naction = "abort"\nwhen = "1+"', {"when": When(1, None, 1)}),
    ("when-full", 'syscall = "write"\naction = "abort"\nwhen = "2..10+2"', {"when": When(2, 10, 2)}),
    ("return-zero", 'syscall = "unlink"\naction = "abort"\nreturn = 0', {"returns": 0, "errno": errno.EPERM}),
    ("return-negative", 'syscall = "unlink"\naction = "abort"\nreturn = -1', {"returns": -1}),
    ("return-constant", 'syscall = "openat"\naction = "abort"\nreturn = "AT_FDCWD"', {"returns": -100}),
    ("return-minus-errno", 'syscall = "openat"\naction = "abort"\nreturn = "-ENOENT"', {"returns": -errno.ENOENT}),
    ("return-u64-wraps", 'syscall = "getuid"\naction = "abort"\nreturn = 0xffffffffffffffff', {"returns": -1}),
    ("replace-return", 'syscall = "getuid"\naction = "allow"\nreplace-return = 0', {"replace_return": 0}),
    ("when-on-notify", 'syscall = "read"\naction = "notify"\nwhen = "1+"', {"when": When(1, None, 1)}),
]


@pytest.mark.parametrize("body,fields", [r[1:] for r in VALID], ids=[r[0] for r in VALID])
def test_valid(body, fields):
    r = rule(body)
    assert {k: getattr(r, k) for k in fields} == fields
    assert r.needs_tracer == any(v not in ((), None) for k, v in fields.items() if k != "errno")


def test_when_hits_as_strace_counts():
    def take(text: str) -> list[int]:
        when = rule(f'syscall = "write"\naction = "abort"\nwhen = "{text}"').when
        return [n for n in range(1, 13) if when.hit(n)]

    assert take("3") == [3]
    assert take("2..4") == [2, 3, 4]
    assert take("3+3") == [3, 6, 9, 12]
    assert take("1+") == list(range(1, 13))
    assert take("2..10+2") == [2, 4, 6, 8, 10]


ERRORS = [
    (
        "forever-path",
        'syscall = "openat"\naction = "allow-forever"\npath = "/etc/**"',
        "r.toml:5: 'path' needs the tracer: use 'allow' instead of 'allow-forever' "
        "(-forever rules are decided in the kernel filter, which cannot check it)",
    ),
    (
        "forever-when",
        'syscall = "write"\naction = "abort-forever"\ncomment = "x"\nwhen = "3+3"',
        "r.toml:6: 'when' needs the tracer: use 'abort' instead of 'abort-forever' "
        "(-forever rules are decided in the kernel filter, which cannot check it)",
    ),
    (
        "forever-return",
        'syscall = "write"\naction = "abort-forever"\nreturn = 0',
        "r.toml:5: 'return' needs the tracer: use 'abort' instead of 'abort-forever' "
        "(-forever rules are decided in the kernel filter, which cannot check it)",
    ),
    (
        "forever-scope",
        'syscall = "write"\naction = "allow-forever"\ncomm = "make"',
        "r.toml:5: 'comm' needs the tracer: use 'allow' instead of 'allow-forever' "
        "(-forever rules are decided in the kernel filter, which cannot check it)",
    ),
    (
        "path-without-path-arg",
        'syscall = ["openat", "read", "fstat"]\naction = "abort"\npath = "/etc/**"',
        "r.toml:5: 'path' needs syscalls with a path argument; read, fstat take none "
        "(give those syscalls a rule of their own)",
    ),
    (
        "path-on-group",
        'syscall = "@file-system"\naction = "abort"\npath = "/etc/**"',
        "r.toml:5: 'path' needs syscalls with a path argument; close, fstat, fcntl, ftruncate, "
        "getdents, getcwd and 12 more take none (give those syscalls a rule of their own)",
    ),
    (
        "path-relative",
        'syscall = "openat"\naction = "abort"\npath = "etc/*"',
        "r.toml:5: 'etc/*' is not an absolute path glob "
        "(relative paths are resolved before matching; write \"/etc/**\" or \"/**/*.conf\")",
    ),
    (
        "path-half-doublestar",
        'syscall = "openat"\naction = "abort"\npath = "/etc/a**"',
        "r.toml:5: '**' must be a whole path component in '/etc/a**' "
        "(write '/a/**/b' for any depth, '*' within one component)",
    ),
    (
        "path-unclosed-class",
        'syscall = "openat"\naction = "abort"\npath = ["/ok", "/e/[ab/c]"]',
        "r.toml:5: unclosed '[' in '/e/[ab/c]' (close the character class with ']' within one path component)",
    ),
    ("path-empty-list", 'syscall = "openat"\naction = "abort"\npath = []',
     "r.toml:5: 'path' is an empty list (give at least one glob like \"/etc/**\")"),
    ("path-empty-string", 'syscall = "openat"\naction = "abort"\npath = ""',
     "r.toml:5: 'path' has an empty string (give a glob like \"/etc/**\")"),
    ("path-wrong-type", 'syscall = "openat"\naction = "abort"\npath = 1',
     "r.toml:5: 'path' must be a string or a list of strings, not an integer"),
    (
        "addr-on-socket",
        'syscall = ["connect", "socket"]\naction = "abort"\naddr = "10.0.0.0/8"',
        "r.toml:5: 'addr' needs syscalls with a socket address argument; socket takes none "
        "(give those syscalls a rule of their own)",
    ),
    ("addr-host-bits", 'syscall = "connect"\naction = "abort"\naddr = "10.1.2.3/8"',
     "r.toml:5: '10.1.2.3/8' has bits set outside its prefix (did you mean '10.0.0.0/8'?)"),
    ("addr-garbage", 'syscall = "connect"\naction = "abort"\naddr = "localhost"',
     "r.toml:5: 'localhost' is not an IP address or network "
     "(write \"192.0.2.7\", \"10.0.0.0/8\" or \"2001:db8::/32\")"),
    ("port-range", 'syscall = "connect"\naction = "abort"\nport = 65536',
     "r.toml:5: port 65536 is out of range (0 to 65535)"),
    ("port-string", 'syscall = "connect"\naction = "abort"\nport = "53"',
     "r.toml:5: 'port' must be a port number or a non-empty list of them (0 to 65535)"),
    ("port-on-read", 'syscall = "read"\naction = "abort"\nport = 53',
     "r.toml:5: 'port' needs syscalls with a socket address argument; read takes none "
     "(give those syscalls a rule of their own)"),
    ("exe-relative", 'syscall = "read"\naction = "abort"\nexe = "curl"',
     "r.toml:5: 'curl' is not an absolute path glob "
     "(relative paths are resolved before matching; write \"/usr/bin/curl\" or \"/**/curl\")"),
    ("comm-too-long", 'syscall = "read"\naction = "abort"\ncomm = "systemd-resolved"',
     "r.toml:5: command name 'systemd-resolved' is longer than 15 bytes "
     "(the kernel keeps the first 15: write 'systemd-resolve')"),
    ("comm-slash", 'syscall = "read"\naction = "abort"\ncomm = "bin/make"',
     "r.toml:5: command name 'bin/make' has a '/' (use 'exe' for executable paths)"),
    ("under-bad-glob", 'syscall = "read"\naction = "abort"\nunder = "/usr/**x"',
     "r.toml:5: '**' must be a whole path component in '/usr/**x' "
     "(write '/a/**/b' for any depth, '*' within one component)"),
    ("when-zero", 'syscall = "read"\naction = "abort"\nwhen = 0',
     "r.toml:5: 'when' 0 is out of range (1 to 2147483647)"),
    ("when-backwards", 'syscall = "read"\naction = "abort"\nwhen = "5..2"',
     "r.toml:5: 'when' '5..2' ends before it starts (FIRST..LAST with LAST >= FIRST)"),
    ("when-step-zero", 'syscall = "read"\naction = "abort"\nwhen = "1+0"',
     "r.toml:5: 0 in 'when' '1+0' is out of range (1 to 2147483647)"),
    ("when-garbage", 'syscall = "read"\naction = "abort"\nwhen = "every 3"',
     "r.toml:5: cannot read 'when' 'every 3' "
     "(write N, 'FIRST..LAST', 'FIRST+STEP' or 'FIRST..LAST+STEP', counting from 1)"),
    ("when-float", 'syscall = "read"\naction = "abort"\nwhen = 1.5',
     "r.toml:5: 'when' must be a string or an integer, not a float "
     "(write N, 'FIRST..LAST', 'FIRST+STEP' or 'FIRST..LAST+STEP', counting from 1)"),
    ("return-with-allow", 'syscall = "read"\naction = "allow"\nreturn = 0',
     "r.toml:5: 'return' only goes with action 'abort', not 'allow' "
     "(with 'abort' it skips the syscall and returns the value)"),
    ("replace-return-with-abort", 'syscall = "read"\naction = "abort"\nreplace-return = 0',
     "r.toml:5: 'replace-return' only goes with action 'allow', not 'abort' "
     "(with 'allow' it lets the syscall run, then replaces its result)"),
    ("return-with-notify", 'syscall = "read"\naction = "notify"\nreturn = 0',
     "r.toml:5: 'return' only goes with action 'abort', not 'notify' "
     "(with 'abort' it skips the syscall and returns the value)"),
    ("errno-and-return", 'syscall = "read"\naction = "abort"\nerrno = "EIO"\nreturn = 0',
     "r.toml:5: 'errno' and 'return' both set the result (keep one: errno = E makes the syscall return -E)"),
    ("return-unknown", 'syscall = "read"\naction = "abort"\nreturn = "AT_FDCDW"',
     "r.toml:5: unknown value 'AT_FDCDW' in 'return' (did you mean 'AT_FDCWD'?)"),
    ("return-float", 'syscall = "read"\naction = "abort"\nreturn = 0.5',
     "r.toml:5: 'return' must be an integer or a constant name, not a float"),
    ("return-min-accepted", 'syscall = "read"\naction = "abort"\nreturn = -9223372036854775808\nwhen = "x"',
     "r.toml:6: cannot read 'when' 'x' "
     "(write N, 'FIRST..LAST', 'FIRST+STEP' or 'FIRST..LAST+STEP', counting from 1)"),
    ("misspelt-key", 'syscall = "read"\naction = "abort"\nretrun = 0',
     "r.toml:5: unknown rule key 'retrun' (did you mean 'return'?)"),
    ("unknown-table", 'syscall = "read"\naction = "abort"\n[x]\n',
     "r.toml:5: unknown top-level key 'x'"),
]


@pytest.mark.parametrize("body,expected", [r[1:] for r in ERRORS], ids=[r[0] for r in ERRORS])
def test_error(body, expected):
    with pytest.raises(RuleError) as info:
        parse_rules(HEAD + body + "\n", "r.toml")
    assert str(info.value) == expected


def test_path_at_top_level_belongs_in_a_rule():
    with pytest.raises(RuleError, match=r"r.toml:2: 'path' does not belong at the top level"):
        parse_rules('version = 1\npath = "/etc"\n', "r.toml")


def test_tracer_keys_make_a_rule_changeable_not_kernel_only():
    r = rule('syscall = "openat"\naction = "abort"\npath = "/etc/**"\nerrno = "EACCES"')
    assert r.action is Action.ABORT and r.errno == errno.EACCES
    assert r.needs_tracer and not r.kernel_only
