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
from seccomp_jail.session.match import Ancestry, Matcher, build_matcher
from seccomp_jail.tracer import verdict as V
from seccomp_jail.tracer.task import Task

# nr -> ((rule, verdict, matcher or None), ...) in precedence order
Index = dict[int, tuple[tuple[Rule, tuple, Matcher | None], ...]]


class RuleNotChangeable(ValueError):
    """The syscall is decided in the kernel for this run; only a new run changes it."""


def verdict_for(action: Action, err: int, origin: str, source: str | None) -> tuple:
    """The tracer's verdict for a rule action (HOLD for notify: the session decides)."""
    if action in (Action.ALLOW, Action.ALLOW_FOREVER):
        return V.allow(origin, source)
    if action in (Action.ABORT, Action.ABORT_FOREVER):
        return V.abort(err, origin, source)
    return V.hold(origin, source)


def rule_verdict(rule: Rule) -> tuple:
    source = str(rule.source) if rule.source else None
    if rule.returns is not None:
        return V.fake(rule.returns, rule.origin, source)
    if rule.replace_return is not None:
        return V.tamper(rule.replace_return, rule.origin, source)
    return verdict_for(rule.action, rule.errno, rule.origin, source)


class RuleStore:
    def __init__(self, ruleset: RuleSet, table: SyscallTable, compiled: CompiledFilter,
                 ancestry: Ancestry = lambda pid: None) -> None:
        self._lock = threading.Lock()
        self._ancestry = ancestry
        self._hits: dict[int, int] = {}  # id(rule) -> matching calls so far, for `when`
        self._table = table
        self._traced = compiled.traced
        self.default_verdict = verdict_for(ruleset.default, ruleset.default_errno, "default", None)
        self._rules: list[Rule] = list(ruleset.rules)
        self.index: Index = self._build()

    def _build(self) -> Index:
        index: dict[int, list] = {}
        for rule in self._rules:
            verdict = rule_verdict(rule)
            for nr in rule.syscalls:
                matcher = build_matcher(rule, self._table.name(nr), self._ancestry)
                index.setdefault(nr, []).append((rule, verdict, matcher))
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
            self._hits.pop(id(rule), None)  # ids are reused once the rule is gone
            self.index = self._build()
            return True

    def lookup(self, task: Task, nr: int, args: tuple[int, ...]) -> tuple:
        """The verdict of the first rule matching this call, else the default's.

        Rules with `when` count every call meeting their other conditions,
        so they are still checked after an earlier rule has taken the call.
        """
        found = None
        for rule, verdict, matcher in self.index.get(nr, ()):
            if found is not None and rule.when is None:
                continue
            if matcher is not None and not matcher(task, args):
                continue
            if rule.when is not None:
                n = self._hits[id(rule)] = self._hits.get(id(rule), 0) + 1
                if not rule.when.hit(n):
                    continue
            if found is None:
                found = verdict
        return found if found is not None else self.default_verdict
