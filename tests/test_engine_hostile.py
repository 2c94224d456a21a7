"""A jailed program cannot stop or kill the jail it runs in.

A SIGSTOPped tracer would freeze every task; a killed one ends the run. The
filter refuses signals to the jail's pids and groups (and kill(-1)), the
tracer refuses signals to its threads by tid (kill, sigqueue and tkill of a
tid reach the whole process), pidfd signals to its processes, files set to
signal them (F_SETOWN and the like), changes to their rlimits (RLIMIT_CPU
ends a process), scheduling, nice values and I/O priorities, and perf events on them (sigtrap would send
SIGTRAP). Joining one of their groups is refused.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.kernel import ptrace
from seccomp_jail.kernel.memory import MAX_FILES
from seccomp_jail.tracer.watch import _memory_of

from conftest import exit_status, group_kill_log, jail_command, jail_env, read_jsonl, run_process


def test_signals_to_the_jail_are_refused(targets, jail_both):
    run = jail_both([targets["hostile"]], rules='version = 1\ndefault = "allow-forever"\n', timeout=30)
    assert run.status == 0, run.proc.stderr
    lines = dict(line.split("=", 1) for line in run.stdout.split() if "=" in line)
    for attempt in ("kill", "tgkill", "sigqueue", "kill_all", "kill_group", "join_group", "prlimit", "sched",
                    "nice", "nice_group", "ioprio", "ioprio_group", "perf", "tkill", "kill_tid", "sigqueue_tid",
                    "sched_tid", "perf_tid", "nice_tid", "pidfd_open", "pidfd_send_signal"):
        assert lines[attempt] == "EPERM", (attempt, run.stdout)
    assert int(lines["tried"]) >= 1
    assert lines["jail_leads"] == "1"  # so join_group's EPERM is the jail's doing, not the kernel's
    for own in ("self", "self_prlimit", "self_nice", "self_perf"):
        assert lines[own] == "ok", (own, run.stdout)
    # The jail's pid read as a user id names no one: the kernel's answer, not a refusal.
    assert lines["nice_user"] == "ESRCH" and lines["ioprio_user"] == "ESRCH", run.stdout
    refused = [r for r in run.syscalls() if r["origin"] == "jail"]
    assert {r["syscall"] for r in refused} >= {"tkill", "pidfd_send_signal", "kill", "rt_sigqueueinfo",
                                               "sched_setscheduler", "setpriority", "ioprio_set"}


def test_a_pidfd_through_another_mount_of_proc_is_refused(targets, jail, tmp_path, monkeypatch):
    """/proc/PID of the jail opened through a bind mount of /proc: the
    kernel takes that directory as a pidfd as well, and its path names no
    /proc. Let through, its SIGSTOP would stop the tracer and hang the run."""
    view = tmp_path / "proc"
    view.mkdir()
    if subprocess.run(["mount", "--bind", "/proc", str(view)], capture_output=True).returncode:
        pytest.skip("cannot bind-mount /proc here (not root, or no mount rights)")
    try:
        monkeypatch.setenv("PROC_VIEW", str(view))
        run = jail([targets["hostile"]], rules='version = 1\ndefault = "allow-forever"\n', timeout=30)
        assert run.status == 0, run.proc.stderr
        lines = dict(line.split("=", 1) for line in run.stdout.split() if "=" in line)
        assert lines["pidfd_view"] == "EPERM", run.stdout
        refused = [r for r in run.syscalls("pidfd_send_signal") if r["origin"] == "jail"]
        assert len(refused) == 2  # through /proc and through the other mount
    finally:
        subprocess.run(["umount", "--lazy", str(view)])


def test_a_directory_posing_as_a_process_cannot_hang_the_check(targets, jail, tmp_path, monkeypatch):
    """pidfd_send_signal on a directory of the program's with a FIFO named
    `status`: the tracer, asking which process a directory fd is, reads
    `status` only in a directory of /proc. Opening the FIFO would wait for a
    writer for ever. The kernel refuses the call (EBADF), as natively."""
    os.mkfifo(tmp_path / "status")
    monkeypatch.setenv("FIFO_DIR", str(tmp_path))
    run = jail([targets["hostile"]], rules='version = 1\ndefault = "allow-forever"\n', timeout=30)
    assert run.status == 0, run.proc.stderr
    assert "pidfd_fifo=EBADF" in run.stdout.split(), run.stdout


@pytest.mark.parametrize("default", ["allow", "allow-forever"])
def test_files_cannot_be_made_to_signal_the_jail(targets, jail_both, default):
    """F_SETOWN and its kin, with F_SETSIG=SIGSTOP: aimed at the jail's
    processes, their groups and the jail's threads, every one is refused,
    whether the rules trace fcntl/ioctl or leave them to the kernel. One that
    got through would stop a process of the jail and hang the run."""
    run = jail_both([targets["sigio_owner"]], rules=f'version = 1\ndefault = "{default}"\n', timeout=30)
    assert run.status == 0, run.proc.stderr
    lines = dict(line.split("=", 1) for line in run.stdout.split() if "=" in line)
    assert lines["set"] == "0" and lines["self"] == "ok", run.stdout
    assert int(lines["targets"]) >= 2  # the jail and its log writer at least
    assert int(lines["refused"]) >= 7 * int(lines["targets"]) + 1, run.stdout  # seven ways each, and a thread
    refused = [r for r in run.syscalls() if r["origin"] == "jail"]
    assert len(refused) == int(lines["refused"])
    assert {r["syscall"] for r in refused} == {"fcntl", "ioctl"}


GROUP_SIGNALS = [signal.SIGKILL, signal.SIGUSR1, signal.SIGALRM, signal.SIGRTMIN + 2]


def _signal_name(signo: int) -> str:
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"SIGRTMIN+{signo - signal.SIGRTMIN}"


@pytest.mark.parametrize("signo", GROUP_SIGNALS, ids=_signal_name)
def test_a_program_signalling_its_group_ends_only_itself(targets, tmp_path, workdir, signo):
    """kill(0, SIGKILL) and the like reach the program's process group. Started
    as a group leader (here a new session, as harnesses start it), the jail
    gives the program a group of its own: the jail outlives the signal, passes
    on the program's status and keeps the whole log."""
    jsonl = tmp_path / "run.jsonl"
    proc = run_process(jail_command("run", "-q", "--jsonl", str(jsonl), "--", targets["group_kill"], str(signo)),
                       cwd=workdir, env=jail_env())
    assert exit_status(proc.returncode) == 128 + signo, proc.stderr
    assert "survived" not in proc.stdout
    group_kill_log(jsonl, signo)


