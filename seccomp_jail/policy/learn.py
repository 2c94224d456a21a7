"""Learning mode: a recorded run -> the tightest rule file that lets it run again.

Pure: it reads log events (as `seccomp_jail.log.query.events` yields them, in
seq order) and returns proposals; the `learn` command does the running, the
reading and the writing. What it proposes:

* syscalls where no argument matters: one `allow-forever` rule (kernel);
* syscalls in `CONDITIONED`, whose argument says what the call does (socket's
  address family, clone's flags): one `allow-forever` rule per value seen;
* syscalls that take a path: an `allow` rule (tracer) per syscall with the
  paths seen, generalised to globs (`generalise`). Calls that name no path
  (`fstat` done as `newfstatat(fd, "", AT_EMPTY_PATH)`, a NULL path) get a
  kernel rule on the flag or the NULL instead, ahead of the path rule;
* `default = "abort-forever"`: everything else fails with EPERM.

Calls that failed are allowed too: the program ran on after the ENOENT, and
the rules decide only whether the kernel runs a call, not what it answers.
Paths are resolved as the tracer resolves them, to absolute paths: against
the process's cwd (followed through chdir/fchdir) or the directory behind a
dirfd (followed through open/dup/close), inherited by child processes.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from seccomp_jail.decode.constants import lookup_constant
from seccomp_jail.decode.signatures import SIGNATURES
from seccomp_jail.decode.symbols import SYMBOLS
from seccomp_jail.decode.text import hexnum, s32
from seccomp_jail.log.events import SyscallEvent, TaskEvent
from seccomp_jail.message import Message
from seccomp_jail.policy.argspec import path_args
from seccomp_jail.policy.model import Action

U64 = (1 << 64) - 1
AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
EXAMPLES = 3  # example paths or calls kept per rule entry

# (syscall -> argument) whose value says what the call does; a learnt rule
# allows exactly the values seen. Only arguments whose meaning is a fixed
# enumeration or flag set belong here (not sizes, fds or addresses).
CONDITIONED: dict[str, int] = {
    "socket": 0,  # address family
    "socketpair": 0,
    "clone": 0,  # flags: fork, vfork, thread
    "prctl": 0,  # option
    "fcntl": 1,  # command
    "ioctl": 1,  # request
    "personality": 0,
    "arch_prctl": 0,  # code
}
# Argument kinds carrying AT_EMPTY_PATH (the call then works on the dirfd).
EMPTY_PATH_FLAG_KINDS = ("at_flags", "statx_flags", "faccess_flags")

# Path generalisation: `/proc/1234/...` names a process, `/dev/pts/3` a terminal.
NUMBERED_TREES = ("/proc", "/dev/pts")
# Scratch directories whose file names change from run to run.
TEMP_ROOTS = ("/tmp", "/var/tmp", "/dev/shm")
# Never collapsed into "<dir>/**": other processes' files and devices.
KEEP_EXACT = ("/proc", "/dev", "/sys/fs/cgroup")
MANY = 3  # distinct paths below a two-level directory that make it "<dir>/**"
UNRESOLVED = "/**"  # for a relative path whose base directory is unknown

# Ways a syscall affects the process state that path resolution follows.
_OPENS = ("open", "openat", "openat2", "creat")
_DUPS = ("dup", "dup2", "dup3")


@dataclass
class Tally:
    """Evidence for one entry of a rule: calls, failures, a few examples."""

    calls: int = 0
    failed: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, failed: bool, example: str | None = None) -> None:
        self.calls += 1
        self.failed += failed
        if example is not None and example not in self.examples and len(self.examples) < EXAMPLES:
            self.examples.append(example)

    def merge(self, other: Tally) -> None:
        self.calls += other.calls
        self.failed += other.failed
        for example in other.examples:
            if example not in self.examples and len(self.examples) < EXAMPLES:
                self.examples.append(example)

    def describe(self) -> Message:
        """`12 calls, 3 failed` (English as a str; a front end renders it in the user's language)."""
        if not self.failed:
            return Message("{count} call" if self.calls == 1 else "{count} calls", count=self.calls)
        return Message("{count} call, {failed} failed" if self.calls == 1 else "{count} calls, {failed} failed",
                       count=self.calls, failed=self.failed)


@dataclass
class Proposal:
    """One proposed `[[rule]]` and where it came from.

    `entries` annotate the list the rule is about: its syscalls (a plain
    rule) or its path globs (a path rule); `total` counts every call behind it.
    """

    syscalls: tuple[str, ...]
    action: Action
    args: tuple[str, ...] = ()
    path: tuple[str, ...] = ()
    comment: str = ""
    entries: dict[str, Tally] = field(default_factory=dict)
    total: Tally = field(default_factory=Tally)

    @property
    def is_path_rule(self) -> bool:
        return bool(self.path)

    def with_action(self, allow: bool) -> Proposal:
        """The same rule allowing or denying (EPERM); path rules stay in the tracer."""
        forever = not self.path
        if allow:
            action = Action.ALLOW_FOREVER if forever else Action.ALLOW
        else:
            action = Action.ABORT_FOREVER if forever else Action.ABORT
        return replace(self, action=action)

    def with_globs(self, globs: dict[str, str]) -> Proposal:
        """Globs replaced (old -> new; new "" drops it), their evidence carried over."""
        entries: dict[str, Tally] = {}
        for old, tally in self.entries.items():
            new = globs.get(old, old)
            if new:
                entries.setdefault(new, Tally()).merge(tally)
        return replace(self, path=tuple(sorted(entries)), entries=entries)


@dataclass(frozen=True)
class PathArg:
    """One path argument of a call: as passed (None: NULL or unreadable) and
    resolved to an absolute path (None: not resolvable)."""

    arg: int
    raw: str | None
    path: str | None


@dataclass
class _Process:
    """What path resolution needs of one process: its cwd and its directory fds."""

    cwd: str | None
    fds: dict[int, str] = field(default_factory=dict)

    def copy(self) -> _Process:
        return _Process(self.cwd, dict(self.fds))


@dataclass
class Recording:
    """The calls of a run, sorted into the evidence each kind of rule needs."""

    plain: dict[str, Tally] = field(default_factory=dict)
    # (syscall, arg, value) -> calls
    valued: dict[tuple[str, int, int], Tally] = field(default_factory=dict)
    # (syscall, condition text) -> calls that named no path (AT_EMPTY_PATH or NULL)
    pathless: dict[tuple[str, str], Tally] = field(default_factory=dict)
    # syscall -> absolute path (or UNRESOLVED) -> calls
    paths: dict[str, dict[str, Tally]] = field(default_factory=dict)
    calls: int = 0
    processes: int = 0


def resolved_calls(events: Iterable[object], cwd: str | None) -> Iterator[tuple[SyscallEvent, list[PathArg]]]:
    """Each syscall of a run (events in seq order) with its path arguments resolved.

    `cwd` is the directory the program started in. The list has one entry
    per path argument (`path_args` order), empty for other syscalls.
    """
    procs: dict[int, _Process] = {}
    for event in events:
        if isinstance(event, TaskEvent):
            if event.kind == "spawn" and event.detail == "process":
                parent = procs.get(event.ppid)
                procs[event.pid] = parent.copy() if parent else _Process(cwd)
            continue
        if not isinstance(event, SyscallEvent):
            continue
        proc = procs.get(event.pid)
        if proc is None:  # the first process, or one whose spawn we did not see
            proc = procs[event.pid] = _Process(cwd)
        specs = path_args(event.syscall)
        found = []
        if specs:
            values = _call_args(event.text)
            for arg, dirfd in specs:
                raw = _unquote(values[arg]) if arg < len(values) else None
                path = _resolve(proc, event.args, dirfd, raw) if raw is not None else None
                found.append(PathArg(arg, raw, path))
        yield event, found
        _follow(event, proc, found)


def record(events: Iterable[object], cwd: str | None) -> Recording:
    """Sort a run's events (seq order); `cwd` is the directory the program started in."""
    rec = Recording()
    pids = set()
    for event, paths in resolved_calls(events, cwd):
        rec.calls += 1
        pids.add(event.pid)
        _sort(rec, event, paths)
    rec.processes = len(pids)
    return rec


def _kinds(name: str) -> list[str]:
    """The decoders' argument kinds of a syscall (`dirfd path ptr at_flags`)."""
    sig = SIGNATURES.get(name)
    return sig.split() if isinstance(sig, str) else []


def _failed(event: SyscallEvent) -> bool:
    return event.retval is not None and event.retval < 0


def _sort(rec: Recording, event: SyscallEvent, paths: list[PathArg]) -> None:
    """Add one call to the evidence of the rule kind it belongs to."""
    name, failed = event.syscall, _failed(event)
    if name in CONDITIONED:
        arg = CONDITIONED[name]
        rec.valued.setdefault((name, arg, event.args[arg]), Tally()).add(failed, event.text)
    elif not paths:
        rec.plain.setdefault(name, Tally()).add(failed)
    for found in paths:
        pathless = pathless_condition(name, found.arg, event.args, found.raw)
        if pathless is not None:
            rec.pathless.setdefault((name, pathless), Tally()).add(failed, event.text)
        else:
            where = rec.paths.setdefault(name, {})
            where.setdefault(found.path or UNRESOLVED, Tally()).add(failed, event.text)


def pathless_condition(name: str, arg: int, args: tuple[int, ...], raw: str | None) -> str | None:
    """The kernel condition for a call that names no path, or None if it names one.

    A NULL path (utimensat on an fd) is `argN == 0`; an empty path with
    AT_EMPTY_PATH works on the dirfd, as fstat does. That flag condition
    cannot see that the path is empty: the price of keeping fstat in the
    kernel (glibc implements fstat this way).
    """
    if args[arg] == 0:
        return f"arg{arg} == 0"
    if raw != "":
        return None
    for i, kind in enumerate(_kinds(name)):
        if kind in EMPTY_PATH_FLAG_KINDS and args[i] & AT_EMPTY_PATH:
            return f"arg{i} & AT_EMPTY_PATH == AT_EMPTY_PATH"
    return None


def _resolve(proc: _Process, args: tuple[int, ...], dirfd: int | None, raw: str) -> str | None:
    """The absolute, normalised path; None when the base directory is unknown."""
    if raw.startswith("/"):
        base: str | None = "/"
    elif dirfd is None or s32(args[dirfd]) == AT_FDCWD:
        base = proc.cwd
    else:
        base = proc.fds.get(s32(args[dirfd]))
    if base is None:
        return None
    path = posixpath.normpath(posixpath.join(base, raw))
    return "/" + path.lstrip("/")  # normpath keeps a leading "//"


def _follow(event: SyscallEvent, proc: _Process, paths: list[PathArg]) -> None:
    """Track the cwd and the fds a later relative path may be resolved against."""
    name, args, ret = event.syscall, event.args, event.retval
    if ret is None or ret < 0:
        return
    if name in _OPENS or name == "chdir":
        path = paths[0].path if paths else None
        if name == "chdir":
            proc.cwd = path
        elif path is not None:
            proc.fds[ret] = path
        else:
            proc.fds.pop(ret, None)
    elif name == "fchdir":
        proc.cwd = proc.fds.get(s32(args[0]))
    elif name in _DUPS:
        source = proc.fds.get(s32(args[0]))
        if source is None:
            proc.fds.pop(ret, None)
        else:
            proc.fds[ret] = source
    elif name == "close":
        proc.fds.pop(s32(args[0]), None)
    elif name in ("socket", "pipe", "pipe2", "eventfd2", "memfd_create", "epoll_create1"):
        proc.fds.pop(ret, None)  # a new fd that is not a directory


# --- the decoded call text ------------------------------------------------------------------

_CLOSERS = {"(": ")", "[": "]", "{": "}"}


def _call_args(text: str) -> list[str]:
    """The top-level arguments of `name(a, "b, c", {d, e})`, as printed."""
    start = text.find("(")
    body = text[start + 1:text.rfind(")")] if start >= 0 else ""
    items, depth, current, quoted, escaped = [], [], [], False, False
    for ch in body:
        if quoted:
            quoted = escaped or ch != '"'
            escaped = not escaped and ch == "\\"
        elif ch == '"':
            quoted = True
        elif ch in _CLOSERS:
            depth.append(_CLOSERS[ch])
        elif depth and ch == depth[-1]:
            depth.pop()
        elif ch == "," and not depth:
            items.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    if current or items:
        items.append("".join(current).strip())
    return items


_ESCAPE = re.compile(r'\\([0-7]{1,3}|.)')
_LETTERS = {"n": 10, "t": 9, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(item: str) -> str | None:
    """A printed C string back to text (undecodable bytes kept as surrogates);
    None for NULL, an address, or a string cut short (`"..."...`)."""
    if not (item.startswith('"') and item.endswith('"') and len(item) >= 2):
        return None

    def byte(m: re.Match) -> str:
        esc = m[1]
        code = int(esc, 8) if esc[0] in "01234567" else _LETTERS.get(esc, ord(esc))
        return chr(0xDC00 + code) if code > 0x7F else chr(code)

    # Printable bytes are printed as themselves, so only escapes can be non-ASCII.
    raw = _ESCAPE.sub(byte, item[1:-1])
    data = raw.encode("utf-8", "surrogateescape")
    return data.decode("utf-8", "surrogateescape")


# --- path globs -----------------------------------------------------------------------------

def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _numbered(path: str) -> str:
    """`/proc/1234/task/1235/stat` -> `/proc/*/task/*/stat`."""
    if any(_under(path, tree) for tree in NUMBERED_TREES):
        return "/".join("*" if part.isdigit() else part for part in path.split("/"))
    return path


def _escape_glob(path: str) -> str:
    """A literal path as a glob: `*?[` bracketed, undecodable bytes as `?`."""
    path = re.sub(r"([*?\[])", r"[\1]", path)
    return re.sub("[\udc80-\udcff]", "?", path)


def _tree(path: str, cwd: str | None, home: str | None) -> str | None:
    """The directory whose whole tree a path stands for, if a fixed rule says so."""
    if cwd and cwd != "/" and _under(path, cwd):
        return cwd  # "<cwd>/**" matches the cwd itself too
    if home and home != "/" and _under(path, home):
        rest = path[len(home.rstrip("/")) + 1:].split("/")
        if len(rest) > 1:  # a directory in ~: ~/.cache/**; files in ~ itself stay exact
            return home.rstrip("/") + "/" + rest[0]
    for root in TEMP_ROOTS:
        if _under(path, root) and path != root:
            return root
    return None


def generalise(paths: Iterable[str], cwd: str | None = None, home: str | None = None) -> dict[str, str]:
    """Absolute path -> the glob that stands for it in the rule file.

    Files below the program's cwd, a dot directory of $HOME or a temp root
    become `<dir>/**` (their names may change from run to run); numbered
    /proc and /dev/pts entries become `*`; MANY or more paths below the same
    two-level system directory (`/usr/lib`, `/etc/ssl`) become `<dir>/**`;
    the rest stay exact. (`<dir>/**` matches `<dir>` itself too.)
    """
    paths = set(paths)
    globs: dict[str, str] = {}
    below: dict[str, set[str]] = {}
    for path in paths:
        if path == UNRESOLVED:
            globs[path] = UNRESOLVED
            continue
        tree = _tree(path, cwd, home)
        if tree is not None:
            globs[path] = _escape_glob(tree) + "/**"
            continue
        globs[path] = _numbered(_escape_glob(path))
        parts = path.split("/")
        if len(parts) > 3 and not any(_under(path, keep) for keep in KEEP_EXACT):
            below.setdefault("/".join(parts[:3]), set()).add(path)
    for directory, members in below.items():
        if len(members) >= MANY:
            for path in members:
                globs[path] = _escape_glob(directory) + "/**"
    return globs


# --- proposals ------------------------------------------------------------------------------

def propose(rec: Recording, cwd: str | None = None, home: str | None = None) -> list[Proposal]:
    """The rules, in the order they must appear (pathless rules before path rules)."""
    proposals: list[Proposal] = []
    if rec.plain:
        total = Tally()
        for tally in rec.plain.values():
            total.merge(tally)
        proposals.append(Proposal(
            syscalls=tuple(sorted(rec.plain)), action=Action.ALLOW_FOREVER,
            comment="learnt: no argument matters", entries=dict(sorted(rec.plain.items())),
            total=total))
    for (name, arg, value), tally in sorted(rec.valued.items()):
        shown = symbolic(name, arg, value)
        proposals.append(Proposal(
            syscalls=(name,), action=Action.ALLOW_FOREVER, args=(f"arg{arg} == {shown}",),
            comment=f"learnt: {name} with {shown}", total=tally))
    for (name, condition), tally in sorted(rec.pathless.items()):
        proposals.append(Proposal(
            syscalls=(name,), action=Action.ALLOW_FOREVER, args=(condition,),
            comment=f"learnt: {name} on a file descriptor, no path", total=tally))
    globs = generalise((p for seen in rec.paths.values() for p in seen), cwd, home)
    for name, seen in sorted(rec.paths.items()):
        entries: dict[str, Tally] = {}
        total = Tally()
        for path, tally in seen.items():
            entries.setdefault(globs[path], Tally()).merge(Tally(tally.calls, tally.failed, [path]))
            total.merge(tally)
        proposals.append(Proposal(
            syscalls=(name,), action=Action.ALLOW, path=tuple(sorted(entries)),
            comment=f"learnt: {name} on {len(seen)} path{'s' * (len(seen) != 1)}",
            entries=dict(sorted(entries.items())), total=total))
    return proposals


def symbolic(name: str, arg: int, value: int) -> str:
    """`AF_UNIX`, `CLONE_VM|CLONE_FS|SIGCHLD`: the decoder's name when it reads back as exactly
    `value`, else hexadecimal."""
    kinds = _kinds(name)
    symbols = SYMBOLS.get(kinds[arg]) if arg < len(kinds) else None
    if symbols is not None:
        text = symbols.format(value)
        number = lookup_constant(text)
        if number is not None and number & U64 == value:
            return text
    return hexnum(value)


# --- the rule file --------------------------------------------------------------------------

def render(proposals: list[Proposal], header: list[str]) -> str:
    """The rule file: `header` lines as comments, default abort-forever (EPERM), the rules."""
    lines = [f"# {line}" if line else "#" for line in header]
    lines += ["version = 1", 'default = "abort-forever"', 'errno = "EPERM"']
    for proposal in proposals:
        lines += [""] + _render_rule(proposal)
    return "\n".join(lines) + "\n"


def _render_rule(p: Proposal) -> list[str]:
    lines = ["[[rule]]"]
    if p.args:
        example = f", e.g. {p.total.examples[0]}" if p.total.examples else ""
        lines.append("# " + _one_line(p.total.describe() + example))
    if p.path or p.args:
        lines.append(f"syscall = {_string(p.syscalls[0])}")
    else:
        lines.append("syscall = " + _annotated(p.syscalls, p.entries, examples=False))
    lines.append(f"action = {_string(p.action.value)}")
    if p.args:
        lines.append("args = [" + ", ".join(_string(a) for a in p.args) + "]")
    if p.path:
        lines.append("path = " + _annotated(p.path, p.entries, examples=True))
    if p.comment:
        lines.append(f"comment = {_string(p.comment)}")
    return lines


def _annotated(items: tuple[str, ...], entries: dict[str, Tally], examples: bool) -> str:
    """A TOML array, one item a line, each followed by a comment with its evidence."""
    width = max(len(_string(item)) for item in items) + 1
    out = ["["]
    for item in items:
        tally = entries.get(item)
        note = ""
        if tally is not None:
            note = tally.describe()
            shown = [e for e in tally.examples if e != item] if examples else []
            if shown:
                note += ", e.g. " + ", ".join(shown)
            note = "  # " + _one_line(note)
        out.append(f"    {(_string(item) + ','):<{width + 1}}{note}".rstrip())
    out.append("]")
    return "\n".join(out)


def _one_line(text: str) -> str:
    """Comment text: no newlines or other control characters, no surrogates."""
    return re.sub(r"[\x00-\x1f\x7f\udc80-\udcff]", "?", text)


def _string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(_one_line(text) if re.search("[\udc80-\udcff]", text) else text)
