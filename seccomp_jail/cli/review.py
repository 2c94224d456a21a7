"""`learn --review`: ask about each proposed rule in the terminal, as AppArmor's aa-logprof does.

Answers are read a line at a time from a text stream (stdin), so the review
works over SSH, in a pipe, and in tests that feed it text; prompts go to
another stream (stderr), so `-o -` can write the rules to stdout. When the
answers come from a terminal, the glob prompt is prefilled with readline.
"""

from __future__ import annotations

import sys
from typing import TextIO

from seccomp_jail.cli.helpformat import display_width, joined
from seccomp_jail.i18n import tr
from seccomp_jail.policy.errors import RuleError
from seccomp_jail.policy.learn import Proposal, render
from seccomp_jail.policy.parse import parse_rules

LABEL_COLUMNS = 8  # the evidence lines' labels, padded: "  when    ..."


class Prompter:
    """Reads one answer line at a time; None at end of input."""

    def __init__(self, answers: TextIO, out: TextIO) -> None:
        self.answers = answers
        self.out = out
        # input() can prefill with readline, but prints its prompt on stdout:
        # only when both are the terminal (stdout may be the rule file).
        self.tty = answers is sys.stdin and answers.isatty() and sys.stdout.isatty()

    def ask(self, prompt: str, prefill: str = "") -> str | None:
        if self.tty:
            return self._ask_tty(prompt, prefill)
        self.out.write(prompt)
        self.out.flush()
        line = self.answers.readline()
        if not line:
            self.out.write("\n")
            return None
        return line.rstrip("\n")

    def _ask_tty(self, prompt: str, prefill: str) -> str | None:
        import readline

        readline.set_startup_hook(lambda: readline.insert_text(prefill))
        try:
            return input(prompt)
        except EOFError:
            return None
        finally:
            readline.set_startup_hook()


def show(p: Proposal, number: int, count: int) -> str:
    """The rule and its evidence, as the review shows it."""
    lines = [f"[{number}/{count}] {p.action.value}: {', '.join(p.syscalls)}"]
    if p.args:
        lines.append(_field(tr("when"), joined(p.args, tr("{a} and {b}"))))
    lines.append(_field(tr("seen"), p.total.describe().render(tr)))
    if p.path:
        for glob in p.path:
            tally = p.entries.get(glob)
            note = ""
            if tally is not None:
                examples = [e for e in tally.examples if e != glob]
                more = tr("; e.g. {examples}").format(examples=", ".join(examples)) if examples else ""
                note = f"  ({tally.describe().render(tr)}{more})"
            lines.append(_field(tr("path"), f"{glob}{note}"))
    elif len(p.syscalls) > 1:
        counts = ", ".join(f"{name} {p.entries[name].calls}" for name in p.syscalls if name in p.entries)
        lines.append(_field(tr("calls"), counts))
    elif p.total.examples:
        lines.append(_field(tr("e.g."), p.total.examples[0]))
    return "\n".join(lines) + "\n"


def _field(label: str, text: str) -> str:
    return f"  {label}{' ' * max(1, LABEL_COLUMNS - display_width(label))}{text}"


def _edit_globs(p: Proposal, prompter: Prompter) -> Proposal | None:
    """Ask for a new glob for each path, prefilled with the proposal; None at end of input."""
    changes: dict[str, str] = {}
    for glob in p.path:
        answer = prompter.ask(tr("  glob for {glob} (Enter keeps, - drops): ").format(glob=glob), prefill=glob)
        if answer is None:
            return None
        answer = answer.strip()
        if answer == "-":
            changes[glob] = ""
        elif answer:
            changes[glob] = answer
    return p.with_globs(changes)


def _problem(p: Proposal) -> str | None:
    """What the parser says about an edited rule, or None if it is fine."""
    if not p.path:
        return tr("that drops every path (skip the rule with 's' instead)")
    try:
        parse_rules(render([p], []), "edited rule")
    except RuleError as exc:
        return exc.render(tr)
    return None


def review_proposals(proposals: list[Proposal], answers: TextIO, out: TextIO) -> list[Proposal]:
    """The rules the user kept, as they changed them; finishing (or end of input)
    accepts the remaining ones as proposed."""
    prompter = Prompter(answers, out)
    kept: list[Proposal] = []
    for index, proposal in enumerate(proposals):
        current = proposal
        out.write("\n" + show(current, index + 1, len(proposals)))
        while True:
            answer = prompter.ask(tr("(a)llow (d)eny (g)lob (s)kip (f)inish? "))
            key = "f" if answer is None else answer.strip()[:1].lower()
            if key == "a":
                kept.append(current.with_action(allow=True))
            elif key == "d":
                kept.append(current.with_action(allow=False))
            elif key == "s":
                pass
            elif key == "f":
                return kept + [current] + proposals[index + 1:]
            elif key == "g" and current.path:
                edited = _edit_globs(current, prompter)
                if edited is None:  # end of input: finish
                    return kept + [current] + proposals[index + 1:]
                problem = _problem(edited)
                if problem:
                    out.write(tr("  {problem}; the rule stays as it was").format(problem=problem) + "\n")
                else:
                    current = edited
                    out.write(show(current, index + 1, len(proposals)))
                continue
            elif key == "g":
                out.write(tr("  this rule has no paths to glob") + "\n")
                continue
            else:
                out.write(tr("""\
  a  allow: keep the rule as shown
  d  deny: the same rule, failing with EPERM
  g  glob: edit the paths of a path rule (Enter keeps a path, '-' drops it)
  s  skip: leave the rule out; the default (abort-forever, EPERM) applies
  f  finish: accept this and every remaining rule as proposed""") + "\n")
                continue
            break
    return kept
