"""The event loop: every stop of every task, one `waitpid(-1, __WALL)` at a time.

Stops and what we do with them:

* seccomp stop (status 0x7057f): read number and arguments, ask the policy,
  then run it, skip it with a made-up result (PTRACE_CONT), edit it, kill,
  or leave the task stopped (HOLD). An allowed syscall runs with PTRACE_CONT
  when the exit feed (seccomp_jail.kernel.perf) will tell its result, which
  is picked up at the task's next stop; else with PTRACE_SYSCALL.
* syscall-exit stop (0x857f, thanks to TRACESYSGOOD): record the result.
* fork/vfork/clone events: a new task; exec event: maybe a new tid leader.
* PTRACE_EVENT_STOP: group-stop (PTRACE_LISTEN, so job control works) or
  an attach/interrupt stop (resume).
* signal-delivery stop: resume and deliver the signal, as without us.
* exit: forget the task; the run ends when no task is left.

Every ptrace call may fail with ESRCH when a task was SIGKILLed meanwhile;
its death then comes through waitpid, so failures are ignored here.
"""

from __future__ import annotations

import bisect
import collections
import ctypes
import errno
import operator
import os
import signal
import struct
import threading
import time
from typing import TYPE_CHECKING, Callable, Protocol

from seccomp_jail.arch import native
from seccomp_jail.kernel import ptrace
from seccomp_jail.kernel.libc import child_subreaper
from seccomp_jail.kernel.owner import F_OWNER_PGRP, F_SETOWN, F_SETOWN_EX, OWNER_IOCTLS, TIOCSPGRP, TIOCSTI
from seccomp_jail.tracer import verdict as V
from seccomp_jail.tracer.placement import CHECK_EVERY, Placement
from seccomp_jail.tracer.procfs import mount_id, mount_types
from seccomp_jail.tracer.task import Task
from seccomp_jail.tracer.wake import Waker
from seccomp_jail.tracer.watch import ReadWatchdog, serves_fuse

if TYPE_CHECKING:
    from seccomp_jail.kernel.perf import TracepointHold

