"""Tracer-side rule conditions on the real kernel: paths, scopes, counters, made-up results.

Rules are built with the model directly (the rule-file syntax has its own
tests), then the session runs real programs under them.
"""

from __future__ import annotations

import errno
import os

import pytest

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.policy.model import Action, Rule, RuleSet, Scope, When
from seccomp_jail.session import Session, SessionOptions

from conftest import read_jsonl

NR = native_table().number


def run(rules: list[Rule], argv: list[str], tmp_path, cwd=None):
    jsonl = tmp_path / "log.jsonl"
    session = Session(RuleSet(default=Action.ALLOW_FOREVER, rules=rules),
                      SessionOptions(quiet=True, jsonl=str(jsonl)))
    old = os.getcwd()
    os.chdir(cwd or tmp_path)
    try:
        status = session.run(argv)
    finally:
        os.chdir(old)
    return status, [r for r in read_jsonl(jsonl) if r["type"] == "syscall"]


def test_path_glob_on_relative_paths(tmp_path, capfd):
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key").write_text("hidden\n")
    (tmp_path / "open.txt").write_text("visible\n")
    rule = Rule((NR("openat"), NR("open")), Action.ABORT, errno.EACCES, path=(f"{tmp_path}/secret/**",))
    status, records = run([rule], ["cat", "open.txt", "secret/key", "./secret/../secret/key"], tmp_path)
    out, err = capfd.readouterr()
    assert status == 1
    assert out == "visible\n"
    assert err.count("Permission denied") == 2
    denied = [r for r in records if r["action"] == "abort"]
    assert len(denied) == 2 and all(r["errno"] == "EACCES" for r in denied)


def test_when_fails_every_second_call(targets, tmp_path, capfd):
    rule = Rule((NR("getpid"),), Action.ABORT, errno.EIO, when=When(2, None, 2))
    status, _ = run([rule], [targets["decide"], "5"], tmp_path)
    results = [line.split("=")[1] for line in capfd.readouterr().out.splitlines()]
    assert status == 0
    assert [r == "-1" for r in results] == [False, True, False, True, False]


@pytest.mark.parametrize("field, value, shown", [("returns", 4242, "4242"), ("replace_return", 7, "7")])
def test_made_up_results(targets, tmp_path, capfd, field, value, shown):
    action = Action.ABORT if field == "returns" else Action.ALLOW
    rule = Rule((NR("getpid"),), action, **{field: value})
    status, records = run([rule], [targets["decide"], "2"], tmp_path)
    assert status == 0
    assert capfd.readouterr().out.splitlines() == [f"getpid={shown}"] * 2
    assert {r["action"] for r in records if r["syscall"] == "getpid"} == {"fake" if field == "returns" else "tamper"}


def test_scope_under_a_parent_command(targets, tmp_path, capfd):
    """The same program gets a made-up getpid only when a shell started it."""
    rule = Rule((NR("getpid"),), Action.ABORT, returns=5, scope=Scope(under=("sh", "/usr/bin/dash")))
    run([rule], [targets["decide"]], tmp_path)
    direct = capfd.readouterr().out
    run([rule], ["sh", "-c", f"{targets['decide']}; true"], tmp_path)
    via_shell = capfd.readouterr().out
    assert direct != "getpid=5\n" and direct.startswith("getpid=")
    assert via_shell == "getpid=5\n"


def test_scope_exe_glob(targets, tmp_path, capfd):
    """`**` crosses directories, `*` does not: only the first rule applies."""
    rules = [Rule((NR("getpid"),), Action.ABORT, returns=8, scope=Scope(exe=("/*/decide",))),
             Rule((NR("getpid"),), Action.ABORT, returns=9, scope=Scope(exe=("**/decide",)))]
    run(rules, ["sh", "-c", f"{targets['decide']}"], tmp_path)
    assert capfd.readouterr().out == "getpid=9\n"


@pytest.mark.parametrize("action", ["abort-forever", "abort"])
def test_int_argument_compared_as_the_kernel_reads_it(tmp_path, capfd, action):
    """glibc passes AT_FDCWD zero-extended; `arg0 == AT_FDCWD` must still match it."""
    from seccomp_jail.policy.parse import parse_rules

    rules = parse_rules(f'version = 1\ndefault = "allow-forever"\n[[rule]]\nsyscall = "openat"\n'
                        f'action = "{action}"\nerrno = "EACCES"\n'
                        'args = ["arg0 == AT_FDCWD", "arg2 & O_ACCMODE == O_WRONLY"]\n', "r.toml")
    session = Session(rules, SessionOptions(quiet=True))
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        status = session.run(["touch", "f"])
    finally:
        os.chdir(old)
    assert status == 1
    assert "Permission denied" in capfd.readouterr().err
    assert not (tmp_path / "f").exists()


def test_rule_file_keys_end_to_end(targets, jail, workdir):
    """The tracer-side keys as written in a rule file, through `seccomp-jail run`."""
    (workdir / "secret").mkdir()
    rules = f"""
version = 1
default = "allow-forever"

[[rule]]
syscall = "getpid"
action = "abort"
when = "2"
return = 4242
exe = "/**/decide"

[[rule]]
syscall = "getpid"
action = "allow"
when = "3..4"
replace-return = -1

[[rule]]
syscall = ["mkdir", "mkdirat"]
action = "abort"
errno = "EROFS"
path = "{workdir}/secret/**"
"""
    run = jail([targets["decide"], "5"], rules=rules)
    assert run.status == 0
    values = [line.split("=")[1] for line in run.stdout.split()]
    assert values[1] == "4242" and values[2] == values[3] == "-1"
    assert values[0] == values[4] and int(values[0]) > 0
    run = jail(["mkdir", "-p", "secret/a", "open"], rules=rules)
    assert run.status == 1 and (workdir / "open").is_dir() and not (workdir / "secret" / "a").exists()
    assert {r["errno"] for r in run.syscalls() if r["action"] == "abort"} == {"EROFS"}
