"""The session: rules, pending decisions, the log and the task tree.

It is the only API front ends use (CLI, terminal prompt, GUI, remote
server); it drives the tracer and answers its questions. Methods other than
`run` are safe to call from any thread while `run` is going.
"""

from __future__ import annotations

import collections
import os
import threading
from typing import TYPE_CHECKING, Callable

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.policy.compile import compile_rules
from seccomp_jail.policy.model import RuleSet
from seccomp_jail.session import signals
from seccomp_jail.session.decision import Decision
from seccomp_jail.session.logpipe import LogPipe
from seccomp_jail.session.options import SessionOptions
from seccomp_jail.session.pending import Pending, PendingTable
from seccomp_jail.session.prestart import hold_exit_feed, wants_exit_feed
from seccomp_jail.session.rules import RuleStore
from seccomp_jail.tracer import verdict as V
from seccomp_jail.tracer.launch import spawn
from seccomp_jail.tracer.loop import Tracer
from seccomp_jail.tracer.program import find_program
from seccomp_jail.tracer.task import Task

if TYPE_CHECKING:
    from seccomp_jail.kernel.perf import TracepointHold
    from seccomp_jail.log.writer import WriterHandle

TIMEOUT_ACTIONS = ("allow", "abort", "kill")
# Ended tasks the tree keeps (a child's rules may ask for its parent's exe
# after the parent is gone); older ones are dropped, so that a long run of
# short processes (a build) does not grow the tree without end.
ENDED_KEPT = 4096
_HOLD = V.HOLD


class TaskInfo:
    """A node of the process/thread tree, built from the tracer's own events."""

    __slots__ = ("tid", "pid", "ppid", "exe", "kind", "status", "alive")

    def __init__(self, tid: int, pid: int, ppid: int, exe: str, kind: str) -> None:
        self.tid = tid
        self.pid = pid
        self.ppid = ppid
        self.exe = exe
        self.kind = kind  # "process" or "thread"
        self.status: int | None = None  # wait status once it is gone
        self.alive = True


def _not_dumpable() -> None:
    """Keep same-uid processes (the jailed ones) out of our /proc/PID/mem.

    Only after the target is seized: a child forked while we are not dumpable
    inherits that until its exec, and an unprivileged tracer could not seize it.
    """
    from seccomp_jail.kernel.libc import PR_SET_DUMPABLE, prctl

    prctl(PR_SET_DUMPABLE, 0)


def exit_status(status: int | None) -> int:
    """The shell's view of a wait status: the code, or 128+N when killed by N."""
    if status is None:
        return 1
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return 1


