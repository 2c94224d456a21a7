"""The jail on a real terminal: Ctrl-C reaches the program once, Ctrl-Z, fg
and bg work in an interactive shell, as without the jail.

The program leads the terminal's foreground group; the jail, in a group of
its own, mirrors the program's job-control stops for the shell.
"""

from __future__ import annotations

import json
import os
import pty
import select
import time

from conftest import REPO, group_kill_log, jail_command


def run_on_pty(argv: list[str], keys: bytes, after: bytes, timeout: float = 30) -> tuple[int, bytes]:
    pid, master = pty.fork()
    if pid == 0:
        os.environ["PYTHONPATH"] = str(REPO)
        os.execvp(argv[0], argv)
    out, sent, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other side is gone
                break
            if not chunk:
                break
            out += chunk
        if not sent and after in out:
            os.write(master, keys)
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(master)
    return os.waitstatus_to_exitcode(status), out


def test_ctrl_c_reaches_the_program_once(targets, tmp_path):
    native_status, native_out = run_on_pty([targets["sigcount"]], b"\x03", b"ready")
    status, out = run_on_pty(jail_command("run", "-q", "--jsonl", str(tmp_path / "log.jsonl"), "--",
                                          targets["sigcount"]), b"\x03", b"ready")
    assert b"count=1" in native_out and native_status == 0
    assert b"count=1" in out, out
    assert status == 0
    assert (tmp_path / "log.jsonl").read_text().count('"kind":"exit"') >= 1


def interactive_shell(steps: list[tuple[bytes, bytes]], until: bytes, timeout: float = 30) -> bytes:
    """Drive `bash -i` on a terminal: each step types its keys once its prompt
    text has appeared; returns the output after the last step, once `until`
    and a line end follow it."""
    pid, master = pty.fork()
    if pid == 0:
        os.environ.update(PYTHONPATH=str(REPO), PS1="$ ")
        os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if steps and steps[0][0] in out:
            os.write(master, steps.pop(0)[1])
            out = b""  # each step waits for output after the previous one
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not steps and until in out and b"\n" in out.split(until)[-1]:
                break
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(master)
    assert not steps, f"stuck before {steps[0][0]!r}; output: {out!r}"
    return out


def test_ctrl_z_then_fg_in_an_interactive_shell(targets):
    """Job control as a user meets it: Ctrl-Z stops the job (jail and program), `fg` resumes both."""
    command = " ".join(jail_command("run", "-q", "--", targets["sigcount"]))
    interactive_shell([(b"$ ", command.encode() + b"\n"), (b"ready", b"\x1a"), (b"Stopped", b"fg\n"),
                       (b"count=", b"exit $?\n")], b"count=")


def test_ctrl_z_then_bg_in_an_interactive_shell(targets):
    """`bg` continues the job away from the terminal: the program runs on to its end."""
    command = " ".join(jail_command("run", "-q", "--", targets["sigcount"]))
    out = interactive_shell([(b"$ ", command.encode() + b"\n"), (b"ready", b"\x1a"), (b"Stopped", b"bg\n")],
                            b"count=")
    assert b"count=0" in out, out


def test_a_program_killing_its_group_in_an_interactive_shell(targets, tmp_path):
    """A job of an interactive shell: the program leads a group of its own, so
    its kill(0, SIGKILL) ends it alone; the shell gets its status from the jail,
    and the log is whole."""
    log = tmp_path / "log.jsonl"
    command = " ".join(jail_command("run", "-q", "--jsonl", str(log), "--", targets["group_kill"], "9"))
    out = interactive_shell([(b"$ ", command.encode() + b'; echo "st""atus=$?"\n')], b"status=")  # not the echo
    assert b"status=137" in out, out
    group_kill_log(log, 9)


def test_input_pushed_into_the_terminal_is_refused(targets, tmp_path):
    """TIOCSTI, the classic sandbox escape: the program pushes "id\\n" into its
    terminal's input, and the shell runs it after the program (outside any
    jail). Natively the shell runs `id`; in the jail the push is refused."""
    native = interactive_shell([(b"$ ", targets["tiocsti"].encode() + b'; echo "fin""ished"\n')],
                               b"uid=")
    assert b"tiocsti=ok" in native, native  # the shell ran the pushed `id`: the escape is real here
    log = tmp_path / "log.jsonl"
    command = " ".join(jail_command("run", "-q", "--jsonl", str(log), "--", targets["tiocsti"]))
    out = interactive_shell([(b"$ ", command.encode() + b'; echo "fin""ished"\n')], b"finished")
    assert b"tiocsti=EPERM" in out, out
    refused = [json.loads(line) for line in log.read_text().splitlines() if '"origin":"jail"' in line]
    assert [r["rule"] for r in refused] == ["injects terminal input"] * 3


def _count_after(targets, tmp_path, send) -> tuple[int, bytes]:
    """Run sigcount in the jail in a session of its own; `send(jail_pid)` once it is ready."""
    import subprocess

    proc = subprocess.Popen(jail_command("run", "-q", "--", targets["sigcount"]), stdout=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
    assert proc.stdout.readline() == b"ready\n"
    send(proc.pid)
    out, _ = proc.communicate(timeout=30)
    return proc.returncode, out


def test_sigterm_to_the_jail_alone_is_passed_on_once(targets, tmp_path):
    status, out = _count_after(targets, tmp_path, lambda pid: os.kill(pid, 15))
    assert (status, out) == (0, b"count=1\n")


def test_sigterm_to_the_whole_group_arrives_once(targets, tmp_path):
    """As `timeout` sends it: to the jail and, through the group, to the program itself."""
    status, out = _count_after(targets, tmp_path, lambda pid: os.killpg(pid, 15))
    assert (status, out) == (0, b"count=1\n")


def test_ctrl_c_reaches_the_program_once_when_the_jail_is_a_group_member(targets, tmp_path):
    """Started by a shell without job control (`sh -c`), the jail is a member of
    the terminal's foreground group and leaves it for the program: Ctrl-C
    reaches the program once and the shell as without the jail, and the jail,
    now in the background, still writes to the terminal."""
    def on_pty(command: str) -> bytes:
        return run_on_pty(["sh", "-c", f"stty tostop; {command}; echo status=$?"], b"\x03", b"ready")[1]

    native = on_pty(targets["sigcount"])
    jailed = on_pty(" ".join(jail_command("run", "-o", "/dev/stderr", "--", targets["sigcount"])))
    assert b"count=1" in native and b"count=1" in jailed, jailed
    assert (b"status=0" in native) == (b"status=0" in jailed), (native, jailed)
    assert b"nanosleep(" in jailed  # the log, written from the background despite tostop


def test_a_background_job_reading_the_terminal_stops_until_fg():
    """`cat &` stops on SIGTTIN (bash: "Stopped"); after `fg` it reads the terminal."""
    command = " ".join(jail_command("run", "-q", "--", "/bin/cat"))
    out = interactive_shell([(b"$ ", command.encode() + b" &\n"), (b"$ ", b"sleep 2\n"), (b"Stopped", b"fg\n"),
                             (b"cat", b"hello-there\n"), (b"hello-there\r\nhello-there", b"\x04"),
                             (b"$ ", b'echo "st""atus=$?"\n')], b"status=")
    assert b"status=0" in out, out
