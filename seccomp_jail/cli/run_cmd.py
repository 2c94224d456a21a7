"""`seccomp-jail run`: run a program in the jail, like `strace -f` with teeth."""

from __future__ import annotations

import argparse
import gc
import sys

from seccomp_jail.cli.commands import add_durations_option, help_of
from seccomp_jail.cli.helpformat import HelpFormatter
from seccomp_jail.i18n import tr

EPILOG = """\
actions in rule files:
  allow-forever, abort-forever   decided in the kernel filter: no cost, fixed for the run
  allow, abort, notify           decided by the tracer: logged, changeable while it runs;
                                 notify holds the syscall until someone decides

Without --rules every syscall is `allow`: traced and logged, nothing denied.
The exit status is the program's (128+N when a signal N killed it), 127 when
the program cannot be found, 126 when it is not executable, 2 for a bad rule
file.

Signals: Ctrl-C reaches the program as it would without the jail, and the
jail keeps logging until the program is gone. SIGINT/SIGTERM/SIGHUP sent to
seccomp-jail itself with kill are passed on to the program.
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "run",
        help=help_of("run"),
        description="Run PROGRAM so that every syscall of it and its descendants is judged by rules.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
        usage="seccomp-jail run [options] -- PROGRAM [ARGS...]",
    )
    p.add_argument("--rules", "-r", metavar="FILE", help="rule file (TOML); default: allow and log everything")
    p.add_argument("-o", "--output", metavar="FILE", help="write the strace-like log to FILE instead of stderr")
    p.add_argument("-q", "--quiet", action="store_true", help="no strace-like log (other sinks still write)")
    p.add_argument("--db", metavar="FILE", help="also log to an SQLite database (see `seccomp-jail log`)")
    p.add_argument("--jsonl", metavar="FILE", help="also log as JSON lines, one object per record")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the log (default: auto)")
    add_durations_option(p)
    p.add_argument(
        "--notify-timeout", type=_seconds, default=30.0, metavar="SECONDS",
        help="how long a `notify` syscall waits for a decision (default 30; 0 decides at once; 'inf' waits forever)",
    )
    p.add_argument(
        "--timeout-action", choices=("allow", "abort", "kill"), default="abort",
        help="what a `notify` syscall gets when nobody decided in time (default abort, EPERM)",
    )
    p.add_argument("program", nargs=argparse.REMAINDER, metavar="-- PROGRAM [ARGS...]", help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _seconds(text: str) -> float | None:
    if text in ("inf", "forever", "never"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(tr("not a number of seconds: {text}").format(text=repr(text))) from None
    if value < 0:
        raise argparse.ArgumentTypeError(tr("the timeout cannot be negative"))
    return value


def _error(message: str, status: int) -> int:
    print(f"seccomp-jail: {message}", file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    if not program:
        return _error(tr("no program to run (usage: seccomp-jail run [options] -- PROGRAM [ARGS...])"), 2)
    # Start-up (imports, rules, filter) makes tens of thousands of objects that
    # live until exit and next to no garbage: no collection until the program
    # runs, and then none that scans them again, during the run or in the
    # interpreter's last collections at exit (together some 6 ms of every run).
    gc.disable()
    from seccomp_jail.policy.model import Action, RuleSet

    if args.rules:
        from seccomp_jail.policy.errors import RuleError
        from seccomp_jail.policy.parse import load_rules

        try:
            ruleset = load_rules(args.rules)
        except RuleError as exc:
            return _error(exc.render(tr), 2)
    else:
        ruleset = RuleSet(default=Action.ALLOW)
    from seccomp_jail.log.writer import LogError
    from seccomp_jail.session.options import SessionOptions
    from seccomp_jail.session.prestart import hold_exit_feed, start_log

    color = args.color == "always" or (args.color == "auto" and args.output is None and sys.stderr.isatty())
    closed = getattr(args, "closed_std_fds", ())
    options = SessionOptions(
        text=args.output, quiet=args.quiet or 2 in closed,  # no stderr: no text log there
        color=color, durations=args.durations, db=args.db, jsonl=args.jsonl,
        notify_timeout=args.notify_timeout, timeout_action=args.timeout_action, separate_group=True,
        adopt_orphans=True, close_fds=closed,
    )
    # The log files open, and the kernel waits for the tracepoint, while we import the rest.
    try:
        writer = start_log(options, program)
    except LogError as exc:
        return _error(exc.render(tr), 2)
    feed_hold = hold_exit_feed(ruleset, options)

    from seccomp_jail.cli.jailrun import run_program
    from seccomp_jail.session import Session

    gc.freeze()
    gc.enable()
    return run_program(lambda: Session(ruleset, options, feed_hold, writer).run(program), program, _error)[0]
