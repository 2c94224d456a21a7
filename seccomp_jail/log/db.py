"""The SQLite log (`--db FILE`): schema, the sink that fills it, and rows back to events.

docs/log-schema.md documents the schema for people; this module is its
single definition in code. Each flush of the writer (a batch from the
tracer, or those that waited together: see log.writer.serve) is one
transaction in WAL mode, so a dead writer loses at most what it had not
flushed, and readers (`log show` on a growing run) never block the
writer. synchronous=OFF: the log need not survive a power cut, and fsyncs
would cost the traced run.

SQLite integers are signed 64-bit, syscall arguments unsigned 64-bit: arg0..arg5
hold the two's-complement signed value (0xffffffffffffff9c is stored as -100);
`args_from_db` turns them back.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import json
import operator
import os
import sqlite3
import struct
import time
from collections.abc import Iterator

from seccomp_jail import __version__
from seccomp_jail.log.events import Event, SignalEvent, SyscallEvent, TaskEvent

SCHEMA_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)  # version 1 had no syscalls.duration, 2 no signals.info and .stopped

# Column order = SyscallEvent field order, with args spread over arg0..arg5.
ARG_COLUMNS = tuple(f"arg{i}" for i in range(6))
SYSCALL_COLUMNS = ("seq", "time", "pid", "tid", "nr", "syscall", *ARG_COLUMNS, "text",
                   "action", "origin", "retval", "errno", "retval_text", "rule", "duration")
SIGNAL_COLUMNS = ("seq", "time", "pid", "tid", "signo", "signal", "info", "stopped")
TASK_COLUMNS = ("id", "tid", "pid", "ppid", "kind", "exe", "start_seq", "start_time",
                "exec_seq", "exec_time", "end_seq", "end_time", "exit_status")
# Where a new task's row (TASK_COLUMNS) takes its exec (exe, seq, time) and its end (seq, time, status).
_EXE, _EXEC, _END = (TASK_COLUMNS.index(name) for name in ("exe", "exec_seq", "end_seq"))
_NOT_YET = (None,) * (len(TASK_COLUMNS) - _EXEC)  # a new task's exec and end columns

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE syscalls (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL, time REAL NOT NULL,
    pid INTEGER NOT NULL, tid INTEGER NOT NULL,
    nr INTEGER NOT NULL, syscall TEXT NOT NULL,
    arg0 INTEGER NOT NULL, arg1 INTEGER NOT NULL, arg2 INTEGER NOT NULL,
    arg3 INTEGER NOT NULL, arg4 INTEGER NOT NULL, arg5 INTEGER NOT NULL,
    text TEXT NOT NULL,
    action TEXT NOT NULL, origin TEXT NOT NULL,
    retval INTEGER, errno TEXT, retval_text TEXT NOT NULL,
    rule TEXT,
    duration REAL
);
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    tid INTEGER NOT NULL, pid INTEGER NOT NULL, ppid INTEGER NOT NULL,
    kind TEXT NOT NULL,
    exe TEXT,
    start_seq INTEGER, start_time REAL,
    exec_seq INTEGER, exec_time REAL,
    end_seq INTEGER, end_time REAL,
    exit_status INTEGER
);
CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL, time REAL NOT NULL,
    pid INTEGER NOT NULL, tid INTEGER NOT NULL,
    signo INTEGER NOT NULL, signal TEXT NOT NULL,
    info TEXT, stopped INTEGER NOT NULL DEFAULT 0
);
"""
# Built when the run ends: maintaining them per insert doubles the cost of
# a row, building them once costs a fraction of that.
_INDEXES = ("CREATE INDEX IF NOT EXISTS syscalls_pid ON syscalls (pid)",
            "CREATE INDEX IF NOT EXISTS syscalls_syscall ON syscalls (syscall)")


_SIDE_FILES = ("-wal", "-shm")  # SQLite's, next to a database in WAL mode


