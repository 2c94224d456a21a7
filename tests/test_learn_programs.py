"""`seccomp-jail learn` on real programs: the rules it writes let the program run again.

Each test runs a program natively, learns it, then reruns it under
`seccomp-jail run --rules` and compares stdout and exit status. It also
checks every path call of the rerun against the learnt globs, the way the
tracer's path conditions judge them (all path arguments must match).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import jail_command, jail_env, run_process
from test_jail_cli import REPORT_STD_FDS

from seccomp_jail.log.query import Filters, events, open_db
from seccomp_jail.policy import learn
from seccomp_jail.policy.glob import glob_match
from seccomp_jail.policy.model import Action
from seccomp_jail.policy.parse import load_rules

# The `learn` subcommand on its own parser, so these tests do not depend on
# how cli/main.py lists its subcommands.
_LEARN = ("import argparse, sys; from seccomp_jail.cli import learn_cmd; "
          "p = argparse.ArgumentParser(prog='seccomp-jail'); learn_cmd.add_parser(p.add_subparsers()); "
          "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")


def learn_command(*args: str) -> list[str]:
    return [sys.executable, "-c", _LEARN, "learn", *args]


def refused(rules_path: Path, db: Path, cwd: Path) -> list[str]:
    """Calls of a recorded run that the rules would not allow (first matching rule wins)."""
    ruleset = load_rules(str(rules_path))
    out = []
    for event, paths in learn.resolved_calls(events(open_db(str(db)), Filters()), str(cwd)):
        for rule in ruleset.rules_for(event.nr):
            if rule.args and not all(c.matches(event.args) for c in rule.args):
                continue
            if rule.path and not all(p.path and any(glob_match(g, p.path) for g in rule.path)
                                     for p in paths):
                continue
            if rule.action.denies:
                out.append(event.text)
            break
        else:
            if ruleset.default.denies:
                out.append(event.text)
    return out


def learn_and_rerun(argv: list[str], workdir: Path, tmp_path: Path, reset=lambda: None) -> Path:
    """Learn `argv`, then rerun it under the rules; both runs match a native run. Returns the rules."""
    reset()
    native = run_process(argv, cwd=workdir)
    reset()
    rules = tmp_path / "learnt.toml"
    learnt = run_process(learn_command("-o", str(rules), "--", *argv), cwd=workdir, env=jail_env())
    assert learnt.returncode == 0, learnt.stderr
    assert learnt.stdout == native.stdout
    assert f"exited with status {native.returncode}" in learnt.stderr
    text = rules.read_text()
    ruleset = load_rules(str(rules))
    assert ruleset.default is Action.ABORT_FOREVER
    reset()
    db = tmp_path / "rerun.sqlite"
    rerun = run_process(jail_command("run", "-q", "--rules", str(rules), "--db", str(db), "--", *argv),
                        cwd=workdir, env=jail_env())
    assert (rerun.returncode, rerun.stdout) == (native.returncode, native.stdout), \
        f"{rerun.stderr}\n--- rules:\n{text}"
    assert refused(rules, db, workdir) == [], text
    return rules


def test_ls(workdir, tmp_path):
    rules = learn_and_rerun(["ls", "-l", "/usr"], workdir, tmp_path)
    text = rules.read_text()
    assert '"/lib/x86_64-linux-gnu/**"' in text or '"/usr/lib/**"' in text  # libc, generalised
    assert "# command: ls -l /usr" in text


def test_tar_create_and_extract(workdir, tmp_path):
    (workdir / "src" / "sub").mkdir(parents=True)
    (workdir / "src" / "a.txt").write_text("alpha\n")
    (workdir / "src" / "sub" / "b.txt").write_text("beta\n")

    def reset():
        (workdir / "out.tar").unlink(missing_ok=True)
        shutil.rmtree(workdir / "x", ignore_errors=True)

    script = "tar cf out.tar src && mkdir x && tar xf out.tar -C x && cat x/src/a.txt x/src/sub/b.txt"
    rules = learn_and_rerun(["sh", "-c", script], workdir, tmp_path, reset)
    assert f'"{workdir}/**"' in rules.read_text()


def test_python(workdir, tmp_path):
    rules = learn_and_rerun(["python3", "-c", "import json; print(json.dumps([1]))"], workdir, tmp_path)
    assert '"/usr/lib/**"' in rules.read_text()


def test_rules_are_tight(workdir, tmp_path):
    """What the learnt run did not do is refused: `ls` rules do not let `ls` write files."""
    rules = tmp_path / "ls.toml"
    done = run_process(learn_command("-o", str(rules), "--", "ls", str(workdir)), cwd=tmp_path,
                       env=jail_env())
    assert done.returncode == 0, done.stderr
    # mkdir is no syscall ls made: the default, abort-forever with EPERM, refuses it.
    jailed = run_process(jail_command("run", "-q", "--rules", str(rules), "--", "mkdir", "made"),
                         cwd=workdir, env=jail_env())
    assert jailed.returncode != 0 and not (workdir / "made").exists()


def test_failing_program_warns_and_keeps_db(workdir, tmp_path):
    rules, db = tmp_path / "r.toml", tmp_path / "run.sqlite"
    done = run_process(learn_command("-o", str(rules), "--db", str(db), "--", "sh", "-c", "exit 3"),
                       cwd=workdir, env=jail_env())
    assert done.returncode == 0
    assert "sh -c 'exit 3' exited with status 3" in done.stderr and "warning" in done.stderr
    assert rules.exists() and db.exists()
    # A second run refuses to replace the file without --force.
    again = run_process(learn_command("-o", str(rules), "--", "true"), cwd=workdir, env=jail_env())
    assert again.returncode == 2 and "--force" in again.stderr


def test_review_from_db_to_stdout(workdir, tmp_path):
    db = tmp_path / "run.sqlite"
    first = run_process(jail_command("run", "-q", "--db", str(db), "--", "cat", "/etc/hostname"),
                        cwd=workdir, env=jail_env())
    assert first.returncode == 0
    # Skip the first rule (the plain syscalls), deny the second, finish.
    proc = subprocess.run(learn_command("--review", str(db), "-o", "-"), check=False, cwd=workdir,
                          env=jail_env(), input="s\nd\nf\n", capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "[1/" in proc.stderr and "(a)llow (d)eny (g)lob (s)kip (f)inish" in proc.stderr
    path = tmp_path / "reviewed.toml"
    path.write_text(proc.stdout)
    ruleset = load_rules(str(path))
    assert ruleset.rules[0].action.denies
    assert '"/etc/hostname"' in proc.stdout
    assert "# command: cat /etc/hostname" in proc.stdout


@pytest.mark.parametrize("args, message", [
    ([], "no program to run"),
    (["--review", "x.sqlite", "--", "ls"], "not both"),
    (["--review", "missing.sqlite"], "missing.sqlite: no such file"),
    (["--", "/nonexistent/program"], "/nonexistent/program"),
])
def test_usage_errors(workdir, tmp_path, args, message):
    done = run_process(learn_command("-o", str(tmp_path / "r.toml"), *args), cwd=workdir,
                       env=jail_env())
    assert done.returncode in (2, 127) and message in done.stderr
    assert not (tmp_path / "r.toml").exists()


@pytest.mark.parametrize("closed, output, expected", [
    ("0<&-", "rules.toml", "1 2 "),
    ("1>&-", "rules.toml", "0 2 "),
    ("2>&-", "rules.toml", "0 1 "),
    ("2>&-", "-", "0 "),  # rules on stdout: the program's stdout is our stderr, closed
])
def test_closed_std_fds_stay_closed_for_the_program(workdir, closed, output, expected):
    """As with `run`: started without stdin, stdout or stderr, learn starts
    the program without them too."""
    argv = jail_command("learn", "-o", output, "--", "sh", "-c", REPORT_STD_FDS, "sh", "fds.txt")
    proc = run_process(["sh", "-c", f'exec {closed}; exec "$@"', "sh", *argv], cwd=workdir, env=jail_env())
    assert proc.returncode == 0, proc.stderr  # learn's own status: it wrote the rules
    assert (workdir / "fds.txt").read_text() == expected
