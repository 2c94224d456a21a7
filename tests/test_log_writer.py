"""The writer process end to end: raw tuples through a real pipe into every sink."""

from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import sqlite3
import struct
import threading
import time

import pytest

from seccomp_jail.log.db import args_from_db, args_to_db
from seccomp_jail.log.framing import send_batch
from seccomp_jail.log.writer import LogError, _queued, open_sinks, serve, start_writer

AT_FDCWD = 0xFFFFFFFFFFFFFF9C
FIXED_KEYS = {"pid", "tid", "nr", "syscall", "args", "action", "origin", "retval"}
T0 = 1_700_000_000.0
# siginfo_t of a SIGINT that process 1 (uid 0) sent with kill(2): si_signo, si_errno, si_code (SI_USER), pid, uid.
SIGINT_FROM_PID_1 = struct.pack("<4i2i", signal.SIGINT, 0, 0, 0, 1, 0).ljust(128, b"\0")
SIGINT_INFO = "{si_signo=SIGINT, si_code=SI_USER, si_pid=1, si_uid=0}"

# A small run: process 100 starts, execs, opens twice (allowed, then aborted),
# starts thread 101 and child process 200, gets SIGINT, and everything ends.
RUN = [
    ("T", 0, T0, "spawn", 100, 100, 1, "process"),
    ("T", 1, T0 + 0.1, "exec", 100, 100, 1, "/usr/bin/demo"),
    ("S", 2, T0 + 0.2, 100, 100, 257, (AT_FDCWD, 0x1000, 0, 0, 0, 0), None, "allow",
     "default", 3, None, 2.5e-05),
    # The tracer may send a record as a list it filled in place.
    ["S", 3, T0 + 0.3, 100, 100, 257, (AT_FDCWD, 0x2000, 0x241, 0o644, 0, 0), None, "abort",
     "rule", -13, "rules.toml:4", None],
    ("T", 4, T0 + 0.4, "spawn", 100, 101, 1, "thread"),
    ("S", 5, T0 + 0.5, 100, 101, 39, (0,) * 6, None, "fake", "user", 7, None, None),
    ("T", 6, T0 + 0.6, "spawn", 200, 200, 100, "process"),
    ("G", 7, T0 + 0.7, 100, 100, signal.SIGINT, SIGINT_FROM_PID_1, False),
    ("T", 8, T0 + 0.8, "exit", 100, 101, 1, 0),
    ("S", 9, T0 + 0.9, 200, 200, 231, (0,) * 6, None, "allow", "default", None, None, None),
    ("T", 10, T0 + 1.0, "exit", 200, 200, 100, 3 << 8),
    ("T", 11, T0 + 1.1, "exit", 100, 100, 1, signal.SIGINT),
]


def _paths(tmp_path):
    return str(tmp_path / "trace.txt"), str(tmp_path / "run.sqlite"), str(tmp_path / "run.jsonl")


