"""The command line in Chinese where the locale asks for it, English otherwise."""

from __future__ import annotations

import argparse
import ast
import gettext
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import jail_command, jail_env

import seccomp_jail.i18n

from seccomp_jail.cli.helpformat import display_width, wrap_wide
from seccomp_jail.cli.main import build_parser
from seccomp_jail.i18n import CATALOGS, language, read_po
from seccomp_jail.policy.groups import group_description, group_names

CATALOG = read_po(str(Path(seccomp_jail.i18n.__file__).with_name(CATALOGS["zh"])))


@pytest.mark.parametrize("env, expected", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "zh_TW.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),          # LC_ALL wins
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"}, "zh"),  # gettext's LANGUAGE first...
    ({"LANG": "C", "LANGUAGE": "zh_CN"}, "en"),              # ...unless the locale is C
    ({"LANG": "de_DE.UTF-8", "LANGUAGE": ":zh_CN"}, "zh"),
])
def test_language_from_the_locale(env, expected):
    assert language(env) == expected


def _shown_texts(parser: argparse.ArgumentParser, out: set[str]) -> set[str]:
    """Every description, epilog, group title and help text of the parser tree."""
    out.update(t for t in (parser.description, parser.epilog) if t)
    out.update(g.title for g in parser._action_groups if g.title)
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            out.add(action.help)
        if isinstance(action, argparse._SubParsersAction):
            out.update(choice.help for choice in action._choices_actions if choice.help)
            for sub in action.choices.values():
                _shown_texts(sub, out)
    return out


# Calls whose literal argument is translated: tr(text), and the template of
# a Message (rule-file and log errors, the log's warnings, why the jail adds
# a rule, a program that cannot run, learn's counts), which the front end
# renders with tr.
_TRANSLATED = {"tr": 0, "Message": 0}
# Errors and warnings made of Messages: an f-string or a bare literal given
# to one would stay English, unseen by the check above.
_TAKE_MESSAGES = {"RuleError", "LogError", "QueryError", "self.error", "warn", "say", "ProgramNotFound"}


def _literals(node: ast.expr) -> list[str]:
    """The texts an argument can be: a literal, or either literal of `a if c else b`."""
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return [node.value] if isinstance(node, ast.Constant) and isinstance(node.value, str) else []


def _tr_literals() -> set[str]:
    """The texts the package has translated, as literals in its source."""
    found = set()
    for path in Path(seccomp_jail.i18n.__file__).parent.parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name in _TRANSLATED and len(node.args) > _TRANSLATED[name]:
                found.update(_literals(node.args[_TRANSLATED[name]]))
            if name in _TAKE_MESSAGES:
                plain = [ast.unparse(a) for a in node.args if isinstance(a, ast.JoinedStr) or _literals(a)]
                assert plain == [], f"{path.name}:{node.lineno}: make these Messages"
    return found


def test_every_text_has_a_translation_and_every_translation_a_text():
    """Help texts, group descriptions (`rules show --groups`) and the messages
    passed to tr() all have an entry; an entry that is neither (nor one of
    argparse's own words) is stale."""
    shown = _shown_texts(build_parser(), {group_description(name) for name in group_names()})
    used = _tr_literals()
    assert len(used) > 15
    assert sorted((shown | used) - CATALOG.keys()) == []
    argparse_words = {key for key in CATALOG if key not in shown | used}
    source = open(argparse.__file__, encoding="utf-8").read()
    assert [key for key in argparse_words if repr(key) not in source and f'"{key}"' not in source] == []
    for key in used:  # a translation keeps the placeholders its text fills in
        assert sorted(re.findall(r"{\w+}", key)) == sorted(re.findall(r"{\w+}", CATALOG[key])), key


