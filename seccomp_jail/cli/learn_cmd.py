"""`seccomp-jail learn`: run a program permissively, or read a recorded run, and write rules.

The work is in `seccomp_jail.policy.learn` (calls -> proposed rules) and
`seccomp_jail.cli.review` (asking about each); this module runs the program,
reads the database and writes the file. Heavy imports happen when `learn`
runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys

from seccomp_jail.cli.commands import help_of
from seccomp_jail.cli.helpformat import HelpFormatter
from seccomp_jail.i18n import tr
from seccomp_jail.message import os_reason

EPILOG = """\
examples:
  seccomp-jail learn -o app.toml -- ./app --selftest    # run it, write the tightest rules
  seccomp-jail learn -o app.toml --db run.sqlite -- ./app   # and keep the recording
  seccomp-jail learn --review run.sqlite -o app.toml    # ask about each rule, like aa-logprof

The program runs with every syscall allowed, traced and recorded. The rule
file then allows what it did and nothing else (default abort-forever,
EPERM): syscalls whose arguments do not matter in the kernel filter, socket
families, clone flags, ioctl requests and the like as argument conditions,
and file paths as globs checked by the tracer. Run the program again with
`seccomp-jail run --rules app.toml -- ./app` and widen the file where it fails.

--review reads its answers from stdin, one line each: a(llow), d(eny with
EPERM), g(lob: edit the paths of a path rule), s(kip: the default applies),
f(inish: accept the rest as proposed). End of input finishes too.
"""


def add_parser(sub) -> None:
    """Add `learn` to the main parser's subparsers."""
    p = sub.add_parser(
        "learn", help=help_of("learn"),
        description="Write a rule file from what a program does: run it (every syscall allowed "
                    "and recorded), or read a run recorded with --db.",
        epilog=EPILOG, formatter_class=HelpFormatter,
        usage="seccomp-jail learn -o FILE [--db DB] [--force] -- PROGRAM [ARGS...]\n"
              "       seccomp-jail learn --review DB -o FILE [--force] [--cwd DIR]")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="the rule file to write ('-' for stdout)")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--db", metavar="DB", help="keep the recorded run in this SQLite database")
    p.add_argument("--review", metavar="DB",
                   help="read the run recorded in DB and ask about each proposed rule")
    p.add_argument("--cwd", metavar="DIR",
                   help="with --review: the directory the recorded program started in, to "
                        "resolve its relative paths (default: the current directory)")
    p.add_argument("program", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _error(message: str, status: int) -> int:
    print(f"seccomp-jail learn: {message}", file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    import tempfile

    program = args.program[1:] if args.program[:1] == ["--"] else args.program
    if args.review and program:
        return _error(tr("give either --review DB or a program to run, not both"), 2)
    if not args.review and not program:
        return _error(tr("no program to run (usage: seccomp-jail learn -o FILE -- PROGRAM [ARGS...])"), 2)
    if args.review and args.db:
        return _error(tr("--db names where to record a run; with --review, name the database there"), 2)
    if args.output != "-" and os.path.exists(args.output) and not args.force:
        return _error(tr("{file} exists (use --force to replace it)").format(file=args.output), 2)
    if args.review:
        return _from_db(args.review, args.output, args.cwd or os.getcwd(), review=True)
    from seccomp_jail.cli.jailrun import run_program

    with tempfile.TemporaryDirectory(prefix="seccomp-jail-learn-") as tmp:
        db = args.db or os.path.join(tmp, "run.sqlite")
        closed = getattr(args, "closed_std_fds", ())
        status, ran = run_program(lambda: _record(program, db, args.output != "-", closed), program, _error)
        if not ran:
            return status
        print("seccomp-jail learn: " + tr("{command} exited with status {status}").format(
            command=shlex.join(program), status=status), file=sys.stderr)
        if status != 0:
            print("seccomp-jail learn: " + tr("warning: the program failed; the rules allow only what "
                                              "this run did"), file=sys.stderr)
        return _from_db(db, args.output, os.getcwd(), review=False, status=status)


def _record(program: list[str], db: str, stdout_free: bool, closed: tuple[int, ...]) -> int:
    """Run the program with everything allowed and logged to `db`; its exit status.

    Unless `stdout_free`, the rules go to stdout: the program's output then
    goes to stderr, so that it cannot end up in the rule file. `closed`: the
    std descriptors we were started without; the program starts without
    them too (see cli.main), its stdout then going where our stderr goes.
    """
    from seccomp_jail.policy.model import Action, RuleSet
    from seccomp_jail.session import Session, SessionOptions

    sys.stdout.flush()
    saved = None if stdout_free else os.dup(1)
    if saved is not None:
        os.dup2(2, 1)
    try:
        if not stdout_free:
            closed = tuple(fd for fd in closed if fd != 1) + ((1,) if 2 in closed else ())
        options = SessionOptions(quiet=True, db=db, separate_group=True, adopt_orphans=True, close_fds=closed)
        return Session(RuleSet(default=Action.ALLOW), options).run(program)
    finally:
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _from_db(db_path: str, output: str, cwd: str, review: bool, status: int | None = None) -> int:
    """Read the run in `db_path`, propose (and review) rules, write them to `output`."""
    from seccomp_jail.log.query import Filters, QueryError, events, open_db
    from seccomp_jail.policy import learn
    from seccomp_jail.policy.errors import RuleError
    from seccomp_jail.policy.parse import parse_rules

    try:
        db = open_db(db_path)
        command = _meta(db, "command")
        rec = learn.record(events(db, Filters()), cwd)
    except QueryError as exc:
        return _error(exc.render(tr), 2)
    if not rec.calls:
        return _error(tr("{db}: no syscalls recorded").format(db=db_path), 1)
    if db.execute("SELECT 1 FROM syscalls WHERE origin != 'default' LIMIT 1").fetchone():
        print("seccomp-jail learn: " + tr("warning: {db} was recorded with a rule file; syscalls its "
                                          "kernel rules decided are not in the log, and will not be in "
                                          "the rules").format(db=db_path), file=sys.stderr)
    proposals = learn.propose(rec, cwd, os.environ.get("HOME"))
    if review:
        from seccomp_jail.cli.review import review_proposals

        proposals = review_proposals(proposals, sys.stdin, sys.stderr)
    text = learn.render(proposals, _header(command, cwd, status, rec))
    try:
        parse_rules(text, output)
    except RuleError as exc:  # a bug here, not the user's: say so rather than write it
        internal = tr("internal error, the learnt rules do not parse: {error}")
        return _error(internal.format(error=exc.render(tr)), 1)
    if output == "-":
        sys.stdout.write(text)
    else:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            return _error(tr("cannot write {file}: {reason}").format(file=output, reason=os_reason(exc)), 1)
        wrote = tr("wrote {count} rules to {file}" if len(proposals) != 1 else "wrote {count} rule to {file}")
        print("seccomp-jail learn: " + wrote.format(count=len(proposals), file=output), file=sys.stderr)
    return 0


def _meta(db, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _header(command: str | None, cwd: str, status: int | None, rec) -> list[str]:
    import datetime
    import json

    try:
        argv = shlex.join(json.loads(command)) if command else "?"
    except (ValueError, TypeError):
        argv = command or "?"
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [
        f"Learnt by `seccomp-jail learn` on {now}",
        f"command: {argv}",
        f"in: {cwd}",
        f"{rec.calls} syscalls in {rec.processes} process{'es' * (rec.processes != 1)}"
        + ("" if status is None else f", exit status {status}"),
        "Rules naming a path run in the tracer; the rest are compiled into the kernel filter.",
        "",
    ]
    return [line.replace("\n", " ") for line in lines]
