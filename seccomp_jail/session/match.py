"""Tracer-side rule conditions: paths, socket addresses, scopes.

These read the stopped task's memory or /proc, so they are checks made at
one instant: another thread of the target can rewrite a path or sockaddr
after we read it and before the kernel does (TOCTOU). docs/rules.md says
so; rules that must hold against a hostile program belong in the kernel
(argument values, `-forever`).
"""

from __future__ import annotations

import os
from typing import Callable

from seccomp_jail.policy.glob import glob_match
from seccomp_jail.policy.model import Rule, Scope
from seccomp_jail.tracer.task import Task

AT_FDCWD = 0xFFFFFF9C  # -100 as the low 32 bits of a register
AF_INET, AF_INET6 = 2, 10
SOCKADDR_MAX = 128

Matcher = Callable[[Task, tuple[int, ...]], bool]
# tid -> (parent pid, exe) for walking up the process tree
Ancestry = Callable[[int], tuple[int, str] | None]


def task_paths(task: Task, name: str, args: tuple[int, ...]) -> list[str]:
    """Absolute, normalised paths the syscall names (relative ones joined to cwd/dirfd)."""
    from seccomp_jail.policy.argspec import path_args  # the decoder tables: only for path rules

    out = []
    for pi, di in path_args(name):
        raw = task.mem.read_str(args[pi], 4096)
        if raw is None:
            continue
        path = os.fsdecode(raw)
        if not path.startswith("/"):
            fd = None if di is None or args[di] & 0xFFFFFFFF == AT_FDCWD else args[di] & 0xFFFFFFFF
            link = f"/proc/{task.tid}/cwd" if fd is None else f"/proc/{task.tid}/fd/{fd}"
            try:
                path = os.path.join(os.readlink(link), path)
            except OSError:
                continue
        out.append(os.path.normpath(path).replace("//", "/"))
    return out


def task_sockaddrs(task: Task, name: str, args: tuple[int, ...]) -> list[tuple[object, int]]:
    """(address, port) of each AF_INET/AF_INET6 sockaddr the syscall passes in."""
    from seccomp_jail.policy.argspec import sockaddr_args

    out = []
    for ai, li in sockaddr_args(name):
        size = min(args[li] & 0xFFFFFFFF, SOCKADDR_MAX)
        data = task.mem.read(args[ai], size) if args[ai] else None
        if not data or len(data) < 8:
            continue
        family = int.from_bytes(data[:2], "little")
        port = int.from_bytes(data[2:4], "big")
        if family == AF_INET:
            import ipaddress

            out.append((ipaddress.IPv4Address(data[4:8]), port))
        elif family == AF_INET6 and len(data) >= 24:
            import ipaddress

            out.append((ipaddress.IPv6Address(data[8:24]), port))
    return out


def _comm(tid: int, exe: str) -> str:
    try:
        with open(f"/proc/{tid}/comm", "rb") as f:
            return os.fsdecode(f.read().rstrip(b"\n"))
    except OSError:
        return os.path.basename(exe)[:15]


def _names_match(patterns: tuple[str, ...], exe: str, comm: str) -> bool:
    return any(p == comm or glob_match(p, exe) for p in patterns)


def scope_matches(scope: Scope, task: Task, ancestry: Ancestry) -> bool:
    if scope.exe and not any(glob_match(p, task.exe) for p in scope.exe):
        return False
    if scope.comm and _comm(task.tid, task.exe) not in scope.comm:
        return False
    if scope.under:
        pid, exe, seen = task.pid, task.exe, 0
        while True:
            if _names_match(scope.under, exe, _comm(pid, exe)):
                break
            up = ancestry(pid)
            seen += 1
            if up is None or up[0] == pid or seen > 4096:
                return False
            pid, exe = up
    return True


def build_matcher(rule: Rule, name: str, ancestry: Ancestry) -> Matcher | None:
    """One function checking every condition of `rule` for syscall `name`, or None if it has none."""
    checks: list[Matcher] = []
    if rule.args:
        conds = rule.args
        checks.append(lambda task, args: all(c.matches(args) for c in conds))
    if rule.scope:
        scope = rule.scope
        checks.append(lambda task, args: scope_matches(scope, task, ancestry))
    if rule.path:
        globs = rule.path
        checks.append(lambda task, args: any(glob_match(g, p) for p in task_paths(task, name, args) for g in globs))
    if rule.addr or rule.port:
        import ipaddress

        nets = tuple(ipaddress.ip_network(a, strict=False) for a in rule.addr)
        ports = rule.port

        def sock(task: Task, args: tuple[int, ...]) -> bool:
            return any((not nets or any(ip.version == n.version and ip in n for n in nets))
                       and (not ports or port in ports)
                       for ip, port in task_sockaddrs(task, name, args))

        checks.append(sock)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda task, args: all(check(task, args) for check in checks)
