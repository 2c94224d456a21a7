"""Capture plans over a fake address space: what is read, how much, and what it prints as.

`Memory` behaves like the tracer's reader of /proc/PID/mem: reads past the
end of a mapping come back short, reads of unmapped addresses give None.
"""

from __future__ import annotations

import pickle
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seccomp_jail import decode
from seccomp_jail.decode.signatures import SIGNATURES

PAGE = 4096


class Memory:
    """Mappings {start: bytes}; counts reads so tests can check the hot path stays lean."""

    def __init__(self, mappings: dict[int, bytes]) -> None:
        self.mappings = mappings
        self.reads = 0
        self.bytes_asked = 0

    def _at(self, addr: int) -> bytes | None:
        for start, data in self.mappings.items():
            if start <= addr < start + len(data):
                return data[addr - start:]
        return None

    def read(self, addr: int, size: int) -> bytes | None:
        self.reads += 1
        self.bytes_asked += size
        data = self._at(addr)
        return None if data is None else data[:size]

    def read_str(self, addr: int, limit: int) -> bytes | None:
        self.reads += 1
        self.bytes_asked += limit
        data = self._at(addr)
        return None if data is None else data[:limit].split(b"\0", 1)[0]


def run(name: str, args: tuple[int, ...], mem: Memory, retval: int | None = 0) -> tuple[str, dict]:
    """What the tracer and the writer do for one syscall: capture at entry and exit, then format."""
    args = args + (0,) * (6 - len(args))
    captured = {}
    plan = decode.capture_plan(name)
    if plan:
        captured.update(plan(args, mem))
    exit_plan = decode.exit_capture_plan(name)
    if exit_plan and retval is not None:
        captured.update(exit_plan(args, retval, mem))
    pickle.loads(pickle.dumps(captured))  # it crosses to the writer process
    return decode.format_call(name, args, captured), captured


def cstr(*strings: bytes) -> bytes:
    return b"".join(s + b"\0" for s in strings)


def words(*values: int) -> bytes:
    return b"".join(struct.pack("<Q", v) for v in values)


@pytest.mark.parametrize("name", ["getpid", "close", "mmap", "futex", "fcntl", "ioctl", "lseek", "ptrace", "exit"])
def test_nothing_to_capture_is_the_fast_path(name):
    assert decode.capture_plan(name) is None
    assert decode.exit_capture_plan(name) is None


@pytest.mark.parametrize("name", ["read", "pipe2", "wait4", "accept4", "getcwd", "recvfrom"])
def test_results_are_captured_at_exit_only(name):
    assert decode.capture_plan(name) is None
    assert decode.exit_capture_plan(name) is not None


def test_unknown_syscall_has_no_plan():
    assert decode.capture_plan("syscall_999") is None
    assert decode.exit_capture_plan("syscall_999") is None


def test_openat_reads_the_path_once():
    mem = Memory({0x1000: cstr(b"/etc/passwd")})
    text, _ = run("openat", ((1 << 64) - 100, 0x1000, 0o2000000), mem)
    assert text == 'openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)'
    assert mem.reads == 1


def test_unmapped_path_shows_the_pointer():
    text, captured = run("mkdir", (0xDEAD000, 0o755), Memory({}))
    assert text == "mkdir(0xdead000, 0755)"
    assert captured == {0: None}


def test_null_pointers_are_not_read():
    mem = Memory({})
    assert run("execve", (0, 0, 0), mem)[0] == "execve(NULL, NULL, NULL)"
    assert mem.reads == 0


def test_write_of_a_large_buffer_reads_only_what_is_shown():
    mem = Memory({0x1000: b"x" * (1 << 20)})
    text, _ = run("write", (1, 0x1000, 1 << 20), mem)
    assert text == f'write(1, "{"x" * 32}"..., 1048576)'
    assert mem.bytes_asked == 32


def test_read_captures_its_result_at_exit():
    mem = Memory({0x1000: b"root:x:0:0:root:/root:/bin/bash\nmore\n" + bytes(100)})
    text, _ = run("read", (3, 0x1000, 4096), mem, retval=38)
    assert text == 'read(3, "root:x:0:0:root:/root:/bin/bash\\n"..., 4096)'
    assert mem.bytes_asked == 33  # one byte past what is shown, to know it was cut


def test_short_read_is_not_cut():
    mem = Memory({0x1000: b"vm\n" + bytes(197)})
    assert run("read", (4, 0x1000, 200), mem, retval=3)[0] == 'read(4, "vm\\n", 200)'


@pytest.mark.parametrize("retval", [-11, (1 << 64) - 11, -512])
def test_failed_syscall_reads_nothing_at_exit(retval):
    mem = Memory({0x1000: b"junk" * 100})
    assert decode.exit_capture_plan("read")((3, 0x1000, 100, 0, 0, 0), retval, mem) == {}
    assert mem.reads == 0


def test_pipe_fds_and_wait_status_at_exit():
    mem = Memory({0x1000: struct.pack("<ii", 3, 4), 0x2000: struct.pack("<I", 0x100)})
    assert run("pipe2", (0x1000, 0x80000), mem)[0] == "pipe2([3, 4], O_CLOEXEC)"
    assert run("wait4", (123, 0x2000, 0, 0), mem, retval=123)[0] == (
        "wait4(123, [{WIFEXITED(s) && WEXITSTATUS(s) == 1}], 0, NULL)")


def test_getcwd_reads_the_path_it_wrote():
    mem = Memory({0x1000: cstr(b"/home/user") + bytes(50)})
    assert run("getcwd", (0x1000, 4096), mem, retval=11)[0] == 'getcwd("/home/user", 4096)'


