"""The whole process tree is jailed: fork trees (the original's Test5/Test6),
threads, zombie leaders, short-lived children, vfork, clone3, exec from a
non-leader thread and daemonized grandchildren. Each behaves as natively."""

from __future__ import annotations

import re
import subprocess
import threading

import pytest

from seccomp_jail.policy.parse import parse_rules
from seccomp_jail.session import Decision, Session, SessionOptions
from seccomp_jail.tracer.task import Task

from conftest import read_jsonl, rules_toml

TREE_RULES = rules_toml(
    "allow-forever",
    {"syscall": "getpid", "action": "allow"},
    {"syscall": "getuid", "action": "allow"},
    {"syscall": "mkdir", "action": "notify"},
)


def test_test5_test6_three_level_fork_tree(jail_both, workdir, targets):
    run = jail_both([targets["forktree"]], rules=TREE_RULES,
                    options=("--notify-timeout", "0"))
    assert run.status == 0, run.proc.stderr
    lines = re.findall(r"level (\d) pid (\d+) ppid (\d+) uid 0 mkdir (\S+)", run.stdout)
    assert [int(level) for level, *_ in lines] == [0, 1, 2], run.stdout
    pids = [int(pid) for _, pid, _, _ in lines]
    # Each generation is the child of the one before.
    assert [int(ppid) for _, _, ppid, _ in lines][1:] == pids[:2]
    assert {result for *_, result in lines} == {"EPERM"}
    assert not list(workdir.iterdir())
    for pid in pids:
        getpid = run.syscalls("getpid", pid=pid)
        assert [(r["action"], r["origin"], r["retval"]) for r in getpid] == [("allow", "rule", pid)]
        assert [r["retval"] for r in run.syscalls("getuid", pid=pid)] == [0]
        mkdir = run.syscalls("mkdir", pid=pid)
        assert [(r["action"], r["origin"]) for r in mkdir] == [("abort", "timeout")]
    assert {r["pid"] for r in run.syscalls()} == set(pids)


def test_tree_allowed_mkdir(jail, workdir, targets):
    run = jail([targets["forktree"]], rules=TREE_RULES,
               options=("--notify-timeout", "0", "--timeout-action", "allow"))
    assert run.status == 0
    assert run.stdout.count("mkdir OK") == 3
    assert sorted(p.name for p in workdir.iterdir()) == ["dir-level0", "dir-level1", "dir-level2"]
    assert [r["retval"] for r in run.syscalls("mkdir")] == [0, 0, 0]


