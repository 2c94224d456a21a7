#!/usr/bin/env python3
"""Benchmark seccomp-jail against native runs and `strace -f` (issue 2's targets).

Three workloads: a tight loop of `getppid` (pure per-syscall cost), `du -s`
over a big tree (a real program, many cheap syscalls) and fork+exec of
/bin/true (task creation and exec handling). Each runs natively, under
`strace -f -o /dev/null`, and in the jail in two modes:

  jail-a  every syscall `allow-forever`: decided in the kernel filter, so the
          only cost should be the jail's start-up;
  jail-b  no rule file: every syscall goes through the tracer as `allow` and
          is logged to SQLite, the same work strace does plus a database.

Configurations are interleaved round by round so that machine noise spreads
over all of them instead of landing on one. Stdlib only, so it runs on a
fresh machine with nothing but gcc and strace.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import os
import platform
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent

# The C workloads take their iteration count as argv[1]. Both check what the
# kernel (or the jail) answered, so a jail that breaks the call cannot look fast.
C_SOURCES = {
    "getppid": r"""
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    long want = syscall(SYS_getppid);
    for (long i = 0; i < n; i++)
        if (syscall(SYS_getppid) != want) return 1;
    return 0;
}
""",
    "forkexec": r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200;
    char *const child[] = {"/bin/true", NULL};
    for (int i = 0; i < n; i++) {
        int status;
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) { execv(child[0], child); _exit(127); }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %d failed (status %#x)\n", i, status);
            return 1;
        }
    }
    return 0;
}
""",
}

ALLOW_FOREVER_RULES = 'version = 1\ndefault = "allow-forever"\n'
START_UP_BUDGET = 0.100  # seconds: target (a)'s fixed start-up
SLOWDOWN_BUDGET = 0.05  # target (a)'s proportional overhead
CONFIGS = ("native", "strace", "jail-a", "jail-b")


@dataclasses.dataclass(frozen=True)
class Workload:
    """One program to time. `logged` is (syscall, minimum rows) that mode b's
    database must hold afterwards; None only asks for some syscall rows."""

    name: str
    argv: tuple[str, ...]
    logged: tuple[str, int] | None = None


@dataclasses.dataclass
class Measure:
    """The wall times of one configuration on one workload, or why it failed."""

    times: list[float] = dataclasses.field(default_factory=list)
    failure: str | None = None

    @property
    def median(self) -> float | None:
        return None if self.failure or not self.times else statistics.median(self.times)


@dataclasses.dataclass
class Settings:
    runs: int
    getppid_count: int
    forks: int
    du_path: str
    timeout: float
    quick: bool


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, Settings]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, help="repetitions per measurement, median taken (default 5; 1 with --quick)")
    p.add_argument("--du-path", help="tree for the du workload (default /usr; /usr/share with --quick)")
    p.add_argument("--quick", action="store_true", help="smoke check: 1 run, 20000 getppid, du on /usr/share")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds before one run counts as hung (default 600)")
    p.add_argument("--python", default=sys.executable,
                   help="interpreter that runs seccomp-jail (default: the one running this script)")
    p.add_argument("--results", type=Path, default=BENCH_DIR / "RESULTS.md", help="where to write the report")
    args = p.parse_args(argv)
    runs = args.runs if args.runs is not None else (1 if args.quick else 5)
    if runs < 1:
        p.error("--runs must be at least 1")
    settings = Settings(
        runs=runs,
        getppid_count=20_000 if args.quick else 200_000,
        forks=200,
        du_path=args.du_path or ("/usr/share" if args.quick else "/usr"),
        timeout=args.timeout,
        quick=args.quick,
    )
    return args, settings


def build(tmp: Path) -> dict[str, Path]:
    """Compile the C workloads into the temp dir (never into the repo)."""
    binaries = {}
    for name, source in C_SOURCES.items():
        src, exe = tmp / f"{name}.c", tmp / name
        src.write_text(source)
        subprocess.run(["gcc", "-O2", "-o", str(exe), str(src)], check=True)
        binaries[name] = exe
    return binaries