def _inodes(path: str) -> tuple[tuple[int, int] | None, ...]:
    """(device, inode) of the database file and its side files, None for a missing one."""
    found = []
    for name in ("", *_SIDE_FILES):
        try:
            st = os.stat(path + name)
            found.append((st.st_dev, st.st_ino))
        except OSError:
            found.append(None)
    return tuple(found)


_ARGS_UNSIGNED = struct.Struct("=6Q")
_ARGS_SIGNED = struct.Struct("=6q")
_SIGN_BIT = 1 << 63


def args_to_db(args: tuple[int, ...]) -> tuple[int, ...]:
    """Six unsigned 64-bit arguments as the signed integers SQLite can store
    (the same bits read as two's complement: 0xffffffffffffff9c -> -100)."""
    return _ARGS_SIGNED.unpack(_ARGS_UNSIGNED.pack(*args))


def args_from_db(values: tuple[int, ...]) -> tuple[int, ...]:
    """Back from `args_to_db`."""
    return _ARGS_UNSIGNED.unpack(_ARGS_SIGNED.pack(*values))


def syscall_from_row(row: tuple) -> SyscallEvent:
    """The event for a row selected as SYSCALL_COLUMNS."""
    return SyscallEvent(*row[:6], args_from_db(row[6:12]), *row[12:])


def _iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, datetime.timezone.utc).isoformat()


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection):
    """BEGIN ... COMMIT on an autocommit connection; ROLLBACK if the body fails."""
    db.execute("BEGIN")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _insert(table: str, columns: tuple[str, ...], rows: int = 1, nullable: tuple[str, ...] = (),
            varying: tuple[str, ...] | None = None) -> str:
    """INSERT of `rows` rows at once; a `nullable` column is bound as 0 for NULL.
    With `varying`, only those columns take a value per row: the others take
    one value for every row, bound first (then each row's own values).

    Why: a log writes millions of rows, and the sqlite3 module binds None
    through its adapter lookup, which costs several times an integer's bind
    (a string's is dearer too); a statement per row costs as much again as
    binding a few values. Plain `?` only: the sqlite3 module counts `?NNN` as
    a named parameter, and from Python 3.14 refuses a sequence for it.
    """
    def bound(column: str) -> str:
        return "NULLIF(?, 0)" if column in nullable else "?"
    target = f"INSERT INTO {table} ({', '.join(columns)})"
    if varying is None:
        row = f"({', '.join(bound(column) for column in columns)})"
        return f"{target} VALUES {', '.join([row] * rows)}"
    # The shared values once, in the select list; each row's own in a VALUES list.
    def picked(column: str) -> str:
        if column not in varying:
            return bound(column)
        own = f"column{varying.index(column) + 1}"
        return f"NULLIF({own}, 0)" if column in nullable else own
    row = f"({', '.join('?' for _ in varying)})"
    return f"{target} SELECT {', '.join(picked(column) for column in columns)} FROM (VALUES {', '.join([row] * rows)})"