class Session:
    def __init__(self, ruleset: RuleSet, options: SessionOptions | None = None,
                 feed_hold: TracepointHold | None = None, writer: WriterHandle | None = None) -> None:
        """`feed_hold`, `writer`: from `prestart.hold_exit_feed` and `prestart.start_log`
        (same options), for the first `run` to use, and to release or close."""
        self.options = options or SessionOptions()
        self._feed_hold = feed_hold
        self._writer = writer
        if self.options.timeout_action not in TIMEOUT_ACTIONS:
            raise ValueError(f"timeout action must be one of {', '.join(TIMEOUT_ACTIONS)}")
        self.table = native_table()
        self.ruleset = ruleset
        self.compiled = compile_rules(ruleset, self.table)
        self.rules = RuleStore(ruleset, self.table, self.compiled, self._ancestry)
        self.pending = PendingTable()
        self.tree: dict[int, TaskInfo] = {}
        self._ended: collections.deque[TaskInfo] = collections.deque()  # in the order they ended
        self._tree_lock = threading.Lock()
        self._listeners: list[Callable[[Pending], None]] = []
        self._timeout_decision = Decision(self.options.timeout_action, errno=self.options.timeout_errno)
        self.tracer: Tracer | None = None
        self._groups: signals.ProcessGroups | None = None

    # ----- front-end API --------------------------------------------------------

    def on_pending(self, callback: Callable[[Pending], None]) -> None:
        """Call `callback(pending)` (in the tracer thread: return quickly) for each new hold.

        With a listener attached, `notify` waits for it even when the timeout is 0.
        """
        self._listeners.append(callback)

    def decide(self, pending_id: int, decision: Decision, origin: str = "user") -> bool:
        """Answer a pending syscall; False when it is already decided or its task is gone."""
        item = self.pending.take(pending_id)
        if item is None or self.tracer is None:
            return False
        if decision.kind == "edit" and decision.args is None:  # a new number, the same arguments
            decision = Decision("edit", nr=decision.nr, args=item.args)
        self.tracer.resolve(item.tid, decision.verdict(origin, item.rule))
        return True

    def pids(self) -> set[int]:
        """Tids traced right now."""
        with self._tree_lock:
            return {tid for tid, info in self.tree.items() if info.alive}

    # ----- running --------------------------------------------------------------

    def run(self, argv: list[str]) -> int:
        """Run `argv` in the jail until its whole tree is gone; return its exit status.

        Raises ProgramNotFound before anything starts when argv[0] is not runnable.
        """
        try:
            return self._run(argv)
        finally:
            if self._feed_hold is not None:  # never handed to the tracer
                self._feed_hold.release()
                self._feed_hold = None
            if self._writer is not None:  # never handed to the log pipe
                self._writer.close()
                self._writer = None

    def _run(self, argv: list[str]) -> int:
        opts = self.options
        env = dict(os.environ if opts.env is None else opts.env)
        path = find_program(argv[0], env)
        in_main = threading.current_thread() is threading.main_thread()
        forward = opts.forward_signals and in_main
        writer, self._writer = self._writer, None
        logpipe = LogPipe(opts.sinks(argv), writer)
        if self._feed_hold is None:  # the kernel's wait overlaps our start-up from here on
            self._feed_hold = hold_exit_feed(self.ruleset, opts)
        use_info = opts.use_syscall_info
        if use_info is None:
            use_info = os.environ.get("SECCOMP_JAIL_NO_SYSCALL_INFO") != "1"
        tracer = Tracer(self, logpipe.emit, self.table.names_by_nr, use_info, capture=bool(logpipe.pids))
        self.tracer = tracer
        forwarder = None
        groups = self._groups = signals.ProcessGroups() if opts.separate_group and in_main else None
        mask = signals.block() if forward else signals.current_mask()
        tracer.adopts_orphans = opts.adopt_orphans
        try:
            tracer.protect.update((*logpipe.pids, *self._helper_pids(), tracer.start_waker()))
            pid = spawn(path, list(argv), env, self.compiled.program(tuple(sorted(tracer.protect))),
                        lambda pid: self._seized(pid, logpipe), mask=mask, close_fds=opts.close_fds,
                        own_group=bool(groups and groups.own_group),
                        foreground=groups.tty if groups and groups.foreground else -1)
            if groups:
                groups.started(pid)
            tracer.adopt_root(pid, path)
            _not_dumpable()
            logpipe.start()
            if forward:
                forwarder = signals.SignalForwarder(
                    self._signal_targets, self.pids, lambda pid, sig: tracer.delivered.get(pid, {}).get(sig))
                forwarder.start()
            tracer.run()
        finally:
            if forwarder:
                forwarder.stop()
            if forward:
                signals.unblock(mask)
            if groups:
                groups.close()
                self._groups = None
            tracer.close()  # done by the loop, unless spawning failed before it ran
            self.pending.clear()  # their tasks are gone with the run
            logpipe.close()
        return exit_status(tracer.root_status)

    def _helper_pids(self) -> tuple[int, ...]:
        hold = self._feed_hold
        return (hold.pid,) if hold is not None and hold.pid else ()

    def _seized(self, pid: int, logpipe: LogPipe) -> None:
        """The target exists and waits for us: set up what must precede its first syscall."""
        self.tracer.placement.start()
        hold, self._feed_hold = self._feed_hold, None
        if not logpipe.pids:  # no writer: nothing reads the log
            self.tracer.skip_results(self.compiled.always_traced)
        if wants_exit_feed(self.ruleset, self.options):
            self.tracer.open_feed(pid, self.compiled.always_traced, hold)
        elif hold is not None:
            hold.release()
        logpipe.ready()  # the log files opened meanwhile; a bad one stops the run here

    def _ancestry(self, pid: int) -> tuple[int, str] | None:
        """(parent pid, parent exe) of process `pid`, from the tree."""
        info = self.tree.get(pid)
        if info is None:
            return None
        parent = self.tree.get(info.ppid)
        return (info.ppid, parent.exe) if parent else None

    def _forget_ended(self, info: TaskInfo) -> None:
        """Keep the ENDED_KEPT last ended tasks in the tree (under _tree_lock)."""
        self._ended.append(info)
        if len(self._ended) > ENDED_KEPT:
            oldest = self._ended.popleft()
            if self.tree.get(oldest.tid) is oldest:  # not since reused by a new task
                del self.tree[oldest.tid]

    def _signal_targets(self) -> list[int]:
        with self._tree_lock:
            root = self.tree.get(self.tracer.root_pid) if self.tracer else None
            if root is not None and root.alive:
                return [root.pid]
            return sorted({i.pid for i in self.tree.values() if i.alive and i.kind == "process"})

    # ----- the tracer's questions (tracer thread) ------------------------------

    def on_syscall(self, task: Task, nr: int, args: tuple[int, ...]) -> tuple:
        rules = self.rules
        verdict = rules.lookup(task, nr, args) if nr in rules.index else rules.default_verdict
        if verdict[0] != _HOLD:
            return verdict
        timeout = self.options.notify_timeout
        if timeout == 0 and not self._listeners:
            return self._timeout_decision.verdict("timeout", verdict[4])
        item = self.pending.add(task.tid, task.pid, nr, self.table.name(nr), args, verdict[4],
                                timeout, self._on_timeout)
        for listener in self._listeners:
            listener(item)
        return verdict

    def _on_timeout(self, pending_id: int) -> None:
        self.decide(pending_id, self._timeout_decision, origin="timeout")

    def on_group_stop(self, task: Task, signo: int) -> None:
        if self._groups is not None and task.tid == self.tracer.root_pid:
            self._groups.stopped(signo)

    def on_task_event(self, kind: str, task: Task, detail: object) -> None:
        with self._tree_lock:
            if kind == "spawn":
                self.tree[task.tid] = TaskInfo(task.tid, task.pid, task.ppid, task.exe, str(detail))
            elif kind == "exec":
                info = self.tree.get(task.tid)
                if info is None or not info.alive:  # a thread exec'd and took the leader's tid
                    self.tree[task.tid] = TaskInfo(task.tid, task.pid, task.ppid, str(detail), "process")
                else:
                    info.exe = str(detail)
            elif kind == "exit":
                info = self.tree.get(task.tid)
                if info is not None:
                    info.alive = False
                    info.status = detail if isinstance(detail, int) else None
                    self._forget_ended(info)
        if kind == "exit":
            self.pending.take_tid(task.tid)
