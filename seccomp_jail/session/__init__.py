"""Session layer: the one API every front end uses (see session.Session).

The names below load on first use, so that `seccomp_jail.session.prestart`
can be imported (and started) before the tracer and the log are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seccomp_jail.session.decision import Decision
    from seccomp_jail.session.options import SessionOptions
    from seccomp_jail.session.session import Session, exit_status

__all__ = ["Decision", "Session", "SessionOptions", "exit_status"]


def __getattr__(name: str):
    if name == "Decision":
        from seccomp_jail.session.decision import Decision

        return Decision
    if name == "SessionOptions":
        from seccomp_jail.session.options import SessionOptions

        return SessionOptions
    if name in __all__:
        from seccomp_jail.session import session

        return getattr(session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
