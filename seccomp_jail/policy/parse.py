"""Read a rule file (TOML) into a `RuleSet`, or say in one line what is wrong.

The format, version 1:

    version = 1
    default = "allow-forever"      # action for every syscall no rule names
    errno = "EPERM"                # errno of `default` when it aborts (optional)

    [[rule]]
    syscall = ["open", "@mount"]   # names, numbers 0..1023, groups; or one of them
    action = "abort"               # allow-forever abort-forever allow abort notify
    errno = "EACCES"               # abort / abort-forever only; EPERM when absent
    args = ["arg2 & O_ACCMODE == O_WRONLY", "arg0 > 2"]  # all must hold
    comment = "why this rule"      # optional, shown by `rules show`

Keys only the tracer can check (not on `-forever` rules, see docs/rules.md):

    path = ["/etc/**", "/tmp/*.log"]   # globs on the absolute path argument(s)
    addr = ["10.0.0.0/8", "::1"]       # networks of the sockaddr argument
    port = [53, 443]                   # ports of the sockaddr argument
    exe = "/usr/bin/curl"              # executable glob(s) of the calling task
    comm = "make"                      # command name(s) of the calling task
    under = ["make", "/usr/bin/ssh"]   # ...of the task or any of its ancestors
    when = "3+3"                       # strace's first[..last][+[step]]: calls taken
    return = 0                         # action abort: skip the syscall, return this
    replace-return = 0                 # action allow: run it, then return this

An argument condition is `argN OP VALUE` (OP one of == != < <= > >=) or
`argN & MASK == VALUE`, N from 0 to 5; values are integers (0x1f, 0o17,
-100) or the constants the log prints, ORed (`O_WRONLY|O_CREAT`, `AF_INET`,
`SIGKILL`). Like the kernel, it compares unsigned 64-bit values.

A glob's `*` and `?` stay within one path component, `**` (a whole
component) spans any number of them, `[...]` is a character class.

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
from seccomp_jail.message import Message, os_reason
from seccomp_jail.policy.errors import (
    KeyLines,
    KeyPath,
    RuleError,
    did_you_mean,
    shown,
    type_name,
)
from seccomp_jail.policy.groups import expand_group, group_names, is_group_name
from seccomp_jail.policy.model import (
    ACTION_NAMES,
    Action,
    ArgCondition,
    Rule,
    RuleSet,
    Scope,
    Source,
    When,
)

VERSION = 1
VERSION_HINT = Message("this seccomp-jail reads rule files of version {version}", version=VERSION)
MAX_SYSCALL_NR = 1023  # numbers above every table, for syscalls newer than it
MAX_ERRNO = 4095  # the kernel treats -1..-4095 as errors

TOP_KEYS = ("version", "default", "errno", "rule")
# Keys only the tracer can evaluate: conditions read from the task's memory
# or state, per-rule counters and made-up results.
TRACER_KEYS = ("path", "addr", "port", "exe", "comm", "under", "when", "return", "replace-return")
RULE_KEYS = ("syscall", "action", "errno", "args", "comment") + TRACER_KEYS


NARGS = 6
U64 = (1 << 64) - 1
# Patterns are compiled (by re, which caches them) on first use: most rule
# files have no conditions, and start-up pays for nothing they do not use.
_CONDITION = r"""(?sx) \s* arg(?P<arg>\d{1,4}) \s*
    (?: & \s* (?P<mask>[^=!<>\s][^=!<>]*?) \s* )?
    (?P<op>==|!=|<=|>=|<|>) \s* (?P<value>\S.*?) \s*"""
CONDITION_FORM = Message(
    "write 'argN OP VALUE' or 'argN & MASK == VALUE', OP one of == != < <= > >="
)

MAX_COUNT = (1 << 31) - 1  # `when` counts; far beyond any real run
_WHEN = r"(?P<first>\d{1,12})(?:\.\.(?P<last>\d{1,12}))?(?:(?P<plus>\+)(?P<step>\d{1,12})?)?"
WHEN_FORM = Message("write N, 'FIRST..LAST', 'FIRST+STEP' or 'FIRST..LAST+STEP', counting from 1")
UNQUOTED = Message("write numbers without quotes")
INTEGER_OR_CONSTANT = Message("an integer or a constant")
TASK_COMM_LEN = 16  # the kernel keeps 15 bytes of a command name
S64 = 1 << 63


def load_rules(path: str) -> RuleSet:
    """Read and check the rule file at `path`, or a preset's; raises RuleError.

    A bare name that is no file (`no-network`) is a preset shipped with the
    package (seccomp_jail/presets): `run --rules no-network` just works, and
    a file of that name in the current directory still comes first.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        if "/" in path:
            raise RuleError(
                path,
                None,
                Message("cannot read rule file: {reason}", reason="No such file or directory"),
            ) from None
        from seccomp_jail.policy.presets import UnknownPreset, preset_path

        try:
            return load_rules(str(preset_path(path)))
        except UnknownPreset as exc:
            raise RuleError(path, None, Message("no such rule file or preset"), exc.hint) from None
    except OSError as exc:
        raise RuleError(
            path, None, Message("cannot read rule file: {reason}", reason=os_reason(exc))
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RuleError(path, line, Message("rule files must be UTF-8 text")) from None
    return parse_rules(text, path)


def parse_rules(text: str, filename: str) -> RuleSet:
    """Check rule-file text; `filename` is only used in messages and sources."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(text, filename, str(exc)) from None
    except ValueError as exc:  # from int(): more digits than Python converts
        reason = str(exc).split(":")[0]
        raise RuleError(
            filename, None, Message("TOML syntax error: {reason}", reason=reason)
        ) from None
    except RecursionError:
        raise RuleError(
            filename, None, Message("TOML syntax error: values nested too deeply")
        ) from None
    return _Checker(text, filename).rule_set(doc)


def _syntax_error(text: str, filename: str, message: str) -> RuleError:
    """Turn tomllib's "Msg (at line L, column C)" into file:line: message."""
    m = re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.S)
    if m:
        what, line = m[1], int(m[2])
    else:
        # "(at end of document)": the trouble is on the last line with text.
        what = re.sub(r" \(at end of document\)$", "", message)
        line = max((n for n, s in enumerate(text.split("\n"), 1) if s.strip()), default=1)
    reason = what[:1].lower() + what[1:]
    syntax = Message(
        "TOML syntax error: {reason} at column {column}"
        if m
        else "TOML syntax error: {reason} at the end of the file",
        reason=reason,
        column=m[3] if m else None,
    )
    # `[rule]` next to `[[rule]]` is the likeliest cause of a clash: say so.
    single = re.search(r"^[ \t]*\[[ \t]*rule[ \t]*\]", text, re.M)
    hint = None
    if single:
        at = text.count("\n", 0, single.start()) + 1
        hint = Message("line {line} has [rule]: write [[rule]] for every rule", line=at)
    return RuleError(filename, line, syntax, hint)


