"""Reading a stopped task's memory with process_vm_readv(2).

One system call per read, no page-by-page PEEKDATA loop. Reads never raise:
a bad pointer in the target is normal (it is the target's bug or trick), and
is reported as None.
"""

from __future__ import annotations

import ctypes
import errno

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


class TaskMemory:
    """MemReader over one task (see seccomp_jail.decode): read(addr, n), read_str(addr, limit).

    Reuses one buffer: the tracer reads many small strings per second.
    """

    __slots__ = ("pid", "_buf", "_local", "_remote", "_local_ref", "_remote_ref")

    def __init__(self, pid: int, bufsize: int = 8192) -> None:
        self.pid = pid
        self._buf = ctypes.create_string_buffer(bufsize)
        self._local = _IoVec(ctypes.addressof(self._buf), 0)
        self._remote = _IoVec(0, 0)
        # Made once: a byref per call costs as much as the rest of a short read.
        self._local_ref = ctypes.byref(self._local)
        self._remote_ref = ctypes.byref(self._remote)

    def _read_into(self, addr: int, size: int) -> int:
        if size > len(self._buf):
            self._buf = ctypes.create_string_buffer(size)
            self._local.base = ctypes.addressof(self._buf)
        self._local.len = size
        self._remote.base = addr
        self._remote.len = size
        got = _readv(self.pid, self._local_ref, 1, self._remote_ref, 1, 0)
        if got < 0 and ctypes.get_errno() == errno.EPERM:
            return self._peek_into(addr, size)
        return got

    def _peek_into(self, addr: int, size: int) -> int:
        """PTRACE_PEEKDATA, word by word: the tracer may always read its stopped
        tracee, while process_vm_readv refuses a non-dumpable one (prctl
        PR_SET_DUMPABLE 0) to a tracer without CAP_SYS_PTRACE."""
        start = addr & ~7
        data = bytearray()
        for word_addr in range(start, addr + size, 8):
            ctypes.set_errno(0)
            word = ptrace.raw(ptrace.PEEKDATA, self.pid, word_addr, 0)
            if word == -1 and ctypes.get_errno():
                break
            data += (word & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        data = data[addr - start : addr - start + size]
        ctypes.memmove(self._buf, bytes(data), len(data))
        return len(data) if data else -1

    def read(self, addr: int, size: int) -> bytes | None:
        if addr == 0 or size <= 0:
            return None if addr == 0 else b""
        got = self._read_into(addr, size)
        if got <= 0:
            return None
        return self._buf[:got]

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
            chunk = min(PAGE - (addr % PAGE), limit - len(out), want)
            want = PAGE
            got = self._read_into(addr, chunk)
            if got <= 0:
                return out if out else None
            data = self._buf[:got]
            nul = data.find(b"\0")
            if nul >= 0:
                return out + data[:nul]
            out += data
            addr += got
        return out[:limit]
