"""`seccomp-jail log stats|show` on a database written by the real sink."""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import subprocess
import sys

import pytest

from seccomp_jail.cli import log_cmd
from seccomp_jail.log.db import DbSink
from seccomp_jail.log.events import from_raw

AT_FDCWD = 0xFFFFFFFFFFFFFF9C
T0 = 1_700_000_000.0


def _call(seq, pid, tid, nr, action="allow", origin="default", retval=0, rule=None, arg0=0, took=None):
    return ("S", seq, T0 + seq, pid, tid, nr, (arg0, 0, 0, 0, 0, 0), None, action, origin,
            retval, rule, took)


# openat x3 (one aborted, one failing on its own), read x2, getpid faked, in two processes.
# The calls that ran took 340 µs: 40 the openats, 300 the reads.
RUN = [
    ("T", 0, T0, "spawn", 10, 10, 1, "process"),
    _call(1, 10, 10, 257, retval=3, arg0=AT_FDCWD, took=10e-6),
    _call(2, 10, 10, 257, "abort", "rule", -13, "r.toml:4", arg0=AT_FDCWD),
    _call(3, 10, 10, 0, retval=5, took=100e-6),
    ("T", 4, T0 + 4, "spawn", 20, 20, 10, "process"),
    _call(5, 20, 20, 257, retval=-2, took=30e-6),
    _call(6, 20, 20, 0, retval=0, took=200e-6),
    ("G", 7, T0 + 7, 20, 20, signal.SIGTERM, None, False),  # its siginfo not read
    _call(8, 20, 20, 39, "fake", "user", 42),
    ("T", 9, T0 + 9, "exit", 20, 20, 10, signal.SIGTERM),
    ("T", 10, T0 + 10, "exit", 10, 10, 1, 0),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("log") / "run.sqlite")
    sink = DbSink(path, ["demo"], T0)
    for raw in RUN:
        sink.handle(from_raw(raw))
    sink.flush()
    sink.close()
    return path


def log(capsys, *argv: str) -> tuple[int, str, str]:
    """Run `seccomp-jail log ARGV` through the parser log_cmd adds."""
    parser = argparse.ArgumentParser(prog="seccomp-jail")
    log_cmd.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["log", *argv])
    status = args.func(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_stats_counts_per_syscall_and_action(db, capsys):
    status, out, err = log(capsys, "stats", db)
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["%", "time", "seconds", "usecs/call", "calls", "errors", "allow", "abort",
                                "fake", "syscall"]
    table = [line.split() for line in lines if not line.startswith("-")][1:]
    # Blank cells (zero) vanish in split(): compare by the non-blank numbers. As in
    # strace -c, most time first; a call that never ran (getpid faked) has no time.
    assert table == [["88.24", "0.000300", "150", "2", "2", "read"],  # 2 calls, 2 allow
                     ["11.76", "0.000040", "20", "3", "2", "2", "1", "openat"],  # 2 errors, 1 abort
                     ["1", "1", "getpid"],              # 1 call, 1 fake
                     ["100.00", "0.000340", "85", "6", "2", "4", "1", "1", "total"]]
    openat = next(line for line in lines if line.endswith(" openat"))
    width = len(lines[0].split("calls")[0]) + len("calls")
    assert openat[width - 9:width].strip() == "3"


def test_stats_with_filter(db, capsys):
    status, out, _ = log(capsys, "stats", db, "--pid", "20")
    assert status == 0
    assert out.splitlines()[-1].split() == ["100.00", "0.000230", "115", "3", "1", "2", "1", "total"]


def test_show_prints_text_lines_in_order(db, capsys):
    status, out, _ = log(capsys, "show", db)
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 9  # 6 calls, 1 signal, 2 exits; spawns print nothing
    assert lines[0].startswith("[pid    10] openat(") and lines[0].endswith(" = 3")
    assert lines[1].endswith("(abort by rule r.toml:4)")
    assert lines[5:] == ["[pid    20] --- SIGTERM ---", lines[6],
                         "[pid    20] +++ killed by SIGTERM +++", "[pid    10] +++ exited with 0 +++"]
    assert lines[6].startswith("[pid    20] getpid(") and lines[6].endswith("= 42 (fake by user)")


def test_show_with_durations(db, capsys):
    status, out, _ = log(capsys, "show", db, "-T", "--syscall", "read")
    assert status == 0
    assert [line.rsplit(" ", 1)[1] for line in out.splitlines()] == ["<0.000100>", "<0.000200>"]


def test_show_filters(db, capsys):
    _, out, _ = log(capsys, "show", db, "--pid", "20")
    assert len(out.splitlines()) == 5 and all(line.startswith("[pid    20]") for line in out.splitlines())
    _, out, _ = log(capsys, "show", db, "--syscall", "openat", "--syscall", "0")  # name or number
    assert [line.split("]")[1].split("(")[0].strip() for line in out.splitlines()] == [
        "openat", "openat", "read", "openat", "read"]
    _, out, _ = log(capsys, "show", db, "--errors")
    assert len(out.splitlines()) == 2 and "EACCES" in out and "ENOENT" in out
    _, out, _ = log(capsys, "show", db, "--action", "fake", "--origin", "user")
    assert len(out.splitlines()) == 1 and "getpid" in out
    _, out, _ = log(capsys, "show", db, "--tid", "10", "--action", "kill")
    assert out == ""


def test_show_json_matches_the_sink_format(db, capsys):
    status, out, _ = log(capsys, "show", db, "--json")
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["seq"] for line in lines] == list(range(len(RUN)))
    first = next(line for line in lines if line["type"] == "syscall")
    assert first["args"] == [AT_FDCWD, 0, 0, 0, 0, 0]  # unsigned again after the round trip
    assert {"pid", "tid", "nr", "syscall", "args", "action", "origin", "retval"} <= first.keys()
    exits = [line for line in lines if line.get("kind") == "exit"]
    assert [(e["tid"], e["signal"], e["exit_code"]) for e in exits] == [(20, "SIGTERM", None),
                                                                          (10, None, 0)]


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b"this is not sqlite at all" * 100), "not a seccomp-jail log"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)"), "not a seccomp-jail log"),
    (lambda p: p.write_bytes(b""), "not a seccomp-jail log"),
])
def test_bad_database_is_one_line_and_status_2(tmp_path, capsys, make, message):
    path = tmp_path / "bad.sqlite"
    make(path)
    for command in ("stats", "show"):
        status, out, err = log(capsys, command, str(path))
        assert status == 2 and out == ""
        assert len(err.splitlines()) == 1 and message in err
        assert err.startswith(f"seccomp-jail: log {command}: ")


