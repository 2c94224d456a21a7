"""JSON Lines: one object per event, for scripts (`--jsonl FILE`, `log show --json`).

Every line has "type" ("syscall", "task" or "signal"), "seq" and "time".
Syscall lines always carry the fixed keys pid, tid, nr, syscall, args (six
unsigned integers), action, origin and retval (null when unknown), plus
text, retval_text, errno, rule and duration. docs/log-schema.md lists them all.
"""

from __future__ import annotations

import json
import os
from json.encoder import encode_basestring_ascii

from seccomp_jail.log.events import Event, SignalEvent, SyscallEvent, signal_name

_BUFFER = 1 << 16
# One encoder for every line: json.dumps with non-default options builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_string = encode_basestring_ascii  # a str as json.dumps writes it (ensure_ascii)


def to_dict(event: Event) -> dict:
    """The JSON object for one event."""
    if isinstance(event, SyscallEvent):  # its line has one definition, the fast one
        return json.loads(_syscall_line(event))
    if isinstance(event, SignalEvent):
        return {"type": "signal", "seq": event.seq, "time": event.time, "pid": event.pid,
                "tid": event.tid, "signo": event.signo, "signal": event.signal, "siginfo": event.info,
                "stopped": event.stopped}
    line = {"type": "task", "seq": event.seq, "time": event.time, "kind": event.kind,
            "pid": event.pid, "tid": event.tid, "ppid": event.ppid, "detail": event.detail}
    if event.kind == "exit":
        status = event.detail
        known = status is not None
        line["exit_code"] = os.WEXITSTATUS(status) if known and os.WIFEXITED(status) else None
        line["signal"] = signal_name(os.WTERMSIG(status)) if known and os.WIFSIGNALED(status) else None
    return line


def dumps(event: Event) -> str:
    if isinstance(event, SyscallEvent):
        return _syscall_line(event)
    return _ENCODER.encode(to_dict(event))


def _syscall_line(e: SyscallEvent) -> str:
    """The line of a syscall, written directly: the keys are fixed and the values
    plain, and json's encoder would take three times as long for the same text
    (ints and floats print as json prints them; strings go through its own quoting)."""
    a0, a1, a2, a3, a4, a5 = e.args
    retval = "null" if e.retval is None else e.retval
    duration = "null" if e.duration is None else repr(e.duration)
    return (f'{{"type":"syscall","seq":{e.seq},"time":{e.time!r},"pid":{e.pid},"tid":{e.tid},'
            f'"nr":{e.nr},"syscall":{_string(e.syscall)},"args":[{a0},{a1},{a2},{a3},{a4},{a5}],'
            f'"text":{_string(e.text)},"action":{_string(e.action)},"origin":{_string(e.origin)},'
            f'"retval":{retval},"retval_text":{_string(e.retval_text)},"errno":{_optional(e.errno)},'
            f'"rule":{_optional(e.rule)},"duration":{duration}}}')


def _optional(text: str | None) -> str:
    return "null" if text is None else _string(text)


class JsonlSink:
    """Writes one line per event to FILE (replacing it), flushed per batch."""

    def __init__(self, path: str) -> None:
        self.where = path
        self._file = open(path, "w", buffering=_BUFFER, encoding="utf-8")

    def handle(self, event: Event) -> None:
        self._file.write(dumps(event) + "\n")

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()
