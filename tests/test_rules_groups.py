"""Syscall groups: systemd's `@` sets and strace's `%` classes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.policy import groups
from seccomp_jail.policy.groups import expand_group, group_description, group_names

SYSTEMD_252 = (
    "@aio @basic-io @chown @clock @cpu-emulation @debug @file-system @io-event @ipc @keyring "
    "@memlock @module @mount @network-io @obsolete @pkey @privileged @process @raw-io @reboot "
    "@resources @setuid @signal @swap @sync @system-service @timer @known @default"
).split()
STRACE = "%file %process %network %net %signal %ipc %desc %memory %creds %clock %stat %lstat %fstat %statfs %pure"


def test_vocabulary_is_complete():
    assert set(SYSTEMD_252) | set(STRACE.split()) <= set(group_names())


@pytest.mark.parametrize("name", group_names())
def test_every_group_expands_to_known_syscalls(name):
    table = native_table()
    names = expand_group(name)
    assert names == sorted(set(names))
    assert all(table.number(n) is not None for n in names)
    assert group_description(name)


def test_strace_class_members_are_groups_or_real_syscall_names():
    """Catches typos in the hand-written data: a name no architecture has would be skipped silently."""
    real = set(groups.SYSTEMD_GROUPS["@known"][1].split()) | set(native_table().names())
    for name, (_, members) in groups.STRACE_CLASSES.items():
        for member in members.split():
            assert member in group_names() if groups.is_group_name(member) else member in real, (
                name,
                member,
            )


def test_nested_groups_are_resolved():
    service = set(expand_group("@system-service"))
    assert set(expand_group("@basic-io")) <= service and set(expand_group("@default")) <= service
    assert "ioctl" in service
    assert set(expand_group("@chown")) <= set(expand_group("@privileged"))
    assert set(expand_group("%%stat")) == set(
        expand_group("%stat") + expand_group("%lstat") + expand_group("%fstat")
    )


def test_names_of_other_architectures_are_skipped():
    default = expand_group("@default")
    assert "mmap" in default and "getpid" in default
    assert "mmap2" not in default and "getuid32" not in default  # i386/arm only
    assert "socketcall" not in expand_group("%network")


def test_strace_classes_follow_syscall_semantics():
    assert {"open", "openat", "mkdir", "execve", "statx"} <= set(expand_group("%file"))
    assert {"read", "close", "openat", "mmap", "epoll_wait"} <= set(expand_group("%desc"))
    assert "socket" in expand_group("%network") and "socket" not in expand_group("%file")
    assert {"mmap", "munmap", "brk", "mprotect"} <= set(expand_group("%memory"))
    assert {"clone", "clone3", "fork", "vfork", "execve", "exit_group", "wait4"} <= set(
        expand_group("%process")
    )
    assert {"rt_sigaction", "kill"} <= set(expand_group("%signal"))
    assert {"getpid", "getuid"} <= set(expand_group("%pure")) and "read" not in expand_group(
        "%pure"
    )
    assert expand_group("%net") == expand_group("%network")
    assert expand_group("%stat") == ["stat"] and expand_group("%lstat") == ["lstat"]


def test_unknown_group():
    with pytest.raises(KeyError):
        expand_group("@nope")


SYSTEMD_252_LISTING = Path(__file__).parent / "data" / "systemd-252-syscall-filter.txt"


def _groups_in(listing: str) -> dict[str, set[str]]:
    """Group -> direct members, from `systemd-analyze syscall-filter` output."""
    found: dict[str, set[str]] = {}
    current = None
    for line in listing.splitlines():
        if line.startswith("@"):
            current = found.setdefault(line.strip(), set())
        elif line.startswith("#"):
            current = None
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.add(line.strip())
    return found


def _systemd_252_listing() -> str:
    """The installed systemd's listing when it is version 252, else the one saved from it."""
    if shutil.which("systemd-analyze"):
        version = subprocess.run(["systemd-analyze", "--version"], capture_output=True, text=True).stdout
        if re.match(r"systemd 252\b", version):
            return subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"],
                                  capture_output=True, text=True, check=True).stdout
    return SYSTEMD_252_LISTING.read_text()


def test_data_matches_systemd_252():
    ours = {name: set(members.split()) for name, (_, members) in groups.SYSTEMD_GROUPS.items()}
    assert ours == _groups_in(_systemd_252_listing())