def _jsonl(path: str) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_every_sink_gets_every_record(tmp_path):
    text, db, jsonl = _paths(tmp_path)
    with start_writer(text, False, False, db, jsonl, command=["demo", "-x"]) as log:
        log.send(RUN[:5])
        log.send(RUN[5:])

    lines = _jsonl(jsonl)
    assert [line["seq"] for line in lines] == list(range(len(RUN)))
    calls = [line for line in lines if line["type"] == "syscall"]
    assert len(calls) == 4
    for line in calls:
        assert FIXED_KEYS <= line.keys()
        assert len(line["args"]) == 6 and all(isinstance(a, int) for a in line["args"])
    assert calls[0]["args"][0] == AT_FDCWD and calls[0]["syscall"] == "openat"
    assert calls[1]["errno"] == "EACCES" and calls[1]["rule"] == "rules.toml:4"
    assert calls[3]["syscall"] == "exit_group" and calls[3]["retval"] is None
    assert [line["duration"] for line in calls] == [2.5e-05, None, None, None]
    exits = [line for line in lines if line["type"] == "task" and line["kind"] == "exit"]
    assert [(e["exit_code"], e["signal"]) for e in exits] == [(0, None), (3, None), (None, "SIGINT")]
    assert [line for line in lines if line["type"] == "signal"] == [
        {"type": "signal", "seq": 7, "time": T0 + 0.7, "pid": 100, "tid": 100, "signo": 2,
         "signal": "SIGINT", "siginfo": SIGINT_INFO, "stopped": False}]

    with open(text) as f:
        trace = f.read().splitlines()
    assert len(trace) == 8  # 4 calls, 1 signal, 3 exits; spawn/exec print nothing
    assert trace[0].startswith("[pid   100] openat(") and trace[0].endswith(") = 3")
    assert trace[1].endswith("(abort by rule rules.toml:4)")
    assert trace[2].startswith("[pid   101] getpid(") and trace[2].endswith("= 7 (fake by user)")
    assert trace[3] == f"[pid   100] --- SIGINT {SIGINT_INFO} ---"
    assert trace[4:] == ["[pid   101] +++ exited with 0 +++", trace[5],
                         "[pid   200] +++ exited with 3 +++", "[pid   100] +++ killed by SIGINT +++"]
    assert trace[5].startswith("[pid   200] exit_group(") and trace[5].endswith(" = ?")


