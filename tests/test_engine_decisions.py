"""Decisions on held syscalls through the session API, on the real kernel.

The original's Test4 (edit getpid into getuid), fake and tamper results,
kill, and several pending decisions answered out of order; each in both
ways of changing a syscall (PTRACE_SET_SYSCALL_INFO and registers).
"""

from __future__ import annotations

import os
import threading

import pytest

from seccomp_jail.policy.parse import parse_rules
from seccomp_jail.session import Decision, Session, SessionOptions

from conftest import read_jsonl

NOTIFY_GETPID = """
version = 1
default = "allow-forever"
[[rule]]
syscall = "getpid"
action = "notify"
"""

SYS_GETUID = 102


@pytest.fixture(params=[True, False], ids=["syscall-info", "registers"])
def use_info(request) -> bool:
    return request.param


def run_deciding(target: str, args: list[str], decide, tmp_path, use_info: bool, timeout: float | None = 20):
    """Run target with getpid on notify; `decide(session, pending)` answers each hold."""
    jsonl = tmp_path / "log.jsonl"
    session = Session(parse_rules(NOTIFY_GETPID, "rules.toml"),
                      SessionOptions(quiet=True, jsonl=str(jsonl), notify_timeout=timeout,
                                     use_syscall_info=use_info))
    session.on_pending(lambda p: threading.Thread(target=decide, args=(session, p)).start())
    status = session.run([target, *args])
    return status, [r for r in read_jsonl(jsonl) if r["type"] == "syscall"]


def test_edit_getpid_into_getuid(targets, tmp_path, capfd, use_info):
    status, records = run_deciding(
        targets["decide"], [], lambda s, p: s.decide(p.id, Decision("edit", nr=SYS_GETUID, args=p.args)),
        tmp_path, use_info)
    assert status == 0
    assert capfd.readouterr().out.splitlines() == [f"getpid={os.getuid()}"]
    (edited,) = [r for r in records if r["action"] == "edit"]
    assert (edited["nr"], edited["syscall"], edited["retval"], edited["origin"]) == (
        SYS_GETUID, "getuid", os.getuid(), "user")


@pytest.mark.parametrize("kind, value, expect", [("fake", 4242, 4242), ("tamper", -7, -1)])
def test_fake_and_tamper(targets, tmp_path, capfd, use_info, kind, value, expect):
    status, records = run_deciding(
        targets["decide"], [], lambda s, p: s.decide(p.id, Decision(kind, value=value)), tmp_path, use_info)
    assert status == 0
    assert capfd.readouterr().out.splitlines() == [f"getpid={expect}"]
    (rec,) = [r for r in records if r["syscall"] == "getpid"]
    assert rec["action"] == kind
    if kind == "fake":
        assert rec["retval"] == value
    else:  # tamper: the log keeps what the kernel really returned
        assert rec["retval"] > 0


def test_abort_with_errno(targets, tmp_path, capfd, use_info):
    status, records = run_deciding(
        targets["decide"], [], lambda s, p: s.decide(p.id, Decision("abort", errno=13)), tmp_path, use_info)
    assert capfd.readouterr().out.splitlines() == ["getpid=-1"]
    (rec,) = [r for r in records if r["syscall"] == "getpid"]
    assert (rec["action"], rec["retval"], rec["errno"]) == ("abort", -13, "EACCES")


def test_kill_decision(targets, tmp_path, capfd, use_info):
    status, records = run_deciding(
        targets["decide"], [], lambda s, p: s.decide(p.id, Decision("kill")), tmp_path, use_info)
    assert status == 128 + 9
    assert capfd.readouterr().out == ""
    (rec,) = [r for r in records if r["syscall"] == "getpid"]
    assert (rec["action"], rec["retval"]) == ("kill", None)


def test_pending_from_threads_answered_in_any_order(targets, tmp_path, capfd, use_info):
    """Both threads held at once; nothing is decided until both wait, then newest first."""
    held = []
    lock = threading.Lock()

    def decide(session, pending):
        with lock:
            held.append(pending)
            if len(held) == 1:
                return
            if len(held) == 2:
                assert [p.id for p in session.pending.list()] == [p.id for p in held]
            batch = list(reversed(held)) if len(held) == 2 else [pending]
        for p in batch:
            assert session.decide(p.id, Decision("fake", value=100 + held.index(p)))
        assert not session.decide(batch[0].id, Decision("allow")), "a pending decision is answered once"

    status, records = run_deciding(targets["decide"], ["1", "threads"], decide, tmp_path, use_info)
    assert status == 0
    out = capfd.readouterr().out.splitlines()
    assert sorted(line.split("=")[1] for line in out if line.startswith("thread")) == ["100", "101"]
    assert "getpid=102" in out
    assert len({r["tid"] for r in records if r["syscall"] == "getpid"}) == 3


