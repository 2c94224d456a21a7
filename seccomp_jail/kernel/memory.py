"""Reading a traced task's memory: /proc/PID/mem, process_vm_readv(2), PTRACE_PEEKDATA.

The tracer reads a path or a struct at most syscall stops, while the task
waits, so each read is on the traced program's clock. A `pread` of the
task's /proc/PID/mem file, opened once, costs one plain system call with
no ctypes marshalling: about 1.5 µs a path on the VM we measured, against
4.8 µs through process_vm_readv. The file shows the address space the task
had when it was opened, so the tracer calls `reset` after an exec.

process_vm_readv stands in where no file can be held (too many open, or
/proc refuses), PTRACE_PEEKDATA where the kernel refuses both to a tracer
without CAP_SYS_PTRACE (a task that made itself non-dumpable): a tracer may
always peek at its stopped tracee. Reads never raise: a bad pointer in the
target is normal (its bug or its trick), and is reported as None.
"""

from __future__ import annotations

import ctypes
import errno
import os

from seccomp_jail.kernel import ptrace
from seccomp_jail.kernel.libc import libc


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


_readv = libc.process_vm_readv
_readv.restype = ctypes.c_ssize_t
_readv.argtypes = [
    ctypes.c_int,
    ctypes.POINTER(_IoVec),
    ctypes.c_ulong,
    ctypes.POINTER(_IoVec),
    ctypes.c_ulong,
    ctypes.c_ulong,
]

PAGE = 4096
FIRST_READ = 256  # bytes; covers nearly every path in one read
MAX_FILES = 256  # /proc/PID/mem files held at once; beyond, process_vm_readv
_NOT_YET, _NO_FILE = -1, -2
_REFUSED = (errno.EPERM, errno.EACCES)
_ADDR_END = 1 << 63  # pread takes a signed offset; no user address is this high


class TaskMemory:
    """MemReader over one task (see seccomp_jail.decode): read(addr, n), read_str(addr, limit)."""

    __slots__ = ("pid", "_fd", "_buf")
    open_files = 0  # across all instances: the jail's own descriptors are limited

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._fd = _NOT_YET
        self._buf: ctypes.Array | None = None  # for the fallbacks, made on first use

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
        try:
            return os.pread(fd, size, addr)
        except OSError as exc:
            if exc.errno in _REFUSED:
                return self._read_without_file(addr, size)
            return b""  # EIO: unmapped; the task is gone; ...
        except OverflowError:  # an address beyond the signed offset range
            return b""

    def _open(self) -> int:
        if self._fd == _NO_FILE or TaskMemory.open_files >= MAX_FILES:
            return -1
        try:
            fd = os.open(f"/proc/{self.pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            if exc.errno not in (errno.EMFILE, errno.ENFILE):
                self._fd = _NO_FILE  # refused, or the task is gone: for good
            return -1
        TaskMemory.open_files += 1
        self._fd = fd
        return fd

    def _read_without_file(self, addr: int, size: int) -> bytes:
        if addr >= _ADDR_END:
            return b""
        got = self._readv(addr, size)
        if got is None:
            return self._peek(addr, size)
        return got

    def _buffer(self, size: int) -> ctypes.Array:
        if self._buf is None or len(self._buf) < size:
            self._buf = ctypes.create_string_buffer(max(size, PAGE))
        return self._buf

    def _readv(self, addr: int, size: int) -> bytes | None:
        """process_vm_readv; None when the kernel refuses it to us (EPERM)."""
        buf = self._buffer(size)
        local = _IoVec(ctypes.addressof(buf), size)
        remote = _IoVec(addr, size)
        got = _readv(self.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if got < 0:
            return None if ctypes.get_errno() == errno.EPERM else b""
        return buf[:got]

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
