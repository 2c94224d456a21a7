"""A watchdog for the tracer's reads of the traced program's memory.

Why: the tracer reads a syscall's paths and structs from the stopped task,
and a page of a file on FUSE is read by asking the file system's server.
When that server is a process of the jailed program, it can only answer
through a syscall, which waits for the tracer, which waits for the answer:
both wait for ever (a path argument pointing into a mapped FUSE file is
enough, and the program runs fine without the jail). Once the server has
taken the request, the kernel waits for its answer whatever signal comes,
SIGKILL included, so nothing can interrupt the read: the watchdog ends the
deadlock by killing the program, whose server's death aborts the read. Not
when the program still holds the FUSE device (a thread of it served): a
process stuck in the same request keeps it open. Then, once the read has
waited STUCK_AFTER more, it aborts the connection (fusectl), the one way
left. It acts only when a read has not ended
after STUCK_AFTER seconds and a process of the program holds /dev/fuse: a
read stuck on anything else (a network file system that stalls) waits, as
the program would without the jail.

It watches the tracer thread from outside, in /proc/self/task/TID/syscall
(the syscall a blocked thread is in, with its arguments), so the reads
themselves pay nothing for it. That file is opened while the jail is still
dumpable: afterwards an unprivileged jail could not open its own.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Iterable

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.kernel.ptrace import PEEKDATA
from seccomp_jail.tracer.procfs import mount_id, mount_types

STUCK_AFTER = 2.0  # s: a read this old is looked at
FUSE_DEVICE = os.makedev(10, 229)  # /dev/fuse's major and minor, fixed by the kernel
FUSECTL = "/sys/fs/fuse/connections"
MAPS_WAIT = 1.0  # s: see _mapping_device
POLL = 0.25  # s


class ReadWatchdog:
    def __init__(self, on_stuck: Callable[[int], bool]) -> None:
        """Watch the calling thread (the tracer's); `on_stuck(pid)` is called
        in the watchdog's thread while a read of `pid`'s memory does not end,
        and returns True when it dealt with it."""
        self.tid = threading.get_native_id()
        try:
            self._fd = os.open(f"/proc/self/task/{self.tid}/syscall", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # no such file in this kernel: nothing is watched
            self._fd = -1
        self._on_stuck = on_stuck
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="read-watchdog", daemon=True)

    def start(self) -> None:
        if self._fd >= 0:
            self._thread.start()

    def stop(self) -> None:
        """Idempotent; the file is closed by the thread, or here if it never ran."""
        self._done.set()
        if self._thread.ident is None:
            self._close()
        elif self._thread.is_alive():
            self._thread.join(timeout=1)

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _run(self) -> None:
        seen, since, killed = "", time.monotonic(), None
        try:
            while not self._done.wait(POLL):
                now = self._blocked_in()
                if now != seen:  # another syscall, or the same one with other arguments
                    seen, since, killed = now, time.monotonic(), None
                elif now and time.monotonic() - since >= STUCK_AFTER:
                    if killed:  # the program is killed, and the read still waits on its FUSE request
                        abort_fuse(killed)
                        since = float("inf")
                        continue
                    pid = _memory_of(now)
                    device = _mapping_device(pid, _address_of(now)) if pid else None  # gone with the program
                    if pid and self._on_stuck(pid):
                        killed = device
                        since = time.monotonic() if device else float("inf")
                    else:
                        since = time.monotonic()
        finally:
            self._close()

    def _blocked_in(self) -> str:
        """The syscall line of the tracer thread while it is in one, else ""."""
        try:
            line = os.pread(self._fd, 256, 0).decode()
        except OSError:
            return ""
        return line.strip() if line[:1].isdigit() else ""  # not "running", not "-1 ..." (no syscall)


def _memory_of(line: str) -> int:
    """The pid whose memory this syscall line reads (pread of /proc/PID/mem,
    PTRACE_PEEKDATA: how TaskMemory reads), 0 for any other syscall."""
    nr, *args = line.split()
    table = native_table()
    if int(nr) == table.number("ptrace"):
        return int(args[1], 16) if int(args[0], 16) == PEEKDATA else 0
    if int(nr) != table.number("pread64"):
        return 0
    try:
        target = os.readlink(f"/proc/self/fd/{int(args[0], 16)}")
    except OSError:
        return 0
    head, _, tail = target.removeprefix("/proc/").partition("/")
    return int(head) if tail == "mem" and head.isdigit() else 0


def _address_of(line: str) -> int:
    """The address a read of `_memory_of` is at: pread's offset, PEEKDATA's addr."""
    nr, *args = line.split()
    return int(args[2] if int(nr) == native_table().number("ptrace") else args[3], 16)


def abort_fuse(device: tuple[int, int]) -> bool:
    """Abort the FUSE connection of the file system on `device` (major,
    minor), as `echo 1 > /sys/fs/fuse/connections/N/abort` does; False when
    it is none, or we may not. Where fusectl is not mounted, it is mounted
    in a mount namespace of its own (unshare(1)): the system's mounts stay
    as they were."""
    major, minor = device
    abort = f"{FUSECTL}/{(major << 20) | minor}/abort"  # fusectl names a connection by its dev_t
    try:
        with open(abort, "w") as f:
            f.write("1")
        return True
    except FileNotFoundError:
        pass
    except OSError:
        return False
    import subprocess

    try:
        done = subprocess.run(["unshare", "--mount", "sh", "-c", f"mount -t fusectl none {FUSECTL} && echo 1 > {abort}"],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _mapping_device(pid: int, address: int) -> tuple[int, int] | None:
    """(major, minor) of the file mapped at `address` in process `pid`, read
    in a thread of its own, given MAPS_WAIT: /proc/PID/maps takes the lock of
    the address space our stuck read holds, and an mmap of another thread
    of the program waiting for it makes every new reader wait as well."""
    found: list = []
    reader = threading.Thread(target=lambda: found.append(_read_mapping_device(pid, address)), daemon=True)
    try:
        reader.start()
    except RuntimeError:  # can't start new thread
        return None
    reader.join(MAPS_WAIT)
    return found[0] if found else None


def _read_mapping_device(pid: int, address: int) -> tuple[int, int] | None:
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            for line in f:
                span, _, _, device, *_ = line.split(None, 5)
                start, end = (int(x, 16) for x in span.split(b"-"))
                if start <= address < end:
                    major, minor = device.split(b":")
                    return int(major, 16), int(minor, 16)
    except (OSError, ValueError):
        pass
    return None


def serves_fuse(pids: Iterable[int]) -> bool:
    """Whether one of these processes holds the FUSE device open (a FUSE
    server), or may: one whose fds the kernel hides from us (non-dumpable,
    under an unprivileged jail) counts, or the stuck read would wait for
    ever. By device number: a node of it may be anywhere, under any name.
    Files of a FUSE mount are not looked at: their server may be the one
    that is stuck, and a stat would wait for it too."""
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except PermissionError:
            return True
        except OSError:
            continue
        fuse_mounts = None
        for fd in fds:
            path = f"/proc/{pid}/fd/{fd}"
            try:
                if os.readlink(path) == "/dev/fuse":
                    return True
                if fuse_mounts is None:
                    fuse_mounts = {i for i, kind in mount_types(pid).items() if kind.startswith(b"fuse")}
                if mount_id(pid, fd) in fuse_mounts:
                    continue
                info = os.stat(path)
            except OSError:
                continue
            if stat.S_ISCHR(info.st_mode) and info.st_rdev == FUSE_DEVICE:
                return True
    return False
