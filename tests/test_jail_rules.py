"""The original's Test1/Test2 (mkdir allowed or denied by a fixed rule) and
Test3 (the getpid rule changed while the loop runs, through the Python API)."""

from __future__ import annotations

import errno
import json
import sys

from conftest import jail_env, rules_toml, run_process


def only(records: list[dict]) -> dict:
    assert len(records) == 1, records
    return records[0]


def assert_errno(record: dict, name: str) -> None:
    """An aborted call: its errno name, and a result that says it failed."""
    assert record["errno"] == name, record
    assert record["retval"] in (-1, -getattr(errno, name)), record


def test_test1_mkdir_allowed(jail_both, workdir):
    run = jail_both(["mkdir", "test"], rules=rules_toml(
        "allow-forever", {"syscall": "mkdir", "action": "allow"}))
    assert run.status == 0, run.proc.stderr
    assert (workdir / "test").is_dir()
    record = only(run.syscalls("mkdir"))
    assert record["action"] == "allow"
    assert record["origin"] == "rule"
    assert record["retval"] == 0
    assert record["errno"] is None
    assert len(record["args"]) == 6 and all(isinstance(a, int) for a in record["args"])
    assert record["args"][1] == 0o777
    assert '"test"' in record["text"]
    # allow-forever syscalls stay in the kernel and are not logged.
    assert run.syscalls("execve") == []


def test_test2_mkdir_denied(jail_both, workdir, targets):
    run = jail_both([targets["mkdir"], "test1"], rules=rules_toml(
        "allow-forever", {"syscall": "mkdir", "action": "abort", "errno": "EACCES"}))
    assert run.stdout == "mkdir test1 = -1 EACCES\n"
    assert run.status == 1
    assert not (workdir / "test1").exists()
    record = only(run.syscalls("mkdir"))
    assert record["action"] == "abort"
    assert record["origin"] == "rule"
    assert_errno(record, "EACCES")


def test_abort_without_errno_is_eperm(jail, workdir):
    run = jail(["mkdir", "test"], rules=rules_toml(
        "allow-forever", {"syscall": ["mkdir", "mkdirat"], "action": "abort"}))
    assert run.status == 1
    assert "Operation not permitted" in run.proc.stderr
    assert not (workdir / "test").exists()
    assert_errno(only(run.syscalls("mkdir")), "EPERM")


def test_abort_forever_is_not_logged(jail, workdir, targets):
    run = jail([targets["mkdir"]], rules=rules_toml(
        "allow-forever", {"syscall": "mkdir", "action": "abort-forever", "errno": "EROFS"}))
    assert run.stdout == "mkdir test = -1 EROFS\n"
    assert not (workdir / "test").exists()
    assert run.syscalls() == []


def test_rule_by_number_and_first_match_wins(jail, workdir, targets):
    # 83 is mkdir on x86_64; the earlier abort wins over the later allow.
    run = jail([targets["mkdir"]], rules=rules_toml(
        "allow-forever",
        {"syscall": 83, "action": "abort", "errno": "ENOSPC"},
        {"syscall": "mkdir", "action": "allow"}))
    assert run.stdout == "mkdir test = -1 ENOSPC\n"
    assert_errno(only(run.syscalls("mkdir")), "ENOSPC")


def test_default_action_applies_to_unnamed_syscalls(jail, targets):
    run = jail([targets["mkdir"]], rules=rules_toml(
        "allow", {"syscall": "mkdir", "action": "abort-forever"}))
    assert run.stdout == "mkdir test = -1 EPERM\n"
    execs = run.syscalls("execve")
    assert execs and all(r["origin"] == "default" and r["action"] == "allow" for r in execs)
    assert run.syscalls("mkdir") == []


def test_no_rules_logs_everything_like_strace(jail, workdir):
    run = jail(["mkdir", "test"])
    assert run.status == 0
    assert (workdir / "test").is_dir()
    names = [r["syscall"] for r in run.syscalls()]
    assert "execve" in names and "mkdir" in names and "exit_group" in names
    assert all(r["action"] == "allow" for r in run.syscalls())
    for key in ("pid", "tid", "nr", "syscall", "args", "action", "origin", "retval"):
        assert all(key in r for r in run.syscalls()), key


def test_notify_times_out_to_abort(jail, workdir, targets):
    run = jail([targets["mkdir"]], rules=rules_toml(
        "allow-forever", {"syscall": "mkdir", "action": "notify"}),
        options=("--notify-timeout", "0"))
    assert run.stdout == "mkdir test = -1 EPERM\n"
    assert not (workdir / "test").exists()
    record = only(run.syscalls("mkdir"))
    assert record["origin"] == "timeout"
    assert record["action"] == "abort"