def test_newer_schema_is_refused(tmp_path, capsys):
    path = tmp_path / "new.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    con.commit()
    status, _, err = log(capsys, "stats", str(path))
    assert status == 2 and "schema version 99" in err


@pytest.mark.parametrize("version, dropped", [
    (1, ("syscalls.duration", "signals.info", "signals.stopped")), (2, ("signals.info", "signals.stopped"))])
def test_databases_of_older_schemas_are_read(db, tmp_path, capsys, version, dropped):
    """Databases written before syscalls.duration (version 2) or signals.info
    and .stopped (version 3) existed still show and count."""
    old = tmp_path / f"v{version}.sqlite"
    con = sqlite3.connect(old)
    with sqlite3.connect(db) as source:
        source.backup(con)
    for table, column in (name.split(".") for name in dropped):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    con.commit()
    con.close()
    status, out, _ = log(capsys, "stats", str(old))
    untimed = ["6", "2", "4", "1", "1", "total"]  # the total line with no time columns filled
    assert status == 0
    status, show, _ = log(capsys, "show", str(old), "--json")
    lines = [json.loads(line) for line in show.splitlines()]
    calls = [line for line in lines if line["type"] == "syscall"]
    assert status == 0 and len(calls) == 6
    if "syscalls.duration" in dropped:
        assert out.splitlines()[-1].split() == untimed and all(c["duration"] is None for c in calls)
    else:
        assert out.splitlines()[-1].split() != untimed and any(c["duration"] is not None for c in calls)
    assert [(line["signal"], line["siginfo"], line["stopped"]) for line in lines if line["type"] == "signal"] == [
        ("SIGTERM", None, False)]


def test_unknown_syscall_suggests_a_name(db, capsys):
    status, out, err = log(capsys, "show", db, "--syscall", "opneat")
    assert status == 2 and out == ""
    assert err.strip() == "seccomp-jail: log show: unknown syscall 'opneat' (did you mean 'openat'?)"


def test_command_line_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "seccomp_jail", "log", "stats",
                             str(tmp_path / "missing.sqlite")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == f"seccomp-jail: log stats: {tmp_path / 'missing.sqlite'}: no such file"


def test_help_teaches(capsys):
    with pytest.raises(SystemExit):
        log(capsys, "show", "--help")
    out = capsys.readouterr().out
    for words in ("--syscall NAME", "--errors", "--json", "repeat an option", "by name (openat) or number"):
        assert words in out
