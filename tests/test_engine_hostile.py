"""A jailed program cannot stop or kill the jail it runs in.

A SIGSTOPped tracer would freeze every task; a killed one ends the run. The
filter refuses signals to the jail's pids (and kill(-1)), the tracer refuses
tkill of its threads and pidfd signals to its processes.
"""

from __future__ import annotations


def test_signals_to_the_jail_are_refused(targets, jail_both):
    run = jail_both([targets["hostile"]], rules='version = 1\ndefault = "allow-forever"\n', timeout=30)
    assert run.status == 0, run.proc.stderr
    lines = dict(line.split("=", 1) for line in run.stdout.split() if "=" in line)
    for attempt in ("kill", "tgkill", "sigqueue", "kill_all", "tkill", "pidfd_open", "pidfd_send_signal"):
        assert lines[attempt] == "EPERM", (attempt, run.stdout)
    assert int(lines["tried"]) >= 1
    assert lines["self"] == "ok"
    refused = [r for r in run.syscalls() if r["origin"] == "jail"]
    assert {r["syscall"] for r in refused} >= {"tkill", "pidfd_send_signal"}