def test_database_rows_and_process_tree(tmp_path):
    _, db, _ = _paths(tmp_path)
    with start_writer(None, False, False, db, None, command=["demo", "-x"]) as log:
        log.send(RUN)
    con = sqlite3.connect(db)
    meta = dict(con.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == "3" and json.loads(meta["command"]) == ["demo", "-x"]
    assert "started" in meta and "ended" in meta

    rows = con.execute("SELECT seq, syscall, arg0, arg1, arg2, arg3, arg4, arg5, action, origin,"
                       " retval, errno, rule, duration FROM syscalls ORDER BY seq").fetchall()
    assert [row[0] for row in rows] == [2, 3, 5, 9]
    # AT_FDCWD is stored as the signed -100 and converts back exactly.
    assert rows[0][2] == -100
    assert args_from_db(rows[0][2:8]) == (AT_FDCWD, 0x1000, 0, 0, 0, 0)
    assert rows[1][8:] == ("abort", "rule", -13, "EACCES", "rules.toml:4", None)
    assert rows[3][10] is None
    assert [row[13] for row in rows] == [2.5e-05, None, None, None]

    tasks = con.execute("SELECT tid, pid, ppid, kind, exe, start_seq, exec_seq, end_seq,"
                        " exit_status FROM tasks ORDER BY id").fetchall()
    assert tasks == [
        (100, 100, 1, "process", "/usr/bin/demo", 0, 1, 11, signal.SIGINT),
        (101, 100, 1, "thread", "/usr/bin/demo", 4, None, 8, 0),
        (200, 200, 100, "process", "/usr/bin/demo", 6, None, 10, 3 << 8),
    ]
    assert con.execute("SELECT seq, pid, tid, signo, signal, info, stopped FROM signals").fetchall() == [
        (7, 100, 100, 2, "SIGINT", SIGINT_INFO, 0)]
    # Built by the writer after it let the jail go: shortly after close().
    deadline = time.monotonic() + 10
    while True:
        indexes = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        if {"syscalls_pid", "syscalls_syscall"} <= indexes or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert {"syscalls_pid", "syscalls_syscall"} <= indexes


@pytest.mark.parametrize("value", [0, 1, 2**63 - 1, 2**63, AT_FDCWD, 2**64 - 1])
def test_argument_sign_round_trip(value):
    stored = args_to_db((value,) * 6)
    assert all(-(2**63) <= s < 2**63 for s in stored)
    assert args_from_db(stored) == (value,) * 6


def test_reused_tid_gets_a_new_task_row(tmp_path):
    _, db, _ = _paths(tmp_path)
    with start_writer(None, False, False, db, None) as log:
        log.send([("T", 0, T0, "spawn", 300, 300, 1, "process"),
                  ("T", 1, T0, "exit", 300, 300, 1, 0),
                  ("T", 2, T0, "spawn", 300, 300, 1, "process"),
                  ("T", 3, T0, "exec", 400, 400, 1, "/bin/unseen")])  # never saw its spawn
    rows = sqlite3.connect(db).execute(
        "SELECT tid, kind, start_seq, end_seq, exe FROM tasks ORDER BY id").fetchall()
    assert rows == [(300, "process", 0, 1, None), (300, "process", 2, None, None),
                    (400, "process", None, None, "/bin/unseen")]


def test_a_reused_pid_does_not_inherit_the_old_process_exe(tmp_path):
    """Once process 300 is gone, its exe is forgotten: a new process that
    reuses the pid (exe unknown) passes nothing stale on to its child."""
    _, db, _ = _paths(tmp_path)
    with start_writer(None, False, False, db, None) as log:
        log.send([("T", 0, T0, "spawn", 300, 300, 1, "process"),
                  ("T", 1, T0, "exec", 300, 300, 1, "/bin/old"),
                  ("T", 2, T0, "exit", 300, 300, 1, 0),
                  ("T", 3, T0, "spawn", 300, 300, 1, "process"),
                  ("T", 4, T0, "spawn", 301, 301, 300, "process")])
    rows = sqlite3.connect(db).execute("SELECT tid, exe FROM tasks ORDER BY id").fetchall()
    assert rows == [(300, "/bin/old"), (300, None), (301, None)]


def test_an_exe_path_that_is_no_utf8_is_logged_escaped(tmp_path):
    """os.readlink gives undecodable bytes as surrogates, which neither
    SQLite nor a UTF-8 file takes: written as \\xNN, the run's records stay."""
    text, db, jsonl = _paths(tmp_path)
    exe = os.fsdecode(b"/tmp/caf\xe9-\xe6\x97\xa5")  # Latin-1 e-acute, then a CJK character in UTF-8
    with start_writer(text, False, False, db, jsonl) as log:
        log.send([("T", 0, T0, "spawn", 300, 300, 1, "process"),
                  ("T", 1, T0, "exec", 300, 300, 1, exe),
                  ("S", 2, T0, 300, 300, 39, (0,) * 6, None, "allow", "default", 300, None, None)])
    assert sqlite3.connect(db).execute("SELECT exe FROM tasks").fetchall() == [("/tmp/caf\\xe9-\u65e5",)]
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM syscalls").fetchall() == [(1,)]
    assert [r.get("detail") for r in _jsonl(jsonl)][:2] == ["process", "/tmp/caf\\xe9-\u65e5"]


def test_bad_records_are_reported_and_skipped(tmp_path, capfd):
    _, _, jsonl = _paths(tmp_path)
    with start_writer(None, False, False, None, jsonl) as log:
        log.send([RUN[2], ("X", 1), ("S", 2, 0.0), ("T", 3, 0.0, "fly", 1, 1, 1, None)])
        log.send("not a list")
        log.send([RUN[3]])
    assert [line["seq"] for line in _jsonl(jsonl)] == [2, 3]
    err = capfd.readouterr().err
    assert err.count("bad record skipped") == 3
    assert "batch of type str skipped" in err


def test_signals_do_not_stop_the_writer(tmp_path):
    _, db, jsonl = _paths(tmp_path)
    with start_writer(None, False, False, db, jsonl) as log:
        log.send(RUN[:4])
        for signo in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            os.kill(log.pid, signo)
        time.sleep(0.05)
        os.kill(log.pid, 0)  # still alive
        log.send(RUN[4:])
    assert len(_jsonl(jsonl)) == len(RUN)
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM syscalls").fetchone() == (4,)


def test_log_is_complete_when_the_tracer_is_killed(tmp_path):
    """The tracer dies without closing the pipe: the writer sees EOF and finishes."""
    _, db, jsonl = _paths(tmp_path)
    tracer = os.fork()
    if tracer == 0:
        try:
            log = start_writer(None, False, False, db, jsonl)
            log.send(RUN)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)
    assert os.waitpid(tracer, 0)[1] == signal.SIGKILL
    deadline = time.monotonic() + 10
    ended = None
    while ended is None and time.monotonic() < deadline:
        time.sleep(0.02)
        try:
            ended = sqlite3.connect(db).execute("SELECT value FROM meta WHERE key='ended'").fetchone()
        except sqlite3.Error:
            pass
    assert ended is not None, "the writer did not finish"
    assert len(_jsonl(jsonl)) == len(RUN)
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM syscalls").fetchone() == (4,)