@pytest.mark.parametrize("signo", GROUP_SIGNALS, ids=_signal_name)
def test_a_program_signalling_its_group_spares_a_jail_that_was_a_member(targets, tmp_path, workdir, signo):
    """Started inside its parent's process group, the jail leaves it for the
    program: the signal reaches the program and the parent, as it would
    without the jail, and the jail finishes the log on its own."""
    jsonl = tmp_path / "run.jsonl"
    argv = jail_command("run", "-q", "--jsonl", str(jsonl), "--", targets["group_kill"], str(signo))
    parent = ("import os, sys\n"
              "pid = os.fork()\n"
              "if pid == 0:\n"
              "    os.execvp(sys.argv[1], sys.argv[1:])\n"
              "print(pid, flush=True)\n"
              "os.waitpid(pid, 0)\n"
              "print('parent survived', flush=True)\n")
    proc = run_process([sys.executable, "-c", parent, *argv], cwd=workdir, env=jail_env())
    assert exit_status(proc.returncode) == 128 + signo  # the parent shared the program's group
    jail = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 30
    while _alive(jail) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(jail)
    group_kill_log(jsonl, signo)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("threads", [0, 300], ids=["file", "beyond-held-files"])
def test_a_path_behind_userfaultfd_does_not_hang_the_jail(jail_both, native, targets, threads):
    """The tracer reads open()'s path while the page is still missing: the
    kernel refuses that remote fault instead of waiting for the program's
    handler thread (itself stopped by the tracer). The call is logged with
    the bare pointer, and the program runs as without the jail. With 300
    threads holding memory files (more than kernel.memory.MAX_FILES), the
    opener's memory is read without a held file: process_vm_readv would
    wait for the handler there, and the jail would hang."""
    assert threads == 0 or threads > MAX_FILES
    argv = [targets["uffd_path"], str(threads)]
    expected = native(argv)
    assert expected.returncode == 0, expected.stderr  # userfaultfd: Linux 4.3+, root (CI) or vm.unprivileged_userfaultfd
    run = jail_both(argv, timeout=60)
    assert (run.status, run.stdout) == (expected.returncode, expected.stdout) == (0, "open = 4\n")
    (opened,) = [r for r in run.syscalls("openat") if r["retval"] == 4 and "/dev/null" not in r["text"]]
    assert '"' not in opened["text"]  # no path: the page was not there to read
    workers = [r for r in run.syscalls("openat") if '"/dev/null"' in r["text"]]
    assert len(workers) == threads  # read without a held file too


def test_clone3_flags_behind_a_userfaultfd_page_are_refused(jail_both, native, targets):
    """clone3's flags on a page the program's own handler fills: the tracer
    reads it as unmapped, and the kernel, later, as the handler filled it,
    so the flags the jail must check (CLONE_UNTRACED) go unchecked. The
    jail refuses such a call with EFAULT, the kernel's answer for flags
    truly unmapped. Natively the call works."""
    argv = [targets["uffd_path"], "0", "clone3"]
    expected = native(argv)
    assert (expected.returncode, expected.stdout) == (0, "clone3 = 0\n"), expected.stderr
    run = jail_both(argv, timeout=60)
    assert (run.status, run.stdout) == (0, f"clone3 = {-errno.EFAULT}\n"), run.proc.stderr
    (refused,) = [r for r in run.syscalls("clone3") if r["origin"] == "jail"]  # pthread_create uses clone3 too
    assert (refused["origin"], refused["rule"], refused["errno"]) == ("jail", "unreadable clone_args", "EFAULT")


