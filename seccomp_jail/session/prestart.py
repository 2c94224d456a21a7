"""What a run can start before the rest of the jail is even imported.

Light to import on purpose: `seccomp-jail run` calls `start_log` and
`hold_exit_feed` as soon as it has read the rules, so that the log writer
opening its files (SQLite: import, schema) and the kernel's wait for the
exit tracepoint (see kernel.perf.TracepointHold) overlap the imports of
the tracer, then hands both to `Session`. Forked this early, each helper
also costs less: a fork copies the page tables of a process still small.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seccomp_jail.kernel.perf import TracepointHold
    from seccomp_jail.log.writer import WriterHandle
    from seccomp_jail.policy.model import RuleSet
    from seccomp_jail.session.options import SessionOptions


def wants_exit_feed(ruleset: RuleSet, options: SessionOptions) -> bool:
    """Whether a run with `ruleset` and `options` takes return values from the exit feed.

    Only as root, only when the values are logged, and only when the rule
    set's default sends syscalls to the tracer: for a handful of named
    syscalls the set-up costs more than it saves. `options.use_exit_feed`
    None: unless SECCOMP_JAIL_NO_EXIT_FEED=1.
    """
    use = options.use_exit_feed
    if use is None:
        use = os.environ.get("SECCOMP_JAIL_NO_EXIT_FEED") != "1"
    return use and os.geteuid() == 0 and not ruleset.default.forever and options.logged


def hold_exit_feed(ruleset: RuleSet, options: SessionOptions) -> TracepointHold | None:
    """Start holding the exit tracepoint when a run with `ruleset` and `options` will use it."""
    if not wants_exit_feed(ruleset, options):
        return None
    from seccomp_jail.kernel.perf import TracepointHold

    try:
        return TracepointHold()
    except OSError:  # no fork left: the feed starts its own, or the exit stop stays
        return None


def start_log(options: SessionOptions, argv: list[str], env: dict[str, str] | None = None) -> WriterHandle | None:
    """Fork the log writer for a run of `argv` with `options`; its files open
    meanwhile (`WriterHandle.ready`). None when nothing is logged, and for a
    program that cannot be run: that run ends with status 127 (or 126)
    before any log file is made. Raises LogError when the writer cannot be forked.
    """
    from seccomp_jail.log.writer import has_sinks, start_writer
    from seccomp_jail.tracer.program import ProgramNotFound, find_program

    sinks = options.sinks(argv)
    if not argv or not has_sinks(**sinks):
        return None
    try:
        find_program(argv[0], os.environ if env is None else env)
    except ProgramNotFound:
        return None
    return start_writer(**sinks, wait=False)
