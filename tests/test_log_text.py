"""The strace-like text lines, built from events directly."""

from __future__ import annotations

import signal

from seccomp_jail.log.events import SignalEvent, SyscallEvent, TaskEvent, from_raw, signal_name
from seccomp_jail.log.text import format_line

RED, YELLOW, RESET = "\x1b[31m", "\x1b[33m", "\x1b[0m"


def call(action="allow", origin="default", retval=3, errno=None, retval_text="3", rule=None,
         tid=1235) -> SyscallEvent:
    return SyscallEvent(1, 0.0, 1234, tid, 257, "openat", (2**64 - 100, 0, 0, 0, 0, 0),
                        'openat(AT_FDCWD, "/etc", O_RDONLY)', action, origin, retval, errno,
                        retval_text, rule)


def test_plain_allow_reads_like_strace():
    assert format_line(call()) == '[pid  1235] openat(AT_FDCWD, "/etc", O_RDONLY) = 3'
    assert format_line(call(origin="rule", rule="r.toml:2")).endswith("= 3")


def test_decisions_other_than_a_plain_allow_are_named():
    denied = call("abort", "rule", -13, "EACCES", "-1 EACCES (Permission denied)", "rules.toml:4")
    assert format_line(denied) == ('[pid  1235] openat(AT_FDCWD, "/etc", O_RDONLY) = '
                                   "-1 EACCES (Permission denied) (abort by rule rules.toml:4)")
    assert format_line(call("fake", "user", 7, retval_text="7")).endswith("= 7 (fake by user)")
    assert format_line(call("abort", "default", -1, "EPERM", "-1 EPERM")).endswith(
        "(abort by default)")
    assert format_line(call("allow", "timeout")).endswith("= 3 (allow by timeout)")


def test_unknown_result_is_a_question_mark():
    event = from_raw(("S", 9, 1.0, 50, 51, 231, (0,) * 6, None, "allow", "default", None, None, None))
    assert event.retval is None and event.errno is None
    line = format_line(event)
    assert line.startswith("[pid    51] exit_group(") and line.endswith(") = ?")


def test_a_kill_by_the_jail_is_not_shown_as_a_syscall():
    """The jail's own SIGKILLs are records with number -1 (docs/log-schema.md)."""
    event = from_raw(("S", 9, 1.0, 50, 51, -1, (60, 9, 0, 0, 0, 0), None, "kill", "jail", None, "untraced child", None))
    assert (event.syscall, event.text, event.retval_text) == ("kill", "kill(60, SIGKILL)", "?")  # JSONL, SQLite
    assert format_line(event) == "[pid    51] --- the jail kills pid 60 (untraced child) ---"
    assert format_line(event, color=True) == "\x1b[33m[pid    51] --- the jail kills pid 60 (untraced child) ---\x1b[0m"


def test_exits_and_signals():
    exit0 = TaskEvent(1, 0.0, "exit", 1234, 1234, 1, 0)
    exit3 = TaskEvent(1, 0.0, "exit", 1234, 1234, 1, 3 << 8)
    killed = TaskEvent(1, 0.0, "exit", 1234, 1234, 1, signal.SIGKILL)
    core = TaskEvent(1, 0.0, "exit", 1234, 1234, 1, signal.SIGSEGV | 0x80)
    assert format_line(exit0) == "[pid  1234] +++ exited with 0 +++"
    assert format_line(exit3) == "[pid  1234] +++ exited with 3 +++"
    assert format_line(killed) == "[pid  1234] +++ killed by SIGKILL +++"
    assert format_line(core) == "[pid  1234] +++ killed by SIGSEGV (core dumped) +++"
    # Thread 1240 ran execve: the leader and 1240 end with no status of their
    # own; one line, as strace prints it, under the pid the process keeps.
    assert format_line(from_raw(("T", 1, 0.0, "exit", 1234, 1234, 1, None))) is None
    superseded = from_raw(("T", 2, 0.0, "exit", 1234, 1240, 1, None))
    assert format_line(superseded) == "[pid  1234] +++ superseded by execve in pid 1240 +++"
    assert format_line(SignalEvent(1, 0.0, 1234, 1236, 2, "SIGINT")) == "[pid  1236] --- SIGINT ---"
    assert format_line(TaskEvent(1, 0.0, "spawn", 1234, 1236, 1234, "thread")) is None
    assert format_line(TaskEvent(1, 0.0, "exec", 1234, 1234, 1, "/bin/ls")) is None


def test_signal_names():
    assert signal_name(2) == "SIGINT"
    assert signal_name(6) == "SIGABRT"
    assert signal_name(17) == "SIGCHLD"
    assert signal_name(34) == "SIGRT_2"
    assert signal_name(0) == "0"


def test_colour_only_when_asked():
    denied = call("abort", "rule", -13, "EACCES", "-1 EACCES", "r.toml:1")
    failed = call(retval=-2, errno="ENOENT", retval_text="-1 ENOENT")
    assert format_line(denied, color=True) == YELLOW + format_line(denied) + RESET
    assert format_line(failed, color=True) == RED + format_line(failed) + RESET
    assert format_line(call(), color=True) == format_line(call())
    assert "\x1b" not in format_line(denied) + format_line(failed)


def test_durations_end_the_line_as_strace_t_prints_them():
    timed = call()._replace(duration=0.0000125)
    assert format_line(timed) == format_line(call())  # only when asked for
    assert format_line(timed, durations=True) == '[pid  1235] openat(AT_FDCWD, "/etc", O_RDONLY) = 3 <0.000013>'
    never_ran = call("abort", "rule", -13, "EACCES", "-1 EACCES (Permission denied)", "r.toml:4")
    assert format_line(never_ran, durations=True).endswith("(abort by rule r.toml:4)")
