"""The jail run by an ordinary user: no_new_privs is set for the filter, and
the jailed program cannot reach the memory of the jail or of its helpers
(log writer, waker) through /proc/PID/mem: with our uid, it could otherwise
write code into them and run it unsupervised.

A forked child of the test drops to `nobody` and runs a session in-process
(the interpreter may live where `nobody` cannot exec it).
"""

from __future__ import annotations

import os
import threading
import time

from seccomp_jail.kernel.libc import prctl
from seccomp_jail.policy.model import Action, RuleSet
from seccomp_jail.session import Session, SessionOptions
from seccomp_jail.tracer.watch import ReadWatchdog

NOBODY = 65534
PR_SET_DUMPABLE = 4


def _as_nobody(dumpable: int) -> None:
    """Become `nobody` (as a user, the test already runs unprivileged), dumpable or not."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    prctl(PR_SET_DUMPABLE, dumpable)


def run_as_nobody(argv: list[str], options: SessionOptions = SessionOptions(quiet=True)) -> int:
    pid = os.fork()
    if pid == 0:
        status = 99
        try:
            _as_nobody(dumpable=1)  # a uid change clears it; a user's shell would not have
            os.chdir("/")
            status = Session(RuleSet(default=Action.ALLOW), options).run(argv)
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_unprivileged_jail_runs_and_keeps_its_memory():
    assert run_as_nobody(["sh", "-c", "grep -q '^NoNewPrivs:.*1' /proc/self/status && exit 7"]) == 7
    # $PPID is the jail: opening its memory must fail, reading our own must work
    assert run_as_nobody(["sh", "-c", "(exec 3</proc/$PPID/mem) 2>&- && exit 1; (exec 4</proc/self/mem) || exit 2; exit 0"]) == 0


# Every process of ours has the jail's command line ($PPID's: forked, never
# exec'd) and its uid; the shell tries to open the memory of each. (Errors go
# to a closed stderr: `2>/dev/null` would itself fail where /dev/null is not
# writable to nobody, as in some containers, and hide the attempt.)
OPEN_EVERY_JAIL_MEM = """
uid=$(awk '/^Uid:/ {print $2}' /proc/$PPID/status)
n=0
for d in /proc/[0-9]*; do
    cmp -s "$d/cmdline" /proc/$PPID/cmdline || continue
    [ "$(awk '/^Uid:/ {print $2}' "$d/status" 2>&-)" = "$uid" ] || continue
    n=$((n + 1))
    (exec 3<"$d/mem") 2>&- && { echo "opened $d" >&2; exit 1; }
done
[ "$n" -ge 3 ] || exit 3
exit 0
"""


def test_unprivileged_jail_helpers_keep_their_memory():
    """The jail, its waker and its log writer (here for the text log on stderr)."""
    assert run_as_nobody(["sh", "-c", OPEN_EVERY_JAIL_MEM], SessionOptions()) == 0


def test_unprivileged_jail_still_sees_where_its_tracer_waits():
    """The read watchdog (seccomp_jail.tracer.watch) looks at the tracer
    thread's /proc/self/task/TID/syscall. Once the jail is not dumpable, an
    unprivileged jail may no longer open that file: it is opened before, and
    still read after (here: the main thread blocked in read(2) on a pipe)."""
    pid = os.fork()
    if pid == 0:
        status = 99
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            prctl(PR_SET_DUMPABLE, 1)
            watchdog = ReadWatchdog(lambda pid: False)
            prctl(PR_SET_DUMPABLE, 0)  # as the session does once the program is seized
            r, w = os.pipe()
            seen = []

            def look() -> None:
                time.sleep(0.2)
                seen.append(watchdog._blocked_in())
                os.write(w, b"x")

            threading.Thread(target=look).start()
            os.read(r, 1)
            status = 0 if seen and seen[0].split()[:2] == ["0", hex(r)] else 1
            watchdog.stop()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# Made non-dumpable, the program hides /proc/PID/ns/pid and its fds from an
# unprivileged tracer; the jail must still know it is in its own pid
# namespace, and refuse a signal through a /proc/PID fd it cannot resolve.
SIGNAL_JAIL_UNDUMPABLE = """
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
try:
    os.kill(os.getppid(), 0)
    sys.exit(1)
except PermissionError:
    pass
jail = os.open(f"/proc/{os.getppid()}", os.O_RDONLY | os.O_DIRECTORY)  # a pidfd, for pidfd_send_signal
try:
    signal.pidfd_send_signal(jail, 0)
    sys.exit(2)
except PermissionError:
    pass
sys.exit(0)
"""


def test_a_non_dumpable_program_still_cannot_signal_the_jail():
    assert run_as_nobody(["python3", "-c", SIGNAL_JAIL_UNDUMPABLE]) == 0


def test_the_fuse_watchdog_counts_a_process_that_hides_its_fds():
    """A read stuck for seconds is ended (the program killed) when a process
    of it serves FUSE. One whose fds an unprivileged jail may not list (it
    made itself non-dumpable) could: it counts, else the read waits for ever."""
    from seccomp_jail.tracer.watch import serves_fuse

    hidden_r, hidden_w = os.pipe()
    hider = os.fork()
    if hider == 0:
        _as_nobody(0)
        os.close(hidden_w)
        os.read(hidden_r, 1)
        os._exit(0)
    os.close(hidden_r)
    try:
        looker = os.fork()
        if looker == 0:
            _as_nobody(1)
            os._exit(10 * serves_fuse([hider]) + serves_fuse([os.getpid()]))
        _, status = os.waitpid(looker, 0)
        assert os.waitstatus_to_exitcode(status) == 10  # the hidden one may; we do not
    finally:
        os.close(hidden_w)
        os.waitpid(hider, 0)
