"""Signals under the jail: delivered as natively (re-injected, SIGTRAP
included), job control with group-stops, interrupted reads restarted or
failed as natively, and signals sent to seccomp-jail itself."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time

import pytest

from conftest import exit_status, jail_command, jail_env, kill_group, process_ended, read_jsonl, run_process


def by_process(stdout: str) -> dict[str, list[str]]:
    """Lines grouped by their "parent:"/"child:" prefix, order kept within each.

    Parent and child print concurrently, so only each one's sequence is fixed.
    """
    groups: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        groups.setdefault(line.split(":", 1)[0], []).append(line)
    return groups


def test_group_stop_sigstop_sigtstp_sigcont(jail_both, native, targets):
    expected = native([targets["groupstop"]])
    assert expected.returncode == 0 and "not stopped" not in expected.stdout
    run = jail_both([targets["groupstop"]])
    assert run.status == 0, run.proc.stderr
    assert by_process(run.stdout) == by_process(expected.stdout)


@pytest.mark.parametrize("mode", ["process", "thread"])
def test_tasks_left_stopped_after_the_program_are_ended(tmp_path, workdir, targets, mode):
    """A child left in SIGSTOP once the program and every running task are
    gone would keep the run waiting for ever (strace -f waits too): nothing
    in the jail can continue it. The jail kills it, logs that, and passes on
    the program's status; a task still running is waited for first. Also
    when the stopped one is a thread whose main thread has exited: a zombie
    leader never runs again either.

    Run as `sh -c 'timeout ... jail'`: timeout leads the group the program
    stays in, and its parent is in another group of the session, so the group
    is not orphaned when the program exits and the kernel does not end the
    stopped child with SIGHUP. Natively it would stay stopped.
    """
    log = tmp_path / "log.jsonl"
    jail = shlex.join(jail_command("run", "-q", "--jsonl", str(log), "--", targets["left_stopped"], mode))
    started = time.monotonic()
    done = run_process(["sh", "-c", f"timeout -s KILL 20 {jail}; echo status=$?"], cwd=workdir, env=jail_env())
    assert "status=3" in done.stdout, (done.stdout, done.stderr)
    assert time.monotonic() - started < 10
    stopped = int(done.stdout.split("stopped=")[1].split()[0])
    assert "continued" not in done.stdout
    records = read_jsonl(log)
    killed = [r for r in records if r.get("origin") == "jail"]
    assert [(r["action"], r["rule"], r["args"][:2]) for r in killed] == [("kill", "left stopped", [stopped, 9])]
    exits = {r["pid"]: r for r in records if r.get("kind") == "exit"}
    assert exits[stopped]["signal"] == "SIGKILL" and len(exits) == 3  # the other child ended on its own
    assert process_ended(stopped)  # a zombie of whoever reaps orphans here, or gone


def test_signals_are_reinjected(jail_both, native, targets):
    expected = native([targets["signals"]])
    run = jail_both([targets["signals"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    assert "SIGTRAP handled: 2\n" in run.stdout
    kinds = [r.get("signal") for r in run.records if r.get("type") == "signal"]
    assert kinds.count("SIGTRAP") >= 3 and kinds.count("SIGUSR1") >= 9


def test_sa_restart_read(jail_both, native, targets):
    expected = native([targets["sarestart"]])
    assert expected.stdout == ("SA_RESTART: read 5 OK data 'hello' alarms 1\n"
                               "no SA_RESTART: read -1 EINTR data '' alarms 1\n")
    run = jail_both([targets["sarestart"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    # Interrupted, restarted (returns the data), interrupted for good.
    reads = [r for r in run.syscalls("read") if r["args"][2] == 15]
    assert len(reads) == 3 and reads[1]["retval"] == 5, reads


def test_signals_do_not_interrupt_calls_that_never_sleep(jail_both, native, targets):
    """A seccomp stop is not a sleep a signal can break: getppid held by the
    tracer while SIGALRM arrives every 500 µs never fails with EINTR."""
    expected = native([targets["nointr"]])
    assert expected.stdout == "alarms 200+, EINTR 0, other errors 0\n"
    run = jail_both([targets["nointr"]])
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout)
    assert len(run.syscalls("getppid")) > 200


def wait_for_lines(path, n: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().count("\n") >= n):
        assert time.monotonic() < deadline, f"target printed fewer than {n} lines"
        time.sleep(0.01)


def process_gone(pid: int) -> bool:
    """Neither running nor a zombie (the jail must have reaped it)."""
    return not os.path.exists(f"/proc/{pid}")


@pytest.mark.parametrize("how", ["jail-only", "process-group"])
@pytest.mark.parametrize("signo", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=lambda s: signal.Signals(s).name)
def test_signal_to_jail_mid_run(tmp_path, workdir, targets, signo, how):
    """kill(seccomp-jail) is forwarded to the target; killpg (Ctrl-C in a
    terminal) reaches both. Either way the run ends with 128+N and a complete log."""
    out, jsonl = workdir / "loop.out", tmp_path / "run.jsonl"
    argv = jail_command("run", "--jsonl", str(jsonl), "-q", "--",
                        targets["getpid_loop"], "100000", "5", str(out))
    proc = subprocess.Popen(argv, cwd=workdir, env=jail_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        wait_for_lines(out, 5)
        time.sleep(1.0)
        if how == "jail-only":
            os.kill(proc.pid, signo)
        else:
            os.killpg(proc.pid, signo)
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        pytest.fail("seccomp-jail did not end after the signal")
    assert exit_status(proc.returncode) == 128 + signo, stderr

    printed = [line.split() for line in out.read_text().splitlines()]
    pid = int(printed[0][1])
    assert process_gone(pid)
    records = read_jsonl(jsonl)  # fails on any line that is not a whole JSON object
    getpid = [r for r in records if r.get("type") == "syscall" and r["syscall"] == "getpid"]
    # Every call the target printed a result for is in the log, the last one too.
    assert len(getpid) >= len(printed) > 5
    assert [r["retval"] for r in getpid[:len(printed)]] == [pid] * len(printed)
    exits = [r for r in records if r.get("type") == "task" and r.get("kind") == "exit"
             and r["tid"] == pid]
    assert len(exits) == 1, exits
    status = exits[0]["detail"]
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signo
    assert all(process_gone(p) for p in {r["pid"] for r in records if "pid" in r})


def process_ended(pid: int) -> bool:
    """Gone or a zombie: after the jail's own death its tracees are reparented
    to a reaper that may not reap them at once."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def test_tracer_killed_leaves_no_task_running(tmp_path, workdir, targets):
    """SIGKILL to seccomp-jail: PTRACE_O_EXITKILL ends the whole tree with it."""
    out = workdir / "loop.out"
    argv = jail_command("run", "-q", "--", targets["getpid_loop"], "100000", "5", str(out))
    proc = subprocess.Popen(argv, cwd=workdir, env=jail_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        wait_for_lines(out, 5)
        pid = int(out.read_text().split()[1])
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        deadline = time.monotonic() + 5
        while not process_ended(pid):
            assert time.monotonic() < deadline, "the target runs on without its tracer"
            time.sleep(0.01)
        lines = out.read_text().count("\n")
        time.sleep(0.2)
        assert out.read_text().count("\n") == lines
    finally:
        kill_group(proc.pid)


def spin_threads_killed(jail_mode, tmp_path, workdir, targets, after: float):
    """Run spin_threads in the jail, SIGKILL it from outside `after` seconds
    into its loop; (jail's status, its stderr, the target's pid, the log)."""
    pid_file, jsonl = workdir / "spin.pid", tmp_path / "run.jsonl"
    argv = jail_command("run", "-q", "--jsonl", str(jsonl), "--", targets["spin_threads"],
                        str(pid_file))
    proc = subprocess.Popen(argv, cwd=workdir, env=jail_env(jail_mode), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        wait_for_lines(pid_file, 1)
        time.sleep(after)
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        _, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        proc.communicate()
        pytest.fail("seccomp-jail did not end after its target was killed")
    return proc.returncode, stderr, pid, read_jsonl(jsonl)


def test_no_thread_waits_behind_busy_ones(jail_mode, tmp_path, workdir, targets):
    """Five threads in a syscall loop: waitpid(-1) favours whichever stopped
    first in the kernel's list, so without care one or two threads get nearly
    every turn. Each must get a fair share (here: a tenth of the busiest)."""
    *_, records = spin_threads_killed(jail_mode, tmp_path, workdir, targets, after=0.5)
    counts = {}
    for r in records:
        if r.get("type") == "syscall" and r["syscall"] == "getppid":
            counts[r["tid"]] = counts.get(r["tid"], 0) + 1
    assert len(counts) == 5, counts
    assert min(counts.values()) * 10 >= max(counts.values()), counts


def test_sigkill_from_outside_mid_syscalls(jail_mode, tmp_path, workdir, targets):
    """A thread group killed while its threads sit in syscall stops: the jail
    survives every ESRCH, reports 137 and logs the exit."""
    status, stderr, pid, records = spin_threads_killed(jail_mode, tmp_path, workdir, targets, after=0.3)
    assert status == 137, stderr
    assert "Traceback" not in stderr, stderr
    exits = [r for r in records if r.get("type") == "task" and r.get("kind") == "exit"]
    assert {r["tid"] for r in exits} >= {pid}
    assert len({r["tid"] for r in records if r.get("type") == "syscall"}) == 5
    assert process_gone(pid)


@pytest.mark.parametrize("inherited", ["defaults", "nohup-background"])
def test_program_starts_with_the_signal_state_the_jail_inherited(workdir, inherited):
    """nohup leaves SIGHUP ignored, a shell's background job SIGINT and SIGQUIT;
    a parent may block signals. The program gets that state, as it would
    without the jail (and none of the jail's own: Python ignores SIGPIPE,
    the jail blocks the signals it forwards)."""
    def parent_state():
        if inherited != "defaults":
            for signo in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT):
                signal.signal(signo, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2, signal.SIGRTMIN})

    show = ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]
    native = subprocess.run(show, preexec_fn=parent_state, capture_output=True, text=True, cwd=workdir)
    jailed = subprocess.run(jail_command("run", "-q", "--", *show), preexec_fn=parent_state, env=jail_env(),
                            capture_output=True, text=True, cwd=workdir, timeout=60)
    assert jailed.returncode == native.returncode == 0, jailed.stderr
    assert jailed.stdout == native.stdout