def test_writer_holds_no_other_descriptor(tmp_path):
    r, w = os.pipe()
    try:
        with start_writer(None, False, False, None, None):
            os.close(w)
            ready, _, _ = select.select([r], [], [], 5)
            assert ready and os.read(r, 1) == b"", "the writer kept a pipe end open"
    finally:
        os.close(r)


def test_unopenable_destination_is_one_error(tmp_path):
    missing = str(tmp_path / "no" / "such" / "dir" / "run.sqlite")
    with pytest.raises(LogError, match=r"cannot open log .*run\.sqlite: .*"):
        start_writer(None, False, False, missing, None)
    with pytest.raises(LogError, match="No such file or directory"):
        open_sinks(None, False, False, None, str(tmp_path / "no" / "x.jsonl"))


def test_text_to_stderr_with_colour(tmp_path, capfd):
    with start_writer(None, True, True, None, None) as log:
        log.send([RUN[3], RUN[-1]])
    err = capfd.readouterr().err.splitlines()
    assert err[0].startswith("\x1b[33m[pid   100] openat(") and err[0].endswith("\x1b[0m")
    assert err[-1] == "[pid   100] +++ killed by SIGINT +++"


def test_a_group_stop_in_every_sink_and_back_from_the_database(tmp_path):
    from seccomp_jail.log.query import Filters, events, open_db
    from seccomp_jail.log.text import format_line

    text, db, jsonl = _paths(tmp_path)
    stop = ("G", 1, T0, 100, 101, signal.SIGTSTP, None, True)
    with start_writer(text, False, False, db, jsonl) as log:
        log.send([RUN[0], stop])
    with open(text) as f:
        assert f.read() == "[pid   101] --- stopped by SIGTSTP ---\n"
    assert [(line["signal"], line["siginfo"], line["stopped"]) for line in _jsonl(jsonl)
            if line["type"] == "signal"] == [("SIGTSTP", None, True)]
    (back,) = [event for event in events(open_db(db), Filters()) if event.seq == 1]
    assert format_line(back) == "[pid   101] --- stopped by SIGTSTP ---"


@pytest.mark.parametrize("per_flush", [1, 2, 5])
def test_process_tree_is_the_same_however_its_events_are_flushed(tmp_path, per_flush):
    """A task's exec and exit complete its row when they come in the batch that
    created it, and update the stored row when they come later."""
    from seccomp_jail.log.events import from_raw

    _, db, _ = _paths(tmp_path)
    (sink,) = open_sinks(None, False, False, db, None)
    for start in range(0, len(RUN), per_flush):
        for raw in RUN[start:start + per_flush]:
            sink.handle(from_raw(raw))
        sink.flush()
    sink.close()
    sink.finish()
    tasks = sqlite3.connect(db).execute("SELECT id, tid, pid, ppid, kind, exe, start_seq, start_time,"
                                        " exec_seq, exec_time, end_seq, end_time, exit_status"
                                        " FROM tasks ORDER BY id").fetchall()
    assert tasks == [
        (1, 100, 100, 1, "process", "/usr/bin/demo", 0, T0, 1, T0 + 0.1, 11, T0 + 1.1, signal.SIGINT),
        (2, 101, 100, 1, "thread", "/usr/bin/demo", 4, T0 + 0.4, None, None, 8, T0 + 0.8, 0),
        (3, 200, 200, 100, "process", "/usr/bin/demo", 6, T0 + 0.6, None, None, 10, T0 + 1.0, 3 << 8),
    ]


