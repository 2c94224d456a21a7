"""`seccomp-jail rules presets|new|check|show|bpf`: write, check and inspect rule files.

Everything here is read-only but `new`; `show` and `bpf` compile the file
exactly as `run` would, so what they print is what the kernel and the
tracer will do. FILE may also name a preset (`rules show no-network`).
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import TYPE_CHECKING

from seccomp_jail.cli.commands import help_of
from seccomp_jail.cli.helpformat import HelpFormatter, display_width, joined, pad, terminal_columns, wrap_text
from seccomp_jail.i18n import tr
from seccomp_jail.message import os_reason

if TYPE_CHECKING:
    from seccomp_jail.message import Message

_RULES_HELP = """\
Write, check and inspect rule files (TOML; the language is in docs/rules.md).

examples:
  seccomp-jail rules presets                       # the shipped rule files
  seccomp-jail rules new --preset no-network -o app.toml
  seccomp-jail rules check app.toml                # exit 2 and file:line if wrong
  seccomp-jail rules show app.toml                 # rules in order, where each is enforced
  seccomp-jail rules show @file-system             # what a group expands to here
  seccomp-jail rules bpf app.toml                  # the filter the kernel will run
"""

def add_parser(sub) -> None:
    """Add `rules` and its subcommands to the main parser's subparsers."""
    rules = sub.add_parser(
        "rules", help=help_of("rules"),
        description=_RULES_HELP, formatter_class=HelpFormatter)
    commands = rules.add_subparsers(dest="rules_command", metavar="{presets,new,check,show,bpf}",
                                    required=True)
    p = commands.add_parser("presets", help="list the presets shipped with seccomp-jail")
    p.set_defaults(func=run_presets)
    p = commands.add_parser("new", help="start a rule file from a preset")
    p.add_argument("--preset", required=True, metavar="NAME", help="see `rules presets`")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write it ('-': stdout)")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=run_new)
    p = commands.add_parser("check", help="check a rule file: 'ok' or the first mistake, exit 2")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=run_check)
    p = commands.add_parser(
        "show", help="the rules in precedence order, where each is enforced, what it expands to")
    p.add_argument("file", metavar="FILE", nargs="?", help="a rule file, a preset, or a group (@name, %%name)")
    p.add_argument("--groups", action="store_true", help="list every group and its syscalls on this machine")
    p.set_defaults(func=run_show)
    p = commands.add_parser("bpf", help="the BPF program the kernel will run, disassembled")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--pfc", action="store_true", help="libseccomp's pseudo-code instead")
    p.set_defaults(func=run_bpf)


def _load(path: str):
    """The RuleSet, or None after printing the one-line error."""
    from seccomp_jail.policy.errors import RuleError
    from seccomp_jail.policy.parse import load_rules

    try:
        return load_rules(path)
    except RuleError as exc:
        print(exc.render(tr), file=sys.stderr)
        return None


def run_presets(args: argparse.Namespace) -> int:
    from seccomp_jail.policy.presets import list_presets

    presets = list_presets()
    width = max(len(name) for name, _ in presets)
    for name, description in presets:
        print(f"{name:<{width}}  {description}")
    return 0


def run_new(args: argparse.Namespace) -> int:
    from seccomp_jail.policy.presets import UnknownPreset, preset_text

    try:
        text = preset_text(args.preset)
    except UnknownPreset as exc:
        print(f"seccomp-jail: {exc.render(tr)}", file=sys.stderr)
        return 2
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    # O_EXCL: never clobber a file that appeared since the user looked.
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if args.force else os.O_EXCL)
    try:
        fd = os.open(args.output, flags, 0o644)
    except FileExistsError:
        print("seccomp-jail: " + tr("{file} exists (use --force to overwrite it)").format(file=args.output),
              file=sys.stderr)
        return 1
    except OSError as exc:
        print("seccomp-jail: " + tr("cannot write {file}: {reason}").format(file=args.output, reason=os_reason(exc)),
              file=sys.stderr)
        return 1
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    print(tr("{file}: written from preset {preset}").format(file=args.output, preset=args.preset), file=sys.stderr)
    return 0


def run_check(args: argparse.Namespace) -> int:
    ruleset = _load(args.file)
    if ruleset is None:
        return 2
    count = len(ruleset.rules)
    print(tr("{file}: ok, {count} rules" if count != 1 else "{file}: ok, {count} rule").format(
        file=args.file, count=count))
    return 0


