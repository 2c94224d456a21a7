"""The jail holds whatever the rules say: foreign ABIs, unknown numbers,
garbage in the upper bits, io_uring, CLONE_UNTRACED, ptrace,
process_vm_writev and a stacked user-notification filter are all refused,
while the same program works natively (so each test can fail)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal

import pytest

from conftest import rules_toml

# Everything through the tracer with `allow`: the most permissive rule file
# that still routes syscalls to the tracer.
ALLOW_ALL = None
ALLOW_FOREVER = rules_toml("allow-forever")


def escape(jail, native, targets, mode: str, rules: str | None = ALLOW_ALL):
    """(native stdout, jailed run) of one escape attempt in a fresh directory each."""
    expected = native([targets["escape"], mode, "native-dir"])
    assert expected.returncode == 0, expected.stderr
    run = jail([targets["escape"], mode, "jailed-dir"], rules=rules)
    assert run.status == 0, run.proc.stderr
    assert run.stdout.endswith("still running\n"), run.stdout
    return expected.stdout, run


@pytest.mark.parametrize("rules", [ALLOW_ALL, ALLOW_FOREVER], ids=["allow", "allow-forever"])
def test_int80_getpid_denied(jail, native, targets, rules):
    expected, run = escape(jail, native, targets, "int80-getpid", rules)
    assert expected.startswith("int80-getpid: is-pid 1 ")
    assert run.stdout.startswith(f"int80-getpid: is-pid 0 error {-errno.ENOSYS}\n")


@pytest.mark.parametrize("rules", [ALLOW_ALL, ALLOW_FOREVER], ids=["allow", "allow-forever"])
def test_int80_mkdir_denied(jail, native, targets, workdir, rules):
    # i386 mkdir is 39, which is getpid on x86_64: a jail that ignores the
    # ABI would both allow it and mistake it for a harmless call.
    expected, run = escape(jail, native, targets, "int80-mkdir", rules)
    assert expected.startswith("int80-mkdir: raw 0\n")
    assert (workdir / "native-dir").is_dir()
    assert run.stdout.startswith(f"int80-mkdir: raw {-errno.ENOSYS}\n")
    assert not (workdir / "jailed-dir").exists()


@pytest.mark.parametrize("mode", ["x32-getpid", "x32-mkdir"])
def test_x32_denied(jail, native, targets, workdir, mode):
    _, run = escape(jail, native, targets, mode, rules_toml(
        "allow-forever", {"syscall": ["getpid", "mkdir"], "action": "allow"}))
    assert run.stdout.startswith(f"{mode}: ret -1 errno ENOSYS\n")
    assert not (workdir / "jailed-dir").exists()
    # Never judged as the x86_64 syscall of the same low number.
    assert all(r["syscall"] not in ("getpid", "mkdir") or r["action"] != "allow"
               for r in run.syscalls() if r["nr"] & 0x40000000)


@pytest.mark.parametrize("action, errno_name", [("abort", "EACCES"), ("abort-forever", "EROFS")])
def test_high_bits_judged_as_the_kernel_runs_it(jail_both, native, targets, workdir, action,
                                                errno_name):
    """0xdead00000000|SYS_mkdir runs mkdir natively, so a mkdir rule denies it."""
    expected = native([targets["escape"], "highbit-mkdir", "native-dir"])
    assert expected.stdout.startswith("highbit-mkdir: ret 0 ")
    assert (workdir / "native-dir").is_dir()
    rules = rules_toml("allow-forever", {"syscall": "mkdir", "action": action,
                                         "errno": errno_name})
    run = jail_both([targets["escape"], "highbit-mkdir", "jailed-dir"], rules=rules)
    assert run.stdout.startswith(f"highbit-mkdir: ret -1 errno {errno_name}\n"), run.stdout
    assert not (workdir / "jailed-dir").exists()


def test_high_bits_allowed_call_runs(jail, targets, workdir):
    """Judged as mkdir (what runs), not as an unknown number to refuse."""
    run = jail([targets["escape"], "highbit-mkdir", "jailed-dir"], rules=rules_toml("allow"))
    assert run.stdout.startswith("highbit-mkdir: ret 0 errno OK\n"), run.stdout
    assert (workdir / "jailed-dir").is_dir()
    assert [(r["syscall"], r["action"]) for r in run.syscalls("mkdir")] == [("mkdir", "allow")]


def test_unknown_syscall_number(jail, native, targets):
    expected, run = escape(jail, native, targets, "unknown", rules_toml("allow"))
    assert run.stdout == expected == "unknown-1000: ret -1 errno ENOSYS\nstill running\n"


def test_io_uring_denied_unless_named(jail, native, targets):
    expected, run = escape(jail, native, targets, "io_uring")
    assert expected.startswith("io_uring_setup: ret 0 ")
    assert run.stdout.startswith("io_uring_setup: ret -1 errno ENOSYS\n")
    _, run = escape(jail, native, targets, "io_uring", rules_toml("allow-forever"))
    assert run.stdout.startswith("io_uring_setup: ret -1 errno ENOSYS\n")
    _, run = escape(jail, native, targets, "io_uring", rules_toml(
        "allow-forever", {"syscall": "io_uring_setup", "action": "allow"}))
    assert run.stdout.startswith("io_uring_setup: ret 0 errno OK\n")


@pytest.mark.parametrize("rules", [ALLOW_ALL, ALLOW_FOREVER], ids=["allow", "allow-forever"])
def test_io_uring_enter_and_register_denied(jail, native, targets, rules):
    expected, run = escape(jail, native, targets, "io_uring-ops", rules)
    assert "ENOSYS" not in expected
    assert run.stdout == ("io_uring_enter: ret -1 errno ENOSYS\n"
                          "io_uring_register: ret -1 errno ENOSYS\nstill running\n")


@pytest.mark.parametrize("mode", ["clone-untraced", "clone3-untraced"])
def test_clone_untraced_denied(jail_both, native, targets, mode):
    expected, run = escape(jail_both, native, targets, mode, ALLOW_FOREVER)
    assert expected.startswith(f"{mode}: ret 0 ")
    assert run.stdout.startswith(f"{mode}: ret -1 errno EPERM\n")
    assert len({r["pid"] for r in run.records if "pid" in r}) <= 1


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the flags are flipped by a thread running beside the call")
@pytest.mark.parametrize("prefix", [(), ("unshare", "--pid", "--fork")], ids=["our-pidns", "own-pidns"])
def test_clone3_child_that_raced_past_the_check_is_killed(jail_both, native, targets, prefix):
    """Another thread flips CLONE_UNTRACED in clone3's flags: the tracer reads
    them without it, the kernel with it. The untraced child can only spin
    (every traced call of a task without a tracer fails), and the jail kills
    it at the parent's clone3 exit, logged; nothing of it is in the log. In
    a pid namespace of its own, clone3 returns the child's number in there:
    the jail finds the child by it and kills that one, or the parent would
    wait for ever."""
    counts = re.compile(r"traced (\d+) refused (\d+) killed (\d+) other (\d+)\n")
    expected = native([*prefix, targets["clone3_race"], "300"])
    assert counts.match(expected.stdout).groups() == ("300", "0", "0", "0"), expected.stdout
    run = jail_both([*prefix, targets["clone3_race"], "5000", "3"])
    assert run.status == 0, run.proc.stderr
    traced, refused, killed, other = map(int, counts.match(run.stdout).groups())
    assert (killed, other) == (3, 0), run.stdout  # in our runs, 3 took 50 to 300 calls
    kills = [r for r in run.syscalls() if r["origin"] == "jail" and r["action"] == "kill"]
    assert [(r["args"][1], r["rule"]) for r in kills] == [(9, "untraced child")] * 3
    assert all(r["nr"] == -1 and r["text"] == f"kill({r['args'][0]}, SIGKILL)" for r in kills)
    escaped = {r["args"][0] for r in kills}
    if not prefix:  # numbers in here are ours
        assert escaped == {int(pid) for pid in re.findall(r"^killed (\d+)$", run.stdout, re.M)}
    assert not {r["pid"] for r in run.syscalls()} & escaped
    refusals = [r for r in run.syscalls("clone3") if r["origin"] == "jail"]
    assert len(refusals) == refused and all(r["errno"] == "EPERM" for r in refusals)
    spawned = [r["tid"] for r in run.tasks("spawn") if r["detail"] == "process"]
    processes = 2 if prefix else 1  # unshare forks the one that runs the target
    assert len(spawned) == processes + traced and not set(spawned) & escaped


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the flags are flipped by a thread running beside the call")
@pytest.mark.parametrize("fork", [False, True], ids=["alone", "with-child"])
def test_untraced_child_whose_clone3_never_returns_is_killed(jail, native, targets, fork):
    """The same race with CLONE_VFORK: the parent thread waits in clone3 for
    its untraced child, and the process exits meanwhile, so the call never
    returns to have its child killed. The child goes to the jail, the
    reaper of the program's orphans, which kills it as it takes it. Where
    the rules leave clone to the kernel, the untraced child can fork: its
    child comes to the jail in turn once it is reaped, and is killed too."""
    argv = [targets["clone3_orphan"], "5000", *(["fork"] if fork else [])]
    assert native([*argv[:1], "300", *argv[2:]]).stdout == "no orphan\n"
    run = jail(argv, rules=rules_toml("allow", {"syscall": "clone", "action": "allow-forever"}))
    found = re.fullmatch(r"orphan (\d+)\n(?:grandchild (\d+)\n)?", run.stdout)
    escaped = [int(pid) for pid in found.groups() if pid and int(pid) > 0]  # never kill(0) below
    try:
        assert run.status == 0, run.proc.stderr
        assert len(escaped) == 1 + fork and all(pid > 0 for pid in escaped), run.stdout
        kills = [r for r in run.syscalls() if r["origin"] == "jail" and r["action"] == "kill"]
        assert [(r["args"][:2], r["rule"]) for r in kills] == [([pid, 9], "untraced child") for pid in escaped]
        assert not [pid for pid in escaped if os.path.exists(f"/proc/{pid}")]  # killed and reaped
    finally:
        for pid in escaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("rules", [ALLOW_ALL, ALLOW_FOREVER], ids=["allow", "allow-forever"])
def test_ptrace_denied(jail, native, targets, rules):
    _, run = escape(jail, native, targets, "ptrace-traceme", rules)
    assert run.stdout.startswith("ptrace-traceme: ret -1 errno EPERM\n")
    expected, run = escape(jail, native, targets, "ptrace-child", rules)
    assert "ptrace-attach: ret 0 errno OK\n" in expected
    assert "ptrace-attach: ret -1 errno EPERM\n" in run.stdout
    assert "ptrace-seize: ret -1 errno EPERM\n" in run.stdout
    assert "child sees secret 1\n" in run.stdout


@pytest.mark.parametrize("rules", [ALLOW_ALL, ALLOW_FOREVER], ids=["allow", "allow-forever"])
def test_process_vm_writev_denied(jail, native, targets, rules):
    expected, run = escape(jail, native, targets, "process_vm_writev", rules)
    assert "child sees secret 2\n" in expected and "process_vm_writev: ret 0 " in expected
    assert "process_vm_writev: ret -1 errno EPERM\n" in run.stdout
    assert "child sees secret 1\n" in run.stdout


@pytest.mark.parametrize("rules", [ALLOW_ALL, ALLOW_FOREVER], ids=["allow", "allow-forever"])
def test_seccomp_new_listener_denied(jail, native, targets, rules):
    expected, run = escape(jail, native, targets, "seccomp-listener", rules)
    assert expected.startswith("seccomp-new-listener: ret 0 ")
    assert run.stdout.startswith("seccomp-new-listener: ret -1 errno EPERM\n")