def test_notify_timeout_action_allow(jail, workdir, targets):
    run = jail([targets["mkdir"]], rules=rules_toml(
        "allow-forever", {"syscall": "mkdir", "action": "notify"}),
        options=("--notify-timeout", "0.2", "--timeout-action", "allow"))
    assert run.stdout == "mkdir test = 0 OK\n"
    assert (workdir / "test").is_dir()
    record = only(run.syscalls("mkdir"))
    assert (record["origin"], record["action"], record["retval"]) == ("timeout", "allow", 0)


# Test3: a driver process runs the Session and changes the getpid rule as the
# loop's output grows: allow -> abort(EACCES) -> notify (times out at once,
# EPERM) -> both removed, allow again. It prints the line count at each change.
TEST3_DRIVER = r'''
import errno, json, sys, threading, time
from seccomp_jail.session import Session, SessionOptions
from seccomp_jail.policy.model import Action
from seccomp_jail.policy.parse import parse_rules

prog, out, jsonl = sys.argv[1:4]
RULES = """version = 1
default = "allow-forever"

[[rule]]
syscall = "getpid"
action = "allow"
"""
session = Session(parse_rules(RULES, "test3.toml"),
                  SessionOptions(jsonl=jsonl, quiet=True, notify_timeout=0.0))
changes = []


def lines():
    try:
        with open(out) as f:
            return f.read().count("\n")
    except FileNotFoundError:
        return 0


def wait_for(n):
    deadline = time.monotonic() + 30
    while lines() < n:
        if time.monotonic() > deadline:
            raise SystemExit(f"loop stuck before line {n}")
        time.sleep(0.002)


def drive():
    try:
        wait_for(5)
        pids = sorted(session.pids())
        abort = session.rules.add("getpid", Action.ABORT, errno=errno.EACCES)
        changes.append(("abort", lines()))
        wait_for(lines() + 5)
        notify = session.rules.add("getpid", Action.NOTIFY)
        changes.append(("notify", lines()))
        wait_for(lines() + 5)
        session.rules.remove(notify)
        session.rules.remove(abort)
        changes.append(("allow", lines()))
        changes.append(("pids", pids))
    except BaseException as exc:
        changes.append(("error", repr(exc)))


threading.Thread(target=drive, daemon=True).start()
status = session.run([prog, "25", "40", out])
print(json.dumps({"status": status, "changes": changes}))
'''


def test_test3_rules_changed_mid_run(tmp_path, workdir, targets, jail_mode):
    out, jsonl = workdir / "loop.out", tmp_path / "test3.jsonl"
    driver = tmp_path / "driver.py"
    driver.write_text(TEST3_DRIVER)
    done = run_process([sys.executable, str(driver), targets["getpid_loop"], str(out), str(jsonl)],
                       cwd=workdir, env=jail_env(jail_mode))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == 0
    changes = dict((k, v) for k, v in result["changes"])
    assert "error" not in changes, changes["error"]

    results = [line.split() for line in out.read_text().splitlines()]
    assert [int(r[0]) for r in results] == list(range(25))
    pid = int(results[0][1])
    assert changes["pids"] == [pid]
    expected = {"OK": str(pid), "EACCES": "-1", "EPERM": "-1"}
    assert all(expected[r[2]] == r[1] for r in results), results

    # A change is effective for the very next call: calls before the line
    # count seen at the change keep the old rule, later ones get the new one,
    # and only the call in flight at that moment may see either.
    phases = ["OK", "EACCES", "EPERM", "OK"]
    bounds = [changes["abort"], changes["notify"], changes["allow"]]
    kinds = [r[2] for r in results]
    for i, kind in enumerate(kinds):
        phase = sum(1 for at in bounds if at < i)
        allowed = {phases[phase]} | ({phases[phase + 1]} if i in bounds else set())
        assert kind in allowed, (i, bounds, kinds)

    records = [r for r in (json.loads(line) for line in jsonl.read_text().splitlines())
               if r.get("type") == "syscall" and r["syscall"] == "getpid"]
    assert len(records) == 25
    assert all(r["pid"] == pid for r in records)
    seen = [(r["action"], r["origin"], r["errno"]) for r in records]
    meaning = {"OK": ("allow", "rule", None), "EACCES": ("abort", "rule", "EACCES"),
               "EPERM": ("abort", "timeout", "EPERM")}
    assert seen == [meaning[k] for k in kinds]
    assert [r["retval"] for r in records if r["action"] == "allow"] == [pid] * kinds.count("OK")