def jail(python: str, *options: str) -> list[str]:
    """`seccomp-jail run OPTIONS --`, from the repo (PYTHONPATH), not an install."""
    return [python, "-m", "seccomp_jail", "run", *options, "--"]


def prefixes(tmp: Path, python: str) -> dict[str, list[str]]:
    """Command prefixes for each configuration; the workload's argv follows."""
    rules = tmp / "allow-forever.toml"
    rules.write_text(ALLOW_FOREVER_RULES)
    return {
        "native": [],
        "strace": ["strace", "-f", "-o", "/dev/null"],
        "jail-a": jail(python, "--rules", str(rules), "-q"),
        "jail-b": jail(python, "-q", "--db", str(db_path(tmp))),
    }


def db_path(tmp: Path) -> Path:
    return tmp / "jail-b.sqlite"


def remove_db(db: Path) -> None:
    """Each mode-b run starts from an empty database, as a user's run would."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def check_log(db: Path, logged: tuple[str, int] | None) -> str | None:
    """Mode b only counts if the log really went to SQLite: a jail that drops
    records would win against strace for the wrong reason."""
    syscall, minimum = logged or (None, 1)
    query = "SELECT count(*) FROM syscalls" + (" WHERE syscall = ?" if syscall else "")
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            (count,) = conn.execute(query, (syscall,) if syscall else ()).fetchone()
    except sqlite3.Error as exc:
        return f"log database {db}: {exc}"
    if count < minimum:
        return f"log database holds {count} {syscall or 'syscall'} rows, expected at least {minimum}"
    return None


def timed_run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[float, str | None]:
    """Wall time of one run and, when it did not exit 0, why. Runs in its own
    session so a hung jail can be killed with everything it started."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=env, cwd=cwd, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return time.perf_counter() - start, f"timed out after {timeout:g} s"
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = err.decode(errors="replace").strip().splitlines()[-5:]
        return elapsed, f"exit status {proc.returncode}" + ("".join(f"\n    {line}" for line in tail))
    return elapsed, None


def measure(workload: Workload, configs: dict[str, list[str]], settings: Settings,
            env: dict[str, str], tmp: Path) -> dict[str, Measure]:
    """Time every configuration `runs` times, one round of all at a time.
    A configuration that fails once is reported, not retried."""
    results = {config: Measure() for config in configs}
    timed_run(list(workload.argv), env, tmp, settings.timeout)  # warm caches (du's tree) for everyone
    for round_no in range(1, settings.runs + 1):
        line = []
        for config, prefix in configs.items():
            m = results[config]
            if m.failure:
                continue
            argv = [*prefix, *workload.argv]
            if config == "jail-b":
                remove_db(db_path(tmp))
            elapsed, failure = timed_run(argv, env, tmp, settings.timeout)
            if failure is None and config == "jail-b":
                failure = check_log(db_path(tmp), workload.logged)
            if failure:
                m.failure = f"`{shlex.join(argv)}`: {failure}"
                line.append(f"{config} FAILED")
            else:
                m.times.append(elapsed)
                line.append(f"{config} {elapsed:.3f}s")
        print(f"  {workload.name} [{round_no}/{settings.runs}] " + ", ".join(line), file=sys.stderr, flush=True)
    return results


