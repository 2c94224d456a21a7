"""Return values from the kernel's exit tracepoint instead of an exit stop.

The feed must log exactly what the program saw, in threads, in children and
across a signal, and the same as the exit stop does; the exit stop stays the
fallback (unprivileged, no tracefs) and is tested by every `jail_both` test.
"""

from __future__ import annotations

import collections
import errno
import os
import struct
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from seccomp_jail.kernel.perf import ExitFeed, TracepointHold, _only_samples, id_filter
from seccomp_jail.policy.model import Action, RuleSet
from seccomp_jail.session import Session, SessionOptions
from seccomp_jail.session.prestart import hold_exit_feed
from seccomp_jail.tracer.program import ProgramNotFound
from seccomp_jail.tracer.loop import NEEDS_EXIT_STOP, Tracer

from conftest import process_ended, read_jsonl

SYS_GETPPID = 110
SYS_LSEEK = 8
# What results.c prints -> the syscall whose logged retval must match it.
PRINTED = {"getppid": "getppid", "openat": "openat", "write": "write", "read": "read", "gettid": "gettid",
           "pause": "pause", "getpid": "getpid", "child getppid": "getppid"}
# Interrupted by SIGALRM: the kernel's value at syscall exit, before the
# signal turns it into EINTR for the program (strace shows the same).
ERESTARTNOHAND = 514


@pytest.mark.parametrize("numbers, text", [
    (None, None),
    (frozenset(), "id == -2"),
    (frozenset({3}), "id == 3"),
    (frozenset({0, 1, 2, 7, 9, 10}), "(id >= 0 && id <= 2) || id == 7 || (id >= 9 && id <= 10)"),
])
def test_id_filter(numbers, text):
    assert id_filter(numbers) == text