def test_signals_are_logged_with_their_siginfo_as_strace_prints_it(jail_both, targets, tmp_path, workdir):
    """One signal of each siginfo layout (kill, tgkill, sigqueue, the kernel's
    alarm, a timer, SIGCHLD of an exit, a kill, a stop and a continue,
    SIGPIPE, SIGSEGV, SIGIO, int3's SIGTRAP, a filter's SIGSYS) and the
    stopped child's group-stop: the same lines as strace's, but for pids, CPU
    ticks and code addresses. Compared in any order: a parent's SIGCHLD may
    come before or after its child's SIGCONT."""
    def unnumbered(text: str) -> str:
        return re.sub(r"(si_pid|si_utime|si_stime|si_call_addr)=(0x)?[0-9a-f]+", r"\1=N", text)

    def signal_lines(text: str) -> list[str]:
        return [unnumbered(line.split(" --- ", 1)[1]) for line in text.splitlines() if " --- " in line]

    by_strace = tmp_path / "strace.txt"
    subprocess.run(["strace", "-f", "-o", str(by_strace), targets["siginfo"]], check=True,
                   stdout=subprocess.DEVNULL, cwd=workdir)
    by_jail = tmp_path / "jail.txt"
    run = jail_both([targets["siginfo"]], options=("-o", str(by_jail)), quiet=False)
    assert (run.status, run.stdout) == (0, "done\n")
    expected = sorted(signal_lines(by_strace.read_text()))
    assert len(expected) == 18 and "SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---" in expected
    assert "stopped by SIGSTOP ---" in expected  # the child's group-stop
    assert sorted(signal_lines(by_jail.read_text())) == expected
    signals = [r for r in run.records if r["type"] == "signal"]
    assert sorted(unnumbered(r["siginfo"]) for r in signals if not r["stopped"]) == sorted(
        line.split(" ", 1)[1].removesuffix(" ---") for line in expected if not line.startswith("stopped by"))
    assert [(r["signal"], r["siginfo"]) for r in signals if r["stopped"]] == [("SIGSTOP", None)]
