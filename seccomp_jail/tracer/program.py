"""Finding the program to run, as a shell would.

Apart from `launch` so that it costs nothing to import: `seccomp-jail run`
resolves the program before its heavy imports, to start the log writer
only for a program that exists.
"""

from __future__ import annotations

import os


class ProgramNotFound(Exception):
    """The program does not exist or is not executable (status 127, like a shell)."""


def find_program(name: str, env: dict[str, str]) -> str:
    """Resolve `name` as a shell would: a path if it has a slash, else search PATH."""
    if "/" in name:
        if os.path.isfile(name) and os.access(name, os.X_OK):
            return name
        raise ProgramNotFound(f"{name}: {'Permission denied' if os.path.exists(name) else 'No such file or directory'}")
    # The search execvp(3) and shells make (an empty entry is the current
    # directory); shutil.which would cost start-up time importing shutil.
    for directory in env.get("PATH", os.defpath).split(":"):
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise ProgramNotFound(f"{name}: command not found")