def run_bpf(args: argparse.Namespace) -> int:
    ruleset = _load(args.file)
    if ruleset is None:
        return 2
    from seccomp_jail.arch.syscalls import native_table
    from seccomp_jail.policy.bpfdump import disassemble
    from seccomp_jail.policy.compile import compile_rules

    table = native_table()
    compiled = compile_rules(ruleset, table, with_pfc=args.pfc)
    if args.pfc:
        sys.stdout.write(compiled.pfc)
    else:
        print("\n".join(disassemble(compiled.bpf, table)))
    return 0


# -- show ------------------------------------------------------------------

def run_show(args: argparse.Namespace) -> int:
    from seccomp_jail.policy.groups import is_group_name

    if args.groups:
        return _show_groups(None)
    if not args.file:
        print("seccomp-jail: " + tr("rules show needs FILE, @group or --groups"), file=sys.stderr)
        return 2
    if is_group_name(args.file) and not os.path.exists(args.file):
        return _show_groups(args.file)
    ruleset = _load(args.file)
    if ruleset is None:
        return 2
    print("\n".join(show_lines(ruleset, args.file)))
    return 0


def _width() -> int:
    return max(60, min(terminal_columns(100), 120))


def _show_groups(name: str | None) -> int:
    from seccomp_jail.arch.syscalls import native_table
    from seccomp_jail.message import Message, with_hint
    from seccomp_jail.policy.errors import did_you_mean
    from seccomp_jail.policy.groups import expand_group, group_description, group_names

    table = native_table()
    names = group_names() if name is None else [name]
    if name is not None and name not in group_names():
        unknown = with_hint(Message("unknown group {group}", group=repr(name)), did_you_mean(name, group_names()))
        print(f"seccomp-jail: {unknown.render(tr)}", file=sys.stderr)
        return 2
    for group in names:
        members = expand_group(group, table)
        print(f"{group} ({len(members)}): {tr(group_description(group))}")
        print(textwrap.fill(" ".join(members), _width(), initial_indent="    ",
                            subsequent_indent="    ", break_on_hyphens=False))
    return 0


def show_lines(ruleset, filename: str) -> list[str]:
    """The `rules show` table: rules in precedence order, then the default and the jail's own rules."""
    from seccomp_jail.arch.syscalls import native_table
    from seccomp_jail.policy.compile import ALWAYS_DENIED, compile_rules

    table = native_table()
    placements = compile_rules(ruleset, table).placements
    width = _width()
    n = len(ruleset.rules)
    default = _action(ruleset.default, ruleset.default_errno)
    lines = [
        tr("{file}: {count} rules, default {action}" if n != 1 else "{file}: {count} rule, default {action}").format(
            file=filename, count=n, action=default),
        tr("For each syscall the first rule that matches wins; the default applies when none does."),
        "",
        f"{'#':>3} {pad(tr('line'), 5, right=True)}  {pad(tr('action'), 22)} {pad(tr('enforced'), 15)} "
        + tr("syscalls"),
    ]
    indent = " " * 50  # under the syscalls column
    decided: set[int] = set()  # syscalls an earlier unconditional rule always takes
    any_racy = False
    for number, rule in enumerate(ruleset.rules, 1):
        names = [table.name(nr) for nr in rule.syscalls]
        where = _where(rule, placements, decided, table, ALWAYS_DENIED)
        written = " ".join(rule.written) or " ".join(names)
        if any(w.startswith(("@", "%")) for w in rule.written):
            written += f" = {' '.join(names)}"
        written += f" ({len(names)})" if len(names) > 1 else ""
        line = rule.source.line if rule.source and rule.source.line else ""
        head = f"{number:>3} {line:>5}  {_action(rule.action, rule.errno, rule):<22} {pad(where[0], 15)} "
        body = textwrap.wrap(written, max(20, width - display_width(head)), break_on_hyphens=False)
        lines.append(head + body[0])
        lines.extend(indent + part for part in body[1:])
        for detail in [*_conditions(rule), *where[1:]]:
            lines.append(indent + detail)
        if rule.comment:
            lines.append(indent + f"# {rule.comment}")
        any_racy |= bool(rule.path or rule.addr or rule.port or rule.scope)
        if not rule.args and not rule.needs_tracer:
            decided.update(rule.syscalls)
    named = {nr for rule in ruleset.rules for nr in rule.syscalls}
    rest = [p for nr, p in placements.items() if nr not in named and not p.reason]
    in_kernel = sum(p.where == "kernel" for p in rest)
    lines += [
        "",
        tr("default: {action} for the {count} other syscalls ({kernel} decided in the kernel, {tracer} in the tracer)"
           if len(rest) != 1 else
           "default: {action} for the {count} other syscall ({kernel} decided in the kernel, {tracer} in the tracer)"
           ).format(action=default, count=len(rest), kernel=in_kernel, tracer=len(rest) - in_kernel),
        "",
        tr("jail rules (added whatever the file says; see docs/rules.md):"),
    ]
    reasons: dict[tuple[str, str, Message], list[str]] = {}
    for nr, p in sorted(placements.items()):
        if p.reason:
            reasons.setdefault((p.where, p.summary, p.reason), []).append(table.name(nr))
    for (where, summary, reason), names in reasons.items():
        lines.append("  " + tr("{names}: {summary} [{where}] ({reason})").format(
            names=", ".join(names), summary=summary, where=_place(where), reason=reason.render(tr)))
    lines += ["", tr("unknown syscall numbers, i386 and x32 calls: ENOSYS [kernel]")]
    if any_racy:
        lines += [""] + wrap_text(tr(
            "note: path, addr and port conditions are read from the task's memory by the tracer while "
            "the syscall waits; another thread of the task can rewrite that memory between the "
            "check and the kernel's own read (TOCTOU). They steer and log well-behaved programs; "
            "they are no barrier against a hostile one. Scopes (exe, comm, under) are read from "
            "/proc and change when the task execs or renames itself."), width)
    return lines


