"""strace-like text lines, for `-o FILE`, stderr and `log show`.

    [pid  1235] openat(AT_FDCWD, "/etc", O_RDONLY) = 3
    [pid  1235] openat(AT_FDCWD, "/x", O_RDONLY) = -1 EACCES (Permission denied) (abort by rule rules.toml:4)
    [pid  1235] --- SIGINT ---
    [pid  1235] +++ killed by SIGINT +++
    [pid  1235] --- the jail kills pid 1240 (untraced child) ---

A plain allow by rule or default gets no suffix, so an unrestricted run reads
like `strace -f`. Spawn and exec events print nothing (the execve/clone
lines already show them).
"""

from __future__ import annotations

import io
import os
from typing import TextIO

from seccomp_jail.log.events import JAIL_KILL_NR, Event, SignalEvent, SyscallEvent, TaskEvent, signal_name
from seccomp_jail.log.patient import PatientFile

_RED = "\x1b[31m"
_YELLOW = "\x1b[33m"
_RESET = "\x1b[0m"
# Actions that refused the call: shown in yellow. Other failures are red.
_DENIALS = frozenset({"abort", "kill"})
_QUIET_ORIGINS = frozenset({"rule", "default"})
_BUFFER = 1 << 16


def format_line(event: Event, color: bool = False, durations: bool = False) -> str | None:
    """The text line for one event, or None for events the text log leaves out.
    `durations`: a call's line ends with how long it ran, as strace -T prints it."""
    prefix = f"[pid {event.tid:5d}] "
    if isinstance(event, SyscallEvent):
        if event.nr == JAIL_KILL_NR and event.origin == "jail":  # no syscall: the jail's own SIGKILL
            line = f"{prefix}--- the jail kills pid {event.args[0]} ({event.rule}) ---"
            return f"{_YELLOW}{line}{_RESET}" if color else line
        line = f"{prefix}{event.text} = {event.retval_text}{_decision(event)}"
        if durations and event.duration is not None:
            line += f" <{event.duration:.6f}>"
        if color:
            if event.action in _DENIALS:
                return f"{_YELLOW}{line}{_RESET}"
            if event.errno:
                return f"{_RED}{line}{_RESET}"
        return line
    if isinstance(event, SignalEvent):
        if event.stopped:
            return f"{prefix}--- stopped by {event.signal} ---"
        info = f" {event.info}" if event.info else ""
        return f"{prefix}--- {event.signal}{info} ---"
    if isinstance(event, TaskEvent) and event.kind == "exit":
        if event.detail is None:  # see below
            return _superseded(event)
        return f"{prefix}+++ {describe_exit(event.detail)} +++"
    return None


def _superseded(event: TaskEvent) -> str | None:
    """A thread other than the leader ran execve: the old leader and that
    thread's old tid end with no status of their own. Like strace, one line,
    under the process's pid, which goes on: '+++ superseded by execve in pid
    TID +++', TID being the exec'ing thread's old id."""
    if event.tid == event.pid:
        return None
    return f"[pid {event.pid:5d}] +++ superseded by execve in pid {event.tid} +++"


def describe_exit(status: int) -> str:
    """'exited with 0', 'killed by SIGSEGV (core dumped)' from a wait status."""
    if os.WIFEXITED(status):
        return f"exited with {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        core = " (core dumped)" if os.WCOREDUMP(status) else ""
        return f"killed by {signal_name(os.WTERMSIG(status))}{core}"
    return f"ended with wait status {status:#x}"


def _decision(event: SyscallEvent) -> str:
    """' (abort by rule rules.toml:4)'; empty for a plain allow by rule or default."""
    if event.action == "allow" and event.origin in _QUIET_ORIGINS:
        return ""
    who = event.origin
    if event.rule:
        who += f" {event.rule}" if event.origin == "rule" else f", rule {event.rule}"
    return f" ({event.action} by {who})"


class TextSink:
    """Writes text lines; flushed once per batch (or per run of batches that
    waited together) so `tail -f` follows along without a write() per line."""

    def __init__(self, stream: TextIO, color: bool, durations: bool = False, where: str = "stderr") -> None:
        self.where = where
        self._stream = stream
        self._color = color
        self._durations = durations

    @classmethod
    def to_file(cls, path: str, color: bool, durations: bool = False) -> TextSink:
        return cls(open(path, "w", buffering=_BUFFER, encoding="utf-8",
                        errors="backslashreplace"), color, durations, path)

    @classmethod
    def to_stderr(cls, color: bool, durations: bool = False) -> TextSink:
        # Our own buffer on fd 2: sys.stderr may be line-buffered or replaced.
        # The program may make fd 2 non-blocking: writes there wait for room.
        raw = io.BufferedWriter(PatientFile(2), _BUFFER)
        return cls(io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace"), color, durations)

    def handle(self, event: Event) -> None:
        line = format_line(event, self._color, self._durations)
        if line is not None:
            self._stream.write(line + "\n")

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.close()