def test_threads(jail_both, native, targets):
    expected = native([targets["threads"]])
    run = jail_both([targets["threads"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    gettid = run.syscalls("gettid")
    tids = {r["retval"] for r in gettid}
    assert len(tids) == 4, gettid
    assert {r["tid"] for r in gettid} == tids
    assert len({r["pid"] for r in gettid}) == 1
    (pid,) = {r["pid"] for r in gettid}
    assert pid not in tids
    # Each thread's own syscalls are logged under its tid.
    for tid in tids:
        assert any(r["syscall"] in ("openat", "open") and r["tid"] == tid for r in run.syscalls())


def test_zombie_leader(jail, native, targets):
    expected = native([targets["zombie_leader"]])
    run = jail([targets["zombie_leader"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout) == (
        3, "worker alone after leader exit\n")
    assert run.syscalls("exit_group")[-1]["tid"] != run.syscalls("exit_group")[-1]["pid"]


def test_children_that_exit_at_once(jail, native, targets):
    expected = native([targets["quick_children"]])
    run = jail([targets["quick_children"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    root = run.syscalls("execve")[0]["pid"]
    children = {r["pid"] for r in run.syscalls("exit_group")} - {root}
    assert len(children) == 20


def test_children_of_a_child_that_exit_before_their_fork_event_is_served(jail_both, native, targets):
    """A child made by a task of the program's (not the first process) has
    its stops reported before its creator's fork event, sometimes its whole
    life (a spinning thread of the creator makes that likely): each is
    logged once, with its parent, and none is waited for after its death,
    or the run would never end."""
    argv = [targets["quick_children"], "300", "nested"]
    expected = native(argv)
    run = jail_both(argv)
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    spawns = [r for r in run.tasks("spawn") if r["detail"] == "process"]
    root, maker = (r["tid"] for r in spawns[:2])
    assert spawns[1]["ppid"] == root
    children = spawns[2:]
    assert len(children) == 300 and {r["ppid"] for r in children} == {maker}
    assert len({r["tid"] for r in spawns}) == len(spawns)  # none twice
    made = [r["retval"] for r in run.syscalls("clone") if r["errno"] != "ERESTARTNOINTR"]  # restarted after a SIGCHLD
    assert made == [r["tid"] for r in spawns[1:]]


def test_vfork_exec(jail_both, native, targets):
    expected = native([targets["vfork_exec"]])
    run = jail_both([targets["vfork_exec"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    execs = run.syscalls("execve")
    assert len(execs) == 2 and execs[0]["pid"] != execs[1]["pid"]
    assert execs[1]["retval"] == 0
    vfork = run.syscalls("vfork")
    assert [r["retval"] for r in vfork] == [execs[1]["pid"]]


def test_clone3_process_and_thread(jail_both, native, targets):
    expected = native([targets["clone3"]])
    run = jail_both([targets["clone3"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    assert run.stdout.splitlines()[-1] == "thread: same pid 1, tid matches 1"
    clones = run.syscalls("clone3")
    assert len(clones) == 2 and all(r["retval"] > 0 for r in clones)
    process, thread = (r["retval"] for r in clones)
    assert run.syscalls("getpid", pid=process)
    assert [r["pid"] for r in run.syscalls("gettid") if r["tid"] == thread] == [clones[1]["pid"]]


def test_exec_from_non_leader_thread(jail_both, native, targets):
    expected = native([targets["exec_thread"]])
    run = jail_both([targets["exec_thread"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout) == (
        0, "before exec\nafter exec: same pid 1\n")
    execs = run.syscalls("execve")
    assert len(execs) == 2
    pid = execs[1]["pid"]
    before = [r for r in run.syscalls() if r["seq"] < execs[1]["seq"]]
    assert any(r["tid"] != pid and r["pid"] == pid for r in before), "the thread is traced"
    # After the exec the thread has taken the leader's place.
    after = [r for r in run.syscalls() if r["seq"] > execs[1]["seq"]]
    assert after and all(r["tid"] == r["pid"] == pid for r in after)
    # Read from the new address space: the loader's paths, not "NULL" or a bare pointer.
    assert any('"/lib' in r["text"] and "libc.so" in r["text"] for r in after if r["syscall"] == "openat")
    # The old leader and the exec'ing thread's old tid end with no status of
    # their own; the process goes on under the leader's tid, to its real exit.
    exits = [(r["tid"], r["detail"]) for r in run.tasks("exit") if r["pid"] == pid]
    assert exits == [(pid, None), (execs[1]["tid"], None), (pid, 0)], exits
    assert run.proc.stderr == ""  # no record the writer could not take


def test_paths_after_exec_come_from_the_new_program(jail_both):
    run = jail_both(["/bin/sh", "-c", "exec /bin/cat /etc/hostname"])
    assert run.status == 0
    (cat,) = [r for r in run.syscalls("execve") if '"/bin/cat"' in r["text"]]
    opened = [r for r in run.syscalls("openat") if r["seq"] > cat["seq"]]
    assert [r["pid"] for r in opened if '"/etc/hostname"' in r["text"]] == [cat["pid"]], opened


def test_no_memory_file_outlives_its_task(targets, tmp_path):
    """The tracer reads each task's memory through its /proc/PID/mem, held
    open: every one is closed by the end of a run of threads, forks and execs."""
    from seccomp_jail.kernel.memory import TaskMemory
    from seccomp_jail.policy.model import Action, RuleSet
    from seccomp_jail.session import Session, SessionOptions

    before = TaskMemory.open_files
    for program in ("threads", "exec_thread", "vfork_exec", "forktree"):
        options = SessionOptions(quiet=True, jsonl=str(tmp_path / f"{program}.jsonl"), notify_timeout=0)
        Session(RuleSet(default=Action.ALLOW), options).run([targets[program]])
        assert TaskMemory.open_files == before, program


def test_a_long_run_keeps_only_recent_ended_tasks(monkeypatch):
    """Forty processes come and go: the tree keeps the last ENDED_KEPT ended
    tasks, and the tracer forgets each process's signals when it ends, so a
    long run of short processes (a build) does not grow them without end."""
    from seccomp_jail.policy.model import Action, RuleSet
    from seccomp_jail.session import Session, SessionOptions, session as session_module

    monkeypatch.setattr(session_module, "ENDED_KEPT", 8)
    session = Session(RuleSet(default=Action.ALLOW), SessionOptions(quiet=True))
    assert session.run(["/bin/sh", "-c", "for i in $(seq 40); do /bin/true; done; kill -USR1 $$"]) == 128 + 10
    assert len(session.tree) == 8 and not session.pids()
    assert session.tracer.delivered == {}


def test_daemonized_grandchild(jail, workdir, targets):
    run = jail([targets["daemon"], "daemon.out"])
    assert run.status == 0
    assert run.stdout == "parent done\n"
    # The run waited for the grandchild, which wrote its pid after the others left.
    grandchild = int((workdir / "daemon.out").read_text())
    opens = [r for r in run.syscalls(pid=grandchild) if r["syscall"] in ("open", "openat")]
    assert opens and "daemon.out" in opens[-1]["text"]
    assert any(r["syscall"] == "setsid" for r in run.syscalls())
    assert run.syscalls("exit_group", pid=grandchild)


def test_fork_and_exec_results_are_those_the_program_saw(jail_both):
    """Forks and execs are logged at their ptrace events, without an exit
    stop, where the event's value is the call's: a fork's child pid as the
    parent sees it (in a pid namespace of its own the exit stop still
    decides), an exec's 0; a failed exec has no event and its exit stop tells."""
    script = "true & echo $!; wait; /nonexistent/program; exec /bin/true"
    run = jail_both(["unshare", "--pid", "--fork", "sh", "-c", script])
    assert run.status == 0, run.proc.stderr
    assert run.stdout == "2\n"  # sh is 1 in its new namespace, its first child 2
    execs = run.syscalls("execve")
    (inner_sh,) = [r["pid"] for r in execs if r["retval"] == 0 and '["sh", "-c"' in r["text"]]
    forks = [r for r in run.syscalls() if r["syscall"] in ("clone", "clone3", "fork", "vfork")]
    # unshare's fork, seen from our namespace; then sh's, seen from its own.
    assert [(r["pid"], r["retval"]) for r in forks] == [(forks[0]["pid"], inner_sh), (inner_sh, 2), (inner_sh, 3)]
    assert all(r["duration"] is not None for r in forks)
    # 2 and 3 are numbers in there: no check took them for escaped children of ours.
    assert not [r for r in run.syscalls() if r["origin"] == "jail"]
    failed = [r for r in execs if r["retval"] != 0]
    assert failed and all(r["retval"] < 0 and r["errno"] for r in failed)
    assert any("/nonexistent/program" in r["text"] for r in failed)
    assert [r["text"].split('"')[1].rsplit("/", 1)[1] for r in execs if r["retval"] == 0] == [
        "unshare", "sh", "true"]
    assert all(r["duration"] is not None for r in execs)


def test_a_task_that_went_without_a_report_does_not_keep_the_run_going(targets, tmp_path):
    """A task the tracer still counts on though the kernel will never report
    it (a bookkeeping gap, as the early child above once was) is found
    by the sweep once the program has been quiet for SWEEP_EVERY: the run
    ends and the task's exit is logged, without a status."""
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no task has now
    jsonl = tmp_path / "log.jsonl"
    rules = rules_toml("allow-forever", {"syscall": "getpid", "action": "notify"})
    session = Session(parse_rules(rules, "rules.toml"), SessionOptions(quiet=True, jsonl=str(jsonl)))

    def add_ghost(tracer) -> None:
        tracer.tasks[gone.pid] = Task(gone.pid, gone.pid, 0)

    def decide(pending) -> None:
        session.tracer.request(add_ghost)
        session.decide(pending.id, Decision("allow"))

    session.on_pending(decide)
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(session.run([targets["decide"]])), daemon=True)
    runner.start()
    runner.join(timeout=20)
    assert result == [0], "the run did not end"
    exits = [r for r in read_jsonl(jsonl) if r["type"] == "task" and r["kind"] == "exit" and r["tid"] == gone.pid]
    assert [r["detail"] for r in exits] == [None]


def _has_vsyscall_page() -> bool:
    with open("/proc/self/maps") as f:
        return "[vsyscall]" in f.read()


@pytest.mark.skipif(not _has_vsyscall_page(), reason="this kernel maps no vsyscall page (vsyscall=none)")
@pytest.mark.parametrize("default", ["allow", "allow-forever"])
def test_calls_of_the_vsyscall_page_are_each_logged(jail_both, native, targets, default):
    """The kernel emulates the legacy vsyscall page's calls, seccomp
    included, with no syscall-exit stop: the next stop of the task is the
    next call's. Each is logged once, its result unknown, and the real
    getppid after them gets its own result. (Under `allow`, with the exit
    feed as root, the same holds: no sample comes for them either.)"""
    rules = rules_toml(default, {"syscall": ["gettimeofday", "time", "getcpu", "getppid"], "action": "allow"})
    expected = native([targets["vsyscall"]])
    run = jail_both([targets["vsyscall"]], rules=rules)
    assert (run.status, run.stdout) == (0, expected.stdout) and "getppid_ok=1" in run.stdout, run.stdout
    for name in ("gettimeofday", "time", "getcpu"):
        assert [r["retval"] for r in run.syscalls(name)] == [None] * 3, name
    parents = [r["retval"] for r in run.syscalls("getppid")]
    assert len(parents) == 6 and len(set(parents)) == 1 and parents[0] > 0, parents
