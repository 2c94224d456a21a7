"""Read a rule file (TOML) into a `RuleSet`, or say in one line what is wrong.

The format, version 1:

    version = 1
    default = "allow-forever"      # action for every syscall no rule names
    errno = "EPERM"                # errno of `default` when it aborts (optional)

    [[rule]]
    syscall = ["open", "@mount"]   # names, numbers 0..1023, groups; or one of them
    action = "abort"               # allow-forever abort-forever allow abort notify
    errno = "EACCES"               # abort / abort-forever only; EPERM when absent
    args = ["arg2 & O_ACCMODE == O_WRONLY", "arg0 != AT_FDCWD"]  # all must hold
    comment = "why this rule"      # optional, shown by `rules show`

An argument condition is `argN OP VALUE` (OP one of == != < <= > >=) or
`argN & MASK == VALUE`, N from 0 to 5; values are integers (0x1f, 0o17,
-100) or the constants the log prints, ORed (`O_WRONLY|O_CREAT`, `AF_INET`,
`SIGKILL`). Like the kernel, it compares unsigned 64-bit values.

`default` may be left out: it is then `allow` (every syscall traced and
logged, like running without a rule file). The first rule naming a syscall
wins. `version` is checked before anything else so that a newer file fails
with "wrong version" rather than with errors about keys this version lacks.
"""

from __future__ import annotations

import errno as _errno
import functools
import re
import tomllib
from typing import Any

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.policy.errors import KeyLines, KeyPath, RuleError, did_you_mean, shown, type_name
from seccomp_jail.policy.groups import expand_group, group_names, is_group_name
from seccomp_jail.policy.model import ACTION_NAMES, Action, ArgCondition, Rule, RuleSet, Source

VERSION = 1
VERSION_HINT = f"this seccomp-jail reads rule files of version {VERSION}"
MAX_SYSCALL_NR = 1023  # numbers above every table, for syscalls newer than it
MAX_ERRNO = 4095  # the kernel treats -1..-4095 as errors

TOP_KEYS = ("version", "default", "errno", "rule")
RULE_KEYS = ("syscall", "action", "errno", "args", "comment")
# Keys of the richer rule language to come (path conditions, scopes, faked
# return values, counters): recognised so that a file using them gets
# "not supported yet" instead of "unknown key".
FUTURE_RULE_KEYS = ("path", "scope", "return", "when")

# errno names, aliases included (errno.errorcode keeps one name per number).
ERRNO_NAMES = {n: getattr(_errno, n) for n in dir(_errno) if re.fullmatch(r"E[A-Z0-9]+", n)}

NARGS = 6
U64 = (1 << 64) - 1
_CONDITION = re.compile(
    r"""\s* arg(?P<arg>\d{1,4}) \s*
        (?: & \s* (?P<mask>[^=!<>\s][^=!<>]*?) \s* )?
        (?P<op>==|!=|<=|>=|<|>) \s* (?P<value>\S.*?) \s*""",
    re.S | re.X,
)
CONDITION_FORM = "write 'argN OP VALUE' or 'argN & MASK == VALUE', OP one of == != < <= > >="


def load_rules(path: str) -> RuleSet:
    """Read and check the rule file at `path`; raises RuleError."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise RuleError(path, None, f"cannot read rule file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RuleError(path, line, "rule files must be UTF-8 text") from None
    return parse_rules(text, path)


def parse_rules(text: str, filename: str) -> RuleSet:
    """Check rule-file text; `filename` is only used in messages and sources."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(text, filename, str(exc)) from None
    except ValueError as exc:  # from int(): more digits than Python converts
        reason = str(exc).split(":")[0]
        raise RuleError(filename, None, f"TOML syntax error: {reason}") from None
    except RecursionError:
        raise RuleError(filename, None, "TOML syntax error: values nested too deeply") from None
    return _Checker(text, filename).rule_set(doc)