class _CountingSink:
    """Counts the records it was given at each flush."""

    where = "counting"

    def __init__(self) -> None:
        self.handled = 0
        self.flushes: list[int] = []
        self.flushed = threading.Event()

    def handle(self, event) -> None:
        self.handled += 1

    def flush(self) -> None:
        self.flushes.append(self.handled)
        self.flushed.set()

    def close(self) -> None:
        pass


def test_batches_waiting_in_the_pipe_share_a_flush_and_a_lone_one_is_flushed_at_once():
    sink = _CountingSink()
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
    batch = [RUN[2]] * 100
    for _ in range(10):  # a writer behind: all of them already there
        send_batch(w, batch)
    writer = threading.Thread(target=serve, args=(r, [sink]))
    writer.start()
    try:
        assert sink.flushed.wait(10)
        assert sink.flushes == [1000], "ten waiting batches, one flush"
        sink.flushed.clear()
        send_batch(w, batch)  # a quiet program's batch: in the log now, not after the next one
        assert sink.flushed.wait(10)
        assert sink.flushes == [1000, 1100]
    finally:
        os.close(w)
        writer.join(10)
        os.close(r)


def test_serve_in_a_thread_with_batches_bigger_than_the_pipe(tmp_path):
    text, db, jsonl = _paths(tmp_path)
    sinks = open_sinks(text, False, False, db, jsonl)
    r, w = os.pipe()
    writer = threading.Thread(target=serve, args=(r, sinks))
    writer.start()
    many = [("S", i, T0, 100, 100, 0, (i, 0, 0, 0, 0, 0), None, "allow", "default", 0, None, None)
            for i in range(3000)]
    send_batch(w, many)
    send_batch(w, many[:10])
    os.close(w)
    writer.join(10)
    os.close(r)
    assert not writer.is_alive()
    assert len(_jsonl(jsonl)) == 3010
    with open(text) as f:
        assert sum(1 for _ in f) == 3010
    assert sqlite3.connect(db).execute("SELECT COUNT(*), MAX(arg0) FROM syscalls").fetchone() == (
        3010, 2999)


def test_database_is_readable_while_the_run_goes_on(tmp_path):
    from seccomp_jail.log.query import Filters, events, open_db

    _, db, _ = _paths(tmp_path)
    with start_writer(None, False, False, db, None) as log:
        log.send(RUN[:4])
        deadline = time.monotonic() + 10
        seen: list = []
        while len(seen) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)  # the schema exists once start_writer returns; rows come per batch
            seen = [event.seq for event in events(open_db(db), Filters())]
        assert seen == [0, 1, 2, 3]
        log.send(RUN[4:])


def test_rows_of_a_loop_and_of_mixed_calls_keep_their_values_and_order(tmp_path):
    """A loop's calls (alike but for seq, time and duration; some durations
    unknown) are written in shared-value statements, others one value per
    column: every row must read back as sent."""
    _, db, _ = _paths(tmp_path)
    loop = [("S", i, T0 + i / 8, 100, 100, 110, (1, 2, 3, 4, 5, 6), None, "allow", "default", 99,
             None, i * 1e-6 if i % 3 else None) for i in range(70)]
    loop[40] = ("S", 40, T0 + 5, 100, 100, 257, (AT_FDCWD, 0x10, 0, 0, 0, 2**64 - 1), {1: b"/x"},
                "abort", "rule", -13, "rules.toml:4", None)
    loop += [("S", i, T0 + i / 8, 100, 101, 110, (1, 2, 3, 4, 5, 6), None, "allow", "default", 99,
              None, i * 1e-6) for i in range(70, 140)]
    with start_writer(None, False, False, db, None) as log:
        log.send(loop)
    rows = sqlite3.connect(db).execute(
        "SELECT seq, time, tid, duration, syscall, arg0, arg5, text, action, origin, retval, errno,"
        " retval_text, rule FROM syscalls ORDER BY id").fetchall()
    getppid = ("getppid", 1, 6, "getppid()", "allow", "default", 99, None, "99", None)
    openat = ("openat", -100, -1, 'openat(AT_FDCWD, "/x", O_RDONLY)', "abort", "rule", -13, "EACCES",
              "-1 EACCES (Permission denied)", "rules.toml:4")
    assert rows == [(raw[1], raw[2], raw[4], raw[12], *(openat if raw[1] == 40 else getppid))
                    for raw in loop]


