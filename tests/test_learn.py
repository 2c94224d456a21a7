"""Learning mode, the pure parts: path resolution, globs, conditions, the file, the review."""

from __future__ import annotations

import io

import pytest

from seccomp_jail.cli.review import review_proposals
from seccomp_jail.log.events import SyscallEvent, TaskEvent
from seccomp_jail.policy import learn
from seccomp_jail.policy.glob import glob_match
from seccomp_jail.policy.model import Action
from seccomp_jail.policy.parse import parse_rules

U64 = (1 << 64) - 1
AT_FDCWD = -100 & U64
PTR = 0x7F0000000000
NR = {"openat": 257, "chdir": 80, "fchdir": 81, "close": 3, "newfstatat": 262, "read": 0,
      "socket": 41, "clone": 56, "execve": 59, "utimensat": 280, "ioctl": 16}


class Run:
    """Builds the events of a made-up run, in seq order."""

    def __init__(self) -> None:
        self.events: list[object] = []

    def call(self, name: str, text: str, args=(), retval: int = 0, pid: int = 100) -> Run:
        """Arguments not given are a pointer (with no flag bits in its low half)."""
        args = tuple(args) + (PTR,) * (6 - len(args))
        self.events.append(SyscallEvent(len(self.events), 0.0, pid, pid, NR[name], name, args,
                                        text, "allow", "default", retval, None, str(retval), None))
        return self

    def spawn(self, pid: int, ppid: int) -> Run:
        self.events.append(TaskEvent(len(self.events), 0.0, "spawn", pid, pid, ppid, "process"))
        return self

    def paths(self, cwd: str = "/work") -> list[tuple[str, list[str | None]]]:
        return [(e.syscall, [p.path for p in found])
                for e, found in learn.resolved_calls(self.events, cwd) if found]


def test_paths_resolve_against_cwd_dirfd_and_chdir():
    run = (Run()
           .call("openat", 'openat(AT_FDCWD, "a/../b.txt", O_RDONLY)', (AT_FDCWD,), 3)
           .call("openat", 'openat(AT_FDCWD, "/etc", O_RDONLY|O_DIRECTORY)', (AT_FDCWD,), 4)
           .call("openat", 'openat(4, "passwd", O_RDONLY)', (4,), 5)
           .call("chdir", 'chdir("/usr")')
           .call("openat", 'openat(AT_FDCWD, "lib", O_RDONLY)', (AT_FDCWD,), 6)
           .call("fchdir", "fchdir(4)", (4,))
           .call("openat", 'openat(AT_FDCWD, "hosts", O_RDONLY)', (AT_FDCWD,), 7)
           .call("close", "close(4)", (4,))
           .call("openat", 'openat(4, "x", O_RDONLY)', (4,), -9))
    assert run.paths() == [("openat", ["/work/b.txt"]), ("openat", ["/etc"]),
                           ("openat", ["/etc/passwd"]), ("chdir", ["/usr"]),
                           ("openat", ["/usr/lib"]), ("openat", ["/etc/hosts"]),
                           ("openat", [None])]


def test_child_process_inherits_cwd_and_fds():
    run = (Run()
           .call("chdir", 'chdir("/srv")')
           .call("openat", 'openat(AT_FDCWD, "/etc", O_RDONLY)', (AT_FDCWD,), 3)
           .spawn(200, 100)
           .call("chdir", 'chdir("/")', pid=100)
           .call("openat", 'openat(AT_FDCWD, "x", O_RDONLY)', (AT_FDCWD,), 4, pid=200)
           .call("openat", 'openat(3, "y", O_RDONLY)', (3,), 5, pid=200))
    assert run.paths()[-2:] == [("openat", ["/srv/x"]), ("openat", ["/etc/y"])]


def test_quoted_paths_with_escapes_commas_and_unreadable_pointers():
    run = (Run()
           .call("openat", r'openat(AT_FDCWD, "/tmp/a, \"b\"\n\303\251", O_RDONLY)', (AT_FDCWD,), 3)
           .call("openat", "openat(AT_FDCWD, 0x1234, O_RDONLY)", (AT_FDCWD, 0x1234), -14))
    assert run.paths() == [("openat", ['/tmp/a, "b"\né']), ("openat", [None])]