def _child_waiting() -> tuple[int, int]:
    """A child that, once released, calls getppid and forks a grandchild that does too."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(w)
        os.read(r, 1)
        os.getppid()
        grandchild = os.fork()
        if grandchild == 0:
            os.getppid()
            os._exit(0)
        os.waitpid(grandchild, 0)
        os._exit(0)
    os.close(r)
    return pid, w


def test_feed_follows_the_tree_in_monotonic_time():
    child, go = _child_waiting()
    feed = ExitFeed(child, frozenset({SYS_GETPPID}))
    try:
        released = time.monotonic_ns()
        os.write(go, b"g")
        os.close(go)
        os.waitpid(child, 0)
        samples = feed.drain()
    finally:
        feed.close()
    assert feed.lost == 0
    by_ret = {ret: (tid, when) for tid, when, ret in samples}
    assert os.getpid() in by_ret and child in by_ret, samples  # only getppid passed the filter
    assert len(samples) == 2
    assert by_ret[os.getpid()][0] == child
    assert by_ret[child][0] != child  # the grandchild, found through inherit
    assert all(released < when < time.monotonic_ns() for _, when, _ in samples)


def test_hold_keeps_nothing_of_ours_and_goes_when_released():
    """The helper holds one perf event and its two pipes: no terminal, no pipe
    of the jail (a reader of our stdout must not wait for it), and it is gone
    once released."""
    hold = TracepointHold()
    try:
        assert hold.id() is not None and hold.pid > 0
        fds = os.listdir(f"/proc/{hold.pid}/fd")
        targets = sorted(os.readlink(f"/proc/{hold.pid}/fd/{fd}").split(":")[0] for fd in fds)
        assert targets == ["anon_inode", "pipe", "pipe"], targets
    finally:
        hold.release()
    assert process_ended(hold.pid)


def test_hold_goes_with_the_jail():
    """A jail killed outright (SIGKILL) leaves no helper behind."""
    r, w = os.pipe()
    jail = os.fork()
    if jail == 0:
        os.close(r)
        os.write(w, f"{TracepointHold().pid}\n".encode())
        time.sleep(60)
        os._exit(0)
    os.close(w)
    helper = int(os.read(r, 32))
    os.close(r)
    os.kill(jail, 9)
    os.waitpid(jail, 0)
    assert process_ended(helper)


def test_a_run_releases_the_hold_it_was_given(targets, tmp_path):
    """`seccomp-jail run` starts the hold before its imports and hands it to the
    session: the feed uses it, and no helper outlives the run, even one that
    never ran its program."""
    rules = RuleSet(default=Action.ALLOW)
    logged = SessionOptions(quiet=True, jsonl=str(tmp_path / "log.jsonl"))
    hold = hold_exit_feed(rules, logged)
    session = Session(rules, logged, feed_hold=hold)
    assert session.run([targets["results"]]) == 7
    assert session.tracer.fed > 0
    assert process_ended(hold.pid)
    hold = hold_exit_feed(rules, logged)
    with pytest.raises(ProgramNotFound):
        Session(rules, logged, feed_hold=hold).run(["no-such-program-here"])
    assert process_ended(hold.pid)
    assert hold_exit_feed(RuleSet(default=Action.ALLOW_FOREVER), logged) is None  # the kernel decides: no feed
    assert hold_exit_feed(rules, SessionOptions(quiet=True)) is None  # nothing reads the values


def _run_printing(program: str, rules: RuleSet, tmp_path, label: str,
                  **options) -> tuple[int, list[dict], dict[str, list[int]], Session]:
    """Run a target that prints `name=value` lines, in-process; (status, syscall
    records, what it printed by name, the session)."""
    jsonl = tmp_path / f"{label}.jsonl"
    out = tmp_path / f"{label}.txt"
    session = Session(rules, SessionOptions(quiet=True, jsonl=str(jsonl), **options))
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    saved = os.dup(1)
    os.dup2(fd, 1)  # the target inherits stdout
    try:
        status = session.run([program])
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(fd)
    printed: dict[str, list[int]] = {}
    for line in out.read_text().splitlines():
        key, _, value = line.partition("=")
        printed.setdefault(key, []).append(int(value))
    records = [r for r in read_jsonl(jsonl) if r["type"] == "syscall"]
    return status, records, printed, session


def _run_results(targets, tmp_path, use_feed: bool) -> tuple[int, list[dict], dict[str, list[int]], Session]:
    return _run_printing(targets["results"], RuleSet(default=Action.ALLOW), tmp_path, f"feed-{use_feed}",
                         use_exit_feed=use_feed)


def _logged(records: list[dict], syscall: str, **match) -> list[int]:
    return sorted(r["retval"] for r in records if r["syscall"] == syscall
                  and all(r["args"][int(k[3:])] == v for k, v in match.items()))


@pytest.mark.parametrize("use_feed", [True, False], ids=["feed", "exit-stop"])
def test_logged_results_are_what_the_program_saw(targets, tmp_path, use_feed):
    status, records, printed, session = _run_results(targets, tmp_path, use_feed)
    assert status == 7
    assert (session.tracer.fed > 0) == use_feed
    if use_feed:  # most records came from the feed, not an exit stop
        assert session.tracer.fed > len(records) // 2
    assert _logged(records, "getppid") == sorted(printed["getppid"] + printed["child getppid"])
    assert _logged(records, "gettid") == sorted(printed["gettid"])
    (opened,) = printed["openat"]
    assert opened < 0 and opened in _logged(records, "openat")
    assert printed["write"] == [5] and 5 in _logged(records, "write")
    assert printed["read"] == [5] and 5 in _logged(records, "read")
    assert printed["pause"] == [-errno.EINTR] and _logged(records, "pause") == [-ERESTARTNOHAND]
    assert _logged(records, "getpid") == printed["getpid"]
    assert not [r for r in records if r["syscall"] in PRINTED.values() and r["retval"] is None]


@pytest.mark.parametrize("use_feed", [True, False], ids=["feed", "exit-stop"])
def test_each_call_logs_how_long_it_ran(tmp_path, use_feed):
    """`duration`, as strace -T: from when the jail let the call run to its
    return. A 0.2 s sleep takes at least that (the feed's sample time and the
    exit stop agree on it); a call the jail aborted never ran."""
    jsonl = tmp_path / "timed.jsonl"
    session = Session(RuleSet(default=Action.ALLOW), SessionOptions(quiet=True, jsonl=str(jsonl),
                                                                    use_exit_feed=use_feed))
    session.rules.add("mkdir", Action.ABORT)
    assert session.run(["sh", "-c", f"mkdir {tmp_path}/x; exec sleep 0.2"]) == 0
    assert (session.tracer.fed > 0) == use_feed
    records = [r for r in read_jsonl(jsonl) if r["type"] == "syscall"]
    (mkdir,) = [r for r in records if r["syscall"] == "mkdir"]
    assert mkdir["action"] == "abort" and mkdir["duration"] is None
    (sleep,) = [r for r in records if r["syscall"] in ("clock_nanosleep", "nanosleep")]
    assert 0.2 <= sleep["duration"] < 5, sleep
    ran = [r for r in records if r["action"] == "allow" and r["retval"] is not None]
    assert len(ran) > 20 and all(0 < r["duration"] < 5 for r in ran), ran
    assert [r for r in records if r["retval"] is None and r["duration"] is not None] == []


def test_feed_pairs_every_value_with_its_own_call(targets, tmp_path):
    """Four threads make 3,000 lseeks each, and each returns the offset it was
    given: values are paired with their calls in batches, across threads and
    CPUs, so a value given to another thread's call, or to the same thread's
    call before or after, shows up as a retval unlike args[1]."""
    session = Session(RuleSet(default=Action.ALLOW),
                      SessionOptions(quiet=True, jsonl=str(tmp_path / "seek.jsonl")))
    assert session.run([targets["seek_threads"]]) == 0
    seeks = [r for r in read_jsonl(tmp_path / "seek.jsonl") if r["type"] == "syscall" and r["syscall"] == "lseek"]
    assert len(seeks) == 4 * 3000
    assert session.tracer.fed > len(seeks) // 2
    assert [r for r in seeks if r["retval"] != r["args"][1]] == []
    by_tid: dict[int, list[int]] = {}
    for r in seeks:
        by_tid.setdefault(r["tid"], []).append(r["args"][1])
    assert len(by_tid) == 4 and all(offsets == sorted(offsets) for offsets in by_tid.values())


def test_a_call_killed_at_its_stop_never_returned(targets, tmp_path):
    """Threads loop on lseek while the main thread exits: exit_group kills
    them, some just after the tracer resumed them from a seccomp stop, where
    the kernel then skips the call. Its exit in the feed shows the -ENOSYS
    every call starts with; the log must show no result (as the exit stop
    does), never -ENOSYS. Five runs: most runs catch a thread there."""
    for run in range(5):
        jsonl = tmp_path / f"exit{run}.jsonl"
        session = Session(RuleSet(default=Action.ALLOW), SessionOptions(quiet=True, jsonl=str(jsonl)))
        assert session.run([targets["exit_midway"], "20"]) == 0
        seeks = [r for r in read_jsonl(jsonl) if r["type"] == "syscall" and r["syscall"] == "lseek"]
        assert session.tracer.fed > len(seeks) // 2 > 10
        assert [r for r in seeks if r["retval"] not in (r["args"][1], None)] == []
        unknown = collections.Counter(r["tid"] for r in seeks if r["retval"] is None)
        assert all(n == 1 for n in unknown.values()), unknown  # only a thread's last call


def test_a_failing_tracer_kills_the_program_and_logs_every_decided_call(targets, tmp_path):
    """Fail closed, lose nothing: when the tracer's loop fails (here the policy
    raises at the 2,000th decision), the program dies with it, and every call
    decided until then is in the log: those waiting for a value in the feed,
    and those in flight in the other threads (without a result)."""
    session = Session(RuleSet(default=Action.ALLOW),
                      SessionOptions(quiet=True, jsonl=str(tmp_path / "fail.jsonl")))
    real, decided = session.on_syscall, collections.Counter()

    def failing(task, nr, args):
        if sum(decided.values()) == 2000:
            raise RuntimeError("a bug in the policy")
        verdict = real(task, nr, args)
        decided[nr] += 1
        return verdict

    session.on_syscall = failing
    with pytest.raises(RuntimeError):
        session.run([targets["seek_threads"]])
    assert not os.path.exists(f"/proc/{session.tracer.root_pid}")
    records = read_jsonl(tmp_path / "fail.jsonl")
    seeks = [r for r in records if r["type"] == "syscall" and r["syscall"] == "lseek"]
    assert len(seeks) == decided[SYS_LSEEK] > 1000
    assert [r for r in seeks if r["retval"] not in (r["args"][1], None)] == []
    # The tasks end with the wait status the kernel gave: killed by SIGKILL.
    exits = [r for r in records if r["type"] == "task" and r["kind"] == "exit"]
    assert len(exits) == 5 and {r["signal"] for r in exits} == {"SIGKILL"}, exits


def test_feed_and_exit_stop_log_the_same(targets, tmp_path):
    """Same program, both ways: every syscall that is not about addresses gets the same value."""
    varying = {"mmap", "brk", "munmap", "mprotect", "clone", "clone3", "set_tid_address", "rseq",
               "getrandom", "wait4", "rt_sigreturn", "futex", "exit", "exit_group", "execve"}

    def summary(records):
        return sorted((r["syscall"], r["retval"]) for r in records if r["syscall"] not in varying
                      and r["syscall"] not in ("getppid", "gettid", "getpid"))

    _, fed, _, _ = _run_results(targets, tmp_path, True)
    _, stopped, _, _ = _run_results(targets, tmp_path, False)
    assert summary(fed) == summary(stopped)


def test_feed_wraps_around_its_buffer_without_losing_a_sample():
    """More samples than one buffer holds, drained in rounds: each is seen once."""
    rounds, per_round = 12, 1000
    go_r, go_w = os.pipe()
    done_r, done_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(go_w)
        os.close(done_r)
        for _ in range(rounds):
            if os.read(go_r, 1) != b"g":
                os._exit(1)
            for _ in range(per_round):
                os.getppid()
            os.write(done_w, b"d")
        os._exit(0)
    os.close(go_r)
    os.close(done_w)
    feed = ExitFeed(child, frozenset({SYS_GETPPID}))
    samples = []
    try:
        assert rounds * per_round > feed.capacity
        for _ in range(rounds):
            os.write(go_w, b"g")
            assert os.read(done_r, 1) == b"d"
            samples += feed.drain()
        os.waitpid(child, 0)
        samples += feed.drain()
    finally:
        feed.close()
        os.close(go_w)
        os.close(done_r)
    assert feed.lost == 0
    assert len(samples) == rounds * per_round
    assert {(tid, ret) for tid, _, ret in samples} == {(child, os.getpid())}
    assert len({when for _, when, _ in samples}) == len(samples)  # none seen twice


@pytest.mark.parametrize("use_feed", [True, False], ids=["root-default", "no-feed"])
def test_an_unlogged_run_stops_once_per_syscall(targets, monkeypatch, use_feed):
    """`run -q` without a sink: nobody reads a return value, so an allowed
    syscall gets no exit stop and no feed, with or without the feed's privileges.
    Only the calls the tracer checks at exit stop there."""
    exits: list[str] = []
    real = Tracer._on_syscall_exit

    def spy(tracer, tid):
        task = tracer.tasks.get(tid)
        if task is not None and task.record is not None:
            exits.append(tracer.names[task.record[5]])
        return real(tracer, tid)

    monkeypatch.setattr(Tracer, "_on_syscall_exit", spy)
    session = Session(RuleSet(default=Action.ALLOW), SessionOptions(quiet=True, use_exit_feed=use_feed))
    assert session.run([targets["results"]]) == 7
    assert session.tracer.feed is None and session.tracer.fed == 0
    assert exits and set(exits) <= NEEDS_EXIT_STOP, exits


def test_no_feed_for_a_few_traced_syscalls(targets, tmp_path):
    """With a kernel default, only named syscalls stop: setting up the feed
    would cost more than it saves, so their values come from exit stops."""
    from seccomp_jail.policy.parse import parse_rules

    rules = parse_rules('version = 1\ndefault = "allow-forever"\n'
                        '[[rule]]\nsyscall = "getppid"\naction = "allow"\n', "rules.toml")
    status, records, printed, session = _run_printing(targets["results"], rules, tmp_path, "few")
    assert status == 7
    assert session.tracer.fed == 0
    assert _logged(records, "getppid") == sorted(printed["getppid"] + printed["child getppid"])


def test_kernel_without_the_tracepoint_falls_back_to_exit_stops(targets, tmp_path, monkeypatch):
    """No tracefs (or no CONFIG_FTRACE_SYSCALLS): ExitFeed cannot start, and the
    run goes on with exit stops, logging the same values."""
    from seccomp_jail.kernel import perf

    monkeypatch.setattr(perf, "_read_id", lambda: None)  # the helper forked from here finds none
    hold = TracepointHold()
    with pytest.raises(OSError):
        ExitFeed(os.getpid(), hold=hold)
    assert process_ended(hold.pid)  # the failed feed released it
    status, records, printed, session = _run_results(targets, tmp_path, True)
    assert status == 7
    assert session.tracer.fed == 0
    assert _logged(records, "getppid") == sorted(printed["getppid"] + printed["child getppid"])
    assert _logged(records, "gettid") == sorted(printed["gettid"])


def test_program_with_its_own_filter_gets_no_wrong_values(targets, tmp_path):
    """Calls refused by the program's own seccomp filter never stop in the jail
    but still write exit samples, 100,000 of them here, more than the buffer
    holds. Once the program stacks a filter, the jail stops waiting on the
    feed: every value logged after that is the one the program saw."""
    status, records, printed, session = _run_printing(targets["own_filter"], RuleSet(default=Action.ALLOW),
                                                      tmp_path, "own")
    assert status == 0
    assert session.tracer.fed > 0  # the feed served the start-up, before the filter
    assert _logged(records, "gettid") == sorted(printed["gettid"])
    assert _logged(records, "getpid") == printed["getpid"]


def _sample(tid: int, when: int, ret: int) -> bytes:
    """A sample record as the kernel writes it (type 9, size 56)."""
    return struct.pack("<IHHIIQI8xqq4x", 9, 0, 56, tid, tid, when, 28, 60, ret)


@pytest.mark.parametrize("region, samples, lost", [
    (b"", [], 0),
    (_sample(7, 100, 3) + _sample(8, 101, -2), [(7, 100, 3), (8, 101, -2)], 0),
    # A LOST record (type 2, 24 bytes) between two samples, and one at the end.
    (_sample(7, 100, 3) + struct.pack("<IHHQQ", 2, 0, 24, 1, 5) + _sample(8, 101, -2),
     [(7, 100, 3), (8, 101, -2)], 5),
    (_sample(7, 100, 3) + struct.pack("<IHHQQ", 2, 0, 24, 1, 0), [(7, 100, 3)], 1),
    (_sample(7, 100, 3) + b"\0" * 56, [(7, 100, 3)], 0),  # never written: no spinning on it
])
def test_feed_regions_of_samples_and_other_records(region, samples, lost):
    """A region of nothing but samples is unpacked at once; any other shape
    record by record, counting what the kernel says it lost."""
    feed = ExitFeed.__new__(ExitFeed)  # the parsing alone, without perf events
    feed.lost = 0
    out: list = []
    feed._take(region, out)
    assert (out, feed.lost) == (samples, lost)
    assert _only_samples(region) == (lost == 0 and len(region) == 56 * len(samples))


def _timeline(kinds: list[str], in_flight: bool, flight_done: bool):
    """One task's calls, times 10 apart, each exit 5 after its start: `fed`
    (logged, value in the feed), `known` (value paired before), `lost` (no
    sample: the feed lost it), `stop` (value at an exit stop, sample all the
    same). (closed entries, samples, the task)."""
    from seccomp_jail.tracer.task import Task

    task = Task(50, 50, 1, "")
    closed, samples = [], []
    for i, kind in enumerate(kinds):
        start, end = 10 * i + 10, 10 * i + 15
        if kind != "stop":
            known = kind == "known"
            closed.append([i, start, end if known else 0, -i if known else None, 50, False])
        if kind in ("fed", "stop"):
            samples.append((50, end, -i))
    if in_flight:
        task.feed_t = 10 * len(kinds) + 10
        if flight_done:
            samples.append((50, task.feed_t + 5, -999))
    return closed, samples, task


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["fed", "fed", "fed", "known", "lost", "stop"]), max_size=12),
       st.booleans(), st.booleans())
@example(["fed", "known", "stop"], False, False)  # a known value between: the stop's sample is nobody's
@example(["lost", "known", "stop"], False, False)
@example(["known", "fed", "fed"], True, True)  # the usual batch: the last flush's call in flight first
def test_one_task_pairing_agrees_with_the_general_one(kinds, in_flight, flight_done):
    """The fast pairing of a one-task batch gives every call the value the
    general merge gives it, or declines and changes nothing; it takes the
    plain batch (every call fed, nothing else)."""
    import copy
    import types

    closed, samples, task = _timeline(kinds, in_flight, flight_done)
    general = copy.deepcopy((closed, samples, task))
    Tracer._pair(types.SimpleNamespace(tasks={50: general[2]}), general[0], list(general[1]))
    fast = copy.deepcopy((closed, samples, task))
    took = Tracer._pair_one_task(types.SimpleNamespace(tasks={50: fast[2]}), fast[0], list(fast[1]))
    if kinds and set(kinds) == {"fed"}:
        assert took
    if took:
        assert [e[2:4] for e in fast[0]] == [e[2:4] for e in general[0]]
        assert (fast[2].feed_time, fast[2].feed_ret) == (general[2].feed_time, general[2].feed_ret)
    else:
        assert [e[2:4] for e in fast[0]] == [e[2:4] for e in closed] and fast[2].feed_time == task.feed_time
