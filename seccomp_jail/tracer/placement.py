"""Where the tracer runs: on a CPU of its own, away from the traced program.

Why: a stopping tracee wakes the tracer with a *sync* wake-up, which lets the
scheduler pull the tracer onto the tracee's CPU, and a tracee resumed while
another thread of the jail happens to run on its CPU is placed on the
tracer's. Once both share a CPU, the kernel stops looking for an idle one
(the polling tracer makes the CPU look busy), so every syscall then costs a
preemption of the tracer while the other CPU idles.

So when the tracer finds itself preempted at most of its stops, it moves to
a CPU the program is not on and keeps to it. Until then it goes where the
scheduler puts it: a program that stops seldom (one that mostly forks and
execs) is served best on its own CPU, where waking the tracer needs no
interrupt from another CPU. The program's affinity is never touched: it may
use every CPU, as without the jail. With a single CPU the tracer must not
poll at all.
"""

from __future__ import annotations

import os
import resource

from seccomp_jail.kernel.libc import current_cpu

CHECK_EVERY = 256  # stops between two looks at how often we were preempted


class Placement:
    def __init__(self) -> None:
        self.cpus = sorted(os.sched_getaffinity(0))
        self.cpu = -1  # the one we keep to; -1: not pinned
        self._preempted = 0

    @property
    def shared(self) -> bool:
        """Tracer and program can only run on one CPU: no polling then."""
        return len(self.cpus) < 2

    def start(self) -> None:
        """Called in the tracer thread before its first stop."""
        self._preempted = _involuntary_switches()

    def check(self, tid: int) -> None:
        """Called every CHECK_EVERY stops; `tid` is a task that just stopped."""
        if self.shared:
            return
        count = _involuntary_switches()
        crowded = count - self._preempted > CHECK_EVERY // 4
        self._preempted = count
        if not crowded:
            return
        theirs = _task_cpu(tid)
        here = current_cpu()
        if here == theirs or self.cpu < 0:
            self._move(here if here != theirs else next(c for c in self.cpus if c != theirs))

    def finish(self) -> None:
        """The run is over: give the calling thread its CPUs back (it may be an API user's)."""
        if self.cpu >= 0:
            try:
                os.sched_setaffinity(0, self.cpus)
            except OSError:
                pass
            self.cpu = -1

    def _move(self, cpu: int) -> None:
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError:  # a cpuset changed under us: leave placement to the kernel
            self.cpu = -1
            return
        self.cpu = cpu


def _involuntary_switches() -> int:
    return resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw


def _task_cpu(tid: int) -> int:
    """The CPU `tid` last ran on (field 39 of /proc/TID/stat), -1 if unknown."""
    try:
        with open(f"/proc/{tid}/stat", "rb") as f:
            stat = f.read()
        return int(stat.rpartition(b")")[2].split()[36])
    except (OSError, ValueError, IndexError):
        return -1
