"""Shared fixtures for the end-to-end jail tests.

The targets are small C programs in tests/targets, built once per session
into a temporary directory (never into the repository). Each test runs them
both natively and under `python3 -m seccomp_jail run`, in a fresh working
directory, and compares what the program printed and how it exited.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TARGET_SOURCES = Path(__file__).resolve().parent / "targets"
# A hung jail must fail its test, not the whole suite.
RUN_TIMEOUT = float(os.environ.get("SECCOMP_JAIL_TEST_TIMEOUT", "60"))
# Core tests run twice: with what this kernel offers (PTRACE_GET/SET_SYSCALL_INFO,
# return values from the exit tracepoint) and with the fallbacks (registers,
# exit stops), as on a 5.10 kernel or for a user who is not root.
MODES = {"syscall-info": {}, "registers": {"SECCOMP_JAIL_NO_SYSCALL_INFO": "1", "SECCOMP_JAIL_NO_EXIT_FEED": "1"}}


def exit_status(returncode: int) -> int:
    """A shell's view of a status: 128+N for a process killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def jail_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "seccomp_jail", *args]


def jail_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for seccomp-jail: this checkout first on the import path."""
    env = dict(os.environ)
    env.pop("SECCOMP_JAIL_NO_SYSCALL_INFO", None)
    env.pop("SECCOMP_JAIL_NO_EXIT_FEED", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def run_process(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
                timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess:
    """Run to completion in a new session; on timeout kill it and fail the test.

    With PTRACE_O_EXITKILL, killing a hung jail also kills its tracees.
    """
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc.pid)
        out, err = proc.communicate()
        pytest.fail(f"timed out after {timeout}s: {argv}\nstdout: {out[-2000:]}\n"
                    f"stderr: {err[-2000:]}")
    return subprocess.CompletedProcess(argv, exit_status(proc.returncode), out, err)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def process_ended(pid: int, within: float = 5.0) -> bool:
    """Whether process `pid` (not our child: a double-forked helper) ends within
    `within` seconds; a zombie left for whoever reaps orphans here counts."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rpartition(b")")[2].split()[0] == b"Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.01)
    return False


def read_jsonl(path: Path) -> list[dict]:
    """Every line of a JSONL log, each of which must be one JSON object."""
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            pytest.fail(f"{path}:{number}: not JSON ({exc}): {line[:200]!r}")
        assert isinstance(record, dict), f"{path}:{number}: not an object"
        records.append(record)
    return records


@dataclass
class JailRun:
    """One finished `seccomp-jail run`: its process result and its JSONL log."""

    proc: subprocess.CompletedProcess
    records: list[dict]

    @property
    def status(self) -> int:
        return self.proc.returncode

    @property
    def stdout(self) -> str:
        return self.proc.stdout

    def syscalls(self, name: str | None = None, pid: int | None = None) -> list[dict]:
        """Syscall records in log order, optionally of one syscall and/or one process."""
        return [r for r in self.records if r.get("type") == "syscall"
                and (name is None or r["syscall"] == name)
                and (pid is None or r["pid"] == pid)]

    def tasks(self, kind: str | None = None) -> list[dict]:
        return [r for r in self.records if r.get("type") == "task"
                and (kind is None or r.get("kind") == kind)]


class Targets:
    """Paths of the compiled targets, by source file stem: targets["mkdir"]."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def __getitem__(self, name: str) -> str:
        path = self.dir / name
        assert path.exists(), f"no target {name}"
        return str(path)


def _compile(source: Path, out_dir: Path) -> str | None:
    """Build one target; returns the compiler's complaint, or None when it built."""
    cmd = ["gcc", "-O1", "-pthread", "-Wall", "-o", str(out_dir / source.stem), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    return None if done.returncode == 0 else f"{source.name}:\n{done.stderr}"


@pytest.fixture(scope="session")
def targets(tmp_path_factory) -> Targets:
    """Every tests/targets/*.c built with gcc, once per session."""
    out_dir = tmp_path_factory.mktemp("targets")
    sources = sorted(TARGET_SOURCES.glob("*.c"))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        errors = [e for e in pool.map(lambda s: _compile(s, out_dir), sources) if e]
    if errors:
        pytest.fail("cannot build targets:\n" + "\n".join(errors))
    return Targets(out_dir)


@pytest.fixture
def workdir(tmp_path) -> Path:
    """The directory the target runs in (where `mkdir test` lands)."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def rules_file(tmp_path):
    """rules_file(text, name="rules.toml") -> path of a rule file holding text."""

    def write(text: str, name: str = "rules.toml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def native(workdir):
    """native(argv) -> CompletedProcess of the target run without the jail."""

    def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
        return run_process([str(a) for a in argv], cwd=cwd or workdir)

    return run


def _jail_runner(tmp_path: Path, workdir: Path, mode_env: dict[str, str]):
    counter = iter(range(1_000_000))

    def run(argv: list[str], *, rules: str | None = None, options: tuple[str, ...] = (),
            cwd: Path | None = None, quiet: bool = True,
            timeout: float = RUN_TIMEOUT) -> JailRun:
        """Run argv in the jail with rules (TOML text, or None for no --rules)."""
        n = next(counter)
        jsonl = tmp_path / f"run{n}.jsonl"
        cli = ["run", "--jsonl", str(jsonl)]
        if rules is not None:
            rule_path = tmp_path / f"rules{n}.toml"
            rule_path.write_text(rules)
            cli += ["--rules", str(rule_path)]
        if quiet:
            cli.append("-q")
        cli += [*options, "--", *(str(a) for a in argv)]
        proc = run_process(jail_command(*cli), cwd=cwd or workdir, env=jail_env(mode_env),
                           timeout=timeout)
        return JailRun(proc, read_jsonl(jsonl))

    return run


@pytest.fixture
def jail(tmp_path, workdir):
    """jail(argv, rules=None, options=(), cwd=None, quiet=True) -> JailRun (default mode)."""
    return _jail_runner(tmp_path, workdir, {})


@pytest.fixture(params=list(MODES), ids=list(MODES))
def jail_mode(request) -> dict[str, str]:
    """The environment selecting one syscall access mode (both are tested)."""
    return MODES[request.param]


@pytest.fixture
def jail_both(tmp_path, workdir, jail_mode):
    """Like `jail`, parametrized over PTRACE_GET_SYSCALL_INFO and the register fallback."""
    return _jail_runner(tmp_path, workdir, jail_mode)


def rules_toml(default: str, *rules: dict) -> str:
    """A version-1 rule file: rules_toml("allow-forever", {"syscall": "mkdir", "action": "abort"})."""
    lines = ["version = 1", f'default = "{default}"']
    for rule in rules:
        lines.append("")
        lines.append("[[rule]]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in rule.items())
    return "\n".join(lines) + "\n"


def group_kill_log(jsonl, signo: int) -> None:
    """The log of group_kill: complete, down to the program's death by `signo`."""
    records = read_jsonl(jsonl)
    calls = [r for r in records if r.get("type") == "syscall"]
    assert len([r for r in calls if r["syscall"] == "getppid"]) == 5
    (kill,) = [r for r in calls if r["syscall"] == "kill"]
    assert kill["args"][:2] == [0, signo]
    (root,) = {r["pid"] for r in calls}
    exits = [r for r in records if r.get("type") == "task" and r.get("kind") == "exit" and r["tid"] == root]
    assert len(exits) == 1 and os.WTERMSIG(exits[0]["detail"]) == signo, exits