def test_numbers_of_the_jail_mean_other_processes_in_another_pid_namespace(jail_both, native, targets):
    """pidns_collide gives a child in a pid namespace of its own the number
    the jail has outside it, then signals it, takes a pidfd of it and puts it
    in a group of its own, and calls kill(-1). All of it works as without the
    jail: there, that number is not the jail. Nor does the check for escaped
    children, which compares a fork's result with its event, take the child
    for one of ours (it SIGKILLed whatever had that number here: the jail)."""
    expected = native([targets["pidns_collide"]])
    assert expected.returncode == 0, expected.stderr  # CLONE_NEWPID: root
    run = jail_both([targets["pidns_collide"]], timeout=60)
    assert run.status == 0, run.proc.stderr
    assert run.stdout == expected.stdout == (
        "child has the jail's number: yes\nkill ok\ntgkill ok\npidfd_open ok\nsetpgid ok\nkill(-1) ok\n")
    assert not [r for r in run.syscalls() if r["origin"] == "jail"]


@pytest.mark.parametrize(("device", "server"), [("/dev/fuse", "process"), ("own node", "process"),
                                                ("/dev/fuse", "thread")])
def test_a_fuse_server_of_the_program_cannot_hang_the_jail(targets, tmp_path, workdir, device, server):
    """fuse_pointer serves a FUSE file system itself and passes open() a path
    that lives in a mapped file of it. Without the jail it runs to the end.
    In the jail, the tracer's read of the path waits for the program's
    server, whose answer waits for the tracer: the watchdog sees the read
    stuck, finds the server (it holds the FUSE device, /dev/fuse or a node
    of it elsewhere), and kills the program, which ends the read. Where a
    thread serves, the process keeps the device open while it waits in the
    same request: the watchdog then aborts the FUSE connection. The run
    ends, and the kills are logged."""
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    if not os.path.exists("/dev/fuse"):  # a bare /dev (some containers): the kernel's node
        os.mknod("/dev/fuse", 0o666 | stat.S_IFCHR, os.makedev(10, 229))
    if device != "/dev/fuse":
        device = str(tmp_path / "fuse")
        os.mknod(device, 0o600 | stat.S_IFCHR, os.makedev(10, 229))
    native = run_process([targets["fuse_pointer"], str(mountpoint), device, server], cwd=workdir)
    if native.returncode == 2 and "No such device" in native.stderr:
        pytest.skip(f"this kernel has no FUSE: {native.stderr.strip()}")
    assert (native.returncode, native.stdout) == (0, "open=ENOENT\n"), native.stderr
    jsonl = tmp_path / "fuse.jsonl"
    proc = run_process(jail_command("run", "-q", "--jsonl", str(jsonl), "--", targets["fuse_pointer"],
                                    str(mountpoint), device, server), cwd=workdir, env=jail_env(), timeout=60)
    assert proc.returncode == 128 + signal.SIGKILL, proc.stderr
    kills = [r for r in read_jsonl(jsonl) if r.get("origin") == "jail"]
    assert len(kills) == (2 if server == "process" else 1), kills  # the program, and its server if apart
    assert all(r["action"] == "kill" and r["rule"] == "memory read stuck on FUSE" for r in kills)


def test_the_watchdog_knows_each_way_the_tracer_reads_memory():
    """The watchdog takes a stuck syscall of the tracer for a memory read by
    its line in /proc/self/task/TID/syscall: a pread of /proc/PID/mem, or
    PTRACE_PEEKDATA (kernel.memory's two ways), and nothing else."""
    table = native_table()
    fd = os.open(f"/proc/{os.getpid()}/mem", os.O_RDONLY)
    try:
        rows = [
            ("pread64", (fd, 0x7F00, 0x100, 0x1000), os.getpid()),
            ("pread64", (0, 0x7F00, 0x100, 0x1000), 0),  # stdin: no memory file
            ("ptrace", (ptrace.PEEKDATA, 4242, 0x1000, 0), 4242),
            ("ptrace", (ptrace.CONT, 4242, 0, 0), 0),
            ("read", (fd, 0x7F00, 0x100, 0), 0),
        ]
        for name, args, pid in rows:
            # The number in decimal, then six arguments, stack and code pointers in hex.
            line = " ".join([str(table.number(name)), *(f"{v:#x}" for v in (*args, 0, 0, 0x7FFC0000, 0x7F000000))])
            assert _memory_of(line) == pid, (name, args)
    finally:
        os.close(fd)