class DbSink:
    """Fills a new database at `path` (an existing file there is replaced, as `-o` does).

    Events are collected by `handle` and written at `flush`, in one
    transaction: syscalls ROWS_PER_INSERT rows per statement, signals, and
    task events as updates of the process tree.
    """

    ROWS_PER_INSERT = 32
    _NULLABLE = ("errno", "rule", "duration")  # retval is NULL only when unknown, so rarely
    # A row's values in this order: the ones that differ between a loop's calls first.
    _ROW = ("seq", "time", "duration", *SYSCALL_COLUMNS[2:-1])
    _OWN = 3
    _INSERT_SYSCALL = _insert("syscalls", _ROW, nullable=_NULLABLE)
    _INSERT_SYSCALLS = _insert("syscalls", _ROW, ROWS_PER_INSERT, _NULLABLE)
    # A loop's calls (getppid x 200000): rows alike but for seq, time and duration, at half the cost.
    _INSERT_REPEATS = _insert("syscalls", _ROW, ROWS_PER_INSERT, _NULLABLE, varying=_ROW[:_OWN])
    _INSERT_SIGNAL = _insert("signals", SIGNAL_COLUMNS)
    _INSERT_TASK = _insert("tasks", TASK_COLUMNS)

    def __init__(self, path: str, command: list[str], started: float) -> None:
        self.where = path
        for stale in (path, *(path + name for name in _SIDE_FILES)):
            if os.path.lexists(stale):
                os.unlink(stale)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # Bigger pages and cache: fewer page writes per batch, a quicker index build at the end.
        self._db.execute("PRAGMA page_size=16384")
        self._db.execute("PRAGMA cache_size=-16384")  # KiB
        self._db.execute("PRAGMA synchronous=OFF")  # first: switching to WAL would fsync otherwise
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(f"BEGIN; {_SCHEMA} COMMIT;")
        with _transaction(self._db):
            self._db.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("schema_version", str(SCHEMA_VERSION)),
                ("started", _iso(started)),
                ("command", json.dumps(list(command))),
                ("seccomp_jail_version", __version__),
            ])
        self._syscalls: list[tuple] = []
        self._signals: list[tuple] = []
        # The process tree's changes since the last flush: rows of tasks new
        # since then (tasks.id -> TASK_COLUMNS values, exec and exit filled
        # in place), and updates of older rows. A fork+exec+exit is then one
        # row in one executemany, not three statements.
        self._new_tasks: dict[int, list] = {}
        self._execs: list[tuple] = []
        self._exits: list[tuple] = []
        self._next_task = 1  # the database is new: we number its tasks
        self._files: tuple[tuple[int, int] | None, ...] = ()  # see close
        self._live: dict[int, int] = {}  # tid -> tasks.id of the running task with that tid
        self._exe: dict[int, str] = {}   # pid -> executable, inherited by new tasks

    def handle(self, event: Event) -> None:
        if isinstance(event, SyscallEvent):
            # Unpacked as a tuple: one step, where 15 attribute reads cost ~0.6 µs a record.
            seq, when, pid, tid, nr, name, args, text, action, origin, retval, errno, retval_text, rule, took = event
            a0, a1, a2, a3, a4, a5 = args
            if not (a0 < _SIGN_BIT and a1 < _SIGN_BIT and a2 < _SIGN_BIT and a3 < _SIGN_BIT
                    and a4 < _SIGN_BIT and a5 < _SIGN_BIT):  # most calls have nothing to convert
                a0, a1, a2, a3, a4, a5 = args_to_db(args)
            self._syscalls.append((seq, when, took or 0, pid, tid, nr, name, a0, a1, a2, a3, a4, a5,
                                   text, action, origin, retval, errno or 0, retval_text, rule or 0))
        elif isinstance(event, SignalEvent):
            self._signals.append((event.seq, event.time, event.pid, event.tid,
                                  event.signo, event.signal, event.info, int(event.stopped)))
        else:
            self._apply(event)

    def flush(self) -> None:
        if not (self._syscalls or self._signals or self._new_tasks or self._execs or self._exits):
            return
        try:
            with _transaction(self._db):
                self._insert_syscalls()
                self._db.executemany(self._INSERT_SIGNAL, self._signals)
                self._db.executemany(self._INSERT_TASK, self._new_tasks.values())
                self._db.executemany("UPDATE tasks SET exe = ?, exec_seq = ?, exec_time = ? WHERE id = ?",
                                     self._execs)
                self._db.executemany("UPDATE tasks SET end_seq = ?, end_time = ?, exit_status = ? WHERE id = ?",
                                     self._exits)
        finally:
            self._syscalls.clear()
            self._signals.clear()
            self._new_tasks.clear()
            self._execs.clear()
            self._exits.clear()

    def _insert_syscalls(self) -> None:
        rows = self._syscalls
        whole = len(rows) - len(rows) % self.ROWS_PER_INSERT
        # Consecutive chunks of one kind go in one executemany; rows keep their order.
        for statement, chunks in itertools.groupby(self._chunks(rows[:whole]), operator.itemgetter(0)):
            self._db.executemany(statement, map(operator.itemgetter(1), chunks))
        self._db.executemany(self._INSERT_SYSCALL, rows[whole:])

    def _chunks(self, rows: list[tuple]) -> Iterator[tuple[str, tuple]]:
        """(statement, its parameters) for each ROWS_PER_INSERT rows."""
        chain = itertools.chain.from_iterable
        per, own = self.ROWS_PER_INSERT, self._OWN
        for start in range(0, len(rows), per):
            chunk = rows[start:start + per]
            rest = chunk[0][own:]
            if all(row[own:] == rest for row in chunk):  # a row unlike the first ends this early
                yield self._INSERT_REPEATS, (*rest, *chain(row[:own] for row in chunk))
            else:
                yield self._INSERT_SYSCALLS, tuple(chain(chunk))

    def close(self) -> None:
        """Every record is in the database file itself, not only in its WAL
        (SQLite has checkpointed most of it meanwhile: this costs a few ms):
        once the jail has exited, copying the file alone copies them all.
        PASSIVE: a reader (`log show` as the run ends) is not waited for, and
        its WAL frames stay where it reads them. `finish` follows."""
        try:
            self.flush()
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('ended', ?)", (_iso(time.time()),))
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._files = _inodes(self.where)
        except BaseException:
            self._db.close()
            raise

    def finish(self) -> None:
        """Build the indexes, after the jail has exited: a bulk build costs about
        a microsecond per row, which no one should wait for. Not when the
        file was removed or replaced meanwhile (`rm` right after the run, or
        a new run to the same path): then only our own -wal and -shm files
        go, which SQLite leaves behind for a database that is gone."""
        if not self._files:  # close failed, and closed the database
            return
        try:
            if _inodes(self.where)[0] == self._files[0]:
                with _transaction(self._db):
                    for statement in _INDEXES:
                        self._db.execute(statement)
                return
        finally:
            self._db.close()
        for name, ours, now in zip(_SIDE_FILES, self._files[1:], _inodes(self.where)[1:]):
            if ours is not None and now == ours:
                with contextlib.suppress(OSError):
                    os.unlink(self.where + name)

    def _apply(self, event: TaskEvent) -> None:
        """Keep one `tasks` row per task: created at spawn (or at the first
        event of a task we never saw spawn), updated by exec and exit."""
        row = self._live.get(event.tid)
        if event.kind == "spawn" or row is None:
            if event.kind == "spawn":
                kind = str(event.detail)
            else:
                kind = "process" if event.tid == event.pid else "thread"
            exe = self._exe.get(event.pid if kind == "thread" else event.ppid)
            if kind != "thread" and exe is not None:
                self._exe[event.pid] = exe
            start = (event.seq, event.time) if event.kind == "spawn" else (None, None)
            row, self._next_task = self._next_task, self._next_task + 1
            self._new_tasks[row] = [row, event.tid, event.pid, event.ppid, kind, exe, *start, *_NOT_YET]
            self._live[event.tid] = row
        new = self._new_tasks.get(row)
        if event.kind == "exec":
            self._exe[event.pid] = str(event.detail)
            if new is None:
                self._execs.append((event.detail, event.seq, event.time, row))
            else:
                new[_EXE] = event.detail
                new[_EXEC:_EXEC + 2] = event.seq, event.time
        elif event.kind == "exit":
            if new is None:
                self._exits.append((event.seq, event.time, event.detail, row))
            else:
                new[_END:_END + 3] = event.seq, event.time, event.detail
            del self._live[event.tid]
            if event.tid == event.pid:  # the process is gone: no new task inherits its exe now
                self._exe.pop(event.pid, None)
