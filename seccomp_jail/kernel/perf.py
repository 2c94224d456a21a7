"""Syscall return values from the kernel's `raw_syscalls:sys_exit` tracepoint.

Why: to log what an allowed syscall returned, ptrace needs a second stop at
syscall exit, and each stop costs two context switches. The kernel writes
the same return value into a perf ring buffer at syscall exit without
stopping the task (this is how `perf trace` works), so the tracer can resume
with PTRACE_CONT and read the value when the task next stops.

Needs root (samples of a tracepoint need CAP_PERFMON or perf_event_paranoid
-1) and the tracepoint's id, which only tracefs tells. Where tracefs is not
mounted, the helper process of `TracepointHold` mounts it in a private mount
namespace of its own, so the system's mounts stay as they were. Every
failure is an OSError: the caller then keeps the exit stop.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import struct

from seccomp_jail.kernel.libc import become_helper, libc, raise_errno, read_line

_NR_PERF_EVENT_OPEN = 298
_TYPE_TRACEPOINT = 2
_SAMPLE_TID, _SAMPLE_TIME, _SAMPLE_RAW = 1 << 1, 1 << 2, 1 << 10
_DISABLED, _INHERIT, _USE_CLOCKID = 1 << 0, 1 << 1, 1 << 25
_ATTR = struct.Struct("<IIQQQQQIIQQQQIiQIHH")  # struct perf_event_attr up to PERF_ATTR_SIZE_VER5
_FLAG_FD_CLOEXEC = 8
_IOC_ENABLE = 0x2400
_IOC_SET_FILTER = 0x40082406  # _IOW('$', 6, char *)
_CLOCK_MONOTONIC = 1
_CLONE_NEWNS = 0x00020000
_RECORD_SAMPLE, _RECORD_LOST = 9, 2
_FILTER_MAX = 4095  # the kernel copies at most a page of filter text

# Control page: data_head, data_tail, data_offset, data_size (Linux >= 4.1).
_CONTROL = struct.Struct("<QQQQ")
_CONTROL_AT = 1024
_HEAD = _TAIL = struct.Struct("<Q")
# One sample: header (type, misc, size), pid, tid, time, raw size, then the
# tracepoint's raw data: common fields (8 bytes), id, ret, 4 bytes of padding.
_SAMPLE = struct.Struct("<IHHIIQI8xqq4x")
# The same, only what drain returns: (tid, time, ret).
_FIELDS = struct.Struct("<12xIQ20xq4x")
_HEADER = struct.Struct("<IHH")  # type, misc, size: every record starts so
_LOST = struct.Struct("<16xQ")  # PERF_RECORD_LOST: header, id, how many were lost
_AS_SAMPLES = (struct.pack("<I", _RECORD_SAMPLE), struct.pack("<H", _SAMPLE.size))
_PAGES = 64  # 256 KiB per CPU: about 4,600 samples

_MOUNTS = ("/sys/kernel/tracing", "/sys/kernel/debug/tracing")
_ID_FILE = "events/raw_syscalls/sys_exit/id"

def _read_id() -> int | None:
    """The id of raw_syscalls:sys_exit, or None when tracefs cannot tell it.
    Only in the helper of `TracepointHold`: it may leave the mount namespace."""
    for base in _MOUNTS:
        try:
            with open(os.path.join(base, _ID_FILE), "rb") as f:
                return int(f.read())
        except (OSError, ValueError):
            pass
    return _read_id_private_mount()


def _read_id_private_mount() -> int | None:
    """Mount tracefs where no one else sees it: in this process's own mount
    namespace. Only the helper of `TracepointHold` calls this, as it exits soon."""
    try:
        if libc.unshare(_CLONE_NEWNS) != 0:  # os.unshare is Python 3.12+
            raise_errno("unshare")
        _mount(b"none", b"/", None, 0x40000 | 0x4000)  # MS_PRIVATE | MS_REC: nothing leaks out
        _mount(b"nodev", _MOUNTS[0].encode(), b"tracefs", 0)
        with open(os.path.join(_MOUNTS[0], _ID_FILE), "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


def _mount(source: bytes, target: bytes, fstype: bytes | None, flags: int) -> None:
    if libc.mount(source, target, fstype, ctypes.c_ulong(flags), None) != 0:
        raise_errno("mount")


def online_cpus() -> list[int]:
    """CPUs a task may run on: an inherited event needs one buffer per CPU."""
    with open("/sys/devices/system/cpu/online") as f:
        text = f.read().strip()
    cpus = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.extend(range(int(lo), int(hi or lo) + 1))
    return cpus


def id_filter(numbers: frozenset[int] | None) -> str | None:
    """Tracepoint filter text keeping only `numbers` (None: keep every syscall)."""
    if numbers is None:
        return None
    runs: list[list[int]] = []
    for nr in sorted(numbers):
        if runs and runs[-1][1] == nr - 1:
            runs[-1][1] = nr
        else:
            runs.append([nr, nr])
    parts = [f"id == {lo}" if lo == hi else f"(id >= {lo} && id <= {hi})" for lo, hi in runs]
    return " || ".join(parts) or "id == -2"  # an empty set keeps nothing


class ExitFeed:
    """(tid, time, return value) of every syscall exit in a process tree.

    Opened on a task before it runs; `inherit` extends it to every task it
    creates later. Times are CLOCK_MONOTONIC nanoseconds, comparable with
    `time.monotonic_ns()`.
    """

    def __init__(self, pid: int, numbers: frozenset[int] | None = None,
                 hold: TracepointHold | None = None) -> None:
        """`hold`: a TracepointHold started earlier, which the feed now owns
        (releases on close); without one, the feed starts its own."""
        self._fds: list[int] = []
        self._maps: list[mmap.mmap] = []
        self._hold = hold or TracepointHold()
        try:
            tracepoint = self._hold.id()
            if tracepoint is None:
                raise OSError("raw_syscalls:sys_exit: no tracefs to find the tracepoint, or no permission")
            attr = _attr(tracepoint, _SAMPLE_TID | _SAMPLE_TIME | _SAMPLE_RAW,
                         _DISABLED | _INHERIT | _USE_CLOCKID)
            text = id_filter(numbers)
            if text is not None and len(text) > _FILTER_MAX:
                raise OSError("syscall filter too long for the tracepoint")
            for cpu in online_cpus():
                fd = _open_event(attr, pid, cpu)
                self._fds.append(fd)
                if text is not None and libc.ioctl(fd, ctypes.c_ulong(_IOC_SET_FILTER), text.encode()) != 0:
                    raise_errno("perf filter")
                self._maps.append(mmap.mmap(fd, (1 + _PAGES) * mmap.PAGESIZE))
            for fd in self._fds:
                if libc.ioctl(fd, ctypes.c_ulong(_IOC_ENABLE), ctypes.c_ulong(0)) != 0:
                    raise_errno("perf enable")
        except BaseException:
            self.close()
            raise
        self.capacity = _PAGES * mmap.PAGESIZE // _SAMPLE.size  # samples one CPU's buffer holds
        self.lost = 0
        self._tails = [0] * len(self._maps)
        _, _, offset, size = _CONTROL.unpack_from(self._maps[0], _CONTROL_AT)
        self._area = (offset, size)  # where the data pages are in each mapping

    def drain(self) -> list[tuple[int, int, int]]:
        """Every (tid, time, retval) written since the last call; counts losses in `lost`.

        The tracer drains at least once per 64 syscalls: a region of nothing
        but samples (the rule, as our filter writes no other record) is
        checked and unpacked by C code, not record by record in Python.
        """
        out: list[tuple[int, int, int]] = []
        offset, size = self._area
        for i, m in enumerate(self._maps):
            head = _HEAD.unpack_from(m, _CONTROL_AT)[0]
            tail = self._tails[i]
            if head == tail:
                continue
            start = offset + tail % size
            if start + head - tail <= offset + size:
                region = m[start:start + head - tail]
            else:  # it wraps around the end of the buffer
                region = m[start:offset + size] + m[offset:offset + (head - tail) - (offset + size - start)]
            self._take(region, out)
            self._tails[i] = head
            _TAIL.pack_into(m, _CONTROL_AT + 8, head)
        return out

    def _take(self, region: bytes, out: list) -> None:
        """The (tid, time, retval) of the samples in one drained region, into `out`."""
        if _only_samples(region):
            out += _FIELDS.iter_unpack(region)
        else:
            self._parse(region, out)

    def _parse(self, region: bytes, out: list) -> None:
        """Record by record: samples, and LOST records (counted in `lost`)."""
        at = 0
        while at + _HEADER.size <= len(region):
            kind, _, length = _HEADER.unpack_from(region, at)
            if length == 0:
                break  # never written by the kernel; do not spin on it
            if kind == _RECORD_SAMPLE and length == _SAMPLE.size and at + length <= len(region):
                out.append(_FIELDS.unpack_from(region, at))
            elif kind == _RECORD_LOST and at + _LOST.size <= len(region):
                self.lost += max(_LOST.unpack_from(region, at)[0], 1)
            at += length

    def close(self) -> None:
        """Unmap and close; the hold's helper then closes the last event, off our clock."""
        for m in self._maps:
            m.close()
        for fd in self._fds:
            os.close(fd)
        self._maps, self._fds = [], []
        self._hold.release()


