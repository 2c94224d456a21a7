"""Reading a stopped tracee's memory: process_vm_readv and the PEEKDATA fallback.

The child is a fork of the test process, so a buffer made before the fork
sits at the same address in the child.
"""

from __future__ import annotations

import ctypes
import os
import signal

import pytest

from seccomp_jail.kernel.libc import libc
from seccomp_jail.kernel.memory import PAGE, TaskMemory

PTRACE_TRACEME = 0


@pytest.fixture
def stopped_child():
    text = b"/etc/some/path\0after"
    buf = ctypes.create_string_buffer(text, 2 * PAGE)
    # place a string across a page boundary too
    edge = PAGE - (ctypes.addressof(buf) % PAGE) - 3
    ctypes.memmove(ctypes.addressof(buf) + edge, b"abcdef\0", 7)
    pid = os.fork()
    if pid == 0:
        libc.ptrace(PTRACE_TRACEME, 0, 0, 0)
        os.kill(os.getpid(), signal.SIGSTOP)
        os._exit(0)
    os.waitpid(pid, 0)
    yield pid, ctypes.addressof(buf), edge
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def test_reads(stopped_child):
    pid, addr, edge = stopped_child
    mem = TaskMemory(pid)
    assert mem.read_str(addr) == b"/etc/some/path"
    assert mem.read(addr, 4) == b"/etc"
    assert mem.read_str(addr + edge) == b"abcdef"
    assert mem.read_str(0) is None
    assert mem.read(8, 16) is None  # unmapped


def test_peekdata_fallback_reads_the_same(stopped_child):
    pid, addr, edge = stopped_child
    mem = TaskMemory(pid)
    for start, size in ((addr, 20), (addr + 3, 9), (addr + edge, 7)):
        expected = mem.read(start, size)
        got = mem._peek_into(start, size)
        assert got == size and mem._buf[:got] == expected
    assert mem._peek_into(8, 16) == -1
