"""Reading a stopped tracee's memory: /proc/PID/mem, and the process_vm_readv
and PEEKDATA fallbacks.

The child is a fork of the test process, so a buffer made before the fork
sits at the same address in the child.
"""

from __future__ import annotations

import ctypes
import os
import signal

import pytest

from seccomp_jail.kernel.libc import libc
from seccomp_jail.kernel import memory
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


def test_fallbacks_read_the_same(stopped_child):
    pid, addr, edge = stopped_child
    mem = TaskMemory(pid)
    for start, size in ((addr, 20), (addr + 3, 9), (addr + edge, 7), (addr + edge - 5, 4096)):
        expected = mem._read(start, size)
        assert expected and mem._fd >= 0  # through the file
        assert mem._readv(start, size) == expected
        assert mem._peek(start, size) == expected
    assert mem._readv(8, 16) == b"" and mem._peek(8, 16) == b""
    mem.close()


def test_without_files_to_spare_reads_go_through_process_vm_readv(stopped_child, monkeypatch):
    pid, addr, edge = stopped_child
    monkeypatch.setattr(memory, "MAX_FILES", 0)
    mem = TaskMemory(pid)
    assert mem.read_str(addr) == b"/etc/some/path"
    assert mem.read_str(addr + edge) == b"abcdef"
    assert mem._fd < 0


def test_files_are_given_back(stopped_child):
    pid, addr, _ = stopped_child
    before = TaskMemory.open_files
    mems = [TaskMemory(pid) for _ in range(3)]
    assert all(m.read(addr, 4) == b"/etc" for m in mems)
    assert TaskMemory.open_files == before + 3
    for m in mems:
        m.close()
        m.close()  # twice is harmless
    assert TaskMemory.open_files == before
    assert mems[0].read(addr, 4) == b"/etc"  # opens again
    mems[0].close()


def test_an_address_beyond_user_space_reads_nothing(stopped_child):
    pid, _, _ = stopped_child
    mem = TaskMemory(pid)
    assert mem.read(1 << 63, 8) is None and mem.read_str((1 << 64) - 8) is None
    mem.close()
