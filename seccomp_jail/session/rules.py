"""The live rule store: rules that front ends may change while the target runs.

Readers (the tracer thread, once per syscall) take `index`, an immutable
snapshot; writers build a new snapshot under a lock and swap it in with one
assignment, so a change applies from the very next syscall and the hot path
takes no lock.
"""

from __future__ import annotations

import errno as _errno
import threading

from seccomp_jail.arch.syscalls import SyscallTable
from seccomp_jail.policy.compile import CompiledFilter
from seccomp_jail.policy.model import Action, Rule, RuleSet, Source
from seccomp_jail.tracer import verdict as V

Index = dict[int, tuple[tuple[Rule, tuple], ...]]


class RuleNotChangeable(ValueError):
    """The syscall is decided in the kernel for this run; only a new run changes it."""


def verdict_for(action: Action, err: int, origin: str, source: str | None) -> tuple:
    """The tracer's verdict for a rule action (HOLD for notify: the session decides)."""
    if action in (Action.ALLOW, Action.ALLOW_FOREVER):
        return V.allow(origin, source)
    if action in (Action.ABORT, Action.ABORT_FOREVER):
        return V.abort(err, origin, source)
    return V.hold(origin, source)


class RuleStore:
    def __init__(self, ruleset: RuleSet, table: SyscallTable, compiled: CompiledFilter) -> None:
        self._lock = threading.Lock()
        self._table = table
        self._traced = compiled.traced
        self.default = ruleset.default
        self.default_errno = ruleset.default_errno
        self.default_verdict = verdict_for(ruleset.default, ruleset.default_errno, "default", None)
        self._rules: list[Rule] = list(ruleset.rules)
        self.index: Index = self._build()

    def _build(self) -> Index:
        index: dict[int, list] = {}
        for rule in self._rules:
            verdict = verdict_for(rule.action, rule.errno, rule.origin, str(rule.source) if rule.source else None)
            for nr in rule.syscalls:
                index.setdefault(nr, []).append((rule, verdict))
        return {nr: tuple(entries) for nr, entries in index.items()}

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def resolve(self, syscall: str | int) -> int:
        if isinstance(syscall, int):
            return syscall
        nr = self._table.number(syscall)
        if nr is None:
            raise ValueError(f"unknown syscall {syscall!r}")
        return nr

    def add(self, syscall: str | int | list, action: Action, errno: int = _errno.EPERM,
            source: str = "api", first: bool = True) -> Rule:
        """Add a rule (first in precedence unless `first` is False) and return it."""
        names = syscall if isinstance(syscall, list) else [syscall]
        nrs = tuple(self.resolve(s) for s in names)
        fixed = [self._table.name(nr) for nr in nrs if nr not in self._traced]
        if fixed:
            raise RuleNotChangeable(
                f"{', '.join(fixed)}: decided in the kernel for this run (make it a non-forever rule to change it live)"
            )
        rule = Rule(nrs, action, errno, source=Source(source))
        with self._lock:
            if first:
                self._rules.insert(0, rule)
            else:
                self._rules.append(rule)
            self.index = self._build()
        return rule

    def remove(self, rule: Rule) -> bool:
        with self._lock:
            try:
                self._rules.remove(rule)
            except ValueError:
                return False
            self.index = self._build()
            return True

    def lookup(self, nr: int, args: tuple[int, ...]) -> tuple:
        """The verdict of the first rule matching (nr, args), else the default's."""
        for rule, verdict in self.index.get(nr, ()):
            if not rule.args or all(c.matches(args) for c in rule.args):
                return verdict
        return self.default_verdict