def _syntax_error(text: str, filename: str, message: str) -> RuleError:
    """Turn tomllib's "Msg (at line L, column C)" into file:line: message."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.S)
    if m:
        what, line, where = m[1], int(m[2]), f" at column {m[3]}"
    else:
        # "(at end of document)": the trouble is on the last line with text.
        what, where = re.sub(r" \(at end of document\)$", "", message), " at the end of the file"
        line = max((n for n, s in enumerate(text.split("\n"), 1) if s.strip()), default=1)
    what = what[:1].lower() + what[1:]
    # `[rule]` next to `[[rule]]` is the likeliest cause of a clash: say so.
    single = re.search(r"^[ \t]*\[[ \t]*rule[ \t]*\]", text, re.M)
    hint = None
    if single:
        at = text.count("\n", 0, single.start()) + 1
        hint = f"line {at} has [rule]: write [[rule]] for every rule"
    return RuleError(filename, line, f"TOML syntax error: {what}{where}", hint)


class _Checker:
    """Walks the parsed document; each `_x` method checks one kind of value.

    Every error names the line of the key at fault (or of the `[[rule]]`
    header for a key that is missing).
    """

    def __init__(self, text: str, filename: str) -> None:
        self.file = filename
        self.lines = KeyLines(text)
        self.table = native_table()

    def error(self, path: KeyPath, message: str, hint: str | None = None) -> RuleError:
        return RuleError(self.file, self.lines.line(path) or 1, message, hint)

    def rule_set(self, doc: dict[str, Any]) -> RuleSet:
        self._version(doc)
        self._known_keys((), doc, TOP_KEYS, RULE_KEYS)
        default = self._action(("default",), doc.get("default", Action.ALLOW.value))
        errno = self._errno(("errno",), doc, default)
        rules = doc.get("rule", [])
        if not isinstance(rules, list):
            raise self.error(
                ("rule",),
                "'rule' is a single table, not a list of rules",
                "write [[rule]] with double brackets before each rule",
            )
        return RuleSet(
            default=default,
            default_errno=errno,
            source=self.file,
            rules=[self._rule(n, r) for n, r in enumerate(rules)],
        )

    def _version(self, doc: dict[str, Any]) -> None:
        if "version" not in doc:
            raise self.error((), "missing 'version = 1' at the top of the file", VERSION_HINT)
        version = doc["version"]
        if type(version) is not int:
            raise self.error(
                ("version",),
                f"'version' must be an integer, not {type_name(version)}",
                VERSION_HINT,
            )
        if version != VERSION:
            raise self.error(
                ("version",), f"unsupported rule file version {shown(version)}", VERSION_HINT
            )

    def _rule(self, n: int, rule: Any) -> Rule:
        path: KeyPath = ("rule", n)
        if not isinstance(rule, dict):
            raise self.error(
                path,
                f"each rule must be a table, not {type_name(rule)}",
                "start each rule with a [[rule]] header",
            )
        self._known_keys(path, rule, RULE_KEYS, TOP_KEYS)
        for key in ("syscall", "action"):
            if key not in rule:
                raise self.error(path, f"rule has no '{key}'")
        action = self._action(path + ("action",), rule["action"])
        comment = rule.get("comment", "")
        if not isinstance(comment, str):
            raise self.error(
                path + ("comment",), f"'comment' must be a string, not {type_name(comment)}"
            )
        syscalls, written = self._syscalls(path + ("syscall",), rule["syscall"])
        return Rule(
            syscalls=syscalls,
            action=action,
            errno=self._errno(path + ("errno",), rule, action),
            args=self._conditions(path + ("args",), rule.get("args", []), syscalls),
            source=Source(self.file, self.lines.line(path)),
            comment=comment,
            written=written,
        )

    def _known_keys(
        self,
        path: KeyPath,
        table: dict[str, Any],
        allowed: tuple[str, ...],
        elsewhere: tuple[str, ...],
    ) -> None:
        """Reject keys not in `allowed`; `elsewhere` are keys of the other level."""
        for key in table:
            where = path + (key,)
            if key in allowed:
                continue
            if path and key in FUTURE_RULE_KEYS:
                raise self.error(
                    where, f"rule key '{key}' is not supported by this seccomp-jail yet"
                )
            if key in elsewhere:
                hint = (
                    "put it above the first [[rule]]" if path else "put it below a [[rule]] header"
                )
                raise self.error(
                    where,
                    f"'{key}' does not belong {'in a rule' if path else 'at the top level'}",
                    hint,
                )
            kind = "rule key" if path else "top-level key"
            raise self.error(
                where,
                f"unknown {kind} {shown(key)}",
                did_you_mean(key, allowed + (FUTURE_RULE_KEYS if path else ())),
            )

    def _action(self, path: KeyPath, value: Any) -> Action:
        key = path[-1]
        if not isinstance(value, str):
            raise self.error(
                path,
                f"'{key}' must be a string, not {type_name(value)}",
                "one of " + ", ".join(ACTION_NAMES),
            )
        if value not in ACTION_NAMES:
            raise self.error(
                path,
                f"unknown action {shown(value)}",
                did_you_mean(value, ACTION_NAMES) or "one of " + ", ".join(ACTION_NAMES),
            )
        return Action(value)

    def _errno(self, path: KeyPath, table: dict[str, Any], action: Action) -> int:
        """The errno at `path` (absent: EPERM), allowed only with an aborting action."""
        if "errno" not in table:
            return _errno.EPERM
        value = table["errno"]
        if not action.denies:
            raise self.error(
                path,
                f"'errno' only applies to abort and abort-forever, not to '{action.value}'",
                "remove errno or change the action",
            )
        if isinstance(value, str):
            if value in ERRNO_NAMES:
                return ERRNO_NAMES[value]
            hint = (
                "write numbers without quotes"
                if value.isdigit()
                else did_you_mean(value, ERRNO_NAMES)
            )
            raise self.error(path, f"unknown errno {shown(value)}", hint)
        if type(value) is not int:
            raise self.error(
                path,
                f"'errno' must be a name like \"EACCES\" or an integer, not {type_name(value)}",
            )
        if not 0 <= value <= MAX_ERRNO:
            raise self.error(path, f"errno {shown(value)} is out of range", f"0 to {MAX_ERRNO}")
        return value

    def _syscalls(self, path: KeyPath, value: Any) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The numbers a `syscall` value names, in order, each once; and the entries as written."""
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.error(
                path, "'syscall' is an empty list", "name at least one syscall or group"
            )
        numbers: dict[int, None] = {}  # an ordered set
        for item in items:
            numbers.update(dict.fromkeys(self._syscall(path, item)))
        return tuple(numbers), tuple(str(item) for item in items)

    def _syscall(self, path: KeyPath, item: Any) -> list[int]:
        """One entry of `syscall`: a name, a number or a group."""
        if type(item) is int:
            if not 0 <= item <= MAX_SYSCALL_NR:
                raise self.error(
                    path, f"syscall number {shown(item)} is out of range", f"0 to {MAX_SYSCALL_NR}"
                )
            return [item]
        if not isinstance(item, str):
            raise self.error(
                path,
                f"'syscall' must be a name, a number, a group or a list of them, "
                f"not {type_name(item)}",
            )
        if is_group_name(item):
            try:
                names = expand_group(item, self.table)
            except KeyError:
                raise self.error(
                    path, f"unknown syscall group {shown(item)}", did_you_mean(item, group_names())
                ) from None
            return sorted(nr for name in names if (nr := self.table.number(name)) is not None)
        nr = self.table.number(item)
        if nr is None:
            hint = (
                "write numbers without quotes"
                if item.isdigit()
                else did_you_mean(item, self.table.names() + group_names())
            )
            raise self.error(path, f"unknown syscall {shown(item)}", hint)
        return [nr]

    # -- argument conditions ----------------------------------------------

    def _conditions(
        self, path: KeyPath, value: Any, syscalls: tuple[int, ...]
    ) -> tuple[ArgCondition, ...]:
        """`args`: a list of condition strings, all of which must hold."""
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise self.error(path, "'args' must be a list of strings", CONDITION_FORM)
        conditions = tuple(self._condition(path, text) for text in value)
        if conditions:
            self._check_arity(path, conditions, syscalls)
        return conditions

    def _condition(self, path: KeyPath, text: str) -> ArgCondition:
        m = _CONDITION.fullmatch(text)
        if not m:
            raise self.error(path, f"cannot read condition {shown(text)}", CONDITION_FORM)
        arg = int(m["arg"])
        if arg >= NARGS:
            raise self.error(path, f"no argument arg{arg} in {shown(text)}", "arg0 to arg5")
        value = self._constant(path, m["value"])
        if m["mask"] is None:
            return ArgCondition(arg, m["op"], value)
        mask = self._constant(path, m["mask"])
        if m["op"] != "==":
            raise self.error(
                path,
                f"a masked condition can only test == in {shown(text)}",
                "the kernel compares (arg & MASK) == VALUE",
            )
        if value & ~mask:
            raise self.error(path, f"{shown(text)} can never hold", "VALUE has bits outside MASK")
        return ArgCondition(arg, "&", value, mask)

    def _constant(self, path: KeyPath, text: str) -> int:
        """An integer or ORed constants, as the unsigned 64-bit word the kernel compares."""
        # Imported here: the decoders' tables take tens of milliseconds to
        # load, and only rule files with conditions need them.
        from seccomp_jail.decode.constants import constant_names, lookup_constant

        value = 0
        for term in (t.strip() for t in text.split("|")):
            try:
                number = lookup_constant(term)
            except ValueError:  # from int(): more digits than Python converts
                number = 1 << 64
            if number is None:
                hint = did_you_mean(term, constant_names()) or "an integer or a constant"
                raise self.error(path, f"unknown value {shown(term)} in a condition", hint)
            value |= number
        if not -(1 << 63) <= value <= U64:
            raise self.error(path, f"value {shown(text)} does not fit in 64 bits")
        return value & U64

    def _check_arity(
        self, path: KeyPath, conditions: tuple[ArgCondition, ...], syscalls: tuple[int, ...]
    ) -> None:
        """Reject a condition on an argument one of the rule's syscalls does not take."""
        for nr in syscalls:
            name = self.table.name(nr)
            nargs = arity(name)
            for c in conditions:
                if c.arg >= nargs:
                    takes = f"arg0 to arg{nargs - 1}" if nargs else "no arguments"
                    raise self.error(
                        path, f"{name} has no argument arg{c.arg}", f"{name} takes {takes}"
                    )


@functools.cache
def arity(name: str) -> int:
    """How many arguments a syscall takes, from the decoders' signatures; 6 if undescribed.

    Some syscalls take more arguments for some values of an earlier one
    (openat's mode with O_CREAT): the decoders' `SWITCHES`; count the most.
    """
    from seccomp_jail.decode.signatures import SIGNATURES, SWITCHES  # see _constant

    if name not in SIGNATURES:
        return NARGS
    extra = 0
    if name in SWITCHES:
        _, cases, otherwise = SWITCHES[name]
        extra = max(len(kinds.split()) for kinds in [*cases.values(), otherwise])
    return len(SIGNATURES[name].split()) + extra