WALL = 0x40000000
WALL_BLOCK = WALL | os.WUNTRACED
WALL_NOHANG = WALL | os.WUNTRACED | os.WNOHANG
SPIN_MIN = 8
SPIN_MAX = 64
QUICK = 50e-6  # s: a stop this soon after we started to sleep means polling pays
# Records whose return value is in the feed are paired with it in batches of
# up to this many: one read of the ring buffers serves them all.
FEED_BATCH = 64
# waitpid(-1) reports the first stopped task in the kernel's list, and a task
# resumed a moment ago is often stopped again by the next call: every FAIR_EVERY
# stops we collect all that are waiting, so no task waits behind a busy one.
FAIR_EVERY = 4
# Dead tasks whose creator's event may still come: kept at most this many, the
# oldest dropped (its creator was killed before its event, or its tid was reused).
GONE_EARLY_MAX = 1024
# s: a program this long without a stop has its tasks checked (see _sweep).
SWEEP_EVERY = 2.0
KILL_WAIT = 5.0  # s: at most this long to reap the tasks killed when the loop fails
LEFT_STOPPED_GRACE = 0.1  # s: see _wait_or_end_stopped
STATUS_SECCOMP = ((signal.SIGTRAP | (ptrace.EVENT_SECCOMP << 8)) << 8) | 0x7F
STATUS_SYSCALL = ((signal.SIGTRAP | 0x80) << 8) | 0x7F
GROUP_STOP_SIGNALS = {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
CLONE_UNTRACED = 0x00800000
CLONE_FAMILY = frozenset(("clone", "clone3", "fork", "vfork"))
# Need their exit stop whatever the exit feed could tell: checks there, a new
# tid (exec), or a number the tracepoint does not report (rt_sigreturn sets it to -1).
# A fork or exec that reaches its ptrace event does without it (_returns_at_event).
NEEDS_EXIT_STOP = CLONE_FAMILY | {"execve", "execveat", "rt_sigreturn"}
_EVERY_PROCESS = 1 << 32  # see Tracer._target: kill(-1), perf_event_open(pid -1)
_LOST = 1 << 63  # feed_t of a record whose return value was lost with a feed sample
_SKIPPED = -errno.ENOSYS  # what a syscall skipped by the kernel "returns"
GUARDED = frozenset(("pidfd_send_signal",))
# Aim at another process (name -> the argument holding its pid, 0 for the
# caller): signal it, also by thread id (kill, tkill, rt_sigqueueinfo of a tid
# reach the whole process), take a pidfd of it, join its group (setpgid), set
# its rlimits, scheduling, perf events, nice value or I/O priority. Or set the
# process (group) a file signals (fcntl F_SETOWN, F_SETOWN_EX; ioctl FIOSETOWN,
# SIOCSPGRP, TIOCSPGRP).
PID_ARGUMENT = {"kill": 0, "tkill": 0, "tgkill": 0, "rt_sigqueueinfo": 0, "rt_tgsigqueueinfo": 0,
                "pidfd_open": 0, "setpgid": 1, "prlimit64": 0, "sched_setscheduler": 0, "sched_setparam": 0,
                "sched_setattr": 0, "sched_setaffinity": 0, "perf_event_open": 1, "setpriority": 1,
                "ioprio_set": 1}
# (which, who) calls: `who` is a pid or a process group for these values of
# `which` (PRIO_PROCESS, PRIO_PGRP; IOPRIO_WHO_PROCESS, IOPRIO_WHO_PGRP), a user id otherwise.
WHO_IS_PID = {"setpriority": (0, 1), "ioprio_set": (1, 2)}
SIGNALLED_BY_FILE = frozenset(("fcntl", "ioctl"))
SIGNALS = frozenset(("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")) | SIGNALLED_BY_FILE
AIMED = frozenset(PID_ARGUMENT) | SIGNALLED_BY_FILE
# How a program stacks a seccomp filter of its own: seccomp(SET_MODE_FILTER), prctl(PR_SET_SECCOMP, 2).
OWN_FILTER = frozenset(("seccomp", "prctl"))
# Calls with a check of their own at entry: one set test on the hot path.
CHECKED_AT_ENTRY = CLONE_FAMILY | GUARDED | OWN_FILTER | AIMED

# Indexes into a syscall record (see seccomp_jail.log.events for the layout).
# R_RUN: while the call is in flight, when it was resumed to run (monotonic
# ns; None when it never ran); once it is logged, how long it ran (seconds).
R_NR, R_ARGS, R_CAPTURED, R_ACTION, R_ORIGIN, R_RETVAL, R_RULE, R_RUN = 5, 6, 7, 8, 9, 10, 11, 12

_U64 = struct.Struct("<Q")
_S32 = struct.Struct("<i")
_OWNER_EX = struct.Struct("<ii")
_INFO_EXIT = struct.Struct("<B23xq")  # op, then rval at offset 24 of ptrace_syscall_info
# Hot-path names bound once: a module global is one lookup, `ptrace.X` two.
_raw = ptrace.raw
_GET_INFO, _INFO_SIZE, _SYSCALL, _CONT = ptrace.GET_SYSCALL_INFO, ptrace.INFO_SIZE, ptrace.SYSCALL, ptrace.CONT
_unpack_seccomp = ptrace.INFO_SECCOMP_FMT.unpack_from
_unpack_exit = _INFO_EXIT.unpack_from
_ALLOW = V.ALLOW
_now = time.time
_mono = time.monotonic_ns
_sample_tid, _sample_time = operator.itemgetter(0), operator.itemgetter(1)  # (tid, time, retval)
# Fields of a _closed entry (see _close_fed): feed_t, sample time, tid.
_entry_start, _entry_when, _entry_tid = operator.itemgetter(1), operator.itemgetter(2), operator.itemgetter(4)


class Policy(Protocol):
    """What the tracer asks; the session implements it."""

    def on_syscall(self, task: Task, nr: int, args: tuple[int, ...]) -> tuple: ...

    def on_task_event(self, kind: str, task: Task, detail: object) -> None: ...

    def on_group_stop(self, task: Task, signo: int) -> None: ...


class Tracer:
    def __init__(self, policy: Policy, emit: Callable[[tuple | list], None], names: list[str | None],
                 use_syscall_info: bool = True, capture: bool = True) -> None:
        """`capture`: read what the decoders show (strings, buffers) from the
        tasks' memory; pointless when no one reads the log."""
        self.policy = policy
        self._capture = capture
        self._decide = policy.on_syscall
        self.emit = emit
        self.names = names
        self.tasks: dict[int, Task] = {}
        self.root_pid = 0
        self.root_status: int | None = None
        self.arch = native()
        self._want_info = use_syscall_info
        self._get_info = self._set_info = False
        self._probed = False
        self._info = ctypes.create_string_buffer(ptrace.INFO_SIZE)
        self._info_addr = ctypes.addressof(self._info)
        self._regs = ctypes.create_string_buffer(self.arch.REGS_SIZE)
        self._regs_addr = ctypes.addressof(self._regs)
        self._siginfo_buf = ctypes.create_string_buffer(ptrace.SIGINFO_SIZE)
        self._siginfo_addr = ctypes.addressof(self._siginfo_buf)
        self._plans: dict[int, object] = {}
        self._exit_plans: dict[int, object] = {}
        self._requests: collections.deque = collections.deque()
        self._seq = 0
        self.waker: Waker | None = None
        self.protect: set[int] = {os.getpid()}  # the jail's own pids, never signalled
        # pid -> signal -> when a signal-delivery-stop for it was last seen
        self.delivered: dict[int, dict[int, float]] = {}
        # The exit feed (see open_feed): numbers it serves, and how many records wait on it.
        self.feed = None
        self._quick: frozenset[int] = frozenset()
        self._unlogged: frozenset[int] = frozenset()  # see skip_results
        self._feed_pending = 0
        self._feed_cap = 0
        # [record, feed_t, sample time, retval, tid, died] of calls whose task
        # has stopped again or died since: their exit sample is in the feed
        # (see _feed_flush).
        self._closed: list[list] = []
        self.fed = 0  # records whose return value came from the feed
        self.placement = Placement()
        # Tasks that died before their creator's fork or clone event came (see _new_task).
        self._gone_early: dict[int, None] = {}
        self._pid_ns = os.stat("/proc/self/ns/pid").st_ino  # see _sees_our_pids
        # Made here, in the thread that will run us, while the jail is still dumpable.
        self._watchdog = ReadWatchdog(self._read_stuck)
        self._stops = 0  # stops served, for the sweeper thread (see _sweep)
        self._sweeper_done = threading.Event()
        # Reap the program's orphans (PR_SET_CHILD_SUBREAPER) while `run` runs:
        # then a child of ours that is no tracee is one that escaped.
        self.adopts_orphans = False
        self._escapees: set[int] = set()  # killed by _kill_escapees, maybe not dead yet

    # ----- public, thread-safe -------------------------------------------------

    def request(self, fn: Callable[["Tracer"], None]) -> None:
        """Run `fn(tracer)` in the tracer thread as soon as possible."""
        self._requests.append(fn)
        if self.waker:
            self.waker.wake()

    def resolve(self, tid: int, verdict: tuple) -> None:
        """Apply `verdict` to the syscall `tid` is held at (from any thread)."""
        self.request(lambda tracer: tracer._apply_held(tid, verdict))

    # ----- setup ---------------------------------------------------------------

    def adopt_root(self, pid: int, exe: str) -> None:
        self.root_pid = pid
        task = Task(pid, pid, os.getpid(), exe)
        self.tasks[pid] = task
        self._task_event("spawn", task, "process")

    def open_feed(self, pid: int, always_traced: frozenset[int], hold: TracepointHold | None = None) -> bool:
        """Take the return values of allowed syscalls from the kernel's exit
        tracepoint instead of an exit stop (one stop per syscall, not two).

        Call before `pid` runs. Only numbers that always reach the tracer and
        need nothing read at exit qualify, so every sample in the feed follows
        a stop of ours and the buffer cannot overflow unseen. False (and the
        exit stop stays) where the kernel or our privileges do not allow it.
        `hold` (started early, see kernel.perf) is ours to release from now on.
        """
        from seccomp_jail.kernel.perf import ExitFeed

        quick = self._quick_numbers(always_traced)
        if not quick:  # only kernel rules and clone3: nothing to gain
            if hold is not None:
                hold.release()
            return False
        try:
            self.feed = ExitFeed(pid, quick, hold)
        except OSError:
            return False
        self._quick = quick
        self._feed_cap = self.feed.capacity // 2  # records waiting at once; beyond, exit stops
        return True

    def skip_results(self, always_traced: frozenset[int]) -> None:
        """No one reads the log (`run -q` without a sink): an allowed syscall
        is resumed with PTRACE_CONT, neither an exit stop nor the feed waits
        for a value that would be dropped. Call before the target runs."""
        self._unlogged = self._quick_numbers(always_traced)

    def _quick_numbers(self, always_traced: frozenset[int]) -> frozenset[int]:
        """The numbers whose exit stop only fetches the return value."""
        names = self.names
        captures = _captures_at_exit if self._capture else lambda name: False
        return frozenset(nr for nr in always_traced
                         if 0 <= nr < len(names) and names[nr] not in NEEDS_EXIT_STOP
                         and not captures(names[nr]))

    def _task_event(self, kind: str, task: Task, detail: object) -> None:
        self._seq += 1
        self.emit(("T", self._seq, time.time(), kind, task.pid, task.tid, task.ppid, detail))
        self.policy.on_task_event(kind, task, detail)

    # ----- the loop ------------------------------------------------------------

    def start_waker(self) -> int:
        """Start the waker child before the target (its pid is protected by the filter)."""
        self.waker = Waker()
        return self.waker.pid

    def run(self) -> None:
        """Serve stops until the last task is gone."""
        if self.waker is None:
            self.start_waker()
        if self._watchdog.tid != threading.get_native_id():  # run in another thread than the one that made us
            self._watchdog.stop()
            self._watchdog = ReadWatchdog(self._read_stuck)
        self._watchdog.start()
        threading.Thread(target=self._sweeper, name="sweeper", daemon=True).start()
        # Before the program's first syscall, which waits for us: no orphan before.
        reaper_before = child_subreaper(True) if self.adopts_orphans else True
        try:
            self._loop()
            self._kill_escapees(None)  # the last traced task is gone: none may live on
            killed: set[int] = set()
            while self._escapees - killed:  # reaped, each hands its own children on to us
                killed |= self._escapees
                for child in self._escapees:
                    _reap(child)
                self._escapees.clear()
                self._kill_escapees(None)  # one that outlived its SIGKILL (stuck) is not waited for again
        except BaseException:
            self.kill_all()  # fail closed: no task runs on without us
            raise
        finally:
            self.close()
            self.placement.finish()
            if not reaper_before:
                child_subreaper(False)

    def close(self) -> None:
        """Release what a run holds (waker, watchdog, exit feed): run does when
        it ends, its caller when the run could not start. Idempotent."""
        self._watchdog.stop()
        self._sweeper_done.set()
        if self.waker is not None:
            self.waker.close()
            self.waker = None
        self.close_feed()

    def close_feed(self) -> None:
        if self.feed is not None:
            if self._closed:
                self._feed_flush()
            self.feed.close()
            self.feed = None

    def kill_all(self) -> None:
        """SIGKILL every traced process and reap them all.

        In whatever order they die: a thread group leader is reported only
        after its other threads, so waiting for one task at a time could wait
        for ever. A task that never shows up (not ours any more) is given up
        once it is gone from /proc, or after KILL_WAIT.
        """
        for pid in {t.pid for t in self.tasks.values()}:
            _sigkill(pid)
        left = dict(self.tasks)
        deadline = time.monotonic() + KILL_WAIT
        while left and time.monotonic() < deadline:
            try:
                tid, status = os.waitpid(-1, WALL | os.WNOHANG)
            except ChildProcessError:
                break
            if tid:
                if os.WIFEXITED(status) or os.WIFSIGNALED(status):  # not a stop reported before it died
                    self._forget_killed(left.pop(tid, None), status)
                continue
            for gone in [t for t in left if not os.path.exists(f"/proc/{t}")]:
                self._forget_killed(left.pop(gone), signal.SIGKILL)
            time.sleep(0.001)
        for task in left.values():  # stuck in the kernel: our SIGKILL ends it on its way out
            self._forget_killed(task, signal.SIGKILL)
        self.tasks.clear()

    def _forget_killed(self, task: Task | None, status: int) -> None:
        if task is None:
            return
        try:
            self._forget(task, status)  # what it had in flight is logged, without a result
        except Exception:  # the failure that brought us here may strike again
            task.mem.close()

    def _loop(self) -> None:
        tasks = self.tasks
        waitpid = os.waitpid
        waker_pid = self.waker.pid
        on_seccomp = self._on_seccomp
        on_exit = self._on_syscall_exit
        placement = self.placement
        spin_max = 0 if placement.shared else SPIN_MAX
        spin = 0
        clock = time.perf_counter
        countdown = CHECK_EVERY
        fair = FAIR_EVERY
        waiting: collections.deque = collections.deque()  # stops collected, not yet served
        while tasks or waiting:
            if self._requests:
                self._run_requests()
                continue
            if waiting:
                pid, status = waiting.popleft()
            else:
                try:
                    # Adaptive spin: a busy target stops again within microseconds,
                    # and catching that without sleeping saves a cross-CPU wake-up
                    # per stop; a quiet one (forks, execs, sleeps) makes us block at
                    # once, leaving the CPU to it.
                    for _ in range(spin):
                        pid, status = waitpid(-1, WALL_NOHANG)
                        if pid:
                            if spin < spin_max:
                                spin += spin
                            break
                    else:
                        if self._closed:  # the program went quiet: log what is known
                            self._feed_flush()
                        spin >>= 1
                        slept = clock()
                        if self.root_status is not None and self._only_stopped_left():
                            pid, status = self._wait_or_end_stopped()
                        else:
                            pid, status = waitpid(-1, WALL_BLOCK)
                        if not spin and clock() - slept < QUICK:
                            spin = min(SPIN_MIN, spin_max)
                except ChildProcessError:
                    break
                fair -= 1
                if not fair:
                    fair = FAIR_EVERY
                    _collect(waiting)
            self._stops += 1
            countdown -= 1
            if not countdown:
                countdown = CHECK_EVERY
                placement.check(pid)
            if status == STATUS_SECCOMP:
                on_seccomp(pid)
            elif status == STATUS_SYSCALL:
                on_exit(pid)
            elif pid == waker_pid:
                if os.WIFSTOPPED(status):
                    self.waker.rearm()
                    self._run_requests()
                else:  # killed from outside: make a new one
                    self.waker = Waker()
                    waker_pid = self.waker.pid
            else:
                self._on_other(pid, status)
        self._run_requests()

    def _sweeper(self) -> None:
        """Thread: ask for a _sweep whenever no stop came for SWEEP_EVERY seconds."""
        seen = -1
        while not self._sweeper_done.wait(SWEEP_EVERY):
            if self._stops == seen and self.tasks:
                self.request(Tracer._sweep)
            seen = self._stops

    def _sweep(self) -> None:
        """Forget the tasks that are no tracees of ours any more: gone without
        a report we were waiting for, they would keep the run going for ever.
        None should be (each such gap is a bug of ours): this is the net
        under it, a read of /proc per task once the program has been quiet
        for SWEEP_EVERY."""
        ours = str(os.getpid()).encode()
        for tid, task in list(self.tasks.items()):
            if _status(tid, b"TracerPid").get(b"TracerPid") != ours:
                self._on_death(tid, task, None)
        if any(task.clone_check for task in self.tasks.values()):  # a vfork parent waits on an escaped child?
            self._kill_escapees(None)

    def _run_requests(self) -> None:
        while self._requests:
            fn = self._requests.popleft()
            fn(self)

    # ----- syscall entry -------------------------------------------------------

    def _read_regs(self, tid: int) -> tuple[int, tuple[int, ...]] | None:
        """Number and arguments from the registers, where GET_SYSCALL_INFO is missing."""
        if ptrace.raw(ptrace.GETREGS, tid, 0, self._regs_addr) == -1:
            return None
        regs = self._regs.raw
        a = self.arch
        args = tuple(_U64.unpack_from(regs, off)[0] for off in a.ARG_OFFSETS)
        return a.effective_nr(_U64.unpack_from(regs, a.ORIG_RAX)[0]), args

    def _probe(self, tid: int) -> None:
        self._probed = True
        if self._want_info:
            self._get_info, self._set_info = ptrace.probe_syscall_info(tid)

    def _on_seccomp(self, tid: int) -> None:
        task = self.tasks.get(tid) or self._new_task(tid)
        if task.record is not None and not task.feed_t:  # its last call had no exit stop (vsyscall page)
            self._no_exit(task)
        if not self._probed:
            self._probe(tid)
        if self._get_info:
            if _raw(_GET_INFO, tid, _INFO_SIZE, self._info_addr) <= 0:
                return  # died under us; waitpid will tell
            f = _unpack_seccomp(self._info)
            nr = f[6]
            if nr > 0x7FFFFFFF:
                nr = self.arch.effective_nr(nr)
            args = f[7:13]
        else:
            entry = self._read_regs(tid)
            if entry is None:
                return
            nr, args = entry
        name, plan = self._entry_plan(nr)
        captured = plan(args, task.mem) if plan else None
        if name in AIMED:  # common calls: no feed sync unless refused
            why = self._refusal(task, name, args)
            if why:
                self._refuse(task, nr, args, captured, why)
                return
        elif name in CHECKED_AT_ENTRY:
            if task.feed_t or self._closed:  # what follows may log this call at once: the last ones first
                self._feed_sync(task)
            if name in OWN_FILTER and self._feed_cap and _installs_filter(name, args):
                # Calls the program's own filter refuses never stop here, yet
                # write exit samples: from now on a sample need not follow a
                # stop of ours, so no new record waits on the feed.
                self._feed_cap = 0
            if name in CLONE_FAMILY and not self._clone_entry(task, name, nr, args):
                return
            if name in GUARDED and self._pidfd_signals_jail(task, args):
                self._refuse(task, nr, args, captured, "signals the jail")
                return
        verdict = self._decide(task, nr, args)
        self._seq += 1
        if verdict[0] != _ALLOW:
            if task.feed_t or self._closed:
                self._feed_sync(task)
            record = ["S", self._seq, time.time(), task.pid, tid, nr, args, captured, "", "", None, None, None]
            self._apply(task, record, verdict)
            return
        if nr in self._unlogged:
            _raw(_CONT, tid, 0, 0)
            return
        # Resume first: the bookkeeping below overlaps the syscall.
        now = _now()
        if task.feed_t:  # the last call's value is in the feed now
            self._close_fed(task)
        started = _mono()  # before it runs: its exit comes later
        if nr in self._quick and self._feed_pending < self._feed_cap:
            task.feed_t = started
            _raw(_CONT, tid, 0, 0)
            self._feed_pending += 1
        else:
            _raw(_SYSCALL, tid, 0, 0)
        task.record = ["S", self._seq, now, task.pid, tid, nr, args, captured,
                       verdict[2], verdict[3], None, verdict[4], started]
        if len(self._closed) >= FEED_BATCH:
            self._feed_flush()

    def _no_exit(self, task: Task) -> None:
        """Log the call `task` made last without its result: the kernel
        emulates the calls of the legacy vsyscall page, seccomp included,
        with no syscall-exit stop."""
        record, task.record = task.record, None
        record[R_RUN] = None
        self.emit(record)

    def _entry_plan(self, nr: int):
        """(name, the decoder's capture at entry), cached per number."""
        names = self.names
        name = names[nr] if 0 <= nr < len(names) else None
        plan = self._plans.get(nr, 0)
        if plan == 0:
            plan = self._plans[nr] = _entry_plan(name) if self._capture else None
        return name, plan

    def _clone_entry(self, task: Task, name: str, nr: int, args: tuple[int, ...]) -> bool:
        """Arm the exit check of a clone-family call; False when clone3 was refused here."""
        if name == "clone3":
            refused = self._clone3_refusal(task, args)
            if refused:
                self._refuse(task, nr, args, None, *refused)
                return False
        task.clone_check = True
        task.last_child = 0
        return True

    def _refuse(self, task: Task, nr: int, args: tuple[int, ...], captured, why: str,
                error: int = errno.EPERM) -> None:
        """Skip the call with `error`, whatever the rules say, and log it as the jail's."""
        if task.feed_t or self._closed:
            self._feed_sync(task)
        self._seq += 1
        self._skip(task.tid, -error)
        self.emit(["S", self._seq, time.time(), task.pid, task.tid, nr, args, captured,
                   "abort", "jail", -error, why, None])

    def _refusal(self, task: Task, name: str, args: tuple[int, ...]) -> str:
        """Why the jail refuses this call of AIMED, or "" when it does not."""
        if name == "ioctl" and args[1] & 0xFFFFFFFF == TIOCSTI:
            # Pushed input is read by whoever reads the terminal next: the
            # user's shell once the jail is gone, outside the jail.
            return "injects terminal input"
        if self._aims_at_jail(task, name, args):
            return "signals the jail" if name in SIGNALS else "aims at the jail"
        return ""

    def _aims_at_jail(self, task: Task, name: str, args: tuple[int, ...]) -> bool:
        """Whether this call signals one of the jail's processes, their groups
        or its threads by thread id, takes a pidfd of them, joins their
        groups, sets their rlimits, scheduling, perf events, nice values or
        I/O priorities, or makes a file signal them (SIGIO, or SIGSTOP/SIGKILL
        with F_SETSIG). The filter sends the calls naming our pids here, and
        only here are thread ids known, and which pid namespace the caller is
        in: in one of its own, our numbers are other processes.

        The pointer forms are read here; another thread could rewrite the
        value after this read (the TOCTOU race README.md describes for paths).
        """
        target = self._target(task, name, args)
        if target == _EVERY_PROCESS:  # kill(-1) reaches its namespace only; a perf event sees every one
            return name == "perf_event_open" or self._sees_our_pids(task.tid)
        return target != 0 and self._is_jail(abs(target), thread=target > 0) and self._sees_our_pids(task.tid)

    def _target(self, task: Task, name: str, args: tuple[int, ...]) -> int:
        """Whom an AIMED call aims at, in the caller's pid namespace: a pid
        (or thread id), minus a process group, _EVERY_PROCESS, or 0 (none
        of them: the caller, a user id, a command without a target, a value
        the kernel refuses anyway)."""
        if name not in SIGNALLED_BY_FILE:
            if name in WHO_IS_PID and args[0] & 0xFFFFFFFF not in WHO_IS_PID[name]:
                return 0  # a user id
            target = _s32(args[PID_ARGUMENT[name]])
            if target == -1:
                return _EVERY_PROCESS if name in ("kill", "perf_event_open") else 0
            return target if target > 0 or name == "kill" else 0
        command = args[1] & 0xFFFFFFFF
        if name == "fcntl":
            if command == F_SETOWN:
                return _s32(args[2])  # a pid, or minus a group
            if command != F_SETOWN_EX:
                return 0
            raw = task.mem.read(args[2], 8)  # struct f_owner_ex {int type; pid_t pid;}
            if raw is None or len(raw) < 8:
                return 0  # the kernel answers EFAULT
            kind, who = _OWNER_EX.unpack(raw)
            return -abs(who) if kind == F_OWNER_PGRP else who  # a thread's or process's id
        if command not in OWNER_IOCTLS:
            return 0
        raw = task.mem.read(args[2], 4)
        if raw is None or len(raw) < 4:
            return 0
        value = _S32.unpack(raw)[0]  # FIOSETOWN, SIOCSPGRP: a pid or minus a group, as F_SETOWN
        return -abs(value) if command == TIOCSPGRP else value

    def _is_jail(self, pid: int, thread: bool = True) -> bool:
        """`pid` is one of our processes (or process groups), or a thread of the jail."""
        if pid in self.protect:
            return True
        return thread and pid > 0 and os.path.exists(f"/proc/{os.getpid()}/task/{pid}")

    def _pidfd_signals_jail(self, task: Task, args: tuple[int, ...]) -> bool:
        """pidfd_send_signal to one of our processes or the jail's threads: a
        pidfd only we can resolve. Where the kernel hides the task's fds from
        us (a non-dumpable task under an unprivileged jail) it could be one:
        refused, failing closed."""
        try:
            pid = _pidfd_pid(task.tid, args[0] & 0xFFFFFFFF)
        except PermissionError:
            return True
        return pid is not None and self._is_jail(pid)

    def _clone3_refusal(self, task: Task, args: tuple[int, ...]) -> tuple[str, int] | None:
        """BPF cannot read clone3's struct clone_args: check CLONE_UNTRACED
        here; (why, errno) when refused.

        Another thread could rewrite the flags after this read; the exit check
        in _on_syscall_exit catches a child that got away and kills it, as
        does _kill_escapees when the call never returns. Flags we cannot read
        are refused with EFAULT, the kernel's answer for unmapped ones: the
        kernel might read them later (a page served by userfaultfd), unchecked.
        """
        head = task.mem.read(args[0], 8)
        if head is None or len(head) < 8:
            return "unreadable clone_args", errno.EFAULT
        return ("CLONE_UNTRACED", errno.EPERM) if _U64.unpack(head)[0] & CLONE_UNTRACED else None

    def _apply(self, task: Task, record: list, verdict: tuple) -> None:
        kind, value, action, origin, rule = verdict
        record[R_ACTION] = action
        record[R_ORIGIN] = origin
        record[R_RULE] = rule
        tid = task.tid
        if kind == V.ALLOW:
            task.record = record
            record[R_RUN] = _mono()
            ptrace.raw(ptrace.SYSCALL, tid, 0, 0)
        elif kind == V.ABORT or kind == V.FAKE:
            retval = -value if kind == V.ABORT else value
            record[R_RETVAL] = retval
            task.clone_check = False
            self._skip(tid, retval)
            self.emit(record)
        elif kind == V.HOLD:
            task.held = record
        elif kind == V.TAMPER:
            task.record = record
            task.tamper = value
            record[R_RUN] = _mono()
            ptrace.raw(ptrace.SYSCALL, tid, 0, 0)
        elif kind == V.EDIT:
            nr, args = value
            self._set_syscall(tid, nr, args)
            record[R_NR] = nr
            record[R_ARGS] = args
            plan = self._entry_plan(nr)[1]
            record[R_CAPTURED] = plan(args, task.mem) if plan else None
            task.record = record
            record[R_RUN] = _mono()
            ptrace.raw(ptrace.SYSCALL, tid, 0, 0)
        elif kind == V.KILL:
            task.record = record  # completed (retval None) when the task dies
            _sigkill(task.pid)

    def _apply_held(self, tid: int, verdict: tuple) -> bool:
        task = self.tasks.get(tid)
        if task is None or task.held is None:
            return False
        record, task.held = task.held, None
        if verdict[0] == V.HOLD:
            task.held = record
            return True
        self._apply(task, record, verdict)
        return True

    def _skip(self, tid: int, retval: int) -> None:
        """Skip the syscall at this seccomp stop and make it return `retval`.

        Number -1 makes the kernel skip it and leave rax alone, so both are set
        here and the task needs no exit stop.
        """
        a = self.arch
        ptrace.raw(ptrace.POKEUSER, tid, a.ORIG_RAX, 0xFFFFFFFFFFFFFFFF)
        ptrace.raw(ptrace.POKEUSER, tid, a.RAX, retval & 0xFFFFFFFFFFFFFFFF)
        ptrace.raw(ptrace.CONT, tid, 0, 0)

    def _set_syscall(self, tid: int, nr: int, args: tuple[int, ...]) -> None:
        """Change number and arguments: PTRACE_SET_SYSCALL_INFO, else registers."""
        if self._set_info:
            if ptrace.raw(ptrace.GET_SYSCALL_INFO, tid, ptrace.INFO_SIZE, self._info_addr) > 0:
                f = list(ptrace.INFO_SECCOMP_FMT.unpack_from(self._info))
                f[6] = nr & 0xFFFFFFFFFFFFFFFF
                f[7:13] = [a & 0xFFFFFFFFFFFFFFFF for a in args]
                ptrace.INFO_SECCOMP_FMT.pack_into(self._info, 0, *f)
                if ptrace.raw(ptrace.SET_SYSCALL_INFO, tid, ptrace.INFO_SIZE, self._info_addr) == 0:
                    return
        a = self.arch
        ptrace.raw(ptrace.POKEUSER, tid, a.ORIG_RAX, nr & 0xFFFFFFFFFFFFFFFF)
        for off, value in zip(a.ARG_OFFSETS, args):
            ptrace.raw(ptrace.POKEUSER, tid, off, value & 0xFFFFFFFFFFFFFFFF)

    # ----- syscall exit --------------------------------------------------------

    def _read_retval_regs(self, tid: int, nr: int) -> int | None:
        """The return value of syscall `nr` from rax, where GET_SYSCALL_INFO
        is missing; None at a stop that is not its exit: the entry of the
        next one, when a call (of the vsyscall page) had no exit stop."""
        entry = self._read_regs(tid)
        if entry is None or entry[0] != nr:
            return None
        value = _U64.unpack_from(self._regs.raw, self.arch.RAX)[0]
        return value - (1 << 64) if value >> 63 else value

    def _feed_sync(self, task: Task, died: bool = False) -> None:
        """Log every record the feed holds a value for, `task`'s in-flight call
        included (it has stopped again, or `died`): what is logged next comes after them."""
        if task.feed_t:
            self._close_fed(task, died)
        self._feed_flush()

    def _close_fed(self, task: Task, died: bool = False) -> None:
        """`task` stopped again or `died`: its call in flight waits for the next flush."""
        self._closed.append([task.record, task.feed_t, task.feed_time, task.feed_ret, task.tid, died])
        task.record = task.feed_ret = None
        task.feed_t = task.feed_time = 0

    def _feed_flush(self) -> None:
        """Pair the feed's new samples with the records waiting for them, and log
        the closed ones (their tasks stopped again, so their samples are in).

        A record's value is the first exit of its task after the task was
        resumed for it (`feed_t`): in time order, a sample belongs to the
        task's latest call resumed before it. A sample of a call still in
        flight is kept on its task until the task stops again.
        """
        closed, self._closed = self._closed, []
        samples = self.feed.drain()
        if samples:
            samples.sort(key=_sample_time)  # each CPU's buffer is in order, not the two together
            if not self._pair_one_task(closed, samples):
                self._pair(closed, samples)
        if self.feed.lost and self._feed_cap:
            self._feed_cap = 0  # cannot happen by design; if it does, stop trusting the feed
            for entry in closed:
                entry[2] = 0
            for t in self.tasks.values():
                if t.feed_t:
                    t.feed_t, t.feed_time = _LOST, 0
        emit = self.emit
        for entry in closed:
            record = entry[0]
            retval = entry[3] if entry[2] else None
            record[R_RUN] = (entry[2] - entry[1]) / 1e9 if entry[2] else None
            if entry[5] and retval == _SKIPPED:
                # Killed at its seccomp stop (exit_group of another thread,
                # SIGKILL): the kernel skipped the call, and its exit shows
                # the -ENOSYS every syscall starts with. It never returned.
                retval = record[R_RUN] = None
            record[R_RETVAL] = retval
            emit(record)
        self._feed_pending -= len(closed)
        self.fed += len(closed)

    def _pair(self, closed: list[list], samples: list[tuple]) -> None:
        """Give each sample to its call: the latest of its task resumed
        before it, or the task's call still in flight."""
        by_tid: dict[int, list] = {}
        for entry in closed:
            calls = by_tid.get(entry[4])
            if calls is None:
                by_tid[entry[4]] = [0, entry]  # [cursor, calls in order...]
            else:
                calls.append(entry)
        tasks = self.tasks
        for tid, when, ret in samples:
            task = tasks.get(tid)
            if task is not None and task.feed_t and task.feed_t < when:
                if not task.feed_time or when < task.feed_time:
                    task.feed_time = when
                    task.feed_ret = ret
                continue
            calls = by_tid.get(tid)
            if calls is None:
                continue
            k = calls[0] + 1
            while k + 1 < len(calls) and calls[k + 1][1] < when:
                k += 1
            calls[0] = k - 1
            entry = calls[k]
            if entry[1] < when and not entry[2]:
                entry[2] = when
                entry[3] = ret

    def _pair_one_task(self, closed: list[list], samples: list[tuple]) -> bool:
        """`_pair` for the usual batch: every call and sample of one task,
        its calls still without a value after those with one. If the samples
        fall one between each two of those calls' starts, the n-th is the
        n-th call's. Checked and paired in whole lists (C loops), not sample
        by sample: a few µs a syscall less on a busy single-threaded program.
        False, with nothing changed: not such a batch; `_pair` decides."""
        if not closed:
            return False
        tid = closed[0][4]
        if set(map(_entry_tid, closed)) != {tid} or set(map(_sample_tid, samples)) != {tid}:
            return False
        task = self.tasks.get(tid)
        whens = list(map(_sample_time, samples))
        split = len(whens)
        if task is not None and task.feed_t:  # samples after its call in flight began are that call's
            split = bisect.bisect_right(whens, task.feed_t)
        known = 0  # calls paired in an earlier flush (then in flight): before the others, or decline
        while known < len(closed) and closed[known][2]:
            known += 1
        waiting = closed[known:]
        if len(waiting) != split or any(map(_entry_when, waiting)):
            return False
        starts = list(map(_entry_start, waiting))
        if not (all(map(operator.lt, starts, whens)) and all(map(operator.lt, whens, starts[1:]))):
            return False
        for entry, (_, when, ret) in zip(waiting, samples):
            entry[2] = when
            entry[3] = ret
        if split < len(whens) and (not task.feed_time or whens[split] < task.feed_time):
            task.feed_time, task.feed_ret = whens[split], samples[split][2]
        return True

    def _on_syscall_exit(self, tid: int) -> None:
        stopped = _mono()
        task = self.tasks.get(tid)
        if task is not None and (task.feed_t or self._closed):
            self._feed_sync(task)
        record = task.record if task is not None else None
        if record is None:  # a syscall stop we did not ask for
            ptrace.raw(ptrace.CONT, tid, 0, 0)
            return
        task.record = None
        if not self._get_info:
            retval = self._read_retval_regs(tid, record[R_NR])
        elif _raw(_GET_INFO, tid, _INFO_SIZE, self._info_addr) > 0:
            op, retval = _unpack_exit(self._info)
            if op != ptrace.INFO_EXIT:
                retval = None
        else:
            retval = None  # gone; its death comes through waitpid
        if task.tamper is not None:
            self._set_retval(tid, task.tamper)
            task.tamper = None
        nr = record[R_NR]
        plan = self._exit_plan_for(nr)
        extra = plan(record[R_ARGS], retval, task.mem) if plan and retval is not None else None
        _raw(_CONT, tid, 0, 0)  # resume before the bookkeeping
        record[R_RETVAL] = retval
        started = record[R_RUN]
        record[R_RUN] = (stopped - started) / 1e9 if started and retval is not None else None
        if extra:
            record[R_CAPTURED] = {**(record[R_CAPTURED] or {}), **extra}
        self.emit(record)
        if task.clone_check:
            task.clone_check = False
            if retval is not None and retval > 0 and retval != task.last_child:
                self._untraced_child(task, retval)

    def _exit_plan_for(self, nr: int):
        """The decoder's capture at exit, cached per number."""
        plan = self._exit_plans.get(nr, 0)
        if plan == 0:
            name = self.names[nr] if 0 <= nr < len(self.names) else None
            plan = self._exit_plans[nr] = _exit_plan(name) if self._capture else None
        return plan

    def _set_retval(self, tid: int, value: int) -> None:
        ptrace.raw(ptrace.POKEUSER, tid, self.arch.RAX, value & 0xFFFFFFFFFFFFFFFF)

    def _only_stopped_left(self) -> bool:
        """Every task left is in a group-stop, or a main thread that exited
        before its threads (pthread_exit): a zombie, which never runs again.
        /proc is read only for leaders whose every other thread is stopped."""
        tasks = self.tasks.values()
        running = [t for t in tasks if not t.stopped]
        if not running:
            return bool(tasks)
        if any(t.tid != t.pid or not any(o.pid == t.pid and o is not t for o in tasks) for t in running):
            return False
        return all(_status(t.tid, b"State").get(b"State", b"Z").startswith(b"Z") for t in running)

    def _wait_or_end_stopped(self) -> tuple[int, int]:
        """The program has exited and every task left is in a group-stop: no
        task of ours can continue them, so the run would never end. After
        LEFT_STOPPED_GRACE without news (a SIGCONT sent by a task that has
        just died still gets through), kill them, as they could only run on
        unsupervised, and log it. Returns the next stop, as waitpid does."""
        deadline = time.monotonic() + LEFT_STOPPED_GRACE
        while time.monotonic() < deadline:
            stop = os.waitpid(-1, WALL_NOHANG)
            if stop[0]:
                return stop
            time.sleep(0.002)
        for task in self.tasks.values():
            task.stopped = False
        for pid in sorted({task.pid for task in self.tasks.values()}):
            self._kill_logged(pid, pid, pid, "left stopped")
        return os.waitpid(-1, WALL_BLOCK)  # their deaths

    def _untraced_child(self, task: Task, child: int) -> None:
        """A clone returned `child`, an id in the caller's pid namespace,
        other than the one its event told: if it is no task of ours, it
        escaped. Kill it. In another namespace the numbers differ anyway."""
        if not self._sees_our_pids(task.tid):
            if child in _ns_pids(task.last_child):
                return  # the child we saw, by its number in there
            found = _pid_in_ns(child, task)
            if found is None:
                return  # gone already
            child = found
        if child not in self.tasks:
            self._kill_logged(child, task.pid, task.tid, "untraced child")

    def _kill_escapees(self, parent: Task | None) -> None:
        """Kill every untraced child of a traced task, and of ours when we
        reap the program's orphans; log each in the name of `parent` (or its
        own). Ours are reaped by the loop's waitpid, or when `run` ends.

        A clone3 child that raced CLONE_UNTRACED past our check is killed
        when its parent's call returns (_untraced_child). With CLONE_VFORK
        that call waits for the child, and another thread's exit_group can
        end the parent first: the call never returns, and the child is
        handed to the nearest reaper. Called when a task dies in a clone
        call, from the sweep while one waits in it, and when the run ends. A
        child of a tracee is traced from its birth on (TracerPid is ours
        before it first runs), so this cannot take a new task for one.
        """
        parents = [(task.pid, tid) for tid, task in self.tasks.items()]
        if self.adopts_orphans:
            parents += [(os.getpid(), int(tid)) for tid in os.listdir("/proc/self/task")]
        ours = str(os.getpid()).encode()
        for pid, tid in parents:
            for child in _children(pid, tid):
                if child in self.tasks or child in self.protect or child in self._escapees:
                    continue
                # A zombie is no escape: a traced child that exited, not yet reaped.
                fields = _status(child, b"State", b"TracerPid", b"Seccomp")
                if (fields.get(b"TracerPid") not in (ours, None) and fields.get(b"Seccomp") == b"2"
                        and not fields.get(b"State", b"Z").startswith((b"Z", b"X"))):
                    self._kill_logged(child, parent.pid if parent else child, parent.tid if parent else child,
                                      "untraced child")
                    self._escapees.add(child)

    def _kill_logged(self, target: int, pid: int, tid: int, why: str) -> None:
        """SIGKILL process `target` and log it."""
        if _sigkill(target):
            self._log_kill(target, pid, tid, why)

    def _read_stuck(self, pid: int) -> bool:
        """The watchdog's call, from its thread, while our read of `pid`'s
        memory does not end: when a process of the program serves FUSE, the
        two wait for each other for ever (see tracer.watch): kill the program."""
        pids = sorted({task.pid for task in list(self.tasks.values())})
        if not serves_fuse(pids):
            return False
        for target in pids:
            _sigkill(target)

        def log(tracer: Tracer) -> None:  # in our thread, once the read has ended
            for target in pids:
                tracer._log_kill(target, target, target, "memory read stuck on FUSE")

        self.request(log)
        return True

    def _log_kill(self, target: int, pid: int, tid: int, why: str) -> None:
        """Log a SIGKILL of process `target` as the jail's doing, in the name of
        task `pid`/`tid` (number -1: no syscall of the program's)."""
        self._seq += 1
        self.emit(["S", self._seq, time.time(), pid, tid, -1, (target, signal.SIGKILL, 0, 0, 0, 0),
                   None, "kill", "jail", None, why, None])

    # ----- everything else -----------------------------------------------------

    def _resume(self, task: Task | None, tid: int, sig: int = 0) -> None:
        req = ptrace.SYSCALL if task is not None and task.record is not None else ptrace.CONT
        ptrace.raw(req, tid, 0, sig)

    def _new_task(self, tid: int) -> Task:
        """A task we have not heard of: its first stop can beat its creator's
        event. A new task is put first in the kernel's list of our tracees,
        so when the creator is a tracee too (not the program's first
        process), its stops often come first: it may even have lived and
        died by the time the event is served (see _on_new_child)."""
        fields = _status(tid, b"Tgid", b"PPid")
        pid = int(fields.get(b"Tgid", tid))
        parent = self.tasks.get(pid) if pid != tid else None
        exe = parent.exe if parent else ""
        task = Task(tid, pid, pid if parent else int(fields.get(b"PPid", 0)), exe)
        task.early = True
        self.tasks[tid] = task
        self._task_event("spawn", task, "thread" if pid != tid else "process")
        return task

    def _on_other(self, tid: int, status: int) -> None:
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            self._on_death(tid, self.tasks.get(tid), status)  # its _forget syncs the feed
            return
        task = self.tasks.get(tid)
        if task is not None and (task.feed_t or self._closed):
            self._feed_sync(task)
        if not os.WIFSTOPPED(status):
            return
        sig = os.WSTOPSIG(status)
        event = status >> 16
        if task is None:
            task = self._new_task(tid)
        task.stopped = False
        if event == 0:
            if sig == (signal.SIGTRAP | 0x80):  # a syscall stop we did not ask for
                self._resume(task, tid)
                return
            self._seq += 1
            self.emit(("G", self._seq, time.time(), task.pid, tid, sig, self._siginfo(tid), False))
            self.delivered.setdefault(task.pid, {})[sig] = time.monotonic()
            self._resume(task, tid, sig)  # signal-delivery-stop: deliver it
        elif event == ptrace.EVENT_STOP:
            if sig in GROUP_STOP_SIGNALS:
                ptrace.raw(ptrace.LISTEN, tid, 0, 0)
                task.stopped = True
                self._seq += 1  # strace's "--- stopped by SIGSTOP ---"
                self.emit(("G", self._seq, time.time(), task.pid, tid, sig, None, True))
                self.policy.on_group_stop(task, sig)
            else:
                self._resume(task, tid)
        elif event in (ptrace.EVENT_FORK, ptrace.EVENT_VFORK, ptrace.EVENT_CLONE):
            child = self._on_new_child(task, event)
            # A vfork's parent waits for its child after the event: its exit
            # stop is the end of the call (strace -T counts the wait too).
            if child and event != ptrace.EVENT_VFORK and task.record is not None and self._sees_our_pids(tid):
                self._returns_at_event(task, child)
            self._resume(task, tid)
        elif event == ptrace.EVENT_EXEC:
            task = self._on_exec(task, tid)
            self._returns_at_event(task, 0)
            self._resume(task, tid)
        else:
            self._resume(task, tid)

    def _siginfo(self, tid: int) -> bytes | None:
        """The siginfo of the signal `tid` is stopped to receive (decoded in
        the log); None when no one reads the log, or the task is gone."""
        if not self._capture or ptrace.raw(ptrace.GETSIGINFO, tid, 0, self._siginfo_addr) == -1:
            return None
        return self._siginfo_buf.raw

    def _on_new_child(self, parent: Task, event: int) -> int:
        """Take the new task in; its tid, 0 when the parent is gone."""
        try:
            child = ptrace.geteventmsg(parent.tid)
        except (ptrace.TaskGone, OSError):
            return 0
        parent.last_child = child
        known = self.tasks.get(child)
        if known is not None:
            known.early = False
            known.ppid = parent.pid
            return child
        if child in self._gone_early:  # spawned and exited in the log already
            del self._gone_early[child]
            return child
        is_thread = event == ptrace.EVENT_CLONE and _tgid(child) == parent.pid
        task = Task(child, parent.pid if is_thread else child, parent.pid, parent.exe)
        self.tasks[child] = task
        self._task_event("spawn", task, "thread" if is_thread else "process")
        return child

    def _on_exec(self, task: Task, tid: int) -> Task:
        """After execve the task is the thread group leader, whoever called it."""
        try:
            former = ptrace.geteventmsg(tid)
        except (ptrace.TaskGone, OSError):
            former = tid
        if former != tid and former in self.tasks:
            execer = self.tasks.pop(former)
            self._forget(task, None)  # the old leader is gone without a death report
            self._task_event("exit", execer, None)  # and the execing thread's old tid
            execer.tid = tid
            execer.mem.close()
            execer.mem = task.mem
            execer.ppid = task.ppid
            self.tasks[tid] = execer
            task = execer
        task.mem.reset()  # a new address space
        try:
            task.exe = os.readlink(f"/proc/{tid}/exe")
        except OSError:
            pass
        self._task_event("exec", task, task.exe)
        return task

    def _returns_at_event(self, task: Task, retval: int) -> None:
        """A clone that reaches its fork or clone event returns the child's
        id, an execve that reaches its exec event 0: log the call now and
        resume the task with PTRACE_CONT, without the exit stop its entry
        asked for (one round trip less per fork and per exec). Not when its
        result is to be tampered with: that takes the exit stop."""
        record = task.record
        if record is None or task.tamper is not None:
            return
        started = record[R_RUN]
        record[R_RETVAL] = retval
        record[R_RUN] = (_mono() - started) / 1e9 if started else None
        task.record = None
        task.clone_check = False  # the child is traced: here is its event
        self.emit(record)

    def _sees_our_pids(self, tid: int) -> bool:
        """Whether `tid` is in our pid namespace, so that the child id of its
        clone's event (ours) is the one the call returns to it, and our pids
        are the jail's for it. /proc/TID/ns/pid is refused to an unprivileged
        jail once the task is non-dumpable: then its depth in NSpid (readable
        to all) tells, as our descendants live in our namespace or below it."""
        try:
            return os.stat(f"/proc/{tid}/ns/pid").st_ino == self._pid_ns
        except OSError:
            pass
        ids = _ns_pids(tid)
        return bool(ids) and len(ids) == len(_ns_pids(os.getpid()))

    def _on_death(self, tid: int, task: Task | None, status: int) -> None:
        if task is None:
            if tid in self._escapees:  # reaped: its number may come again, its children are ours now
                self._escapees.discard(tid)
                self._kill_escapees(None)
            return
        self._forget(task, status)
        del self.tasks[tid]
        if task.clone_check:  # died in a clone3 that did not return: its child may be untraced
            self._kill_escapees(task)
        if task.early:  # its creator's event is still to come: no new task then
            self._gone_early[tid] = None
            if len(self._gone_early) > GONE_EARLY_MAX:
                del self._gone_early[next(iter(self._gone_early))]
        if tid == task.pid:  # the process is gone (a leader is reported after its threads)
            self.delivered.pop(tid, None)
        if tid == self.root_pid:
            self.root_status = status

    def _forget(self, task: Task, status: int | None) -> None:
        """Close what a vanished task left open: its syscall in flight and its decision."""
        if task.feed_t or self._closed:
            self._feed_sync(task, died=True)
        for record in (task.record, task.held):
            if record is not None:
                record[R_RUN] = None
                self.emit(record)  # retval stays None: it never returned
        task.record = task.held = None
        task.mem.close()
        self._task_event("exit", task, status)


def _sigkill(pid: int) -> bool:
    """SIGKILL process `pid`; False when it is gone already."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def _s32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


def _installs_filter(name: str, args: tuple[int, ...]) -> bool:
    if name == "seccomp":
        return args[0] & 0xFFFFFFFF == 1  # SECCOMP_SET_MODE_FILTER
    return args[0] & 0xFFFFFFFF == 22 and args[1] == 2  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER


def _collect(waiting: collections.deque) -> None:
    """Append every stop that is waiting to be reported."""
    try:
        while True:
            stop = os.waitpid(-1, WALL_NOHANG)
            if not stop[0]:
                return
            waiting.append(stop)
    except ChildProcessError:
        return


def _status(tid: int, *keys: bytes) -> dict[bytes, bytes]:
    """The values of these fields ("Tgid", "NSpid"...) of /proc/TID/status,
    read up to the last one wanted; fewer when the task is gone."""
    found: dict[bytes, bytes] = {}
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                key, _, value = line.partition(b":")
                if key in keys:
                    found[key] = value.strip()
                    if len(found) == len(keys):
                        break
    except OSError:
        pass
    return found


def _children(pid: int, tid: int) -> list[int]:
    """The children thread `tid` of process `pid` made (or reaps), in our numbering."""
    try:
        with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
            return [int(n) for n in f.read().split()]
    except (OSError, ValueError):
        return []


def _reap(pid: int) -> None:
    """Wait for `pid`, sent SIGKILL, if it is our child: at most KILL_WAIT (see kill_all)."""
    deadline = time.monotonic() + KILL_WAIT
    try:
        while not os.waitpid(pid, WALL | os.WNOHANG)[0] and time.monotonic() < deadline:
            time.sleep(0.001)
    except ChildProcessError:
        pass


def _tgid(tid: int) -> int:
    return int(_status(tid, b"Tgid").get(b"Tgid", tid))


def _ns_pids(tid: int) -> list[int]:
    """A task's ids in its pid namespace and each one above it up to ours
    ("NSpid:", ours first); [] when it is gone."""
    return [int(n) for n in _status(tid, b"NSpid").get(b"NSpid", b"").split()]


def _pid_in_ns(pid: int, caller: Task) -> int | None:
    """Our id of the process `caller` knows as `pid` in its pid namespace:
    a child of the caller's process or of its parent (CLONE_PARENT) with that
    number at the caller's depth. A walk over /proc, for the rare clone whose
    result the tracer did not see coming."""
    depth = len(_ns_pids(caller.tid)) - 1
    if depth < 0:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _status(int(entry), b"PPid", b"NSpid")
        if len(fields) < 2:
            continue
        ids = [int(n) for n in fields[b"NSpid"].split()]
        if len(ids) > depth and ids[depth] == pid and int(fields[b"PPid"]) in (caller.pid, caller.ppid):
            return ids[0]
    return None


def _pidfd_pid(tid: int, fd: int) -> int | None:
    """The pid a task's fd refers to: a pidfd (fdinfo "Pid:") or an open
    /proc/PID directory, wherever that /proc is mounted (a bind mount, a
    mount of its own: the path says nothing then, the directory's status
    does); None for any other fd. PermissionError when we may not look."""
    try:
        with open(f"/proc/{tid}/fdinfo/{fd}", "rb") as f:
            for line in f:
                if line.startswith(b"Pid:"):
                    return int(line.split()[1])
        link = os.readlink(f"/proc/{tid}/fd/{fd}")
        head, _, tail = link.rpartition("/")
        if head == "/proc" and tail.isdigit():
            return int(tail)
        if mount_types(tid).get(mount_id(tid, fd)) != b"proc":  # no open of a FIFO or FUSE file of its own
            return None
        with open(f"/proc/{tid}/fd/{fd}/status", "rb") as f:  # ENOTDIR, ENOENT: no process directory
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except PermissionError:
        raise
    except (OSError, ValueError):
        pass
    return None


def _entry_plan(name: str | None):
    """The decoder's capture at entry; imported on first use (a kernel-only run never needs it)."""
    if not name:
        return None
    from seccomp_jail.decode import capture_plan

    return capture_plan(name)


def _captures_at_exit(name: str | None) -> bool:
    from seccomp_jail.decode import captures_at_exit

    return captures_at_exit(name)


def _exit_plan(name: str | None):
    if not name:
        return None
    from seccomp_jail.decode import exit_capture_plan

    return exit_capture_plan(name)
