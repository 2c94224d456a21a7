"""`seccomp-jail`: argument parsing and dispatch.

Only argparse is imported up front; each subcommand imports what it needs
when it runs, so `seccomp-jail run -- true` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import signal
import sys

from seccomp_jail import __version__
from seccomp_jail.cli.commands import COMMANDS
from seccomp_jail.cli.helpformat import Parser, translate_argparse
from seccomp_jail.i18n import tr

DESCRIPTION = """\
Run a program in a syscall jail: every system call of the program and of all
its descendants is judged by rules, logged, and can be denied or faked.

  seccomp-jail run -- ls                      # like strace -f: allow all, log all
  seccomp-jail run --rules rules.toml -- mkdir test
  seccomp-jail run --rules r.toml --db run.sqlite --jsonl run.jsonl -o trace.txt -- make -j2
  seccomp-jail log stats run.sqlite           # like strace -c
  seccomp-jail rules show rules.toml          # what goes to the kernel, what to the tracer
  seccomp-jail learn -o app.toml -- ./app     # write the tightest rules that let ./app run
"""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, only that subcommand (and its module): enough
    for a command line that starts with it, the top level just hands it over."""
    translate_argparse()
    parser = Parser(prog="seccomp-jail", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"seccomp-jail {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, _) in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(f"seccomp_jail.cli.{module}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None, closed_std_fds: tuple[int, ...] = ()) -> int:
    """`closed_std_fds`: which of stdin, stdout and stderr we were started
    without (see `entry`); the program run starts without them too."""
    argv = sys.argv[1:] if argv is None else argv
    # Anything before the command (-h, --version, a mistake) may print the
    # top-level help, which lists every command: then all are built.
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    args.closed_std_fds = closed_std_fds
    from seccomp_jail.log.warn import translate_with

    translate_with(tr)  # the log's complaints, in its writer process too
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `seccomp-jail log show DB | head`: the reader left. Stop quietly,
        # with the status of a C program killed by SIGPIPE, as `ls | head`;
        # nothing more goes to the closed pipe when stdout is flushed.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE


def entry() -> None:
    """The `seccomp-jail` command: main(), then exit without Python's teardown.

    Tearing the interpreter down (every module, every object) costs a few ms
    that each jail run would add to the program's time, and nothing needs it
    once main() has returned: the log writer has finished, our threads are
    stopped, and what is buffered is flushed here.
    """
    status = main(closed_std_fds=_reopen_closed_std_fds())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what it lost is lost either way
            pass
    os._exit(status)


def _reopen_closed_std_fds() -> tuple[int, ...]:
    """Put /dev/null on stdin, stdout or stderr where we were started without
    it (`2>&-`, a bare service), and return which.

    Else the first file the jail opens (a log, a pipe to the log writer)
    would become that descriptor, and whatever is written to stderr would
    land in it; and Python leaves sys.stderr None, which the CLI writes to.
    """
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
    for fd in closed:
        try:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free: this one
        except OSError:  # no /dev/null for us (some sandboxes): a descriptor that takes no data
            null = os.open("/", os.O_RDONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        if fd in closed and getattr(sys, name) is None:
            try:
                stream = open(fd, mode, closefd=False)
            except OSError:  # "/" holds the place: nothing to read, nowhere to write
                stream = io.StringIO()
            setattr(sys, name, stream)
    return tuple(closed)