def test_generalise():
    paths = ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/locale/C.utf8/LC_CTYPE",
             "/usr/lib/os-release", "/etc/passwd", "/etc/ssl/openssl.cnf", "/proc/123/status",
             "/proc/self/maps", "/dev/pts/4", "/home/u/.cache/app/x", "/home/u/.profile",
             "/work/dir/file", "/work", "/tmp/tmpab12cd", "/var/tmp", "/dev/null", "/a*b"]
    globs = learn.generalise(paths, cwd="/work", home="/home/u")
    assert globs == {
        "/usr/lib/x86_64-linux-gnu/libc.so.6": "/usr/lib/**",
        "/usr/lib/locale/C.utf8/LC_CTYPE": "/usr/lib/**",
        "/usr/lib/os-release": "/usr/lib/**",
        "/etc/passwd": "/etc/passwd",
        "/etc/ssl/openssl.cnf": "/etc/ssl/openssl.cnf",  # one file: kept exact
        "/proc/123/status": "/proc/*/status",
        "/proc/self/maps": "/proc/self/maps",
        "/dev/pts/4": "/dev/pts/*",
        "/home/u/.cache/app/x": "/home/u/.cache/**",
        "/home/u/.profile": "/home/u/.profile",
        "/work/dir/file": "/work/**",
        "/work": "/work/**",  # matches the directory itself too
        "/tmp/tmpab12cd": "/tmp/**",
        "/var/tmp": "/var/tmp",
        "/dev/null": "/dev/null",
        "/a*b": "/a[*]b",
    }
    for path, glob in globs.items():
        assert glob_match(glob, path), (glob, path)


def test_few_system_files_stay_exact_and_proc_never_collapses():
    globs = learn.generalise(["/usr/share/a/x", "/usr/share/b/y", "/proc/1/a/b", "/proc/2/c/d",
                              "/proc/3/e/f"])
    assert globs["/usr/share/a/x"] == "/usr/share/a/x"
    assert sorted(set(globs.values()) - {"/usr/share/a/x", "/usr/share/b/y"}) == [
        "/proc/*/a/b", "/proc/*/c/d", "/proc/*/e/f"]


@pytest.mark.parametrize("name, arg, value, shown", [
    ("socket", 0, 1, "AF_UNIX"),
    ("socket", 0, 10, "AF_INET6"),
    ("clone", 0, 0x01200011, "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD"),
    ("ioctl", 1, 0x5401, "TCGETS"),
    ("socket", 0, 0xFFFFFFFF00000001, "0xffffffff00000001"),  # not what AF_UNIX reads back as
    ("personality", 0, 0xFFFFFFFF, "0xffffffff"),
])
def test_symbolic_values_read_back_exactly(name, arg, value, shown):
    assert learn.symbolic(name, arg, value) == shown


def _sample_run() -> Run:
    return (Run()
            .call("execve", 'execve("/usr/bin/app", ["app"], 0x7ffd /* 3 vars */)', ())
            .call("read", "read(0, \"\", 10)")
            .call("read", "read(0, \"\", 10)", retval=-9)
            .call("socket", "socket(AF_UNIX, SOCK_STREAM, 0)", (1, 1), 3)
            .call("socket", "socket(AF_INET, SOCK_DGRAM, 0)", (2, 2), 4)
            .call("newfstatat", 'newfstatat(3, "", 0x7ffd, AT_EMPTY_PATH)', (3, 0x10, 0x7FFD, 0x1000))
            .call("newfstatat", 'newfstatat(AT_FDCWD, "/etc/hosts", 0x7ffd, 0)', (AT_FDCWD, 0x10))
            .call("utimensat", "utimensat(3, NULL, NULL, 0)", (3, 0))
            .call("openat", 'openat(AT_FDCWD, "data/in.txt", O_RDONLY)', (AT_FDCWD,), -2))


