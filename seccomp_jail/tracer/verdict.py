"""What the policy answers for one syscall stop, and the values it carries.

Verdicts are small tuples, built once and reused: the tracer reads one per
syscall. Layout: (kind, value, action, origin, rule).
  kind   - one of the constants below (what the tracer does)
  value  - errno for ABORT, the result for FAKE/TAMPER, (nr, args) for EDIT
  action - the word logged ("allow", "abort", ...)
  origin - who decided ("rule", "default", "timeout", "user", "jail", ...)
  rule   - the rule's source ("rules.toml:7") or None
"""

from __future__ import annotations

ALLOW = 0  # run it, record the return value at syscall exit
ABORT = 1  # skip it, return -errno
HOLD = 2  # keep the task stopped; a decision comes later through Tracer.resolve
KILL = 3  # SIGKILL the task's process
FAKE = 4  # skip it, return `value`
TAMPER = 5  # run it, then replace its return value by `value`
EDIT = 6  # change number and arguments, then run it

Verdict = tuple


def allow(origin: str, rule: str | None = None) -> Verdict:
    return (ALLOW, None, "allow", origin, rule)


def abort(err: int, origin: str, rule: str | None = None) -> Verdict:
    return (ABORT, err, "abort", origin, rule)


def hold(origin: str, rule: str | None = None) -> Verdict:
    return (HOLD, None, "notify", origin, rule)


def kill(origin: str, rule: str | None = None) -> Verdict:
    return (KILL, None, "kill", origin, rule)


def fake(value: int, origin: str, rule: str | None = None) -> Verdict:
    return (FAKE, value, "fake", origin, rule)


def tamper(value: int, origin: str, rule: str | None = None) -> Verdict:
    return (TAMPER, value, "tamper", origin, rule)


def edit(nr: int, args: tuple[int, ...], origin: str, rule: str | None = None) -> Verdict:
    return (EDIT, (nr, tuple(args)), "edit", origin, rule)
