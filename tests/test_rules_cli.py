"""`seccomp-jail rules ...`: presets, new, check, show, bpf; and the BPF disassembler.

The commands run in-process through rules_cmd.add_parser, as cli/main.py
wires them; they only read files and compile, so no jail is needed.
"""

from __future__ import annotations

import argparse
import re

import pytest

from seccomp_jail.arch.syscalls import native_table
from seccomp_jail.cli import rules_cmd
from seccomp_jail.kernel.seccomp import INSN
from seccomp_jail.policy.bpfdump import describe_ret, disassemble
from seccomp_jail.policy.compile import compile_rules
from seccomp_jail.policy.parse import parse_rules
from seccomp_jail.policy.presets import list_presets, preset_text

TABLE = native_table()


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """cli(*args) -> (status, stdout, stderr) of `seccomp-jail rules ARGS`, run in tmp_path."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str):
        parser = argparse.ArgumentParser(prog="seccomp-jail")
        rules_cmd.add_parser(parser.add_subparsers())
        ns = parser.parse_args(["rules", *args])
        status = ns.func(ns)
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_presets_one_line_each(cli):
    status, out, _ = cli("presets")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [name for name, _ in list_presets()]
    assert all(len(line.split(None, 1)) == 2 for line in lines)


def test_new_copies_refuses_to_overwrite_and_forces(cli, tmp_path):
    assert cli("new", "--preset", "no-network", "-o", "app.toml")[0] == 0
    assert (tmp_path / "app.toml").read_text() == preset_text("no-network")
    (tmp_path / "app.toml").write_text("mine")
    status, _, err = cli("new", "--preset", "read-only-fs", "-o", "app.toml")
    assert status == 1 and "exists" in err and (tmp_path / "app.toml").read_text() == "mine"
    assert cli("new", "--preset", "read-only-fs", "-o", "app.toml", "--force")[0] == 0
    assert (tmp_path / "app.toml").read_text() == preset_text("read-only-fs")


def test_new_to_stdout_and_unknown_preset(cli):
    status, out, _ = cli("new", "--preset", "log-all", "-o", "-")
    assert status == 0 and out == preset_text("log-all")
    status, _, err = cli("new", "--preset", "no-netwrok", "-o", "-")
    assert status == 2 and "did you mean 'no-network'?" in err


def test_check(cli, tmp_path):
    (tmp_path / "good.toml").write_text('version = 1\n[[rule]]\nsyscall = "mkdir"\naction = "abort"\n')
    assert cli("check", "good.toml") == (0, "good.toml: ok, 1 rule\n", "")
    (tmp_path / "bad.toml").write_text('version = 1\n[[rule]]\nsyscall = "mkdri"\naction = "abort"\n')
    assert cli("check", "bad.toml") == (2, "", "bad.toml:3: unknown syscall 'mkdri' (did you mean 'mkdir'?)\n")
    assert cli("check", "strict-cli")[0] == 0  # a preset by name


SHOW_FILE = """\
version = 1
default = "allow-forever"

[[rule]]
syscall = "getppid"
action = "abort-forever"
errno = "EACCES"

[[rule]]
syscall = ["getppid", "ptrace", "getuid"]
action = "allow"

[[rule]]
syscall = "openat"
action = "abort"
path = "/etc/shadow"
comment = "no secrets"

