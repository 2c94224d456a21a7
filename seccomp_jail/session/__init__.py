"""Session layer: the one API every front end uses (see session.Session)."""

from seccomp_jail.session.decision import Decision
from seccomp_jail.session.session import Session, SessionOptions, exit_status

__all__ = ["Decision", "Session", "SessionOptions", "exit_status"]
