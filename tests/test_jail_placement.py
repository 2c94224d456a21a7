"""CPU placement: the tracer keeps to a CPU of its own, the program keeps all of its CPUs.

A program must see the CPUs it would see without the jail (build tools size
their job count from them), and on a single CPU the tracer must not poll.
"""

from __future__ import annotations

import os
import sys

import pytest

from seccomp_jail.tracer.placement import CHECK_EVERY, Placement, _involuntary_switches

from conftest import jail_command, jail_env, run_process

AFFINITY = "import os; print(sorted(os.sched_getaffinity(0)))"


@pytest.mark.parametrize("cpus", ["all", "one"])
def test_program_sees_the_cpus_it_would_see_without_the_jail(workdir, cpus):
    mine = sorted(os.sched_getaffinity(0))
    allowed = mine if cpus == "all" else mine[:1]
    pin = [] if cpus == "all" else ["taskset", "-c", str(allowed[0])]
    program = ["--", sys.executable, "-c", AFFINITY]
    native = run_process([*pin, sys.executable, "-c", AFFINITY], cwd=workdir)
    jailed = run_process([*pin, *jail_command("run", "-q", *program)], cwd=workdir, env=jail_env())
    assert jailed.returncode == 0, jailed.stderr
    assert jailed.stdout == native.stdout == f"{allowed}\n"


def test_check_moves_the_tracer_off_a_crowded_cpu():
    """In a thread of our own (affinity is per thread), crowded by a busy child on its CPU."""
    import threading

    seen = {}

    def body():
        placement = Placement()
        if placement.shared:
            seen["shared"] = True
            return
        crowded_cpu = placement.cpus[0]
        os.sched_setaffinity(0, {crowded_cpu})  # where a tracee would have pulled us
        placement.start()
        busy = os.fork()
        if busy == 0:  # spins on our CPU, preempting us
            os.sched_setaffinity(0, {crowded_cpu})
            while True:
                pass
        try:
            placement.check(busy)  # not crowded yet: nothing moves
            seen["before"] = (placement.cpu, sorted(os.sched_getaffinity(0)))
            start = _involuntary_switches()
            while _involuntary_switches() - start <= CHECK_EVERY:
                os.sched_yield()
            placement.check(busy)
            seen["after"] = (placement.cpu, sorted(os.sched_getaffinity(0)), crowded_cpu)
            placement.finish()
            seen["finished"] = sorted(os.sched_getaffinity(0))
        finally:
            os.kill(busy, 9)
            os.waitpid(busy, 0)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "shared" in seen:
        assert len(os.sched_getaffinity(0)) == 1
        return
    cpu, mask = seen["before"]
    assert cpu == -1 and len(mask) == 1  # unpinned by the jail, only by the test
    moved, mask, crowded = seen["after"]
    assert moved != crowded and mask == [moved]
    assert seen["finished"] == sorted(os.sched_getaffinity(0))  # all of them again