[[rule]]
syscall = "@clock"
action = "abort-forever"
"""


def test_show_lists_rules_in_order_with_placement(cli, tmp_path):
    (tmp_path / "r.toml").write_text(SHOW_FILE)
    status, out, _ = cli("show", "r.toml")
    assert status == 0
    rows = [line for line in out.splitlines() if re.match(r"\s+\d+\s+\d+\s", line)]
    assert [r.split()[:2] for r in rows] == [["1", "4"], ["2", "9"], ["3", "13"], ["4", "19"]]
    assert rows[0].split()[2:5] == ["abort-forever", "EACCES", "kernel"]
    assert rows[1].split()[2:4] == ["allow", "tracer"]
    assert rows[2].split()[2:5] == ["abort", "EPERM", "tracer"]
    assert rows[3].split()[2:5] == ["abort-forever", "EPERM", "kernel"] and "@clock = adjtimex" in rows[3]
    assert "never reached for getppid" in out and "never applies to ptrace" in out
    assert "if path matches /etc/shadow" in out and "# no secrets" in out
    assert "first rule that matches wins" in out
    assert "default: allow-forever" in out and "TOCTOU" in out
    assert "CLONE_UNTRACED" in out  # the jail's own rules are listed


def test_show_groups(cli):
    status, out, _ = cli("show", "@clock")
    assert status == 0 and out.splitlines()[0].startswith("@clock (")
    assert "clock_settime" in out
    status, out, _ = cli("show", "--groups")
    assert status == 0 and "@file-system" in out and "%network" in out
    status, _, err = cli("show", "@clok")
    assert status == 2 and "did you mean '@clock'?" in err


def test_bpf_disassembles_the_compiled_filter(cli, tmp_path):
    (tmp_path / "r.toml").write_text(SHOW_FILE)
    status, out, _ = cli("bpf", "r.toml")
    lines = out.splitlines()
    assert status == 0 and lines[0] == "0000: ld [4]  ; arch"
    assert re.fullmatch(r"0001: jeq #0xc000003e jt \d+ jf \d+  ; x86_64", lines[1])
    count = len(compile_rules(parse_rules(SHOW_FILE, "r"), TABLE).bpf) // INSN.size
    assert len(lines) == count and all(line.startswith(f"{i:04d}: ") for i, line in enumerate(lines))
    assert any(line.endswith("; getppid") for line in lines)
    assert any("ret #0x5000d  ; ERRNO(EACCES)" in line for line in lines)
    assert any(line.endswith("; TRACE") for line in lines)
    status, out, _ = cli("bpf", "r.toml", "--pfc")
    assert status == 0 and "pseudo filter code" in out


def test_disassembler_opcodes():
    program = [
        (0x20, 0, 0, 0),            # ld [0]
        (0x15, 1, 0, 39),           # jeq #39 -> 3
        (0x35, 0, 2, 100),          # jge #100
        (0x45, 0, 0, 8),            # jset #8
        (0x54, 0, 0, 0xFF),         # and #0xff
        (0x20, 0, 0, 20),           # ld [20]
        (0x05, 0, 0, 1),            # ja
        (0x87, 0, 0, 0),            # txa
        (0x06, 0, 0, 0x7FFF0000),   # ret ALLOW
        (0x06, 0, 0, 0x80000000),   # ret KILL_PROCESS
        (0x16, 0, 0, 0),            # ret a
    ]
    lines = disassemble(b"".join(INSN.pack(*i) for i in program), TABLE)
    assert lines == [
        "0000: ld [0]  ; nr",
        "0001: jeq #0x27 jt 3 jf 2  ; getpid",
        f"0002: jge #0x64 jt 3 jf 5  ; >= {TABLE.name(100)}",
        "0003: jset #0x8 jt 4 jf 4",
        "0004: and #0xff",
        "0005: ld [20]  ; args[0] (high)",
        "0006: ja 8",
        "0007: txa",
        "0008: ret #0x7fff0000  ; ALLOW",
        "0009: ret #0x80000000  ; KILL_PROCESS",
        "0010: ret a",
    ]


@pytest.mark.parametrize("value,text", [
    (0x7FFF0000, "ALLOW"), (0x00050001, "ERRNO(EPERM)"), (0x7FF00000, "TRACE"),
    (0x7FF00005, "TRACE(5)"), (0x80000000, "KILL_PROCESS"), (0, "KILL_THREAD"),
    (0x7FC00000, "USER_NOTIF"), (0x7FFC0000, "LOG"), (0x00030000, "TRAP"), (0x12340000, "0x12340000"),
])
def test_describe_ret(value, text):
    assert describe_ret(value) == text


def test_disassembler_rejects_a_torn_program():
    with pytest.raises(ValueError):
        disassemble(b"\x00" * 7)