class _Checker:
    """Walks the parsed document; each `_x` method checks one kind of value.

    Every error names the line of the key at fault (or of the `[[rule]]`
    header for a key that is missing).
    """

    def __init__(self, text: str, filename: str) -> None:
        self.file = filename
        self.lines = KeyLines(text)
        self.table = native_table()

    def error(self, path: KeyPath, message: Message, hint: Message | None = None) -> RuleError:
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
                Message("'rule' is a single table, not a list of rules"),
                Message("write [[rule]] with double brackets before each rule"),
            )
        return RuleSet(
            default=default,
            default_errno=errno,
            source=self.file,
            rules=[self._rule(n, r) for n, r in enumerate(rules)],
        )

    def _version(self, doc: dict[str, Any]) -> None:
        if "version" not in doc:
            raise self.error(
                (), Message("missing 'version = 1' at the top of the file"), VERSION_HINT
            )
        version = doc["version"]
        if type(version) is not int:
            raise self.error(
                ("version",),
                Message("'version' must be an integer, not {type}", type=type_name(version)),
                VERSION_HINT,
            )
        if version != VERSION:
            raise self.error(
                ("version",),
                Message("unsupported rule file version {version}", version=shown(version)),
                VERSION_HINT,
            )

    def _rule(self, n: int, rule: Any) -> Rule:
        path: KeyPath = ("rule", n)
        if not isinstance(rule, dict):
            raise self.error(
                path,
                Message("each rule must be a table, not {type}", type=type_name(rule)),
                Message("start each rule with a [[rule]] header"),
            )
        self._known_keys(path, rule, RULE_KEYS, TOP_KEYS)
        for key in ("syscall", "action"):
            if key not in rule:
                raise self.error(path, Message("rule has no '{key}'", key=key))
        action = self._action(path + ("action",), rule["action"])
        comment = rule.get("comment", "")
        if not isinstance(comment, str):
            raise self.error(path + ("comment",), _not_a_string("comment", comment))
        syscalls, written = self._syscalls(path + ("syscall",), rule["syscall"])
        self._tracer_only(path, rule, action)
        returns = self._result(path, rule, "return", action, Action.ABORT)
        replace_return = self._result(path, rule, "replace-return", action, Action.ALLOW)
        if returns is not None and "errno" in rule:
            raise self.error(
                path + ("errno",),
                Message("'errno' and 'return' both set the result"),
                Message("keep one: errno = E makes the syscall return -E"),
            )
        names = [self.table.name(nr) for nr in syscalls]
        return Rule(
            syscalls=syscalls,
            action=action,
            errno=self._errno(path + ("errno",), rule, action),
            args=self._conditions(path + ("args",), rule.get("args", []), syscalls),
            source=Source(self.file, self.lines.line(path)),
            comment=comment,
            written=written,
            path=self._paths(path, rule, names),
            addr=self._networks(path, rule, names),
            port=self._ports(path, rule, names),
            scope=self._scope(path, rule),
            when=self._when(path + ("when",), rule.get("when")),
            returns=returns,
            replace_return=replace_return,
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
            if key in elsewhere:
                raise self.error(
                    where,
                    Message(
                        "'{key}' does not belong in a rule"
                        if path
                        else "'{key}' does not belong at the top level",
                        key=key,
                    ),
                    Message(
                        "put it above the first [[rule]]"
                        if path
                        else "put it below a [[rule]] header"
                    ),
                )
            unknown = Message(
                "unknown rule key {key}" if path else "unknown top-level key {key}", key=shown(key)
            )
            raise self.error(where, unknown, did_you_mean(key, allowed))

    def _action(self, path: KeyPath, value: Any) -> Action:
        one_of = Message("one of {choices}", choices=", ".join(ACTION_NAMES))
        if not isinstance(value, str):
            raise self.error(path, _not_a_string(str(path[-1]), value), one_of)
        if value not in ACTION_NAMES:
            raise self.error(
                path,
                Message("unknown action {action}", action=shown(value)),
                did_you_mean(value, ACTION_NAMES) or one_of,
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
                Message(
                    "'errno' only applies to abort and abort-forever, not to '{action}'",
                    action=action.value,
                ),
                Message("remove errno or change the action"),
            )
        if isinstance(value, str):
            names = errno_names()
            if value in names:
                return names[value]
            hint = UNQUOTED if value.isdigit() else did_you_mean(value, names)
            raise self.error(path, Message("unknown errno {errno}", errno=shown(value)), hint)
        if type(value) is not int:
            raise self.error(
                path,
                Message(
                    "'errno' must be a name like \"EACCES\" or an integer, not {type}",
                    type=type_name(value),
                ),
            )
        if not 0 <= value <= MAX_ERRNO:
            raise self.error(
                path,
                Message("errno {errno} is out of range", errno=shown(value)),
                _between(0, MAX_ERRNO),
            )
        return value

    def _syscalls(self, path: KeyPath, value: Any) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The numbers a `syscall` value names, in order, each once; and the entries as written."""
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.error(
                path,
                Message("'{key}' is an empty list", key="syscall"),
                Message("name at least one syscall or group"),
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
                    path,
                    Message("syscall number {number} is out of range", number=shown(item)),
                    _between(0, MAX_SYSCALL_NR),
                )
            return [item]
        if not isinstance(item, str):
            raise self.error(
                path,
                Message(
                    "'syscall' must be a name, a number, a group or a list of them, not {type}",
                    type=type_name(item),
                ),
            )
        if is_group_name(item):
            try:
                names = expand_group(item, self.table)
            except KeyError:
                raise self.error(
                    path,
                    Message("unknown syscall group {group}", group=shown(item)),
                    did_you_mean(item, group_names()),
                ) from None
            return sorted(nr for name in names if (nr := self.table.number(name)) is not None)
        nr = self.table.number(item)
        if nr is None:
            hint = (
                UNQUOTED
                if item.isdigit()
                else did_you_mean(item, self.table.names() + group_names())
            )
            raise self.error(path, Message("unknown syscall {syscall}", syscall=shown(item)), hint)
        return [nr]

    # -- argument conditions ----------------------------------------------

    def _conditions(
        self, path: KeyPath, value: Any, syscalls: tuple[int, ...]
    ) -> tuple[ArgCondition, ...]:
        """`args`: a list of condition strings, all of which must hold."""
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise self.error(path, Message("'args' must be a list of strings"), CONDITION_FORM)
        conditions = tuple(self._condition(path, text) for text in value)
        if conditions:
            self._check_arity(path, conditions, syscalls)
        return tuple(_int32_form(c, syscalls) for c in conditions)

    def _condition(self, path: KeyPath, text: str) -> ArgCondition:
        m = re.fullmatch(_CONDITION, text)
        if not m:
            raise self.error(
                path,
                Message("cannot read condition {condition}", condition=shown(text)),
                CONDITION_FORM,
            )
        arg = int(m["arg"])
        if arg >= NARGS:
            raise self.error(
                path,
                Message("no argument arg{arg} in {condition}", arg=arg, condition=shown(text)),
                _between("arg0", f"arg{NARGS - 1}"),
            )
        value = self._constant(path, m["value"])
        if m["mask"] is None:
            return ArgCondition(arg, m["op"], value)
        mask = self._constant(path, m["mask"])
        if m["op"] != "==":
            raise self.error(
                path,
                Message(
                    "a masked condition can only test == in {condition}", condition=shown(text)
                ),
                Message("the kernel compares (arg & MASK) == VALUE"),
            )
        if value & ~mask:
            raise self.error(
                path,
                Message("{condition} can never hold", condition=shown(text)),
                Message("VALUE has bits outside MASK"),
            )
        return ArgCondition(arg, "&", value, mask)

    def _constant(self, path: KeyPath, text: str, key: str | None = None) -> int:
        """An integer or ORed constants, as the unsigned 64-bit word the kernel
        compares; in a condition, or else as the value of `key`."""
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
                unknown = Message(
                    "unknown value {value} in a condition"
                    if key is None
                    else "unknown value {value} in '{key}'",
                    value=shown(term),
                    key=key,
                )
                raise self.error(
                    path, unknown, did_you_mean(term, constant_names()) or INTEGER_OR_CONSTANT
                )
            value |= number
        if not -(1 << 63) <= value <= U64:
            raise self.error(
                path, Message("value {value} does not fit in 64 bits", value=shown(text))
            )
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
                    takes = (
                        Message(
                            "{name} takes {args}",
                            name=name,
                            args=_between("arg0", f"arg{nargs - 1}"),
                        )
                        if nargs
                        else Message("{name} takes no arguments", name=name)
                    )
                    raise self.error(
                        path,
                        Message("{name} has no argument arg{arg}", name=name, arg=c.arg),
                        takes,
                    )

    # -- tracer-only keys --------------------------------------------------

    def _tracer_only(self, path: KeyPath, rule: dict[str, Any], action: Action) -> None:
        """Refuse tracer-only keys on a `-forever` rule: the kernel decides those alone."""
        if not action.forever:
            return
        for key in rule:
            if key in TRACER_KEYS:
                changeable = action.value.removesuffix("-forever")
                raise self.error(
                    path + (key,),
                    Message(
                        "'{key}' needs the tracer: use '{changeable}' instead of '{action}'",
                        key=key,
                        changeable=changeable,
                        action=action.value,
                    ),
                    Message(
                        "-forever rules are decided in the kernel filter, which cannot check it"
                    ),
                )

    def _result(
        self, path: KeyPath, rule: dict[str, Any], key: str, action: Action, wanted: Action
    ) -> int | None:
        """`return` / `replace-return`: a made-up result, with the one action it fits."""
        if key not in rule:
            return None
        where = path + (key,)
        if action is not wanted:
            what = Message(
                "with '{action}' it skips the syscall and returns the value"
                if wanted is Action.ABORT
                else "with '{action}' it lets the syscall run, then replaces its result",
                action=wanted.value,
            )
            raise self.error(
                where,
                Message(
                    "'{key}' only goes with action '{wanted}', not '{action}'",
                    key=key,
                    wanted=wanted.value,
                    action=action.value,
                ),
                what,
            )
        value = rule[key]
        if isinstance(value, str):
            return self._return_constant(where, value)
        if type(value) is not int:
            raise self.error(
                where,
                Message(
                    "'{key}' must be an integer or a constant name, not {type}",
                    key=key,
                    type=type_name(value),
                ),
            )
        if not -S64 <= value < 2 * S64:
            raise self.error(
                where,
                Message("'{key}' {value} does not fit in 64 bits", key=key, value=shown(value)),
            )
        return value - 2 * S64 if value >= S64 else value

    def _return_constant(self, where: KeyPath, text: str) -> int:
        """A constant as a return value; `-ENOENT` negates one (a raw error return)."""
        term = text.strip()
        sign = -1 if term.startswith("-") else 1
        name = term[1:].strip() if sign < 0 else term
        value = errno_names().get(name)
        if value is None and name:
            value = self._constant(where, name, str(where[-1]))
            value = value - 2 * S64 if value >= S64 else value
        if value is None:
            raise self.error(
                where, Message("unknown value {value}", value=shown(text)), INTEGER_OR_CONSTANT
            )
        return sign * value

    def _strings(self, where: KeyPath, value: Any, what: Message) -> tuple[str, ...]:
        """A string or a non-empty list of non-empty strings."""
        key = where[-1]
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in items):
            raise self.error(
                where,
                Message(
                    "'{key}' must be a string or a list of strings, not {type}",
                    key=key,
                    type=type_name(value),
                ),
            )
        if not items:
            raise self.error(
                where,
                Message("'{key}' is an empty list", key=key),
                Message("give at least one {what}", what=what),
            )
        if "" in items:
            raise self.error(
                where,
                Message("'{key}' has an empty string", key=key),
                Message("give a {what}", what=what),
            )
        return tuple(items)

    def _needs_argument(self, where: KeyPath, names: list[str], kind: str) -> None:
        """Refuse a pointer condition on syscalls that take no argument of `kind`."""
        from seccomp_jail.policy import (
            argspec,  # loads the decoders' tables, see _constant
        )

        has_one = argspec.path_args if kind == "path" else argspec.sockaddr_args
        what = Message("a path argument" if kind == "path" else "a socket address argument")
        lacking = [name for name in names if not has_one(name)]
        if not lacking:
            return
        listed = ", ".join(lacking[:6])
        if len(lacking) > 6:
            listed = Message("{names} and {count} more", names=listed, count=len(lacking) - 6)
        needs = Message(
            "'{key}' needs syscalls with {what}; {names} takes none"
            if len(lacking) == 1
            else "'{key}' needs syscalls with {what}; {names} take none",
            key=where[-1],
            what=what,
            names=listed,
        )
        raise self.error(where, needs, Message("give those syscalls a rule of their own"))

    def _paths(self, path: KeyPath, rule: dict[str, Any], names: list[str]) -> tuple[str, ...]:
        if "path" not in rule:
            return ()
        where = path + ("path",)
        globs = self._strings(where, rule["path"], Message('glob like "/etc/**"'))
        example = Message('write "/etc/**" or "/**/*.conf"')
        for glob in globs:
            self._glob(where, glob, example)
        self._needs_argument(where, names, "path")
        return globs

    def _glob(self, where: KeyPath, glob: str, example: Message) -> None:
        """Check a glob on absolute paths: `*` `?` `[...]` within a component, `**` across."""
        if not glob.startswith("/"):
            raise self.error(
                where,
                Message("{glob} is not an absolute path glob", glob=shown(glob)),
                Message("relative paths are resolved before matching; {example}", example=example),
            )
        if "\0" in glob:
            raise self.error(where, Message("{glob} contains a NUL character", glob=shown(glob)))
        for part in glob.split("/"):
            if "**" in part and part != "**":
                raise self.error(
                    where,
                    Message("'**' must be a whole path component in {glob}", glob=shown(glob)),
                    Message("write '/a/**/b' for any depth, '*' within one component"),
                )
            i = part.find("[")
            while i >= 0:
                # A class: `[!...]` negates, a `]` right after the opening is literal.
                start = i + 1 + (part[i + 1 : i + 2] in ("!", "^"))
                end = part.find("]", start + 1)
                if end < 0:
                    raise self.error(
                        where,
                        Message("unclosed '[' in {glob}", glob=shown(glob)),
                        Message("close the character class with ']' within one path component"),
                    )
                i = part.find("[", end + 1)

    def _networks(self, path: KeyPath, rule: dict[str, Any], names: list[str]) -> tuple[str, ...]:
        """`addr`: networks, normalised ("10.0.0.1" -> "10.0.0.1/32")."""
        if "addr" not in rule:
            return ()
        import ipaddress  # only for rules with `addr`

        where = path + ("addr",)
        networks = []
        for text in self._strings(
            where, rule["addr"], Message('address or network like "10.0.0.0/8"')
        ):
            try:
                networks.append(str(ipaddress.ip_network(text.strip())))
            except ValueError:
                try:
                    loose = ipaddress.ip_network(text.strip(), strict=False)
                except ValueError:
                    raise self.error(
                        where,
                        Message("{address} is not an IP address or network", address=shown(text)),
                        Message('write "192.0.2.7", "10.0.0.0/8" or "2001:db8::/32"'),
                    ) from None
                raise self.error(
                    where,
                    Message("{address} has bits set outside its prefix", address=shown(text)),
                    Message("did you mean {choice}?", choice=repr(str(loose))),
                ) from None
        self._needs_argument(where, names, "sockaddr")
        return tuple(networks)

    def _ports(self, path: KeyPath, rule: dict[str, Any], names: list[str]) -> tuple[int, ...]:
        if "port" not in rule:
            return ()
        where = path + ("port",)
        value = rule["port"]
        ports = value if isinstance(value, list) else [value]
        if not ports or not all(type(p) is int for p in ports):
            raise self.error(
                where,
                Message("'port' must be a port number or a non-empty list of them"),
                _between(0, 65535),
            )
        for port in ports:
            if not 0 <= port <= 65535:
                raise self.error(
                    where,
                    Message("port {port} is out of range", port=shown(port)),
                    _between(0, 65535),
                )
        self._needs_argument(where, names, "sockaddr")
        return tuple(ports)

    def _scope(self, path: KeyPath, rule: dict[str, Any]) -> Scope | None:
        """`exe`, `comm`, `under`: which tasks the rule applies to."""
        fields: dict[str, tuple[str, ...]] = {}
        for key in ("exe", "comm", "under"):
            if key not in rule:
                continue
            where = path + (key,)
            items = self._strings(where, rule[key], Message("executable glob or command name"))
            for item in items:
                if key == "exe" or (key == "under" and "/" in item):
                    self._glob(where, item, Message('write "/usr/bin/curl" or "/**/curl"'))
                else:
                    self._comm(where, item)
            fields[key] = items
        return Scope(**fields) if fields else None

    def _comm(self, where: KeyPath, name: str) -> None:
        if "/" in name:
            raise self.error(
                where,
                Message("command name {name} has a '/'", name=shown(name)),
                Message("use 'exe' for executable paths"),
            )
        if len(name.encode()) >= TASK_COMM_LEN:
            kept = name.encode()[: TASK_COMM_LEN - 1].decode(errors="ignore")
            raise self.error(
                where,
                Message(
                    "command name {name} is longer than {count} bytes",
                    name=shown(name),
                    count=TASK_COMM_LEN - 1,
                ),
                Message(
                    "the kernel keeps the first {count}: write {name}",
                    count=TASK_COMM_LEN - 1,
                    name=repr(kept),
                ),
            )

    def _when(self, where: KeyPath, value: Any) -> When | None:
        """strace's `first[..last][+[step]]`, or an integer N for the Nth call only."""
        if value is None:
            return None
        if type(value) is int:
            if not 1 <= value <= MAX_COUNT:
                raise self.error(
                    where,
                    Message("'when' {when} is out of range", when=shown(value)),
                    _between(1, MAX_COUNT),
                )
            return When(first=value)
        if not isinstance(value, str):
            raise self.error(
                where,
                Message("'when' must be a string or an integer, not {type}", type=type_name(value)),
                WHEN_FORM,
            )
        m = re.fullmatch(_WHEN, value.strip())
        if not m:
            raise self.error(
                where, Message("cannot read 'when' {when}", when=shown(value)), WHEN_FORM
            )
        first = int(m["first"])
        last = int(m["last"]) if m["last"] else None
        step = int(m["step"]) if m["step"] else (1 if m["plus"] else 0)
        for number in (first, last, step if m["step"] else None):
            if number is not None and not 1 <= number <= MAX_COUNT:
                raise self.error(
                    where,
                    Message(
                        "{number} in 'when' {when} is out of range",
                        number=number,
                        when=shown(value),
                    ),
                    _between(1, MAX_COUNT),
                )
        if last is not None and last < first:
            raise self.error(
                where,
                Message("'when' {when} ends before it starts", when=shown(value)),
                Message("FIRST..LAST with LAST >= FIRST"),
            )
        return When(first, last, step)


def _between(low: object, high: object) -> Message:
    """The hint for a value out of range: `0 to 4095`."""
    return Message("{low} to {high}", low=low, high=high)


def _not_a_string(key: str, value: object) -> Message:
    """One wording for every key that must be a string: "'comment' must be a string, not ..."."""
    return Message("'{key}' must be a string, not {type}", key=key, type=type_name(value))


@functools.cache
def errno_names() -> dict[str, int]:
    """errno names and their numbers, aliases included (errno.errorcode keeps
    one name per number); built on first use, not at import."""
    return {n: getattr(_errno, n) for n in dir(_errno) if re.fullmatch(r"E[A-Z0-9]+", n)}


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


def _int32_form(cond: ArgCondition, syscalls: tuple[int, ...]) -> ArgCondition:
    """A negative value on an `int` argument, compared as the kernel reads it.

    The kernel reads an int argument from the low 32 bits; glibc passes
    AT_FDCWD (-100) as 0x00000000ffffff9c, a raw syscall may pass it
    sign-extended. `==` compares the low 32 bits only (both forms match); the
    other operators compare against the zero-extended form glibc uses.
    """
    if cond.op == "&" or cond.value >> 31 != (1 << 33) - 1:
        return cond
    from seccomp_jail.policy.argspec import is_int32

    table = native_table()
    if not all(is_int32(table.name(nr), cond.arg) for nr in syscalls):
        return cond
    low = cond.value & 0xFFFFFFFF
    if cond.op == "==":
        return ArgCondition(cond.arg, "&", low, 0xFFFFFFFF)
    return ArgCondition(cond.arg, cond.op, low)
