"""Argument conditions as parsed from a rule file, checked on the real kernel.

The same condition goes to the kernel filter on an `abort-forever` rule and
to the tracer on an `abort` rule; both must deny exactly the calls it names.
"""

from __future__ import annotations

import pytest

SCRIPT = 'test -n "$(cat /etc/hostname)" && echo read-ok; echo hi > out.txt && echo write-ok'


def rules(action: str, condition: str) -> str:
    return (
        'version = 1\ndefault = "allow-forever"\n\n[[rule]]\nsyscall = ["open", "openat"]\n'
        f'action = "{action}"\nerrno = "EACCES"\nargs = ["{condition}"]\n'
    )


@pytest.mark.parametrize("action", ["abort-forever", "abort"])
def test_condition_denies_only_matching_calls(jail, workdir, action):
    run = jail(["sh", "-c", SCRIPT], rules=rules(action, "arg2 & O_ACCMODE == O_WRONLY"))
    assert run.stdout == "read-ok\n", run.proc.stderr
    assert "Permission denied" in run.proc.stderr
    assert not (workdir / "out.txt").exists()


@pytest.mark.parametrize("action", ["abort-forever", "abort"])
def test_condition_that_matches_nothing_denies_nothing(jail, workdir, action):
    run = jail(["sh", "-c", SCRIPT], rules=rules(action, "arg2 & O_ACCMODE == O_RDWR"))
    assert run.stdout == "read-ok\nwrite-ok\n", run.proc.stderr
    assert (workdir / "out.txt").read_text() == "hi\n"
