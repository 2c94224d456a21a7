"""Table-driven filter tests against the real kernel, after libseccomp's tests/*.tests.

Each table is a rule file and rows of (syscall, arguments, expected result):

* "ALLOW": the call succeeds and never reaches the tracer (no log record);
* "ERRNO(n)": it fails with errno n and never reaches the tracer: the
  kernel filter decided;
* "TRACE": it reaches the tracer (a log record), whatever is decided there.

The rows of one table run in one process, tests/targets/probe.c, which makes
each raw syscall and prints its six argument words and its result, so the
row's log record (if any) is found by number and arguments. Arguments are
integers or constant names; "s:TEXT" passes a pointer to a string.
"""

from __future__ import annotations

import errno

import pytest

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.decode.constants import lookup_constant
from seccomp_jail.policy.presets import preset_text

TABLE = native_table()
U64 = (1 << 64) - 1
V = "version = 1\n"

# (id, rule file, rows); a row is (syscall name or number, args, expected).
TABLES = [
    (
        "kernel-deny-one",
        V + 'default = "allow-forever"\n[[rule]]\nsyscall = "getppid"\naction = "abort-forever"\nerrno = "EACCES"\n',
        [
            ("getppid", (), "ERRNO(EACCES)"),
            ("getpid", (), "ALLOW"),
            # The kernel runs the low 32 bits of the number: so does the filter.
            (0x1_0000_0000 | TABLE.number("getppid"), (), "ERRNO(EACCES)"),
            (0x1_0000_0000 | TABLE.number("getpid"), (), "ALLOW"),
        ],
    ),
    (
        "kernel-allow-list",
        V + 'default = "abort-forever"\nerrno = "EXDEV"\n'
        '[[rule]]\nsyscall = ["getpid", "@basic-io", "%memory", "execve", "exit_group", "brk",'
        ' "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "newfstatat",'
        ' "openat", "access"]\naction = "allow-forever"\n',
        [
            ("getpid", (), "ALLOW"),
            ("dup", (1,), "ALLOW"),  # @basic-io
            ("getppid", (), "ERRNO(EXDEV)"),
            ("getuid", (), "ERRNO(EXDEV)"),
        ],
    ),
    (
        "kernel-conditions",
        V + 'default = "allow-forever"\n'
        '[[rule]]\nsyscall = "fcntl"\naction = "abort-forever"\nerrno = "EDOM"\nargs = ["arg1 == F_GETFL"]\n'
        '[[rule]]\nsyscall = "dup"\naction = "abort-forever"\nerrno = "EDOM"\nargs = ["arg0 >= 2"]\n'
        '[[rule]]\nsyscall = "dup2"\naction = "abort-forever"\nerrno = "EDOM"\nargs = ["arg0 != 1", "arg1 < 20"]\n'
        '[[rule]]\nsyscall = "openat"\naction = "abort-forever"\nerrno = "EDOM"\nargs = ["arg2 & O_ACCMODE == O_WRONLY"]\n'
        '[[rule]]\nsyscall = "personality"\naction = "abort-forever"\nerrno = "EDOM"\nargs = ["arg0 > 0xffffffff"]\n'
        '[[rule]]\nsyscall = "getpriority"\naction = "abort-forever"\nerrno = "EDOM"\nargs = ["arg0 <= 0"]\n',
        [
            ("fcntl", (1, "F_GETFD"), "ALLOW"),
            ("fcntl", (1, "F_GETFL"), "ERRNO(EDOM)"),
            ("dup", (1,), "ALLOW"),
            ("dup", (2,), "ERRNO(EDOM)"),
            ("dup2", (1, 10), "ALLOW"),  # arg0 != 1 fails
            ("dup2", (2, 30), "ALLOW"),  # arg1 < 20 fails
            ("dup2", (2, 10), "ERRNO(EDOM)"),  # both hold
            ("openat", ("AT_FDCWD", "s:/dev/null", "O_RDONLY"), "ALLOW"),
            ("openat", ("AT_FDCWD", "s:/dev/null", "O_WRONLY"), "ERRNO(EDOM)"),
            ("openat", ("AT_FDCWD", "s:/dev/null", "O_RDWR"), "ALLOW"),
            ("openat", ("AT_FDCWD", "s:/dev/null", "O_WRONLY|O_APPEND"), "ERRNO(EDOM)"),
            # 64-bit comparisons: the high word counts even where the kernel ignores it.
            ("personality", (0xFFFFFFFF,), "ALLOW"),
            ("personality", (0x1_FFFFFFFF,), "ERRNO(EDOM)"),
            ("getpriority", (0, 0), "ERRNO(EDOM)"),  # PRIO_PROCESS
            ("getpriority", (1, 0), "ALLOW"),  # PRIO_PGRP
        ],
    ),
    (
        "tracer-actions",
        V + 'default = "allow-forever"\n'
        '[[rule]]\nsyscall = "getppid"\naction = "allow"\n'
        '[[rule]]\nsyscall = "getuid"\naction = "abort"\nerrno = "EIO"\n'
        '[[rule]]\nsyscall = "getpgid"\naction = "allow"\nargs = ["arg0 == 0"]\n',
        [
            ("getppid", (), "TRACE"),
            ("getuid", (), "TRACE"),
            ("getpgid", (0,), "TRACE"),
            ("getpgid", (1,), "TRACE"),  # the rule does not match: the default decides, in the tracer
            ("getpid", (), "ALLOW"),
        ],
    ),
    (
        # The jail's own checks: calls only the tracer can judge reach it
        # whatever the rules say, on the argument values that matter.
        "jail-checks",
        V + 'default = "allow-forever"\n',
        [
            ("kill", (0, 0), "TRACE"),  # a thread id of the jail's is only known to the tracer
            ("tgkill", (0x7FFFFFF0, 0x7FFFFFF0, 0), "ERRNO(ESRCH)"),  # from the kernel, untraced
            # -1 means every process to kill and perf_event_open only; elsewhere
            # it is invalid and the kernel's own error stands (programs probe so).
            ("pidfd_open", (-1, 0), "ERRNO(EINVAL)"),
            ("tgkill", (-1, 1, 0), "ERRNO(EINVAL)"),
            ("rt_tgsigqueueinfo", (-1, 1, 0, 0), "ERRNO(EFAULT)"),  # it reads the siginfo first
            ("setpgid", (0, -1), "ERRNO(EINVAL)"),
            ("rt_sigqueueinfo", (-1, 0, 0), "TRACE"),  # then ESRCH from the kernel
            # Every process, the jail's too: the tracer refuses them (with EPERM),
            # as it refuses a call naming one of the jail's pids or groups
            # (test_engine_hostile), unless the caller is in another pid namespace.
            ("kill", (-1, 0), "TRACE"),
            ("perf_event_open", (0, -1, 0, -1, 0), "TRACE"),  # every process on CPU 0
            ("setpgid", (0, 0), "ALLOW"),
            ("fcntl", (1, "F_GETFL"), "ALLOW"),
            ("fcntl", (99, "F_SETOWN", 0), "TRACE"),
            ("fcntl", (99, "F_SETOWN_EX", 0), "TRACE"),
            ("ioctl", (99, "TCGETS", 0), "ERRNO(EBADF)"),
            ("ioctl", (99, "TIOCSPGRP", 0), "TRACE"),
            ("ioctl", (99, "TIOCSTI", 0), "TRACE"),
            ("ioctl", (99, 0x8901, 0), "TRACE"),  # FIOSETOWN
            ("prlimit64", (0, 7, 0, 0), "ALLOW"),  # the caller's own
            ("prlimit64", (0x7FFFFFF0, 7, 0, 0), "TRACE"),  # another process's
            ("sched_setaffinity", (0, 0, 0), "ERRNO(EINVAL)"),
            ("sched_setaffinity", (0x7FFFFFF0, 0, 0), "TRACE"),
            ("perf_event_open", (0, 0, -1, -1, 0), "ERRNO(EFAULT)"),
            ("perf_event_open", (0, 0x7FFFFFF0, -1, -1, 0), "TRACE"),
            ("setpriority", (0, 0, 0), "ALLOW"),  # PRIO_PROCESS, the caller
            ("setpriority", (1, 0x7FFFFFF0, 0), "TRACE"),  # PRIO_PGRP, another group
            ("ioprio_set", (1, 0, 0), "ALLOW"),
            ("ioprio_set", (1, 0x7FFFFFF0, 0), "TRACE"),
            ("getppid", (), "ALLOW"),
        ],
    ),
    (
        "first-match-wins",
        V + 'default = "allow"\n'
        '[[rule]]\nsyscall = "getppid"\naction = "abort-forever"\nerrno = "EXDEV"\n'
        '[[rule]]\nsyscall = ["getppid", "getpid"]\naction = "allow-forever"\n'
        # Two rules for dup with conditions: the kernel cannot keep their order.
        '[[rule]]\nsyscall = "dup"\naction = "allow-forever"\nargs = ["arg0 == 1"]\n'
        '[[rule]]\nsyscall = "dup"\naction = "abort-forever"\n',
        [
            ("getppid", (), "ERRNO(EXDEV)"),
            ("getpid", (), "ALLOW"),
            ("dup", (1,), "TRACE"),
            ("dup", (2,), "TRACE"),
            ("getuid", (), "TRACE"),  # the default: allow, in the tracer
        ],
    ),
    (
        "tracer-only-keys",
        V + 'default = "allow-forever"\n'
        '[[rule]]\nsyscall = "openat"\naction = "abort"\npath = "/nonexistent/**"\n'
        '[[rule]]\nsyscall = "getppid"\naction = "abort"\nwhen = "2+2"\n'
        '[[rule]]\nsyscall = "getuid"\naction = "allow"\nreplace-return = 7\n'
        '[[rule]]\nsyscall = "getgid"\naction = "allow"\ncomm = "nobody-here"\n',
        [
            ("openat", ("AT_FDCWD", "s:/dev/null", "O_RDONLY"), "TRACE"),
            ("getppid", (), "TRACE"),
            ("getuid", (), "TRACE"),
            ("getgid", (), "TRACE"),
            ("getpid", (), "ALLOW"),
        ],
    ),
    (
        "jail-integrity",
        V + 'default = "allow"\n'
        '[[rule]]\nsyscall = ["ptrace", "process_vm_writev"]\naction = "allow-forever"\n',
        [
            ("ptrace", ("PTRACE_PEEKUSER", 1), "ERRNO(EPERM)"),  # whatever the rules say (natively ESRCH)
            ("process_vm_writev", (1, 0, 0, 0, 0, 0), "ERRNO(EPERM)"),
            ("io_uring_setup", (1, 0), "ERRNO(ENOSYS)"),  # unless a rule names it
            ("clone", ("CLONE_UNTRACED",), "ERRNO(EPERM)"),
            (1000, (), "ERRNO(ENOSYS)"),  # newer than the table
            (0x4000_0000 | TABLE.number("getpid"), (), "ERRNO(ENOSYS)"),  # x32
        ],
    ),
    (
        "preset-no-network",
        preset_text("no-network"),
        [
            ("socket", ("AF_INET", "SOCK_STREAM", 0), "ERRNO(EACCES)"),
            ("socket", ("AF_INET6", "SOCK_DGRAM", 0), "ERRNO(EACCES)"),
            ("socket", ("AF_NETLINK", "SOCK_RAW", 0), "ERRNO(EACCES)"),
            ("socket", ("AF_UNIX", "SOCK_STREAM", 0), "ALLOW"),
            ("getpid", (), "ALLOW"),
        ],
    ),
    (
        "preset-no-process-creation",
        preset_text("no-process-creation"),
        [
            ("fork", (), "ERRNO(EPERM)"),
            ("clone", ("SIGCHLD",), "TRACE"),  # clone's flags are checked by the tracer
            ("clone3", (0, 0), "TRACE"),
            ("getpid", (), "ALLOW"),
        ],
    ),
    (
        "preset-read-only-fs",
        preset_text("read-only-fs"),
        [
            ("mkdir", ("s:/nonexistent-dir", 0o755), "ERRNO(EROFS)"),
            ("unlink", ("s:/nonexistent-file",), "ERRNO(EROFS)"),
            ("creat", ("s:/nonexistent-file", 0o644), "ERRNO(EROFS)"),
            ("openat", ("AT_FDCWD", "s:/dev/null", "O_RDONLY"), "TRACE"),
            ("openat2", ("AT_FDCWD", "s:/dev/null", 0, 0), "ERRNO(ENOSYS)"),
            ("getpid", (), "ALLOW"),
        ],
    ),
]


