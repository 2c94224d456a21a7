"""Reading a log database back: filtered events in order, and per-syscall counts.

Used by `seccomp-jail log show|stats`; front ends can use the same calls.
The database is opened read-only, so it can be read while a run still writes it.
"""

from __future__ import annotations

import functools
import heapq
import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.log.db import READABLE_VERSIONS, SIGNAL_COLUMNS, SYSCALL_COLUMNS, syscall_from_row
from seccomp_jail.log.events import Event, SignalEvent, TaskEvent
from seccomp_jail.message import Message, MessageError, with_hint

# Actions in the order `stats` shows their columns; others follow alphabetically.
ACTION_ORDER = ("allow", "abort", "kill", "fake", "tamper", "edit")
# (event kind, seq column, time column, detail column) of the task events kept in `tasks`.
_TASK_EVENTS = (("spawn", "start_seq", "start_time", "kind"),
                ("exec", "exec_seq", "exec_time", "exe"),
                ("exit", "end_seq", "end_time", "exit_status"))
_UNNAMED = re.compile(r"syscall_-?\d+")


class QueryError(MessageError):
    """A database or filter problem; str() is one line for the user."""


@dataclass
class Filters:
    """Which records to read. Empty lists mean "any"; values in one list are alternatives.

    pids/tids apply to every record; the other filters are about syscalls, so
    when one is set, task events and signals are left out.
    """

    pids: list[int] = field(default_factory=list)
    tids: list[int] = field(default_factory=list)
    syscalls: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    origins: list[str] = field(default_factory=list)
    errors: bool = False

    @property
    def syscalls_only(self) -> bool:
        return bool(self.syscalls or self.actions or self.origins or self.errors)


@dataclass
class SyscallStats:
    """`seconds`: the durations added up, of the `timed` calls that have one."""

    syscall: str
    calls: int
    errors: int
    actions: dict[str, int]
    seconds: float = 0.0
    timed: int = 0


def open_db(path: str) -> sqlite3.Connection:
    """Open a log database read-only; QueryError if it is missing or not one of ours."""
    if not os.path.exists(path):
        raise QueryError(Message("{db}: no such file", db=path))
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=ro"
    try:
        db = sqlite3.connect(uri, uri=True)
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.Error as exc:
        raise QueryError(Message("{db}: not a seccomp-jail log database ({reason})",
                                 db=path, reason=str(exc))) from None
    if row is None:
        raise QueryError(Message("{db}: not a seccomp-jail log database (no schema version)", db=path))
    if row[0] not in map(str, READABLE_VERSIONS):
        readable = functools.reduce(lambda a, b: Message("{a} and {b}", a=a, b=b), map(str, READABLE_VERSIONS))
        raise QueryError(Message("{db}: log schema version {version}, this seccomp-jail reads versions {readable}",
                                 db=path, version=row[0], readable=readable))
    return db


def resolve_syscall(name: str) -> str:
    """A syscall name as stored in the log, from a name or a number ('257' -> 'openat')."""
    table = native_table()
    if re.fullmatch(r"-?\d+", name):
        return table.name(int(name))
    if table.number(name) is not None or _UNNAMED.fullmatch(name):
        return name
    from seccomp_jail.policy.errors import did_you_mean  # the rule files' hint, for the same names

    raise QueryError(with_hint(Message("unknown syscall {syscall}", syscall=repr(name)),
                               did_you_mean(name, table.names())))


def events(db: sqlite3.Connection, filters: Filters) -> Iterator[Event]:
    """Matching events in seq order: syscalls, and unless filters.syscalls_only,
    signals and task spawn/exec/exit."""
    streams = [_syscalls(db, filters)]
    if not filters.syscalls_only:
        streams.append(_signals(db, filters))
        streams.extend(_task_events(db, filters, *spec) for spec in _TASK_EVENTS)
    return heapq.merge(*streams, key=lambda event: event.seq)


def stats(db: sqlite3.Connection, filters: Filters) -> list[SyscallStats]:
    """Calls, failures (an errno result), calls per action and time spent, for
    each syscall; as strace -c orders them: most time first, then most calls."""
    where, params = _where(filters, syscalls=True)
    duration = _column_or_null(db, "syscalls", "duration")
    per_syscall: dict[str, SyscallStats] = {}
    for name, action, calls, errors, seconds, timed in db.execute(
            f"SELECT syscall, action, COUNT(*), COUNT(errno), TOTAL({duration}), COUNT({duration})"
            f" FROM syscalls{where} GROUP BY syscall, action", params):
        row = per_syscall.setdefault(name, SyscallStats(name, 0, 0, {}))
        row.calls += calls
        row.errors += errors
        row.actions[action] = calls
        row.seconds += seconds
        row.timed += timed
    return sorted(per_syscall.values(), key=lambda row: (-row.seconds, -row.calls, row.syscall))


def action_columns(rows: list[SyscallStats]) -> list[str]:
    """The actions present in `rows`, in ACTION_ORDER, unknown ones after."""
    present = {action for row in rows for action in row.actions}
    known = [action for action in ACTION_ORDER if action in present]
    return known + sorted(present - set(ACTION_ORDER))


def _where(filters: Filters, syscalls: bool) -> tuple[str, list]:
    """WHERE clause and parameters; the syscall-only filters only when `syscalls`."""
    members = [("pid", filters.pids), ("tid", filters.tids)]
    if syscalls:
        members += [("syscall", filters.syscalls), ("action", filters.actions),
                    ("origin", filters.origins)]
    clauses, params = [], []
    for column, values in members:
        if values:
            clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
            params.extend(values)
    if syscalls and filters.errors:
        clauses.append("errno IS NOT NULL")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _syscalls(db: sqlite3.Connection, filters: Filters) -> Iterator[Event]:
    where, params = _where(filters, syscalls=True)
    columns = [*SYSCALL_COLUMNS[:-1], _column_or_null(db, "syscalls", "duration")]
    query = f"SELECT {', '.join(columns)} FROM syscalls{where} ORDER BY seq, id"
    return map(syscall_from_row, db.execute(query, params))


def _column_or_null(db: sqlite3.Connection, table: str, column: str, missing: str = "NULL") -> str:
    """`column`, or `missing` in a database of an older schema, which lacks it
    (syscalls.duration came in version 2, signals.info and .stopped in 3)."""
    columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    return column if column in columns else missing


def _signals(db: sqlite3.Connection, filters: Filters) -> Iterator[Event]:
    where, params = _where(filters, syscalls=False)
    columns = [*SIGNAL_COLUMNS[:-2], _column_or_null(db, "signals", "info"),
               _column_or_null(db, "signals", "stopped", missing="0")]
    query = f"SELECT {', '.join(columns)} FROM signals{where} ORDER BY seq, id"
    return (SignalEvent(*row[:-1], bool(row[-1])) for row in db.execute(query, params))


def _task_events(db: sqlite3.Connection, filters: Filters, kind: str, seq: str, time: str,
                 detail: str) -> Iterator[Event]:
    where, params = _where(filters, syscalls=False)
    where += (" AND " if where else " WHERE ") + f"{seq} IS NOT NULL"
    query = (f"SELECT {seq}, {time}, ?, pid, tid, ppid, {detail} FROM tasks{where}"
             f" ORDER BY {seq}, id")
    return (TaskEvent(*row) for row in db.execute(query, [kind, *params]))
