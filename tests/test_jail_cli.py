"""`seccomp-jail run` as a command: finding the program, passing on its exit
status, rejecting bad rule files before anything runs, and the text log."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import jail_command, jail_env, rules_toml, run_process


@pytest.mark.parametrize("mode, status", [("exit42", 42), ("segv", 139), ("kill9", 137),
                                          ("abort", 134)])
def test_exit_status_passed_on(jail_both, native, targets, mode, status):
    assert native([targets["exitstatus"], mode]).returncode == status
    run = jail_both([targets["exitstatus"], mode])
    assert run.status == status, run.proc.stderr
    exits = [r for r in run.tasks("exit") if r["tid"] == r["pid"]]
    assert exits, run.records[-5:]


def test_program_found_on_path(jail, workdir):
    run = jail(["mkdir", "-p", "a/b"])
    assert run.status == 0
    assert (workdir / "a" / "b").is_dir()
    assert run.syscalls("execve")[0]["retval"] == 0


def test_relative_and_absolute_program(jail, workdir, targets):
    shutil.copy(targets["mkdir"], workdir / "prog")
    assert jail(["./prog", "rel"]).stdout == "mkdir rel = 0 OK\n"
    assert jail([str(workdir / "prog"), "abs"]).stdout == "mkdir abs = 0 OK\n"
    (workdir / "sub").mkdir()
    assert jail(["../prog", "up"], cwd=workdir / "sub").stdout == "mkdir up = 0 OK\n"
    assert (workdir / "sub" / "up").is_dir()


def test_arguments_after_double_dash_belong_to_the_program(jail, workdir):
    run = jail(["mkdir", "-v", "--", "-q"])
    assert run.status == 0
    assert (workdir / "-q").is_dir()


@pytest.mark.parametrize("program", ["no-such-program-xyz", "./missing", "/nonexistent/prog"])
def test_unknown_program(jail, workdir, program):
    run = jail([program])
    assert run.status == 127
    assert len(run.proc.stderr.strip().splitlines()) == 1, run.proc.stderr
    assert program.rsplit("/", 1)[-1] in run.proc.stderr


@pytest.mark.parametrize("program", ["./plain.txt", "./a-directory", "plain.txt"])
def test_program_that_is_not_executable(workdir, program):
    """Found but not executable (a plain file, a directory; on PATH too): 126,
    as env(1), bash and POSIX say (not found: 127)."""
    (workdir / "plain.txt").write_text("echo hi\n")
    (workdir / "a-directory").mkdir()
    env_path = f"{workdir}:/usr/bin:/bin"
    proc = run_process(jail_command("run", "-q", "--", program), cwd=workdir, env=jail_env({"PATH": env_path}))
    env = run_process(["/usr/bin/env", program], cwd=workdir, env={"PATH": env_path})
    assert proc.returncode == env.returncode == 126, (proc.stderr, env.stderr)
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


BAD_RULES = {
    # name: (file text, line of the error, words the message must contain)
    "unknown-syscall": (rules_toml("allow-forever", {"syscall": "mkdri", "action": "abort"}),
                        5, ["mkdri", "mkdir"]),
    "unknown-action": (rules_toml("allow-forever", {"syscall": "mkdir", "action": "deny"}),
                       6, ["deny"]),
    "unknown-default": ('version = 1\ndefault = "alow"\n', 2, ["alow", "allow"]),
    "wrong-type": (rules_toml("allow-forever", {"syscall": 3.5, "action": "abort"}), 5, []),
    "unknown-errno": (rules_toml("allow-forever",
                                 {"syscall": "mkdir", "action": "abort", "errno": "EACESS"}),
                      7, ["EACESS", "EACCES"]),
    "toml-syntax": ('version = 1\ndefault = "allow"\n[[rule]\nsyscall = "mkdir"\n', 3, []),
    "syscall-list-typo": (rules_toml("allow", {"syscall": ["open", "opneat"], "action": "abort"}),
                          5, ["opneat", "openat"]),
}


@pytest.mark.parametrize("name", list(BAD_RULES))
def test_bad_rule_file(jail, rules_file, workdir, targets, name):
    text, line, words = BAD_RULES[name]
    path = rules_file(text, f"{name}.toml")
    done = run_process(jail_command("run", "--rules", str(path), "--", targets["mkdir"]),
                       cwd=workdir, env=jail_env())
    assert done.returncode == 2
    assert done.stdout == "", "the target must not run"
    assert not (workdir / "test").exists()
    message = done.stderr.strip()
    assert len(message.splitlines()) == 1, message
    # Optionally prefixed with the program's name, as Unix tools do.
    assert re.match(rf"(seccomp-jail: )?{re.escape(str(path))}:{line}: \S", message), message
    for word in words:
        assert word in message, message


def test_text_log_to_stderr_by_default(jail, workdir):
    run = jail(["mkdir", "test"], quiet=False)
    assert run.status == 0
    line = re.compile(r'^\[pid +(\d+)\] mkdir\("test", 0777\) = 0$', re.M)
    match = line.search(run.proc.stderr)
    assert match, run.proc.stderr
    assert int(match.group(1)) == run.syscalls("mkdir")[0]["pid"]


def test_text_log_to_file_and_quiet(jail, workdir, tmp_path):
    log = tmp_path / "trace.txt"
    run = jail(["mkdir", "test"], quiet=False, options=("-o", str(log)))
    assert run.status == 0
    assert run.proc.stderr == ""
    assert re.search(r'mkdir\("test", 0777\) = 0', log.read_text())
    quiet = jail(["mkdir", "test2"])
    assert quiet.status == 0 and quiet.proc.stderr == ""
    assert (workdir / "test2").is_dir()


def test_text_log_waits_when_the_program_made_stderr_non_blocking(workdir, targets):
    """stderr is one open file description for the program and the jail: its
    O_NONBLOCK makes the jail's writes fail once the reader lags. They wait."""
    argv = jail_command("run", "--", str(targets["nonblock_stderr"]), "3000")
    proc = subprocess.Popen(argv, cwd=workdir, env=jail_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # the pipe fills: 3,000 lines are about 100 KiB
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert err.count(" getppid() = ") == 3000, err[-500:]
    assert "seccomp-jail" not in err, err[-500:]


def test_text_log_with_durations(jail, workdir, tmp_path):
    log = tmp_path / "trace.txt"
    run = jail(["sh", "-c", "exec sleep 0.2"], options=("-T", "-o", str(log)), quiet=False)
    assert run.status == 0
    (line,) = [line for line in log.read_text().splitlines() if "nanosleep(" in line]
    match = re.search(r" = 0 <(\d+\.\d{6})>$", line)
    assert match and 0.2 <= float(match.group(1)) < 5, line


@pytest.mark.parametrize("option", ["--db", "--jsonl", "-o"])
def test_log_that_cannot_be_opened_stops_the_run_before_the_program(workdir, tmp_path, option):
    """The log files open while the jail starts; a bad one is still one line and
    status 2, and the program never runs."""
    bad = tmp_path / "no-such-dir" / "log"
    proc = run_process(jail_command("run", "-q", option, str(bad), "--", "mkdir", "made"),
                       cwd=workdir, env=jail_env())
    assert proc.returncode == 2
    assert proc.stderr.startswith("seccomp-jail: cannot open log ") and proc.stderr.count("\n") == 1
    assert not (workdir / "made").exists()


@pytest.mark.parametrize("option", ["-o", "--jsonl"])
def test_a_log_that_cannot_be_written_is_said_once_and_the_program_runs_on(workdir, option):
    """A full disk (/dev/full) fails every write of the log after it opened:
    one line names the log and the reason, and the status stays the
    program's own, as with strace -o."""
    proc = run_process(jail_command("run", "-q", option, "/dev/full", "--", "sh", "-c", "mkdir made; exit 3"),
                       cwd=workdir, env=jail_env())
    assert proc.returncode == 3 and (workdir / "made").is_dir()
    assert proc.stderr == "seccomp-jail: log: cannot write log /dev/full: No space left on device\n"


# Which of stdin, stdout, stderr the program has, into a file (stdout may be
# closed), looked at before the redirection.
REPORT_STD_FDS = 'r=; for fd in 0 1 2; do [ -e /proc/self/fd/$fd ] && r="$r$fd "; done; printf "$r" > "$1"; exit 3'


@pytest.mark.parametrize("closed", ["2>&-", "1>&- 2>&-", "0<&- 1>&- 2>&-"])
@pytest.mark.parametrize("log", [(), ("--db", "run.sqlite")], ids=["stderr-log", "db"])
def test_closed_std_fds_stay_closed_for_the_program(workdir, closed, log):
    """Started with stdin, stdout or stderr closed (`2>&-`, a bare service),
    the jail runs the program as the shell would: with the same ones closed,
    and its exit status passed on. The jail itself fills them with /dev/null,
    so that no file it opens takes their place (a text log written into the
    database, say)."""
    def run(argv: list[str], report: str) -> tuple[int, str]:
        proc = run_process(["sh", "-c", f'exec {closed}; exec "$@"', "sh", *argv], cwd=workdir, env=jail_env())
        return proc.returncode, (workdir / report).read_text()

    native = run(["sh", "-c", REPORT_STD_FDS, "sh", "native.txt"], "native.txt")
    jailed = run([*jail_command("run", *log, "--", "sh", "-c", REPORT_STD_FDS, "sh", "jail.txt")], "jail.txt")
    assert jailed == native and native[0] == 3, (jailed, native)
    if log:
        import sqlite3

        with sqlite3.connect(workdir / "run.sqlite") as db:
            assert db.execute("SELECT count(*) FROM syscalls WHERE syscall = 'execve'").fetchone()[0] >= 1


@pytest.mark.parametrize("command", [["rules", "show", "--groups"], ["log", "show", "DB"]], ids=["rules", "log"])
def test_output_to_a_reader_that_leaves_ends_quietly_as_sigpipe_would(workdir, tmp_path, command):
    """`... | head -1`: no traceback, and the status of a program killed by
    SIGPIPE (141), as `ls | head` gives."""
    db = tmp_path / "run.sqlite"
    subprocess.run(jail_command("run", "-q", "--db", str(db), "--", "ls", "-R", "/usr/share/doc"),
                   cwd=workdir, env=jail_env(), stdout=subprocess.DEVNULL, check=True)
    argv = jail_command(*[str(db) if arg == "DB" else arg for arg in command])
    read, write = os.pipe()
    fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, 4096)  # less than the output: it cannot all be written before we leave
    proc = subprocess.Popen(argv, cwd=workdir, env=jail_env(), stdout=write, stderr=subprocess.PIPE)
    os.close(write)
    with os.fdopen(read, "rb") as reader:
        assert reader.readline()
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.decode()) == (141, "")
