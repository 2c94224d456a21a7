"""x86_64: `struct user_regs_struct` layout and the syscall calling convention.

Arguments travel in rdi, rsi, rdx, r10, r8, r9 (r10, not rcx: the `syscall`
instruction clobbers rcx). orig_rax holds the number the kernel will run.
"""

from __future__ import annotations

AUDIT_ARCH = 0xC000003E  # AUDIT_ARCH_X86_64
NAME = "x86_64"

# Byte offsets in struct user_regs_struct (sys/user.h), for PTRACE_PEEK/POKEUSER.
R10 = 7 * 8
R9 = 8 * 8
R8 = 9 * 8
RAX = 10 * 8
RDX = 12 * 8
RSI = 13 * 8
RDI = 14 * 8
ORIG_RAX = 15 * 8
RIP = 16 * 8
RSP = 19 * 8
REGS_SIZE = 27 * 8

ARG_OFFSETS = (RDI, RSI, RDX, R10, R8, R9)

# Numbers with a bit at or above this one are x32 syscalls.
X32_SYSCALL_BIT = 0x40000000

# Signed 32-bit view of orig_rax: the kernel dispatches on the low 32 bits
# (do_syscall_64 takes an int), so that is what the jail must judge.
def effective_nr(orig_rax: int) -> int:
    nr = orig_rax & 0xFFFFFFFF
    return nr - (1 << 32) if nr & 0x80000000 else nr
