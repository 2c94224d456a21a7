"""Reading a stopped tracee's memory: /proc/PID/mem, held or opened for one
read, and the PEEKDATA fallback.

The child is a fork of the test process, so a buffer made before the fork
sits at the same address in the child.
"""

from __future__ import annotations

import ctypes
import errno
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


def test_fallbacks_read_the_same(stopped_child, monkeypatch):
    pid, addr, edge = stopped_child
    mem = TaskMemory(pid)
    for start, size in ((addr, 20), (addr + 3, 9), (addr + edge, 7), (addr + edge - 5, 4096)):
        expected = mem._read(start, size)
        assert expected and mem._fd >= 0  # through the file
        assert mem._peek(start, size) == expected
        with monkeypatch.context() as m:
            m.setattr(memory, "MAX_FILES", 0)
            assert TaskMemory(pid)._read(start, size) == expected  # a file for one read
    assert mem._peek(8, 16) == b""
    mem.close()


def test_without_files_to_spare_each_read_opens_one(stopped_child, monkeypatch):
    pid, addr, edge = stopped_child
    monkeypatch.setattr(memory, "MAX_FILES", 0)
    fds = len(os.listdir("/proc/self/fd"))
    mem = TaskMemory(pid)
    assert mem.read_str(addr) == b"/etc/some/path"
    assert mem.read_str(addr + edge) == b"abcdef"
    assert mem.read(8, 16) is None
    assert mem._fd < 0 and len(os.listdir("/proc/self/fd")) == fds


def test_a_refused_file_falls_back_to_peekdata(stopped_child, monkeypatch):
    """The kernel refuses /proc/PID/mem of a non-dumpable task to a tracer
    without CAP_SYS_PTRACE (tests/test_engine_unprivileged.py runs that for
    real); here the refusal is made up, to check where reads go then."""
    pid, addr, edge = stopped_child
    real_open = os.open

    def refuse(path, *args):
        if path.endswith("/mem"):
            raise PermissionError(errno.EACCES, "refused")
        return real_open(path, *args)

    monkeypatch.setattr(os, "open", refuse)
    mem = TaskMemory(pid)
    assert mem.read_str(addr) == b"/etc/some/path"
    assert mem.read_str(addr + edge) == b"abcdef"
    assert mem._fd == memory._NO_FILE


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