def test_accept_reads_the_length_then_the_address():
    addr = struct.pack("<H", 1) + b"/run/sock\0"
    mem = Memory({0x1000: addr + bytes(100), 0x2000: struct.pack("<I", len(addr))})
    text, _ = run("accept4", (3, 0x1000, 0x2000, 0x800), mem, retval=4)
    assert text == 'accept4(3, {sa_family=AF_UNIX, sun_path="/run/sock"}, [12], SOCK_NONBLOCK)'
    assert mem.reads == 2


def test_connect_reads_at_most_a_sockaddr_storage():
    mem = Memory({0x1000: struct.pack("<H", 2) + struct.pack(">H", 80) + bytes([10, 0, 0, 1]) + bytes(5000)})
    text, _ = run("connect", (3, 0x1000, 1 << 20), mem)
    assert text.startswith('connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.0.0.1")}')
    assert mem.bytes_asked == 128


def test_sigprocmask_captures_the_new_set_at_entry_and_the_old_at_exit():
    mem = Memory({0x1000: struct.pack("<Q", 1 << 16), 0x2000: struct.pack("<Q", 1 << 1)})
    text, _ = run("rt_sigprocmask", (0, 0x1000, 0x2000, 8), mem)
    assert text == "rt_sigprocmask(SIG_BLOCK, [CHLD], [INT], 8)"


def test_prctl_reads_a_string_only_for_options_that_take_one():
    mem = Memory({0x1000: cstr(b"worker")})
    assert run("prctl", (15, 0x1000), mem)[0] == 'prctl(PR_SET_NAME, "worker")'
    assert mem.reads == 1
    assert run("prctl", (38, 1, 0, 0, 0), mem)[0] == "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)"
    assert mem.reads == 1


def test_open_mode_appears_only_when_creating():
    mem = Memory({0x1000: cstr(b"f")})
    assert run("openat", (3, 0x1000, 0o1, 0o644), mem)[0] == 'openat(3, "f", O_WRONLY)'
    assert run("openat", (3, 0x1000, 0o101, 0o644), mem)[0] == 'openat(3, "f", O_WRONLY|O_CREAT, 0644)'


def test_execve_reads_argv_and_counts_envp():
    mem = Memory({
        0x1000: cstr(b"/bin/ls"),
        0x2000: words(0x3000, 0x3003, 0x3006, 0),
        0x3000: cstr(b"ls", b"-l", b"/"),
        0x4000: words(0x5000, 0x5004, 0),
        0x5000: cstr(b"A=1", b"B=2"),
    })
    text, _ = run("execve", (0x1000, 0x2000, 0x4000), mem, retval=None)
    assert text == 'execve("/bin/ls", ["ls", "-l", "/"], 0x4000 /* 2 vars */)'


def test_argv_ending_just_before_an_unmapped_page_is_read_whole():
    array = PAGE * 3 - 16  # two words, the last of the mapping: [ptr, NULL]
    mem = Memory({PAGE * 2: bytes(PAGE - 16) + words(0x9000, 0), 0x9000: cstr(b"prog")})
    text, _ = run("execve", (0x9000, array, 0), mem, retval=None)
    assert text == 'execve("prog", ["prog"], NULL)'


def test_long_argv_is_cut_after_32_and_bad_strings_show_their_address():
    pointers = [0x9000] * 40
    pointers[1] = 0xBAD000
    mem = Memory({0x1000: cstr(b"/bin/x"), 0x2000: words(*pointers, 0), 0x9000: cstr(b"a")})
    text, _captured = run("execve", (0x1000, 0x2000, 0), mem, retval=None)
    assert text == 'execve("/bin/x", ["a", 0xbad000, ' + ", ".join(['"a"'] * 30) + ", ...], NULL)"
    assert mem.reads < 40  # the strings past the 32nd are not read


def test_envp_that_runs_into_a_fault_is_not_counted():
    mem = Memory({0x1000: cstr(b"/bin/x"), 0x4000: words(0x5000, 0x5000)})  # no NULL before the mapping ends
    text, _ = run("execve", (0x1000, 0, 0x4000), mem, retval=None)
    assert text == 'execve("/bin/x", NULL, 0x4000)'


def test_clone3_struct_is_read_at_entry():
    mem = Memory({0x1000: words(0x10000 | 0x100, 0, 0, 0, 0, 0x7F0000, 0x1000) + bytes(100)})
    text, _ = run("clone3", (0x1000, 88), mem)
    assert text == "clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0, stack=0x7f0000, stack_size=0x1000}, 88)"


# A random address space and random arguments pointing into it or not: no syscall's plan or
# formatter may raise, whatever the target put in its memory.
_ADDRESSES = st.sampled_from([0, 0x1000, 0x1FF8, 0x2000, 0xDEAD000, (1 << 64) - 1, (1 << 64) - 100, 5])


@settings(max_examples=600, deadline=None)
@given(
    name=st.sampled_from(sorted(SIGNATURES)),
    args=st.tuples(*[st.one_of(_ADDRESSES, st.integers(0, (1 << 64) - 1))] * 6),
    page=st.binary(min_size=0, max_size=PAGE),
    retval=st.one_of(st.none(), st.integers(-4096, 1 << 40)),
)
def test_any_memory_and_arguments_decode_without_error(name, args, page, retval):
    mem = Memory({0x1000: page, 0x2000: page[:64]})
    text, _ = run(name, args, mem, retval)
    assert text.startswith(f"{name}(") and text.endswith(")")
    decode.format_retval(name, retval)
