"""JSON Lines: one object per event, for scripts (`--jsonl FILE`, `log show --json`).

Every line has "type" ("syscall", "task" or "signal"), "seq" and "time".
Syscall lines always carry the fixed keys pid, tid, nr, syscall, args (six
unsigned integers), action, origin and retval (null when unknown), plus
text, retval_text, errno and rule. docs/log-schema.md lists them all.
"""

from __future__ import annotations

import json
import os

from seccomp_jail.log.events import Event, SignalEvent, SyscallEvent, signal_name

_BUFFER = 1 << 16
# One encoder for every line: json.dumps with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def to_dict(event: Event) -> dict:
    """The JSON object for one event."""
    if isinstance(event, SyscallEvent):
        return {"type": "syscall", "seq": event.seq, "time": event.time,
                "pid": event.pid, "tid": event.tid, "nr": event.nr, "syscall": event.syscall,
                "args": list(event.args), "text": event.text, "action": event.action,
                "origin": event.origin, "retval": event.retval, "retval_text": event.retval_text,
                "errno": event.errno, "rule": event.rule}
    if isinstance(event, SignalEvent):
        return {"type": "signal", "seq": event.seq, "time": event.time, "pid": event.pid,
                "tid": event.tid, "signo": event.signo, "signal": event.signal}
    line = {"type": "task", "seq": event.seq, "time": event.time, "kind": event.kind,
            "pid": event.pid, "tid": event.tid, "ppid": event.ppid, "detail": event.detail}
    if event.kind == "exit":
        status = event.detail
        line["exit_code"] = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        line["signal"] = signal_name(os.WTERMSIG(status)) if os.WIFSIGNALED(status) else None
    return line


def dumps(event: Event) -> str:
    return _ENCODER.encode(to_dict(event))


class JsonlSink:
    """Writes one line per event to FILE (replacing it), flushed per batch."""

    def __init__(self, path: str) -> None:
        self._file = open(path, "w", buffering=_BUFFER, encoding="utf-8")

    def handle(self, event: Event) -> None:
        self._file.write(dumps(event) + "\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()
