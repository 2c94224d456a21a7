"""One traced task (thread or process) and what the tracer knows of it."""

from __future__ import annotations

from seccomp_jail.kernel.memory import TaskMemory


class Task:
    """Per-task state; the tracer is its only writer.

    `record` is the log record of the syscall in flight when the task was
    resumed with PTRACE_SYSCALL to see its exit; while it is set, every other
    stop of this task must also be resumed with PTRACE_SYSCALL. With `feed_t`
    set, the task was resumed with PTRACE_CONT instead and the record waits
    for the exit feed: at the task's next stop it joins the tracer's batch of
    closed calls, paired with their values at the next flush.
    """

    __slots__ = (
        "tid", "pid", "ppid", "mem", "record", "tamper", "held", "exe", "last_child",
        "clone_check", "feed_t", "feed_time", "feed_ret", "stopped", "early",
    )

    def __init__(self, tid: int, pid: int, ppid: int, exe: str = "") -> None:
        self.tid = tid
        self.pid = pid  # thread group id
        self.ppid = ppid
        self.mem = TaskMemory(tid)
        self.record: list | None = None
        self.tamper: int | None = None
        self.held: list | None = None  # record of a syscall waiting for a decision
        self.exe = exe
        self.last_child = 0  # tid announced by the last fork/vfork/clone event
        self.clone_check = False  # verify at exit that the new child is traced
        self.stopped = False  # in a group-stop (SIGSTOP...), held with PTRACE_LISTEN
        self.early = False  # seen at its first stop, before its creator's fork or clone event
        # `record` resumed without an exit stop: its return value comes from the
        # exit feed, as the first exit of this task after feed_t (monotonic ns).
        self.feed_t = 0
        self.feed_time = 0
        self.feed_ret: int | None = None

    def __repr__(self) -> str:
        return f"Task(tid={self.tid}, pid={self.pid})"