def workloads(binaries: dict[str, Path], settings: Settings) -> list[Workload]:
    n = settings.getppid_count
    return [
        Workload(f"getppid ×{n}", (str(binaries["getppid"]), str(n)), ("getppid", n)),
        Workload(f"du -s {settings.du_path}", ("du", "-s", settings.du_path)),
        # one execve for the workload itself, one per child
        Workload(f"fork+exec ×{settings.forks}", (str(binaries["forkexec"]), str(settings.forks)),
                 ("execve", settings.forks + 1)),
    ]


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def scale(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def fmt(value: float | None, spec: str, failed: bool = False) -> str:
    if value is None:
        return "FAILED" if failed else "–"
    return format(value, spec)


def medians(r: dict[str, Measure]) -> tuple[float | None, ...]:
    return tuple(r[c].median for c in CONFIGS)


def table(rows: list[tuple[Workload, dict[str, Measure]]]) -> str:
    """The results as a Markdown table (readable on a terminal too)."""
    head = ("workload", "native s", "strace s", "jail-a s", "jail-b s", "a/native", "a-native ms", "b/strace")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, r in rows:
        native, strace, a, b = medians(r)
        cells = [workload.name, *(fmt(r[c].median, ".3f", bool(r[c].failure)) for c in CONFIGS),
                 fmt(ratio(a, native), ".3f"), fmt(scale(diff(a, native), 1e3), ".1f"), fmt(ratio(b, strace), ".3f")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Start-up probes on `true`: which one nets out the start-up of which configuration.
START_UP_OF = {"strace": "strace", "jail-a": "jail-a", "jail-b": "jail"}
START_UP_LABELS = {"strace": "`strace -f -o /dev/null true`",
                   "jail-a": "`seccomp-jail run -q --rules allow-forever.toml -- true`",
                   "jail": "`seccomp-jail run -q -- true`"}


def start_ups(start: dict[str, Measure]) -> dict[str, float | None]:
    """Each wrapper's start-up: its median on `true` minus native `true`."""
    return {config: diff(start[config].median, start["native"].median) for config in START_UP_LABELS}


def start_up_lines(start: dict[str, Measure], net: dict[str, float | None]) -> list[str]:
    native = start["native"].median
    return [f"- start-up of {label}: {fmt(start[config].median, '.3f', bool(start[config].failure))} s, "
            f"{fmt(scale(net[config], 1e3), '.1f')} ms more than native `true` ({fmt(native, '.4f')} s)"
            for config, label in START_UP_LABELS.items()]


def per_syscall_lines(getppid: tuple[Workload, dict[str, Measure]], count: int,
                      net: dict[str, float | None]) -> list[str]:
    """(t - native)/count as the issue states it, and the same net of the
    wrapper's start-up, which matters when count is small (--quick)."""
    _, r = getppid
    lines = []
    for config in ("jail-b", "strace"):
        extra = diff(r[config].median, r["native"].median)
        lines.append(f"- per-syscall cost of {config} (getppid loop, (t - native)/{count}): "
                     f"{fmt(scale(extra, 1e6 / count), '.2f')} µs; "
                     f"net of its start-up: "
                     f"{fmt(scale(diff(extra, net[START_UP_OF[config]]), 1e6 / count), '.2f')} µs")
    return lines


def targets(rows: list[tuple[Workload, dict[str, Measure]]], net_a: float | None) -> list[tuple[str, bool | None]]:
    """Each target as (description, met); met is None when a run failed.
    (a) allows 5 % of native plus the 100 ms start-up budget, and the measured
    start-up must itself fit the budget; (b) is jail-b ≤ strace -f."""
    checks: list[tuple[str, bool | None]] = [(
        f"(a) start-up of jail-a on `true` < {START_UP_BUDGET * 1e3:.0f} ms "
        f"(measured {fmt(scale(net_a, 1e3), '.1f')} ms)",
        None if net_a is None else net_a < START_UP_BUDGET)]
    for workload, r in rows:
        native, _, a, _ = medians(r)
        bound = scale(native, 1 + SLOWDOWN_BUDGET)
        bound = None if bound is None else bound + START_UP_BUDGET
        beyond = diff(diff(a, native), net_a)
        checks.append((f"(a) {workload.name}: jail-a {fmt(a, '.3f')} s ≤ native × 1.05 + 0.1 s "
                       f"= {fmt(bound, '.3f')} s "
                       f"(beyond start-up: {fmt(scale(beyond, 1e3), '+.1f')} ms; 5 % of native: "
                       f"{fmt(scale(native, SLOWDOWN_BUDGET * 1e3), '.1f')} ms)",
                       None if a is None or bound is None else a <= bound))
    for workload, r in rows:
        _, strace, _, b = medians(r)
        checks.append((f"(b) {workload.name}: jail-b {fmt(b, '.3f')} s ≤ strace -f {fmt(strace, '.3f')} s",
                       None if b is None or strace is None else b <= strace))
    return checks


def verdict(met: bool | None) -> str:
    return {True: "PASS", False: "MISS", None: "MISS (run failed)"}[met]


def first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True).stdout
    except OSError as exc:
        return f"unavailable ({exc.strerror})"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def machine(python: str) -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"- nproc: {len(os.sched_getaffinity(0))} ({cpu})",
        f"- kernel: {platform.release()}",
        f"- python (runs the jail): {first_line([python, '--version'])}"
        + ("" if os.path.isabs(python) else f" ({python})"),
        f"- strace: {first_line(['strace', '-V'])}",
        f"- gcc: {first_line(['gcc', '--version'])}",
        f"- load average at start: {load}",
        f"- seccomp-jail commit: {first_line(['git', '-C', str(REPO), 'rev-parse', '--short', 'HEAD'])}",
    ]