def word(value: int | str) -> str:
    """A probe argument: numbers as they are, constants looked up, strings passed."""
    if isinstance(value, int):
        return str(value)
    if value.startswith("s:"):
        return value
    number = lookup_constant(value)
    assert number is not None, f"unknown constant {value}"
    return str(number)


def expected_errno(expected: str) -> int:
    name = expected.removeprefix("ERRNO(").removesuffix(")")
    return getattr(errno, name)


@pytest.mark.parametrize("rules,rows", [t[1:] for t in TABLES], ids=[t[0] for t in TABLES])
def test_filter_table(targets, jail, rules, rows):
    argv = [targets["probe"]]
    for name, args, _ in rows:
        nr = name if isinstance(name, int) else TABLE.number(name)
        assert nr is not None, name
        argv += [str(nr), *(word(a) for a in args), ","]
    run = jail(argv, rules=rules)
    assert run.status == 0, run.proc.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == len(rows), run.stdout + run.proc.stderr
    traced = {(r["nr"] & 0xFFFFFFFF, tuple(a & U64 for a in r["args"])) for r in run.syscalls()}
    wrong = []
    for (name, args, expected), line in zip(rows, lines):
        words, result = line.split(" -> ")
        nr, *call_args = (int(w) for w in words.split())
        ret, err = (int(w) for w in result.split())
        logged = (nr & 0xFFFFFFFF, tuple(call_args)) in traced
        if expected == "TRACE":
            ok = logged
        elif expected == "ALLOW":
            ok = ret >= 0 and not logged
        else:
            ok = ret == -1 and err == expected_errno(expected) and not logged
        if not ok:
            got = f"ret {ret} errno {errno.errorcode.get(err, err)}, {'logged' if logged else 'not logged'}"
            wrong.append(f"{name}{tuple(args)}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)
