"""One-line complaints of the log on stderr, capped so a bug cannot flood it.

Written straight to fd 2: the writer is a forked process whose `sys.stderr`
may be a wrapper with its own buffer (or somebody else's capture). The
complaints are Messages, said in the front end's language: it hands its
`translate` to `translate_with` before the writer is forked, which inherits
it; no one asks the writer process what language to speak.
"""

from __future__ import annotations

from collections.abc import Callable

from seccomp_jail.log.patient import write_all
from seccomp_jail.message import Message

_LIMIT = 20
_count = 0
_translate: Callable[[str], str] = str


def translate_with(translate: Callable[[str], str]) -> None:
    """Say every complaint from now on, of this process and of the writers it
    forks, through `translate` (the command line's `tr`)."""
    global _translate
    _translate = translate


def warn(message: Message) -> None:
    """Print `seccomp-jail: log: MESSAGE` on stderr, at most _LIMIT times; never raises."""
    global _count
    _count += 1
    if _count <= _LIMIT:
        say(message, prefix="log: ")


def report_suppressed() -> None:
    """Say how many warnings the cap hid (call once, at the end)."""
    hidden = _count - _LIMIT
    if hidden > 0:
        say(Message("{count} more warnings not shown" if hidden != 1 else "{count} more warning not shown",
                    count=hidden), prefix="log: ")


def say(message: Message, *, prefix: str = "") -> None:
    """Print `seccomp-jail: PREFIXMESSAGE` on stderr, however many warnings came before; never raises."""
    try:
        write_all(2, f"seccomp-jail: {prefix}{message.render(_translate)}\n".encode("utf-8", "backslashreplace"))
    except OSError:
        pass