def _cli(lang: str, *args: str, answers: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = jail_env({"LANG": lang, "COLUMNS": "80"})
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        env.pop(name, None)
    return subprocess.run(jail_command(*args), env=env, capture_output=True, text=True, timeout=60,
                          input=answers, cwd=cwd)


def test_help_in_chinese_and_english():
    zh = _cli("zh_CN.UTF-8", "run", "--help")
    assert zh.returncode == 0
    assert zh.stdout.startswith("用法：seccomp-jail run [options] -- PROGRAM [ARGS...]")
    assert "规则文件（TOML）；默认：全部允许并记录" in zh.stdout
    assert "rule file" not in zh.stdout
    assert all(display_width(line) <= 80 or line.rstrip().endswith(("）", "，", "。"))
               for line in zh.stdout.splitlines() if not line.lstrip().startswith("seccomp-jail"))
    en = _cli("C.UTF-8", "run", "--help")
    assert en.stdout.startswith("usage: seccomp-jail run") and "rule file (TOML)" in en.stdout


def test_argparse_errors_in_chinese():
    result = _cli("zh_CN.UTF-8", "log", "stats")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == "seccomp-jail log stats：错误：缺少以下参数：DB"


def test_wide_text_wraps_by_columns():
    text = "把类似 strace 的日志写到 FILE，而不是标准错误（其他日志照常写入）"
    lines = wrap_wide(text, 20)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(display_width(line) <= 20 or line.endswith(("）", "，")) for line in lines)
    assert not any(line.startswith(("）", "，")) for line in lines)


def test_po_reader_reads_what_gettext_reads(tmp_path):
    """Our reader against gettext's own, on the .po compiled by msgfmt."""
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "no msgfmt: the Debian package gettext, which scripts/setup.sh installs"
    po = Path(seccomp_jail.i18n.__file__).with_name(CATALOGS["zh"])
    mo = tmp_path / "zh_CN.mo"
    subprocess.run([msgfmt, "--check", "-o", str(mo), str(po)], check=True)
    with open(mo, "rb") as f:
        compiled = gettext.GNUTranslations(f)
    assert CATALOG and all(compiled.gettext(key) == text for key, text in CATALOG.items())


def test_a_program_that_cannot_run_in_chinese(tmp_path):
    """As bash says it in a Chinese locale; the status stays the shell's."""
    result = _cli("zh_CN.UTF-8", "run", "-q", "--", "no-such-program-here")
    assert (result.returncode, result.stderr) == (127, "seccomp-jail: no-such-program-here: 未找到命令\n")
    english = _cli("C.UTF-8", "run", "-q", "--", "no-such-program-here")
    assert english.stderr == "seccomp-jail: no-such-program-here: command not found\n"


def test_review_asks_in_chinese(tmp_path):
    """learn --review: evidence labels, the keys' help and the prompt in
    Chinese; the answers are the same letters."""
    db = tmp_path / "run.sqlite"
    recorded = _cli("C.UTF-8", "learn", "--db", str(db), "-o", str(tmp_path / "r.toml"), "--", "ls", "/",
                    cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stderr
    review = _cli("zh_CN.UTF-8", "learn", "--review", str(db), "-o", "-", answers="?\nf\n", cwd=tmp_path)
    assert review.returncode == 0, review.stderr
    assert "  记录    " in review.stderr and "次调用" in review.stderr
    assert "  a  allow（允许）：保留所示的规则" in review.stderr
    assert review.stderr.count("(a)允许 (d)拒绝 (g)通配 (s)跳过 (f)完成？") == 2
    assert review.stdout.startswith("#") and "[[rule]]" in review.stdout  # rule files stay English


@pytest.mark.parametrize("command", [("rules", "check"), ("run", "--rules")])
def test_rule_file_errors_in_chinese(tmp_path, command):
    """One line, file:line first, our words in Chinese and the user's (names,
    tomllib's reason) as they are; in English, the line it always was."""
    (tmp_path / "bad.toml").write_text('version = 1\n[[rule]]\nsyscall = "mkdri"\naction = "notify"\n')
    (tmp_path / "syntax.toml").write_text("version = 1\n[[rule]\nsyscall = 1\n")
    prefix = "seccomp-jail: " if command[0] == "run" else ""

    def error(lang: str, file: str) -> str:
        result = _cli(lang, *command, file, *(["--", "true"] if command[0] == "run" else []), cwd=tmp_path)
        assert (result.returncode, result.stdout, result.stderr.count("\n")) == (2, "", 1)
        assert result.stderr.startswith(prefix)
        return result.stderr[len(prefix):-1]

    assert error("zh_CN.UTF-8", "bad.toml") == "bad.toml:3: 未知的系统调用 'mkdri'（您是不是要找 'mkdir'？）"
    assert error("C", "bad.toml") == "bad.toml:3: unknown syscall 'mkdri' (did you mean 'mkdir'?)"
    english = re.fullmatch(r"syntax\.toml:2: TOML syntax error: (.+) at column (\d+)", error("C", "syntax.toml"))
    assert english, "the English line changed"
    reason, column = english.groups()
    assert error("zh_CN.UTF-8", "syntax.toml") == f"syntax.toml:2: TOML 语法错误（第 {column} 列）：{reason}"


def test_log_errors_in_chinese(tmp_path):
    """A log that cannot be opened (the writer process reports it) and a file
    that is no log database; the reasons are SQLite's own."""
    db = tmp_path / "missing" / "run.sqlite"
    zh = _cli("zh_CN.UTF-8", "run", "--db", str(db), "--", "true")
    assert zh.returncode == 2 and zh.stderr.count("\n") == 1
    assert zh.stderr.startswith(f"seccomp-jail: 无法打开日志 {db}：")
    reason = zh.stderr.removeprefix(f"seccomp-jail: 无法打开日志 {db}：")
    assert _cli("C", "run", "--db", str(db), "--", "true").stderr == f"seccomp-jail: cannot open log {db}: {reason}"

    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    stats = _cli("zh_CN.UTF-8", "log", "stats", str(junk))
    assert stats.returncode == 2
    assert stats.stderr == f"seccomp-jail: log stats: {junk}：不是 seccomp-jail 日志数据库（file is not a database）\n"


SHOW_RULES = """\
version = 1
default = "allow-forever"

[[rule]]
syscall = "mkdir"
action = "abort"
path = "/etc/**"

[[rule]]
syscall = ["mkdir", "ptrace"]
action = "allow"

[[rule]]
syscall = "getppid"
action = "abort-forever"
errno = "EACCES"
"""


def test_rules_check_and_show_in_chinese(tmp_path):
    """The table's words, the default, the jail's rules and why, and the
    note in Chinese, its columns aligned by width; names, actions and errnos
    as they are. In English, what it always printed."""
    (tmp_path / "r.toml").write_text(SHOW_RULES)

    def stdout(lang: str, *args: str) -> list[str]:
        result = _cli(lang, "rules", *args, "r.toml", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (0, "")
        return result.stdout.splitlines()

    assert stdout("zh_CN.UTF-8", "check") == ["r.toml：没有问题，3 条规则"]
    assert stdout("C", "check") == ["r.toml: ok, 3 rules"]

    # The table part of `rules show`, in both languages (the same shape: columns padded by display width).
    tables = {
        "zh_CN.UTF-8": [
            "r.toml：3 条规则，默认 allow-forever",
            "对每个系统调用，第一条匹配的规则生效；没有规则匹配时采用默认动作。",
            "",
            "  #    行  动作                   执行位置        系统调用",
            "  1     4  abort EPERM            跟踪器          mkdir",
            "                                                  当路径匹配 /etc/** 时（有竞态：见注）",
            "  2     9  allow                  跟踪器          mkdir ptrace (2)",
            "                                                  ! 对 ptrace 不起作用：监狱总是拒绝它们",
            "  3    13  abort-forever EACCES   内核            getppid",
            "",
        ],
        "C": [
            "r.toml: 3 rules, default allow-forever",
            "For each syscall the first rule that matches wins; the default applies when none does.",
            "",
            "  #  line  action                 enforced        syscalls",
            "  1     4  abort EPERM            tracer          mkdir",
            "                                                  if path matches /etc/**  (racy: see note)",
            "  2     9  allow                  tracer          mkdir ptrace (2)",
            "                                                  ! never applies to ptrace: the jail denies them",
            "  3    13  abort-forever EACCES   kernel          getppid",
            "",
        ],
    }
    zh, en = stdout("zh_CN.UTF-8", "show"), stdout("C", "show")
    assert (zh[:10], en[:10]) == (tables["zh_CN.UTF-8"], tables["C"])
    assert re.fullmatch(r"默认：其余 (\d+) 个系统调用为 allow-forever（\1 个在内核中裁决，0 个在跟踪器中裁决）", zh[10])
    assert zh[12] == "监狱自身的规则（无论规则文件怎么写都会加上；见 docs/rules.md）："
    assert "  ptrace, process_vm_writev：abort EPERM [内核]（保护监狱自身）" in zh
    assert "  clone3：trace [跟踪器]（跟踪器检查 clone3 的 CLONE_UNTRACED 标志）" in zh
    assert "未知的系统调用编号、i386 和 x32 调用：ENOSYS [内核]" in zh
    note = zh[zh.index("未知的系统调用编号、i386 和 x32 调用：ENOSYS [内核]") + 2:]
    assert note[0].startswith("注：") and "".join(note).endswith("给自己改名时会随之改变。")
    assert all(display_width(line) <= 80 or line.endswith(("）", "，", "。", "；")) for line in note)

    assert re.fullmatch(r"default: allow-forever for the (\d+) other syscalls "
                        r"\(\1 decided in the kernel, 0 in the tracer\)", en[10])
    assert en[12] == "jail rules (added whatever the file says; see docs/rules.md):"
    assert "  ptrace, process_vm_writev: abort EPERM [kernel] (jail integrity)" in en
    assert "  clone3: trace [tracer] (the tracer checks clone3's flags (CLONE_UNTRACED))" in en
    assert en[en.index("unknown syscall numbers, i386 and x32 calls: ENOSYS [kernel]") + 1:] == [
        "",
        "note: path, addr and port conditions are read from the task's memory by the",
        "tracer while the syscall waits; another thread of the task can rewrite that",
        "memory between the check and the kernel's own read (TOCTOU). They steer and log",
        "well-behaved programs; they are no barrier against a hostile one. Scopes (exe,",
        "comm, under) are read from /proc and change when the task execs or renames",
        "itself.",
    ]


def test_groups_in_chinese():
    """Each group's description is translated; its name and syscalls are not."""
    def headings(lang: str) -> list[str]:
        result = _cli(lang, "rules", "show", "--groups")
        assert (result.returncode, result.stderr) == (0, "")
        return [line for line in result.stdout.splitlines() if not line.startswith("    ")]

    zh, en = headings("zh_CN.UTF-8"), headings("C")
    assert [line.split(":")[0] for line in zh] == [line.split(":")[0] for line in en]
    assert [line.split(": ", 1)[1] for line in en] == [group_description(name) for name in group_names()]
    assert re.fullmatch(r"@clock \(\d+\): 更改系统时间", zh[group_names().index("@clock")])
    assert re.fullmatch(r"%%stat \(\d+\): 所有 stat 变体", zh[group_names().index("%%stat")])


def test_the_log_writer_warns_in_the_language_it_was_forked_with(capfd):
    """The writer process renders its warnings with the translation the
    command line set before forking it (here: a frame cut short)."""
    from seccomp_jail.log.warn import translate_with
    from seccomp_jail.log.writer import start_writer

    translate_with(lambda text: CATALOG.get(text, text))
    try:
        writer = start_writer(text=None, text_to_stderr=False, color=False, db=None, jsonl=None)
        os.write(writer.fd, b"\x01\x00")  # half a frame header
        writer.close()
    finally:
        translate_with(str)
    assert capfd.readouterr().err == "seccomp-jail: log: 日志流在帧头中间结束\n"
