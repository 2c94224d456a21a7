"""Finding the program to run, as a shell would.

Apart from `launch` so that it costs nothing to import: `seccomp-jail run`
resolves the program before its heavy imports, to start the log writer
only for a program that exists.
"""

from __future__ import annotations

import os

from seccomp_jail.message import Message


class ProgramNotFound(Exception):
    """The program cannot be run: `status` is 127 when it does not exist and
    126 when it is there but not executable, as a shell says; `reason` is
    the shell's words for it (a front end renders them in the user's language)."""

    def __init__(self, program: str, reason: Message, status: int = 127) -> None:
        super().__init__(f"{program}: {reason}")
        self.program = program
        self.reason = reason
        self.status = status


def find_program(name: str, env: dict[str, str]) -> str:
    """Resolve `name` as a shell would: a path if it has a slash, else search PATH."""
    if "/" in name:
        if _runnable(name):
            return name
        if os.path.isdir(name):
            raise ProgramNotFound(name, Message("Is a directory"), 126)
        if os.path.exists(name):
            raise ProgramNotFound(name, Message("Permission denied"), 126)
        raise ProgramNotFound(name, Message("No such file or directory"))
    # The search execvp(3) and shells make (an empty entry is the current
    # directory); shutil.which would cost start-up time importing shutil.
    # A file found but not executable answers only if nothing later is.
    refused = False
    for directory in env.get("PATH", os.defpath).split(":"):
        candidate = os.path.join(directory or ".", name)
        if _runnable(candidate):
            return candidate
        refused = refused or os.path.isfile(candidate)
    if refused:
        raise ProgramNotFound(name, Message("Permission denied"), 126)
    raise ProgramNotFound(name, Message("command not found"))


def _runnable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)