def test_arguments_are_read_as_unsigned_whatever_the_record_holds():
    """An edited call can carry negative arguments, and the tracer may fill a list."""
    from seccomp_jail.log.events import from_raw

    event = from_raw(("S", 1, T0, 10, 10, 257, [-100, 0x10, 0, 0, 0, -1], {1: b"/x"}, "edit", "user",
                      3, None, None))
    assert event.args == (AT_FDCWD, 0x10, 0, 0, 0, 2**64 - 1)
    assert event.text == 'openat(AT_FDCWD, "/x", O_RDONLY)'
    assert args_to_db(event.args) == (-100, 0x10, 0, 0, 0, -1)
    with pytest.raises(ValueError):
        from_raw(("S", 1, T0, 10, 10, 257, (0, 0, 0), None, "allow", "default", 0, None, None))


@pytest.mark.parametrize("retval, errno, rule, duration",
                         [(None, None, None, None), (-13, "EACCES", 'r\u00e9gles "x".toml:3', 1.0000001e-05)])
def test_jsonl_syscall_line_is_what_json_writes(retval, errno, rule, duration):
    """The sink writes syscall lines itself, for speed: byte for byte json.dumps's."""
    from seccomp_jail.log.events import SyscallEvent
    from seccomp_jail.log.jsonl import dumps, to_dict

    event = SyscallEvent(7, T0 + 0.123456789, 100, 101, 257, "openat", (AT_FDCWD, 1, 2, 3, 4, 2**64 - 1),
                         'openat(AT_FDCWD, "a\\\\b\\"\\1", O_RDONLY)\x7f\u00e9', "abort", "rule", retval, errno,
                         "-1 EACCES (Permission denied)", rule, duration)
    expected = {"type": "syscall", "seq": 7, "time": T0 + 0.123456789, "pid": 100, "tid": 101,
                "nr": 257, "syscall": "openat", "args": list(event.args), "text": event.text,
                "action": "abort", "origin": "rule", "retval": retval,
                "retval_text": "-1 EACCES (Permission denied)", "errno": errno, "rule": rule,
                "duration": duration}
    assert dumps(event) == json.dumps(expected, separators=(",", ":"))
    assert to_dict(event) == expected


