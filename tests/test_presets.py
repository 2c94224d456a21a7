"""Each shipped preset, run with real programs: what it forbids fails with the
right errno, the rest works. Presets are named as `run --rules NAME` names them.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import pytest

from seccomp_jail.policy.parse import parse_rules
from seccomp_jail.policy.presets import (
    UnknownPreset,
    list_presets,
    preset_path,
    preset_text,
)

PRESETS = ["log-all", "notify-writes", "no-network", "no-process-creation", "read-only-fs", "strict-cli"]

# Python one-liners that print the errno name of what they try, or "ok".
TRY = (
    "import errno, os, socket, sys, threading\n"
    "def attempt(what):\n"
    "    try:\n"
    "        what()\n"
    "        print('ok')\n"
    "    except OSError as e:\n"
    "        print(errno.errorcode[e.errno])\n"
)
SOCKET_INET = TRY + "attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))"
SOCKET_INET6 = TRY + "attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))"
SOCKETPAIR = TRY + "pair = socket.socketpair()\nattempt(lambda: pair[0].send(b'x'))"
UNIX_CONNECT = TRY + "attempt(lambda: socket.socket(socket.AF_UNIX).connect('/nonexistent'))"
FORK = TRY + "attempt(lambda: os.fork() or os.wait())"
SPAWN = TRY + "import subprocess\nattempt(lambda: subprocess.run(['true']))"
THREAD = TRY + (
    "t = threading.Thread(target=lambda: print('in thread'))\nt.start()\nt.join()\nprint('joined')"
)
WRITE = TRY + "attempt(lambda: open('new.txt', 'w'))"
PY = sys.executable
HOSTNAME = Path("/etc/hostname").read_text()


def run(jail, preset, argv, **kw):
    return jail(argv, options=("--rules", preset), **kw)


def test_list_presets_has_each_with_a_description():
    listed = dict(list_presets())
    assert sorted(listed) == sorted(PRESETS)
    for name, description in listed.items():
        assert description and "\n" not in description, name
        assert preset_path(name).name == f"{name}.toml"


@pytest.mark.parametrize("name", PRESETS)
def test_preset_is_a_valid_commented_rule_file(name):
    text = preset_text(name)
    assert text.startswith("# ")
    parse_rules(text, name)


def test_unknown_preset():
    with pytest.raises(UnknownPreset) as info:
        preset_path("no-netwrok")
    assert str(info.value) == "no preset 'no-netwrok' (did you mean 'no-network'?)"
    for bad in ("../parse", ".hidden", "a/b"):
        with pytest.raises(UnknownPreset):
            preset_path(bad)


def test_log_all_allows_and_logs_everything(jail):
    result = run(jail, "log-all", ["cat", "/etc/hostname"])
    assert result.status == 0 and result.stdout == HOSTNAME
    calls = result.syscalls()
    assert {"execve", "openat", "read", "write"} <= {r["syscall"] for r in calls}
    assert {r["action"] for r in calls} == {"allow"}


def test_notify_writes(jail, workdir):
    quiet = run(jail, "notify-writes", ["ls", "/"])
    assert quiet.status == 0 and "etc" in quiet.stdout.split()
    assert not [r for r in quiet.syscalls() if r["action"] != "allow"]
    # Nobody answers: --notify-timeout 0 applies --timeout-action at once.
    denied = jail(["touch", "a"], options=("--rules", "notify-writes", "--notify-timeout", "0"))
    assert denied.status != 0 and not (workdir / "a").exists()
    allowed = jail(["touch", "a"], options=("--rules", "notify-writes", "--notify-timeout", "0",
                                            "--timeout-action", "allow"))
    assert allowed.status == 0 and (workdir / "a").exists()
    opens = [r for r in allowed.syscalls("openat") if "a" in r.get("text", "") and r["origin"] != "rule"]
    assert opens, "the write-open reached the tracer and was decided by the timeout"


def test_no_network(jail):
    result = run(jail, "no-network", ["ls", "/"])
    assert result.status == 0 and "etc" in result.stdout.split()
    for code, expected in [(SOCKET_INET, "EACCES"), (SOCKET_INET6, "EACCES"), (SOCKETPAIR, "ok"),
                           (UNIX_CONNECT, "ECONNREFUSED")]:
        out = run(jail, "no-network", [PY, "-c", code])
        assert out.stdout.strip() == expected, (code, out.proc.stderr)


def test_no_process_creation(jail, targets):
    for code, expected in [(FORK, "EPERM"), (SPAWN, "EPERM"), (THREAD, "in thread\njoined")]:
        out = run(jail, "no-process-creation", [PY, "-c", code])
        assert out.stdout.strip() == expected, (code, out.proc.stderr)
    shell = run(jail, "no-process-creation", ["sh", "-c", "ls /; echo after"])
    assert shell.status != 0 and "fork" in shell.proc.stderr.lower() and "etc" not in shell.stdout
    assert len(shell.tasks("spawn")) == 1  # the shell itself, no child


def test_read_only_fs(jail, workdir):
    (workdir / "old.txt").write_text("old\n")
    cat = run(jail, "read-only-fs", ["cat", "old.txt"])
    assert cat.status == 0 and cat.stdout == "old\n"
    for argv in (["touch", "new"], ["mkdir", "d"], ["rm", "old.txt"], ["mv", "old.txt", "x"],
                 ["sh", "-c", "echo x > old.txt"]):
        out = run(jail, "read-only-fs", argv)
        assert out.status != 0 and "Read-only file system" in out.proc.stderr, argv
    out = run(jail, "read-only-fs", [PY, "-c", WRITE])
    assert out.stdout.strip() == "EROFS"
    assert sorted(p.name for p in workdir.iterdir()) == ["old.txt"]
    assert (workdir / "old.txt").read_text() == "old\n"


@pytest.mark.parametrize("argv,expected", [
    (["ls", "/"], "etc"),
    (["cat", "/etc/hostname"], HOSTNAME.strip()),
    (["grep", "-c", "root", "/etc/passwd"], None),
    (["sort", "/etc/hostname"], HOSTNAME.strip()),
    ([PY, "-c", "print(1)"], "1"),
    ([PY, "-c", THREAD], "in thread\njoined"),
])
def test_strict_cli_runs_cli_programs(jail, argv, expected):
    out = run(jail, "strict-cli", argv)
    assert out.status == 0, out.proc.stderr
    if expected:
        assert expected in out.stdout
    # All in the kernel but clone/clone3: nothing else reached the tracer.
    assert {r["syscall"] for r in out.syscalls()} <= {"clone", "clone3"}


def test_strict_cli_denies_the_rest(jail, workdir):
    for code, expected in [(WRITE, "EPERM"), (SOCKET_INET, "EPERM"), (FORK, "EPERM")]:
        out = run(jail, "strict-cli", [PY, "-c", code])
        assert out.stdout.strip() == expected, (code, out.proc.stderr)
    assert not (workdir / "new.txt").exists()
    assert errno.EPERM == parse_rules(preset_text("strict-cli"), "s").default_errno
