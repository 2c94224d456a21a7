"""A decision on a pending syscall, as front ends express it."""

from __future__ import annotations

import errno as _errno
from dataclasses import dataclass

from seccomp_jail.tracer import verdict as V

KINDS = ("allow", "abort", "kill", "fake", "tamper", "edit")


@dataclass(frozen=True)
class Decision:
    """allow | abort (errno) | kill | fake (value, syscall skipped) |
    tamper (value, after the real syscall ran) | edit (nr and args, then run)."""

    kind: str
    errno: int = _errno.EPERM
    value: int = 0
    nr: int | None = None
    args: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown decision {self.kind!r} (one of {', '.join(KINDS)})")

    def verdict(self, origin: str, rule: str | None = None) -> tuple:
        if self.kind == "allow":
            return V.allow(origin, rule)
        if self.kind == "abort":
            return V.abort(self.errno, origin, rule)
        if self.kind == "kill":
            return V.kill(origin, rule)
        if self.kind == "fake":
            return V.fake(self.value, origin, rule)
        if self.kind == "tamper":
            return V.tamper(self.value, origin, rule)
        return V.edit(self.nr, self.args, origin, rule)
