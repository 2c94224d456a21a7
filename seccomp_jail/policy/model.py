"""The rule model shared by the parser, the BPF compiler and the tracer.

A rule file is a list of rules in order plus a default action. For one
syscall the first rule that matches wins (firewall order); `default` applies
when none does.
"""

import enum
import errno as _errno
from typing import NamedTuple

# Value types are NamedTuples rather than dataclasses: `seccomp-jail run`
# imports this module at start-up, and dataclasses (with inspect) would add
# some 20 ms to every run. For the same reason there is no `from __future__
# import annotations` here: NamedTuple compiles each string annotation
# (typing.ForwardRef), a few hundredths of a ms per field and some 2 ms for
# the first compile() of the process; real types cost nothing.


class Action(enum.Enum):
    """The five actions of the original, spelled as in rule files."""

    ALLOW_FOREVER = "allow-forever"
    ABORT_FOREVER = "abort-forever"
    ALLOW = "allow"
    ABORT = "abort"
    NOTIFY = "notify"

    @property
    def forever(self) -> bool:
        """Compiled into the kernel filter: no user-space cost, fixed for the run."""
        return self in (Action.ALLOW_FOREVER, Action.ABORT_FOREVER)

    @property
    def denies(self) -> bool:
        return self in (Action.ABORT, Action.ABORT_FOREVER)


ACTION_NAMES = [a.value for a in Action]

# Comparison operators of argument conditions, as written in rule files.
CMP_OPS = ("==", "!=", "<", "<=", ">", ">=", "&")


class Source(NamedTuple):
    """Where a rule came from, for messages and `rules show`."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


class ArgCondition(NamedTuple):
    """`args[arg] OP value`; with op "&", `(args[arg] & mask) == value`.

    Values are unsigned 64-bit, as the kernel hands them to seccomp.
    """

    arg: int
    op: str
    value: int
    mask: int = 0

    def matches(self, args: tuple[int, ...] | list[int]) -> bool:
        a = args[self.arg]
        op = self.op
        if op == "==":
            return a == self.value
        if op == "!=":
            return a != self.value
        if op == "<":
            return a < self.value
        if op == "<=":
            return a <= self.value
        if op == ">":
            return a > self.value
        if op == ">=":
            return a >= self.value
        return (a & self.mask) == self.value


class When(NamedTuple):
    """strace's `when=first[..last][+step]`: which matching calls the rule takes.

    Counted per rule over the whole run, from 1, over every call that meets
    the rule's other conditions (also those an earlier rule took, so "the
    3rd getpid" means the 3rd); calls outside fall through to the next rule,
    so `when = "3+3"` fails every third call.
    """

    first: int = 1
    last: int | None = None
    step: int = 0  # 0: only `first` (or first..last when last is set)

    def hit(self, n: int) -> bool:
        if n < self.first or (self.last is not None and n > self.last):
            return False
        if self.step:
            return (n - self.first) % self.step == 0
        return self.last is not None or n == self.first


class Scope(NamedTuple):
    """Which tasks a rule applies to; empty fields mean any.

    exe: globs on the executable path; comm: command names (/proc/PID/comm);
    under: exe globs or command names of the task itself or any ancestor
    (a process subtree, e.g. everything `make` starts).
    """

    exe: tuple[str, ...] = ()
    comm: tuple[str, ...] = ()
    under: tuple[str, ...] = ()


class Rule(NamedTuple):
    """One `[[rule]]`: which syscalls, under which conditions, what to do."""

    syscalls: tuple[int, ...]
    action: Action
    errno: int = _errno.EPERM
    args: tuple[ArgCondition, ...] = ()
    source: Source | None = None
    comment: str = ""
    # Set by rules added at run time from a decision, never by files.
    origin: str = "rule"
    # The `syscall` entries as the file wrote them (names, numbers, groups),
    # for `rules show`; two rules naming the same syscalls are still equal.
    written: tuple[str, ...] = ()
    # Tracer-only conditions (read from the task's memory or state; racy
    # against another thread rewriting that memory, see docs/rules.md).
    path: tuple[str, ...] = ()  # globs on the absolute path of the path argument(s)
    addr: tuple[str, ...] = ()  # networks (CIDR) of the sockaddr argument
    port: tuple[int, ...] = ()  # ports of the sockaddr argument
    scope: Scope | None = None
    when: When | None = None
    # Made-up results: `returns` skips the syscall and returns the value
    # (action abort); `replace_return` lets it run and replaces its result
    # (action allow).
    returns: int | None = None
    replace_return: int | None = None

    @property
    def needs_tracer(self) -> bool:
        """Conditions or results that only the tracer can evaluate."""
        return bool(self.path or self.addr or self.port or self.scope or self.when
                    or self.returns is not None or self.replace_return is not None)

    @property
    def kernel_only(self) -> bool:
        """True when the kernel filter alone can carry this rule."""
        return self.action.forever and not self.needs_tracer

    def _compared(self) -> tuple:
        return self[:_WRITTEN] + self[_WRITTEN + 1:]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rule) and self._compared() == other._compared()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._compared())


_WRITTEN = Rule._fields.index("written")  # not compared: spelling only


class RuleSet:
    """A whole rule file: default action plus rules in precedence order."""

    __slots__ = ("default", "default_errno", "rules", "source")

    def __init__(self, default: Action = Action.ALLOW, default_errno: int = _errno.EPERM,
                 rules: list[Rule] | None = None, source: str | None = None) -> None:
        self.default = default
        self.default_errno = default_errno
        self.rules = [] if rules is None else rules
        self.source = source

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RuleSet) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return f"RuleSet(default={self.default}, rules={len(self.rules)}, source={self.source!r})"

    def rules_for(self, nr: int) -> list[Rule]:
        return [r for r in self.rules if nr in r.syscalls]
