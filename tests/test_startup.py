"""Start-up of `seccomp-jail run` stays small: what it imports and starts.

`run -q` alone has no log at all: no writer process, no pickle; no command
imports shutil (argparse would, for the terminal width).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from conftest import REPO, jail_command, jail_env, process_ended, read_jsonl
from seccomp_jail.cli.helpformat import terminal_columns
from seccomp_jail.policy.model import Action, RuleSet
from seccomp_jail.session import Session, SessionOptions
from seccomp_jail.session.logpipe import LogPipe
from seccomp_jail.session.prestart import start_log
from seccomp_jail.tracer.program import ProgramNotFound

NO_SINK = dict(text=None, text_to_stderr=False, color=False, db=None, jsonl=None, command=["true"])


def imported(args: list[str], cwd) -> set[str]:
    """Modules imported by `seccomp-jail ARGS` (and by any process it forks without exec).

    Without site (-S): a .pth file of the machine may import anything.
    """
    proc = subprocess.run([sys.executable, "-S", "-X", "importtime", *jail_command(*args)[1:]], cwd=cwd,
                          env=jail_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_quiet_run_starts_no_writer_and_no_shutil(tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text('version = 1\ndefault = "allow-forever"\n')
    for args in (["run", "-q", "--", "true"], ["run", "-q", "--rules", str(rules), "--", "true"]):
        modules = imported(args, tmp_path)
        assert "seccomp_jail.session.session" in modules  # the measurement works
        assert not modules & {"shutil", "pickle", "seccomp_jail.log.framing"}, args


def test_a_sink_still_starts_the_writer(tmp_path):
    jsonl = tmp_path / "run.jsonl"
    modules = imported(["run", "-q", "--jsonl", str(jsonl), "--", "true"], tmp_path)
    assert "seccomp_jail.log.framing" in modules
    assert '"syscall":"execve"' in jsonl.read_text()


def test_logpipe_without_sinks_drops_records_and_starts_nothing():
    pipe = LogPipe(NO_SINK)
    threads = threading.active_count()
    pipe.start()
    assert pipe.pids == ()
    assert threading.active_count() == threads
    for seq in range(2000):  # beyond a batch: nothing is queued either
        pipe.emit(("T", seq, 0.0, "spawn", 1, 1, 0, "process"))
    pipe.close()


def test_logpipe_with_a_sink_has_a_writer(tmp_path):
    jsonl = tmp_path / "log.jsonl"
    pipe = LogPipe({**NO_SINK, "jsonl": str(jsonl)})
    (writer,) = pipe.pids
    assert writer != os.getpid()
    pipe.start()
    pipe.emit(("T", 0, 1.0, "spawn", 7, 7, 1, "process"))
    pipe.close()
    assert '"pid":7' in jsonl.read_text()


def test_a_log_started_early_gets_the_run(tmp_path, targets):
    """`run` forks the writer before its heavy imports; the session then logs through it."""
    options = SessionOptions(quiet=True, jsonl=str(tmp_path / "run.jsonl"))
    writer = start_log(options, [targets["mkdir"], str(tmp_path / "made")])
    assert writer is not None and writer.pid != os.getpid()
    session = Session(RuleSet(default=Action.ALLOW), options, writer=writer)
    assert session.run([targets["mkdir"], str(tmp_path / "made")]) == 0
    records = read_jsonl(tmp_path / "run.jsonl")
    assert [r["retval"] for r in records if r.get("syscall") == "mkdir"] == [0]
    assert writer.fd == -1 and process_ended(writer.pid)  # it finished with the run


def test_no_early_log_for_a_program_that_cannot_run(tmp_path):
    """A run that ends with status 127 leaves no log file behind, as before the early start."""
    db = tmp_path / "run.sqlite"
    options = SessionOptions(quiet=True, db=str(db))
    assert start_log(options, ["no-such-program-xyz"]) is None
    assert start_log(SessionOptions(quiet=True), ["true"]) is None  # nothing to log
    with pytest.raises(ProgramNotFound):
        Session(RuleSet(default=Action.ALLOW), options).run(["no-such-program-xyz"])
    done = subprocess.run(jail_command("run", "-q", "--db", str(db), "--", "no-such-program-xyz"),
                          env=jail_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 127 and not db.exists()


def test_an_early_log_the_session_never_used_is_closed(tmp_path):
    jsonl = tmp_path / "run.jsonl"
    options = SessionOptions(quiet=True, jsonl=str(jsonl))
    writer = start_log(options, ["true"])
    session = Session(RuleSet(default=Action.ALLOW), options, writer=writer)
    with pytest.raises(ProgramNotFound):  # PATH changed under it: the run never starts
        session.run(["no-such-program-xyz"])
    assert writer.fd == -1 and process_ended(writer.pid)
    assert jsonl.read_text() == ""



def test_terminal_columns(monkeypatch):
    monkeypatch.setenv("COLUMNS", "123")
    assert terminal_columns() == 123
    monkeypatch.setenv("COLUMNS", "junk")  # as shutil: then the terminal, else the fallback
    monkeypatch.setattr(sys, "__stdout__", None)
    assert terminal_columns() == 80
    assert terminal_columns(100) == 100


def run_help(columns: int) -> str:
    return subprocess.run(jail_command("run", "--help"), env={**jail_env(), "COLUMNS": str(columns)},
                          cwd=REPO, capture_output=True, text=True, check=True).stdout


def test_help_wraps_options_to_the_terminal_and_keeps_the_epilog_as_written():
    narrow, wide = run_help(60), run_help(200)
    timeout_help = ("how long a `notify` syscall waits for a decision "
                    "(default 30; 0 decides at once; 'inf' waits forever)")
    assert timeout_help in wide
    assert timeout_help not in narrow
    options = narrow.split("options:\n")[1].split("\n\n")[0]
    assert max(len(line) for line in options.splitlines()) <= 60 - 2
    for text in (narrow, wide):
        assert "  allow-forever, abort-forever   decided in the kernel filter: no cost, fixed for the run\n" in text
