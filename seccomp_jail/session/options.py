"""The options of a run: light to import, so that `seccomp-jail run` can hold
them before the session's own imports (see prestart)."""

from __future__ import annotations

import errno
from collections.abc import Sequence
from typing import NamedTuple


class SessionOptions(NamedTuple):
    text: str | None = None  # -o FILE; None: stderr unless quiet
    quiet: bool = False
    color: bool = False
    durations: bool = False  # -T: text lines end with the call's duration
    db: str | None = None
    jsonl: str | None = None
    notify_timeout: float | None = 30.0  # None waits forever
    timeout_action: str = "abort"
    timeout_errno: int = errno.EPERM
    use_syscall_info: bool | None = None  # None: unless SECCOMP_JAIL_NO_SYSCALL_INFO=1
    # Return values from the kernel's exit tracepoint, not exit stops (root only).
    use_exit_feed: bool | None = None  # None: unless SECCOMP_JAIL_NO_EXIT_FEED=1
    env: dict[str, str] | None = None
    forward_signals: bool = True
    # Keep this process out of the program's process group (see
    # signals.ProcessGroups); `seccomp-jail run` does, an embedding
    # application may not want its own group changed.
    separate_group: bool = False
    # Be the reaper of the program's orphans (PR_SET_CHILD_SUBREAPER), so
    # that a child that escaped the tracer cannot outlive the run: a child
    # of ours that is no tracee is killed. `seccomp-jail run` is; an
    # embedding application may have children of its own.
    adopt_orphans: bool = False
    # Descriptors the program starts without: the ones `seccomp-jail run` was
    # started without, which it filled with /dev/null for itself.
    close_fds: tuple[int, ...] = ()

    def sinks(self, argv: Sequence[str] = ()) -> dict:
        """The log writer's sinks for a run of `argv` (log.writer.start_writer's arguments)."""
        return dict(text=self.text, text_to_stderr=self.text is None and not self.quiet, color=self.color,
                    db=self.db, jsonl=self.jsonl, command=list(argv), durations=self.durations)

    @property
    def logged(self) -> bool:
        """Whether anything reads the log: with no sink (`-q` alone) no return value is needed."""
        from seccomp_jail.log.writer import has_sinks

        return has_sinks(**self.sinks())
