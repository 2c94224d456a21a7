"""Disassemble a classic BPF program, as seccomp runs it, one instruction per line.

`seccomp-jail rules bpf` shows what the kernel will actually execute, so a
user can check a rule file against the filter without trusting our
compiler: `0004: jeq #0xc000003e jt 5 jf 9`. Jump targets are absolute
instruction numbers. Loads from `struct seccomp_data` are named (nr, arch,
args[i] low/high word), syscall numbers compared right after loading `nr`
are named, and return values are decoded (ALLOW, ERRNO(EPERM), TRACE, ...).

The decoding follows the classic BPF opcode layout (linux/filter.h,
linux/bpf_common.h): the low 3 bits are the class, then size and mode for
loads, operation and source for ALU and jumps.
"""

from __future__ import annotations

import errno

from seccomp_jail.arch.syscalls import SyscallTable
from seccomp_jail.kernel.seccomp import INSN  # struct sock_filter: code, jt, jf, k

# Classes.
LD, LDX, ST, STX, ALU, JMP, RET, MISC = range(8)
# Load sizes and modes.
SIZES = {0x00: "", 0x08: "h", 0x10: "b"}  # W, H, B
IMM, ABS, IND, MEM, LEN, MSH = 0x00, 0x20, 0x40, 0x60, 0x80, 0xA0
# ALU and jump operations (code & 0xf0) and the X source bit.
ALU_OPS = {0x00: "add", 0x10: "sub", 0x20: "mul", 0x30: "div", 0x40: "or", 0x50: "and",
           0x60: "lsh", 0x70: "rsh", 0x80: "neg", 0x90: "mod", 0xA0: "xor"}
JMP_OPS = {0x00: "ja", 0x10: "jeq", 0x20: "jgt", 0x30: "jge", 0x40: "jset"}
SRC_X = 0x08
RVAL = {0x00: "#{k}", 0x08: "x", 0x10: "a"}

# SECCOMP_RET_* actions (the high 16 bits), linux/seccomp.h.
RET_ACTIONS = {
    0x80000000: "KILL_PROCESS",
    0x00000000: "KILL_THREAD",
    0x00030000: "TRAP",
    0x00050000: "ERRNO",
    0x7FC00000: "USER_NOTIF",
    0x7FF00000: "TRACE",
    0x7FFC0000: "LOG",
    0x7FFF0000: "ALLOW",
}
RET_ACTION_MASK = 0xFFFF0000
RET_DATA_MASK = 0x0000FFFF

# AUDIT_ARCH_* values a seccomp filter compares `arch` with.
ARCHES = {
    0xC000003E: "x86_64",
    0x40000003: "i386",
    0xC00000B7: "aarch64",
    0x40000028: "arm",
    0xC00000F3: "riscv64",
    0x80000016: "s390x",
    0xC0000102: "loongarch64",
}
X32_SYSCALL_BIT = 0x40000000
# How a comparison of `nr` with a syscall's number reads.
NR_NOTES = {"jeq": "{}", "jgt": "> {}", "jge": ">= {}"}


def seccomp_field(offset: int) -> str | None:
    """The `struct seccomp_data` member at a byte offset (arguments little-endian)."""
    if offset == 0:
        return "nr"
    if offset == 4:
        return "arch"
    if offset in (8, 12):
        return "instruction_pointer" + (" (high)" if offset == 12 else " (low)")
    if 16 <= offset < 64 and offset % 4 == 0:
        return f"args[{(offset - 16) // 8}] ({'high' if offset % 8 else 'low'})"
    return None


def describe_ret(value: int) -> str:
    """A SECCOMP_RET_* value as ALLOW, ERRNO(EPERM), TRACE, TRACE(5), KILL_PROCESS..."""
    action = RET_ACTIONS.get(value & RET_ACTION_MASK)
    if action is None:
        return f"{value:#x}"
    data = value & RET_DATA_MASK
    if action == "ERRNO":
        return f"ERRNO({errno.errorcode.get(data, data)})"
    return f"{action}({data})" if data else action


