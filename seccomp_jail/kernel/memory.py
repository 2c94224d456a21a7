"""Reading a traced task's memory: /proc/PID/mem, else PTRACE_PEEKDATA.

The tracer reads a path or a struct at most syscall stops, while the task
waits, so each read is on the traced program's clock. A `pread` of the
task's /proc/PID/mem file, opened once, costs one plain system call with
no ctypes marshalling: about 1.5 µs a path on the VM we measured. The file
shows the address space the task had when it was opened, so the tracer
calls `reset` after an exec. Beyond MAX_FILES held files, a read opens the
file for itself and closes it again.

Never process_vm_readv: it pins the pages with a fault that may wait, and
a page the program watches with userfaultfd then waits for the program's
fault handler, a thread stopped at a syscall, waiting for us: the jail and
the program would hang for good (strace -f does, on such a program). The
file and PEEKDATA fault without waiting: the page reads as unmapped.
PTRACE_PEEKDATA stands in where the kernel refuses the file to a tracer
without CAP_SYS_PTRACE (a task that made itself non-dumpable): a tracer may
always peek at its stopped tracee. Reads never raise: a bad pointer in the
target is normal (its bug or its trick), and is reported as None.
"""

from __future__ import annotations

import ctypes
import errno
import os

from seccomp_jail.kernel import ptrace

PAGE = 4096
FIRST_READ = 256  # bytes; covers nearly every path in one read
MAX_FILES = 256  # /proc/PID/mem files held at once; beyond, one is opened per read
_NOT_YET, _NO_FILE = -1, -2
_REFUSED = (errno.EPERM, errno.EACCES)
_ADDR_END = 1 << 63  # pread takes a signed offset; no user address is this high


class TaskMemory:
    """MemReader over one task (see seccomp_jail.decode): read(addr, n), read_str(addr, limit)."""

    __slots__ = ("pid", "_fd")
    open_files = 0  # across all instances: the jail's own descriptors are limited

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._fd = _NOT_YET

    def read(self, addr: int, size: int) -> bytes | None:
        if addr == 0 or size <= 0:
            return None if addr == 0 else b""
        return self._read(addr, size) or None

    def read_str(self, addr: int, limit: int = 4096) -> bytes | None:
        """Bytes up to (not including) the NUL, at most `limit`.

        A string may end just before an unmapped page, so no read crosses a
        page boundary; the first one is short because most strings are.
        """
        if addr == 0:
            return None
        out = b""
        want = FIRST_READ
        while len(out) < limit:
            data = self._read(addr, min(PAGE - (addr % PAGE), limit - len(out), want))
            nul = data.find(b"\0")
            if nul >= 0:
                return out + data[:nul]
            if not data:
                return out or None
            want = PAGE
            out += data
            addr += len(data)
        return out[:limit]

    def reset(self) -> None:
        """Forget the file: after an exec it shows the old address space,
        after the task's death nothing. The next read opens it again."""
        if self._fd >= 0:
            os.close(self._fd)
            TaskMemory.open_files -= 1
        self._fd = _NOT_YET

    close = reset

    def _read(self, addr: int, size: int) -> bytes:
        """What is readable from `addr` on, up to `size` bytes (b"" for nothing)."""
        fd = self._fd
        if fd < 0:
            fd = self._open()
            if fd < 0:
                return self._read_without_file(addr, size)
        return self._pread(fd, addr, size)

    def _pread(self, fd: int, addr: int, size: int) -> bytes:
        try:
            return os.pread(fd, size, addr)
        except OSError as exc:
            if exc.errno in _REFUSED:
                return self._peek(addr, size)
            return b""  # EIO: unmapped; the task is gone; ...
        except OverflowError:  # an address beyond the signed offset range
            return b""

    def _open(self) -> int:
        if self._fd == _NO_FILE or TaskMemory.open_files >= MAX_FILES:
            return -1
        fd = self._open_file()
        if fd >= 0:
            TaskMemory.open_files += 1
            self._fd = fd
        return fd

    def _open_file(self) -> int:
        """A new descriptor of the task's memory file; -1 when there is none
        to have (we hold too many: EMFILE, ENFILE), and _NO_FILE for good
        (refused, or the task is gone)."""
        try:
            return os.open(f"/proc/{self.pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno not in (errno.EMFILE, errno.ENFILE):
                self._fd = _NO_FILE
            return -1

    def _read_without_file(self, addr: int, size: int) -> bytes:
        """No file held for this task: a file for this read alone, else PEEKDATA."""
        if self._fd != _NO_FILE:
            fd = self._open_file()
            if fd >= 0:
                try:
                    return self._pread(fd, addr, size)
                finally:
                    os.close(fd)
        if addr >= _ADDR_END:
            return b""
        return self._peek(addr, size)

    def _peek(self, addr: int, size: int) -> bytes:
        """PTRACE_PEEKDATA, word by word, up to the first unreadable word."""
        start = addr & ~7
        data = bytearray()
        for word_addr in range(start, addr + size, 8):
            ctypes.set_errno(0)
            word = ptrace.raw(ptrace.PEEKDATA, self.pid, word_addr, 0)
            if word == -1 and ctypes.get_errno():
                break
            data += (word & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        return bytes(data[addr - start : addr - start + size])