def _action(action, errno_value: int, rule=None) -> str:
    import errno

    text = action.value
    if rule is not None and rule.returns is not None:
        return f"{text} return {rule.returns}"
    if rule is not None and rule.replace_return is not None:
        return f"{text} -> {rule.replace_return}"
    if action.denies:
        text += " " + errno.errorcode.get(errno_value, str(errno_value))
    return text


def _place(where: str) -> str:
    """"kernel", "tracer", "kernel+tracer" or "never" (where a rule is
    enforced) in the user's language: the names stay English inside."""
    return {"kernel": tr("kernel"), "tracer": tr("tracer"), "kernel+tracer": tr("kernel+tracer"),
            "never": tr("never")}[where]


def _where(rule, placements, decided: set[int], table, always_denied) -> list[str]:
    """[where the rule is enforced (see _place), detail lines...] for one rule."""
    notes = []
    jail = [table.name(nr) for nr in rule.syscalls if table.name(nr) in always_denied]
    shadowed = [table.name(nr) for nr in rule.syscalls if nr in decided]
    live = [nr for nr in rule.syscalls if nr not in decided and table.name(nr) not in always_denied]
    if jail:
        notes.append("! " + tr("never applies to {names}: the jail denies them").format(names=", ".join(jail)))
    if shadowed:
        notes.append("! " + tr("never reached for {names}: an earlier rule takes every call").format(
            names=", ".join(shadowed)))
    kinds = {"tracer" if rule.needs_tracer else placements[nr].where for nr in live if nr in placements}
    if not live:
        where = "never"
    elif len(kinds) == 1:
        where = kinds.pop()
    else:
        where = "kernel+tracer"
        traced = [table.name(nr) for nr in live if placements[nr].where == "tracer"]
        notes.append(tr("in the tracer: {names}").format(names=", ".join(traced)))
    return [_place(where), *notes]


def _conditions(rule) -> list[str]:
    """The rule's conditions, one line each, as `if ...`."""
    from seccomp_jail.policy.model import When

    out = [tr("if {condition}").format(condition=f"arg{c.arg} & {c.mask:#x} == {c.value:#x}" if c.op == "&"
                                       else f"arg{c.arg} {c.op} {c.value:#x}")
           for c in rule.args]
    racy, either = tr("{condition}  (racy: see note)"), tr("{a} or {b}")
    if rule.path:
        out.append(racy.format(condition=tr("if path matches {globs}").format(globs=joined(rule.path, either))))
    if rule.addr:
        out.append(racy.format(condition=tr("if address in {networks}").format(networks=joined(rule.addr, either))))
    if rule.port:
        out.append(racy.format(condition=tr("if port is {ports}").format(ports=joined(map(str, rule.port), either))))
    if rule.scope:
        for key in ("exe", "comm", "under"):
            values = getattr(rule.scope, key)
            if values:
                out.append(tr("if {key} is {values}").format(key=key, values=joined(values, either)))
    if rule.when:
        w: When = rule.when
        text = str(w.first) + (f"..{w.last}" if w.last is not None else "") + (f"+{w.step}" if w.step else "")
        out.append(tr("when {when} (counting this rule's matching calls)").format(when=text))
    return out