def _only_samples(region: bytes) -> bool:
    """Whether `region` holds whole samples and nothing else (every header's
    type and size say so), compared as strided memory, without a Python loop."""
    count, rest = divmod(len(region), _SAMPLE.size)
    if rest:
        return False
    view = memoryview(region)
    kind, size = _AS_SAMPLES
    return (view.cast("I")[::_SAMPLE.size // 4].tobytes() == kind * count
            and view.cast("H")[3::_SAMPLE.size // 2].tobytes() == size * count)


def _attr(tracepoint: int, sample_type: int, flags: int) -> ctypes.Array:
    """A perf_event_attr for the tracepoint, sampling every event on CLOCK_MONOTONIC."""
    attr = ctypes.create_string_buffer(_ATTR.size)
    _ATTR.pack_into(attr, 0, _TYPE_TRACEPOINT, _ATTR.size, tracepoint, 1, sample_type, 0, flags,
                    0, 0, 0, 0, 0, 0, 0, _CLOCK_MONOTONIC, 0, 0, 0, 0)
    return attr


def _open_event(attr: ctypes.Array, pid: int, cpu: int) -> int:
    fd = libc.syscall(ctypes.c_long(_NR_PERF_EVENT_OPEN), attr, ctypes.c_long(pid),
                      ctypes.c_long(cpu), ctypes.c_long(-1), ctypes.c_ulong(_FLAG_FD_CLOEXEC))
    if fd < 0:
        raise_errno("perf_event_open")
    return fd


class TracepointHold:
    """A helper process that keeps one perf event open on the tracepoint.

    Why: the first perf event on a tracepoint makes the kernel register it,
    and closing the last one unregisters it; both wait for an RCU grace
    period (15-40 ms on the VM we measured, nearly no CPU). Started early
    (`seccomp-jail run` does it before its heavier imports), the helper
    takes the first wait while the jail gets ready, and the jail's own
    events open in well under a millisecond. At the end the jail closes its
    events first and the helper's is the last: the second wait is the
    helper's alone. The helper also finds the tracepoint's id, mounting
    tracefs in a mount namespace of its own where it is not mounted.

    The helper is double-forked (a tracer's `waitpid(-1)` never sees it),
    keeps no descriptor but its two pipes, and exits when `release` is
    called or when this process dies.
    """

    def __init__(self) -> None:
        report_r, report_w = os.pipe()
        release_r, release_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                if os.fork() == 0:
                    _hold_main(report_w, release_r)
            finally:
                os._exit(0)
        os.close(report_w)
        os.close(release_r)
        os.waitpid(pid, 0)
        self._report = report_r
        self._release = release_w
        self.pid = int(read_line(report_r) or 0)  # the helper's; 0 if it died at once
        self._id: int | None = None

    def id(self) -> int | None:
        """The tracepoint id once the helper holds its event; None when it
        could not (no tracefs, no CONFIG_FTRACE_SYSCALLS, no privilege)."""
        if self._report >= 0:
            text = read_line(self._report)
            os.close(self._report)
            self._report = -1
            self._id = int(text) if text.isdigit() else None
        return self._id

    def release(self) -> None:
        """Let the helper close its event and exit (idempotent)."""
        for name in ("_report", "_release"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)


def _hold_main(report: int, release: int) -> None:
    """The helper: open the event, report the id, wait for EOF on `release`."""
    become_helper()
    keep = sorted((report, release))
    for lo, hi in zip([-1, *keep], [*keep, 1 << 20]):
        os.closerange(lo + 1, hi)  # terminals and pipes: no one waits on us for EOF
    os.write(report, f"{os.getpid()}\n".encode())
    tracepoint = _read_id()
    if tracepoint is not None:
        try:
            _open_event(_attr(tracepoint, 0, _DISABLED), 0, -1)  # closed when we exit
        except OSError:
            tracepoint = None
    os.write(report, f"{'' if tracepoint is None else tracepoint}\n".encode())
    os.read(release, 1)  # EOF: the jail released us or is gone