def test_proposals_and_file():
    rec = learn.record(_sample_run().events, "/work")
    proposals = learn.propose(rec, "/work")
    text = learn.render(proposals, ["made by a test"])
    rules = parse_rules(text, "learnt.toml")
    assert rules.default is Action.ABORT_FOREVER
    summary = [(p.syscalls, p.action, p.args, p.path) for p in proposals]
    assert summary == [
        (("read",), Action.ALLOW_FOREVER, (), ()),
        (("socket",), Action.ALLOW_FOREVER, ("arg0 == AF_UNIX",), ()),
        (("socket",), Action.ALLOW_FOREVER, ("arg0 == AF_INET",), ()),
        (("newfstatat",), Action.ALLOW_FOREVER, ("arg3 & AT_EMPTY_PATH == AT_EMPTY_PATH",), ()),
        (("utimensat",), Action.ALLOW_FOREVER, ("arg1 == 0",), ()),
        (("execve",), Action.ALLOW, (), ("/usr/bin/app",)),
        (("newfstatat",), Action.ALLOW, (), ("/etc/hosts",)),
        (("openat",), Action.ALLOW, (), ("/work/**",)),  # failed, still allowed
    ]
    assert [(r.action, r.path) for r in rules.rules] == [(p.action, p.path) for p in proposals]
    assert "# 2 calls, 1 failed" in text and "e.g. /work/data/in.txt" in text
    assert text.startswith("# made by a test\n")


def _review(answers: str) -> tuple[list[learn.Proposal], str]:
    proposals = learn.propose(learn.record(_sample_run().events, "/work"), "/work")
    out = io.StringIO()
    return review_proposals(proposals, io.StringIO(answers), out), out.getvalue()


def test_review_allow_deny_skip_finish():
    kept, shown = _review("a\nd\ns\nx\nf\n")
    assert [(p.syscalls, p.action, p.args) for p in kept[:3]] == [
        (("read",), Action.ALLOW_FOREVER, ()),
        (("socket",), Action.ABORT_FOREVER, ("arg0 == AF_UNIX",)),
        (("newfstatat",), Action.ALLOW_FOREVER, ("arg3 & AT_EMPTY_PATH == AT_EMPTY_PATH",)),
    ]
    assert len(kept) == 7  # AF_INET skipped, the rest accepted at "f"
    assert "(a)llow (d)eny (g)lob (s)kip (f)inish" in shown and "skip: leave the rule out" in shown
    assert "[2/8] allow-forever: socket" in shown and "e.g.    socket(AF_UNIX" in shown
    parse_rules(learn.render(kept, []), "reviewed.toml")


def test_review_glob_edits_a_path_rule_then_deny():
    # a path rule is the 6th; "g" on a kernel rule is refused, EOF finishes.
    kept, shown = _review("g\na\na\na\na\na\ng\n/usr/bin/*\nd\n")
    execve = kept[5]
    assert execve.path == ("/usr/bin/*",) and execve.action is Action.ABORT
    assert execve.entries["/usr/bin/*"].examples == ["/usr/bin/app"]
    assert "this rule has no paths to glob" in shown
    assert "glob for /usr/bin/app" in shown
    assert len(kept) == 8
    rules = parse_rules(learn.render(kept, []), "reviewed.toml")
    assert rules.rules[5].path == ("/usr/bin/*",)


def test_review_refuses_a_bad_glob_and_an_empty_answer_does_not_finish():
    kept, shown = _review("a\na\na\na\na\ng\nusr/bin\n\ng\n-\na\ns\ns\n")
    assert "is not an absolute path glob" in shown and "the rule stays as it was" in shown
    assert "that drops every path" in shown
    assert "skip: leave the rule out" in shown  # the empty line got the help
    assert kept[5].path == ("/usr/bin/app",) and len(kept) == 6


def test_review_eof_accepts_the_rest():
    kept, _ = _review("s\n")
    assert kept[0].syscalls == ("socket",) and len(kept) == 7
