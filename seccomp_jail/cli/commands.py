"""The subcommands: module and one-line help.

A command line that starts with a command builds (and imports) that
command's parser alone, which keeps `seccomp-jail run` quick to start; only
the top-level help, which lists them all, needs every one.
"""

COMMANDS = {
    "run": ("run_cmd", "run a program in the jail"),
    "log": ("log_cmd", "summarise or list a run recorded with --db"),
    "rules": ("rules_cmd", "write, check and inspect rule files"),
    "learn": ("learn_cmd", "run a program permissively and write the rules it needs"),
}


def help_of(name: str) -> str:
    return COMMANDS[name][1]


def add_durations_option(parser) -> None:
    """strace's -T, for `run`'s text log and for `log show`'s: one option, one help text."""
    parser.add_argument("-T", dest="durations", action="store_true",
                        help="end each syscall's line with the time it ran, <seconds> (as strace -T)")
