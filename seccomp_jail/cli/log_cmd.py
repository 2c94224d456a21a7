"""`seccomp-jail log stats|show DB`: read a run recorded with `run --db DB`.

The log modules (sqlite3 and all) are imported when a `log` command runs, not
when the parser is built: `seccomp-jail run` must start fast.
"""

from __future__ import annotations

import argparse
import os
import sys

from seccomp_jail.cli.commands import add_durations_option, help_of
from seccomp_jail.cli.helpformat import HelpFormatter, Parser
from seccomp_jail.i18n import tr

_LOG_HELP = """\
Read a run recorded with `seccomp-jail run --db FILE`. The database can be
read while the run is still going. Its schema is in docs/log-schema.md, so
`sqlite3 FILE` works too.

examples:
  seccomp-jail log stats run.sqlite                  # time, calls and errors per syscall
  seccomp-jail log show run.sqlite --pid 1234 --syscall openat
  seccomp-jail log show run.sqlite --errors          # only failed calls
  seccomp-jail log show run.sqlite --action abort --json | jq .text
"""

_STATS_HELP = """\
Summarise the syscalls like `strace -c`: for each syscall, its share of the
time spent in syscalls, that time, the time per call, how many calls, how
many failed (returned an errno, including calls the jail aborted), and how
many got each action (allow, abort, fake, ...). Most time first, then most
calls, then a total line. A call's time runs from when the jail let it run
to its return (wall-clock time, as `strace -c -w` counts it, including the
wake-up of the stopped task); calls that never ran (aborted, faked) or whose
return is unknown count in calls but not in time.
"""

_SHOW_HELP = """\
Print the recorded events in order, as strace-like lines (the same as the
run's -o output), or as JSON Lines with --json. Filters narrow the listing;
an option given twice accepts either value (--pid 10 --pid 12). --pid and
--tid keep signals and task exits of those tasks; --syscall, --action,
--origin and --errors list syscalls only.
"""


def add_parser(subparsers) -> None:
    """Add `log` and its subcommands to the main parser's subparsers."""
    log = subparsers.add_parser(
        "log", help=help_of("log"),
        description=_LOG_HELP, formatter_class=HelpFormatter)
    commands = log.add_subparsers(dest="log_command", metavar="{stats,show}", required=True)
    filters = _filter_options()
    stats_parser = commands.add_parser(
        "stats", parents=[filters], help="time, calls, errors and actions per syscall (like strace -c)",
        description=_STATS_HELP, formatter_class=HelpFormatter)
    stats_parser.set_defaults(func=run_stats)
    show = commands.add_parser(
        "show", parents=[filters], help="list the recorded syscalls, signals and exits",
        description=_SHOW_HELP, formatter_class=HelpFormatter)
    add_durations_option(show)
    show.add_argument("--json", action="store_true",
                      help="one JSON object per line, as written by `run --jsonl`")
    show.set_defaults(func=run_show)


def _filter_options() -> argparse.ArgumentParser:
    """DB and the filters shared by `stats` and `show`."""
    parent = Parser(add_help=False)
    parent.add_argument("db", metavar="DB", help="database written by `seccomp-jail run --db DB`")
    group = parent.add_argument_group("filters (repeat an option to accept several values)")
    group.add_argument("--pid", type=int, action="append", default=[], metavar="N",
                       help="only process N and its threads (N is the process id, as in ps)")
    group.add_argument("--tid", type=int, action="append", default=[], metavar="N",
                       help="only thread N (the [pid N] of the text log)")
    group.add_argument("--syscall", action="append", default=[], metavar="NAME",
                       help="only this syscall, by name (openat) or number (257)")
    group.add_argument("--action", action="append", default=[], metavar="A",
                       help="only calls that got this action: allow, abort, kill, fake, tamper, edit")
    group.add_argument("--origin", action="append", default=[], metavar="O",
                       help="only calls decided by: rule, default, timeout, user, injection, jail")
    group.add_argument("--errors", action="store_true",
                       help="only calls that failed (returned an errno)")
    return parent


def run_stats(args: argparse.Namespace) -> int:
    return _run(args, _print_stats)


def run_show(args: argparse.Namespace) -> int:
    return _run(args, _print_events)


def _run(args: argparse.Namespace, printer) -> int:
    """Open the database, apply the filters, print; errors are one line and status 2."""
    from seccomp_jail.log.query import Filters, QueryError, open_db, resolve_syscall

    try:
        filters = Filters(pids=args.pid, tids=args.tid,
                          syscalls=[resolve_syscall(name) for name in args.syscall],
                          actions=args.action, origins=args.origin, errors=args.errors)
        db = open_db(args.db)
        try:
            printer(db, filters, args)
        finally:
            db.close()
    except QueryError as exc:
        print(f"seccomp-jail: log {args.log_command}: {exc.render(tr)}", file=sys.stderr)
        return 2
    return 0


def _print_events(db, filters, args: argparse.Namespace) -> None:
    from seccomp_jail.log.jsonl import dumps
    from seccomp_jail.log.query import events
    from seccomp_jail.log.text import format_line

    out = sys.stdout
    if args.json:
        for event in events(db, filters):
            out.write(dumps(event) + "\n")
        return
    color = out.isatty() and "NO_COLOR" not in os.environ
    for event in events(db, filters):
        line = format_line(event, color, args.durations)
        if line is not None:
            out.write(line + "\n")


def _print_stats(db, filters, args: argparse.Namespace) -> None:
    from seccomp_jail.log.query import action_columns, stats

    rows = stats(db, filters)
    actions = action_columns(rows)
    total_calls = sum(row.calls for row in rows)
    total_seconds = sum(row.seconds for row in rows)
    width = max(9, len(str(total_calls)), *(len(action) for action in actions))
    headers = ["calls", "errors", *actions]
    rule = " ".join(["-" * 6, "-" * 11, "-" * 11] + ["-" * width] * len(headers) + ["-" * 16])

    def times(seconds: float, timed: int) -> str:
        """strace -c's first three columns; blank for calls that never ran."""
        if not timed:
            return " " * 30
        share = 100 * seconds / total_seconds if total_seconds else 0.0
        return f"{share:6.2f} {seconds:11.6f} {round(seconds * 1e6 / timed):11d}"

    def line(seconds: float, timed: int, counts: list[int], name: str) -> str:
        # Like strace -c, a zero is left blank except in the calls column.
        cells = [str(counts[0]), *(str(n) if n else "" for n in counts[1:])]
        return f"{times(seconds, timed)} " + " ".join(cell.rjust(width) for cell in cells) + " " + name

    out = sys.stdout
    out.write(f"{'% time':>6} {'seconds':>11} {'usecs/call':>11} "
              + " ".join(h.rjust(width) for h in headers) + " syscall\n" + rule + "\n")
    for row in rows:
        out.write(line(row.seconds, row.timed,
                       [row.calls, row.errors, *(row.actions.get(a, 0) for a in actions)], row.syscall) + "\n")
    totals = [total_calls, sum(row.errors for row in rows),
              *(sum(row.actions.get(a, 0) for row in rows) for a in actions)]
    out.write(rule + "\n" + line(total_seconds, sum(row.timed for row in rows), totals, "total") + "\n")