def test_timeout_applies_default_action(targets, tmp_path, capfd):
    jsonl = tmp_path / "log.jsonl"
    session = Session(parse_rules(NOTIFY_GETPID, "rules.toml"),
                      SessionOptions(quiet=True, jsonl=str(jsonl), notify_timeout=0.2))
    assert session.run([targets["decide"]]) == 0
    assert capfd.readouterr().out.splitlines() == ["getpid=-1"]
    (rec,) = [r for r in read_jsonl(jsonl) if r.get("syscall") == "getpid"]
    assert (rec["action"], rec["origin"], rec["errno"]) == ("abort", "timeout", "EPERM")


@pytest.mark.parametrize("bad", [dict(kind="maybe"), dict(kind="abort", errno=5000), dict(kind="edit"),
                                 dict(kind="edit", nr=39, args=(1,) * 7), dict(kind="fake", value="x")])
def test_malformed_decisions_are_refused_before_the_tracer(bad):
    with pytest.raises(ValueError):
        Decision(**bad)


def test_edit_keeps_the_arguments_when_none_are_given(targets, tmp_path, capfd):
    status, records = run_deciding(
        targets["decide"], [], lambda s, p: s.decide(p.id, Decision("edit", nr=SYS_GETUID)), tmp_path, True)
    assert status == 0
    assert capfd.readouterr().out.splitlines() == [f"getpid={os.getuid()}"]


def test_rule_store_changes_are_listed_in_precedence_order():
    from seccomp_jail.arch.syscalls import native_table
    from seccomp_jail.policy.compile import compile_rules
    from seccomp_jail.policy.model import Action
    from seccomp_jail.session.rules import RuleNotChangeable, RuleStore

    ruleset = parse_rules(NOTIFY_GETPID, "rules.toml")
    store = RuleStore(ruleset, native_table(), compile_rules(ruleset, native_table()))
    added = store.add("getpid", Action.ABORT)
    assert store.rules()[0] is added and store.rules()[1:] == ruleset.rules
    with pytest.raises(RuleNotChangeable):  # decided in the kernel for this run
        store.add("mkdir", Action.ABORT)
    assert store.remove(added) and not store.remove(added)
    assert store.rules() == ruleset.rules


def test_one_clock_thread_times_every_held_call():
    """Timeouts fire in deadline order, from one thread whatever the number
    of calls held; a call decided meanwhile gets none."""
    from seccomp_jail.session.pending import PendingTable

    table, fired, done = PendingTable(), [], threading.Event()

    def on_timeout(pending_id: int) -> None:
        fired.append(pending_id)
        if len(fired) == 2:
            done.set()

    before = threading.active_count()
    late = table.add(1, 1, 39, "getpid", (0,) * 6, None, 0.2, on_timeout)
    decided = table.add(2, 2, 39, "getpid", (0,) * 6, None, 0.05, on_timeout)
    early = table.add(3, 3, 39, "getpid", (0,) * 6, None, 0.1, on_timeout)
    waiting = table.add(4, 4, 39, "getpid", (0,) * 6, None, None, on_timeout)
    assert threading.active_count() == before + 1
    assert table.take(decided.id) == decided
    assert done.wait(5)
    assert fired == [early.id, late.id]
    assert [p.id for p in table.list()] == [late.id, early.id, waiting.id]  # taken by the decisions, not here


def test_a_held_call_is_decided_at_once_when_no_clock_thread_can_start(monkeypatch):
    """Where the program has used up the tasks the jail may make too, a hold
    whose timeout no thread can time gets the timeout action at once."""
    from seccomp_jail.session.pending import PendingTable

    def no_thread(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    fired = []
    item = PendingTable().add(1, 1, 39, "getpid", (0,) * 6, None, 30, fired.append)
    assert fired == [item.id]
