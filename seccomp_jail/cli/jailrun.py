"""Failures before the jailed program starts, as a shell reports them."""

from __future__ import annotations

from typing import Callable


def run_program(start: Callable[[], int], program: list[str],
                error: Callable[[str, int], int]) -> tuple[int, bool]:
    """Call `start()` (which runs `program` in a session).

    Returns (status, ran): the program's exit status, or the status of the
    one-line error printed through `error` when it never ran: 127 for a
    program that cannot be found (126: not executable), 2 for a log that
    cannot be opened.
    """
    from seccomp_jail.i18n import tr
    from seccomp_jail.log.writer import LogError
    from seccomp_jail.message import os_reason
    from seccomp_jail.tracer.program import ProgramNotFound

    try:
        return start(), True
    except ProgramNotFound as exc:
        return error(f"{exc.program}: {exc.reason.render(tr)}", exc.status), False
    except LogError as exc:
        return error(exc.render(tr), 2), False
    except OSError as exc:
        return error(tr("cannot run {program}: {reason}").format(program=program[0], reason=os_reason(exc)), 1), False