def test_writer_runs_on_idle_time_until_it_falls_behind(tmp_path):
    """The writer takes only idle CPU time, until its pipe is half full: then
    it runs as an ordinary task (nice 10), so that programs keeping every CPU
    busy cannot starve the log; once it has caught up, idle time again.
    Leaving SCHED_IDLE takes CAP_SYS_NICE: unprivileged, nice 10 throughout."""
    db = str(tmp_path / "log.sqlite")
    batch = [("S", i, T0, 100, 100, 110, (i, 0, 0, 0, 0, 0), {1: b"x" * 200}, "allow", "default", 0, None, None)
             for i in range(200)]
    privileged = os.geteuid() == 0
    nice = min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)
    relaxed = os.SCHED_IDLE if privileged else os.SCHED_OTHER
    with start_writer(None, False, False, db, None) as log:
        log.ready()
        log.pace()
        deadline = time.monotonic() + 10  # it relaxes itself just after saying it is ready
        while os.sched_getscheduler(log.pid) != relaxed and time.monotonic() < deadline:
            time.sleep(0.001)
        assert os.sched_getscheduler(log.pid) == relaxed
        os.kill(log.pid, signal.SIGSTOP)  # behind, as under a CPU hog
        try:
            while _queued(log.fd) <= fcntl.fcntl(log.fd, fcntl.F_GETPIPE_SZ) // 2:
                log.send(batch)
            log.pace()
            assert os.sched_getscheduler(log.pid) == os.SCHED_OTHER
            assert os.getpriority(os.PRIO_PROCESS, log.pid) == nice
        finally:
            os.kill(log.pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while _queued(log.fd) and time.monotonic() < deadline:
            time.sleep(0.01)
        log.send(batch[:1])
        log.pace()
        assert os.sched_getscheduler(log.pid) == relaxed
    with sqlite3.connect(db) as con:
        (rows,) = con.execute("SELECT count(*) FROM syscalls").fetchone()
    assert rows > 200 and rows % 200 == 1  # every batch sent, none lost


def test_statements_bind_plain_parameters():
    """sqlite3 counts `?1` as a named parameter: Python 3.12 warns when a
    sequence is bound to one, 3.14 refuses. Every insert binds plain `?`."""
    import re

    from seccomp_jail.log.db import DbSink

    statements = [DbSink._INSERT_SYSCALL, DbSink._INSERT_SYSCALLS, DbSink._INSERT_REPEATS, DbSink._INSERT_SIGNAL]
    assert all("?" in s and not re.search(r"[?:@$][0-9A-Za-z_]", s) for s in statements), statements


def _run_records(n: int) -> list:
    return [("S", i, T0 + i, 100, 100, 39, (0,) * 6, None, "allow", "default", 100, None, None)
            for i in range(n)]


def test_the_database_file_alone_holds_every_record_once_closed(tmp_path):
    """`close` is what the jail waits for: after it, a copy of the file
    without its -wal (as `cp log.sqlite` makes) has every record."""
    from seccomp_jail.log.events import from_raw

    _, db, _ = _paths(tmp_path)
    (sink,) = open_sinks(None, False, False, db, None)
    for raw in _run_records(5000):
        sink.handle(from_raw(raw))
    sink.flush()
    sink.close()
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(open(db, "rb").read())
    con = sqlite3.connect(copy)
    assert con.execute("SELECT count(*) FROM syscalls").fetchone() == (5000,)
    con.close()
    sink.finish()
    assert sorted(os.listdir(tmp_path)) == ["copy.sqlite", "run.sqlite"]  # no -wal, no -shm


@pytest.mark.parametrize("then", ["removed", "replaced"])
def test_a_database_removed_or_replaced_before_its_indexes_is_left_alone(tmp_path, then):
    """The indexes are built after the jail has exited; a script may have
    removed the file by then, or a new run may write the same path. The
    writer then builds nothing, and takes away its own -wal and -shm only."""
    from seccomp_jail.log.events import from_raw

    _, db, _ = _paths(tmp_path)
    (sink,) = open_sinks(None, False, False, db, None)
    for raw in _run_records(10):
        sink.handle(from_raw(raw))
    sink.close()
    assert os.path.exists(db + "-wal") and os.path.exists(db + "-shm")
    for name in ("",) if then == "removed" else ("", "-wal", "-shm"):  # `rm log.sqlite`, or all of it
        os.unlink(db + name)
    if then == "replaced":
        for name in ("", "-wal", "-shm"):
            with open(db + name, "w") as f:
                f.write("the next run's")
    sink.finish()
    left = {name: open(tmp_path / name).read() for name in os.listdir(tmp_path)}
    if then == "removed":
        assert left == {}
    else:
        assert left == {f"run.sqlite{name}": "the next run's" for name in ("", "-wal", "-shm")}
