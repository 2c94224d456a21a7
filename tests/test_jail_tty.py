"""Ctrl-C on a real terminal: the program gets it once, as without the jail.

The terminal sends SIGINT to its whole foreground process group, the jail
included; the jail must neither die of it nor pass on a second copy.
"""

from __future__ import annotations

import os
import pty
import select
import time

from conftest import REPO, jail_command


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


def test_ctrl_z_then_fg_in_an_interactive_shell(targets, tmp_path):
    """Job control as a user meets it: Ctrl-Z stops the job (jail and program), `fg` resumes both."""
    pid, master = pty.fork()
    if pid == 0:
        os.environ.update(PYTHONPATH=str(REPO), PS1="$ ")
        os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
    command = " ".join(jail_command("run", "-q", "--", targets["sigcount"]))
    steps = [(b"$ ", command.encode() + b"\n"), (b"ready", b"\x1a"), (b"Stopped", b"fg\n"),
             (b"count=", b"exit $?\n")]
    out, deadline = b"", time.monotonic() + 30
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
            if not steps and b"count=" in out and b"\n" in out.split(b"count=")[-1]:
                break
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(master)
    assert not steps, f"stuck before {steps[0][0]!r}; output: {out!r}"


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