def report(settings: Settings, machine_lines: list[str], body: list[str], checks: list[tuple[str, bool | None]],
           failures: list[str]) -> str:
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    parts = ["# seccomp-jail benchmark results", "",
             f"Written by `benchmarks/run.py` on {now}; see benchmarks/README.md for what each number means."]
    if settings.quick:
        parts += ["", "**Quick smoke run (`--quick`): one run, reduced workloads. Not a measurement.**"]
    parts += ["", "## Machine", "", *machine_lines, "", "## Command", "",
              "    " + shlex.join(["python3", "benchmarks/run.py", *sys.argv[1:]]) + "   # from the repository root", "",
              f"## Results (median of {settings.runs} run{'s' * (settings.runs > 1)}, wall seconds)", "", *body,
              "", "## Targets", "", *(f"- {verdict(met)}: {text}" for text, met in checks)]
    if failures:
        parts += ["", "## Failed runs", "", *(f"- {f}" for f in failures)]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    args, settings = parse_args(sys.argv[1:] if argv is None else argv)
    for tool in ("gcc", "strace", "du"):
        if not shutil.which(tool):
            print(f"run.py: {tool} not found on PATH", file=sys.stderr)
            return 2
    env = dict(os.environ)
    # Installed Python caches bytecode; a global "don't write it" setting would
    # make every jail run compile its modules again and inflate start-up.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(REPO), env.get("PYTHONPATH"))))
    machine_lines = machine(args.python)
    # Runs happen in a temporary directory: a relative interpreter path must not change meaning.
    python = os.path.abspath(args.python) if os.sep in args.python else args.python
    with tempfile.TemporaryDirectory(prefix="seccomp-jail-bench-") as tmpname:
        tmp = Path(tmpname)
        binaries = build(tmp)
        configs = prefixes(tmp, python)
        print("start-up:", file=sys.stderr)
        start_configs = {"native": [], "strace": configs["strace"], "jail-a": configs["jail-a"],
                         "jail": jail(python, "-q")}
        start = measure(Workload("true", ("true",)), start_configs, settings, env, tmp)
        rows = []
        for workload in workloads(binaries, settings):
            print(f"{workload.name}:", file=sys.stderr)
            rows.append((workload, measure(workload, configs, settings, env, tmp)))

    net = start_ups(start)
    body = [table(rows), "", *start_up_lines(start, net), *per_syscall_lines(rows[0], settings.getppid_count, net)]
    checks = targets(rows, net["jail-a"])
    failures = [m.failure for results in (start, *(r for _, r in rows)) for m in results.values() if m.failure]
    text = report(settings, machine_lines, body, checks, failures)
    print(text)
    args.results.write_text(text)
    print(f"wrote {args.results}", file=sys.stderr)
    if failures:
        return 2
    return 1 if args.strict and not all(met for _, met in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
