"""A decision on a pending syscall, as front ends express it."""

from __future__ import annotations

import errno as _errno

from seccomp_jail.tracer import verdict as V

KINDS = ("allow", "abort", "kill", "fake", "tamper", "edit")


class Decision:
    """allow | abort (errno) | kill | fake (value, syscall skipped) |
    tamper (value, after the real syscall ran) | edit (nr and args, then run)."""

    __slots__ = ("kind", "errno", "value", "nr", "args")

    def __init__(self, kind: str, errno: int = _errno.EPERM, value: int = 0, nr: int | None = None,
                 args: tuple[int, ...] | None = None) -> None:
        self.kind = kind
        self.errno = errno
        self.value = value
        self.nr = nr
        self.args = args
        self._check()

    def __repr__(self) -> str:
        return f"Decision({self.kind!r}, errno={self.errno}, value={self.value}, nr={self.nr}, args={self.args})"

    def _check(self) -> None:
        """Refuse a malformed decision here, in the caller's thread: the tracer
        must never be handed something it cannot apply."""
        if self.kind not in KINDS:
            raise ValueError(f"unknown decision {self.kind!r} (one of {', '.join(KINDS)})")
        if not isinstance(self.errno, int) or not 0 <= self.errno <= 4095:
            raise ValueError(f"errno must be 0..4095, not {self.errno!r}")
        if not isinstance(self.value, int) or not -(1 << 63) <= self.value < (1 << 64):
            raise ValueError(f"value must be a 64-bit integer, not {self.value!r}")
        if self.kind == "edit":
            if not isinstance(self.nr, int):
                raise ValueError("an edit needs the syscall number to run")
            if self.args is not None and (len(self.args) > 6 or not all(isinstance(a, int) for a in self.args)):
                raise ValueError("an edit takes at most six integer arguments")

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
        args = tuple(self.args or ()) + (0,) * (6 - len(self.args or ()))
        return V.edit(self.nr, args, origin, rule)