def disassemble(bpf: bytes, table: SyscallTable | None = None) -> list[str]:
    """One line per instruction: `NNNN: op operands`, with a `; note` where one helps."""
    if len(bpf) % INSN.size:
        raise ValueError(f"a BPF program is a multiple of {INSN.size} bytes, not {len(bpf)}")
    lines = []
    # What the accumulator holds on entry to each instruction ("nr", "arch",
    # ...; None when unknown or when paths disagree). Classic BPF jumps only
    # forward, so one pass in order sees every path into an instruction.
    incoming: dict[int, set[str | None]] = {0: {None}}
    for pc, (code, jt, jf, k) in enumerate(INSN.iter_unpack(bpf)):
        held = incoming.pop(pc, {None})
        loaded = held.pop() if len(held) == 1 else None
        text, note = _insn(pc, code, jt, jf, k, loaded, table)
        lines.append(f"{pc:04d}: {text}" + (f"  ; {note}" if note else ""))
        cls = code & 0x07
        if cls == LD:
            loaded = seccomp_field(k) if code & 0xE0 == ABS else None
        elif cls in (ALU, MISC):
            loaded = None
        if cls == RET:
            continue
        if cls != JMP:
            successors = [pc + 1]
        elif code & 0xF0 == 0x00:  # ja
            successors = [pc + 1 + k]
        else:
            successors = [pc + 1 + jt, pc + 1 + jf]
        for target in successors:
            incoming.setdefault(target, set()).add(loaded)
    return lines


def _insn(pc: int, code: int, jt: int, jf: int, k: int, loaded: str | None,
          table: SyscallTable | None) -> tuple[str, str | None]:
    """(instruction text, note) for one instruction."""
    cls = code & 0x07
    if cls in (LD, LDX):
        return _load(cls, code, k)
    if cls in (ST, STX):
        return f"{'st' if cls == ST else 'stx'} M[{k}]", None
    if cls == ALU:
        op = ALU_OPS.get(code & 0xF0, f"alu{code:#x}")
        if op == "neg":
            return "neg", None
        return f"{op} {'x' if code & SRC_X else f'#{k:#x}'}", None
    if cls == JMP:
        return _jump(pc, code, jt, jf, k, loaded, table)
    if cls == RET:
        source = RVAL.get(code & 0x18, "?")
        if source == "#{k}":
            return f"ret #{k:#x}", describe_ret(k)
        return f"ret {source}", None
    return ("txa" if code & 0xF8 == 0x80 else "tax"), None


def _load(cls: int, code: int, k: int) -> tuple[str, str | None]:
    name = ("ld" if cls == LD else "ldx") + SIZES.get(code & 0x18, "?")
    mode = code & 0xE0
    if mode == IMM:
        return f"{name} #{k:#x}", None
    if mode == ABS:
        return f"{name} [{k}]", seccomp_field(k)
    if mode == IND:
        return f"{name} [x + {k}]", None
    if mode == MEM:
        return f"{name} M[{k}]", None
    if mode == LEN:
        return f"{name} #len", None
    return f"{name} 4*([{k}]&0xf)", None


def _jump(pc: int, code: int, jt: int, jf: int, k: int, loaded: str | None,
          table: SyscallTable | None) -> tuple[str, str | None]:
    op = JMP_OPS.get(code & 0xF0, f"jmp{code:#x}")
    if op == "ja":
        return f"ja {pc + 1 + k}", None
    operand = "x" if code & SRC_X else f"#{k:#x}"
    text = f"{op} {operand} jt {pc + 1 + jt} jf {pc + 1 + jf}"
    note = None
    if not code & SRC_X:
        if loaded == "arch":
            note = ARCHES.get(k)
        elif loaded == "nr" and op in NR_NOTES and table is not None and k in table.numbers_set:
            note = NR_NOTES[op].format(table.name(k))
        if loaded == "nr" and op in ("jge", "jgt") and k & X32_SYSCALL_BIT:
            note = "x32 syscall bit"
    return text, note
