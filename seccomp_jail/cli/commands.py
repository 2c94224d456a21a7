"""The subcommands: module and one-line help.

The top-level listing needs only these lines; a command's own options are
built (and its module imported) only when that command runs, which keeps
`seccomp-jail run` quick to start.
"""

COMMANDS = {
    "run": ("run_cmd", "run a program in the jail"),
    "log": ("log_cmd", "summarise or list a run recorded with --db"),
    "rules": ("rules_cmd", "write, check and inspect rule files"),
    "learn": ("learn_cmd", "run a program permissively and write the rules it needs"),
}


def help_of(name: str) -> str:
    return COMMANDS[name][1]
