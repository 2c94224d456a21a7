"""Compile a RuleSet into the kernel's seccomp-BPF program.

`-forever` rules become ALLOW / ERRNO in the kernel; every other action
becomes SECCOMP_RET_TRACE so that the tracer decides, and can change its
mind while the target runs. On top of the user's rules sit the jail's own
integrity rules, which no rule file can override:

* ptrace and process_vm_writev: EPERM (a tracee could otherwise trace or
  rewrite a sibling and approve its own syscalls);
* clone with CLONE_UNTRACED: EPERM (the child would escape the tracer);
* clone3: always traced, the tracer reads its flags (BPF cannot);
* signals to the jail's own processes and groups (AIMED_AT_JAIL), their
  thread ids, pidfds, files made to signal them (F_SETOWN...) and their
  rlimits, scheduling, nice values and I/O priorities go to the tracer
  (TRACER_CHECKED), which refuses them with EPERM, and TIOCSTI too (input
  pushed into the terminal runs after the jail);
* seccomp with SECCOMP_FILTER_FLAG_NEW_LISTENER: EPERM (a USER_NOTIF filter
  outranks our TRACE, so the target could answer its own syscalls);
* io_uring_*: ENOSYS unless a rule names them (its work bypasses seccomp);
* foreign ABIs (i386 `int 0x80`, x32) and numbers the table does not know:
  ENOSYS, as from a kernel without them.
"""

from __future__ import annotations

import errno
from typing import NamedTuple

from seccomp_jail.arch.syscalls import SyscallTable
from seccomp_jail.kernel import libseccomp as L
from seccomp_jail.kernel.owner import OWNER_FCNTLS, OWNER_IOCTLS, TIOCSTI
from seccomp_jail.kernel.seccomp import INSN, SECCOMP_FILTER_FLAG_NEW_LISTENER
from seccomp_jail.message import Message
from seccomp_jail.policy.model import Action, Rule, RuleSet

CLONE_UNTRACED = 0x00800000

# Denied whatever the rules say.
ALWAYS_DENIED = {"ptrace": errno.EPERM, "process_vm_writev": errno.EPERM}
# Denied unless a rule names them explicitly.
DENIED_UNLESS_NAMED = {"io_uring_setup", "io_uring_enter", "io_uring_register"}
# Allowed when a denying default would otherwise make the program unable to
# exit or return from a signal handler (systemd allows the same set).
ESSENTIAL = {"exit", "exit_group", "rt_sigreturn", "restart_syscall"}
# Always reach the tracer, which checks what BPF cannot see.
ALWAYS_TRACED = {"clone3"}

_CMP = {"==": L.CMP_EQ, "!=": L.CMP_NE, "<": L.CMP_LT, "<=": L.CMP_LE, ">": L.CMP_GT, ">=": L.CMP_GE}
_CMP_SYMBOL = {v: k for k, v in _CMP.items()}

# Classic BPF opcodes used by the prefix we put before libseccomp's program.
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_JA = 0x05
_SECCOMP_DATA_NR = 0
_SECCOMP_DATA_ARCH = 4
RET_TRACE = L.ACT_TRACE(0)


class Placement(NamedTuple):
    """Where one syscall is decided, for `rules show` and for the session."""

    where: str  # "kernel" or "tracer"
    summary: str  # e.g. "allow", "abort EPERM", "abort EPERM if arg0 & 0x800000"
    reason: Message | None = None  # why, when the jail overrode the rules (`rules show` translates it)


class CompiledFilter:
    """libseccomp's program for a rule set, and where each syscall is decided."""

    def __init__(self, body: bytes, placements: dict[int, Placement], pfc: str, limit: int,
                 table: SyscallTable, always_traced: frozenset[int] = frozenset()) -> None:
        self.body = body  # libseccomp's program
        self.placements = placements
        # Numbers every call of which reaches the tracer: none is decided in the kernel.
        self.always_traced = always_traced
        self.pfc = pfc
        self.limit = limit  # first syscall number the table does not know
        self.table = table

    @property
    def bpf(self) -> bytes:
        """The program without pid protection (as `rules bpf` shows it)."""
        return self.program(())

    def program(self, protect: tuple[int, ...]) -> bytes:
        """The program to load, refusing signals to the jail's own pids `protect`."""
        return prefix(self.limit, self.table, protect) + self.body

    @property
    def traced(self) -> frozenset[int]:
        return frozenset(nr for nr, p in self.placements.items() if p.where == "tracer")


def kernel_action(action: Action, err: int) -> int:
    if action is Action.ALLOW_FOREVER:
        return L.ACT_ALLOW
    if action is Action.ABORT_FOREVER:
        return L.ACT_ERRNO(err)
    return RET_TRACE


def _describe(act: int) -> str:
    if act == L.ACT_ALLOW:
        return "allow"
    if act == RET_TRACE:
        return "trace"
    return "abort " + errno.errorcode.get(act & 0xFFFF, str(act & 0xFFFF))


def _conds(rule: Rule) -> tuple[L.ArgCmp, ...]:
    out = []
    for c in rule.args:
        if c.op == "&":
            out.append(L.ArgCmp(c.arg, L.CMP_MASKED_EQ, c.mask, c.value))
        else:
            out.append(L.ArgCmp(c.arg, _CMP[c.op], c.value))
    return tuple(out)


def _user_plan(rules: list[Rule], default_act: int) -> list[tuple[int, tuple[L.ArgCmp, ...]]]:
    """Kernel actions for one syscall from the user's rules, first match wins.

    Only shapes the kernel can decide exactly go there: no rule (default), a
    first rule without conditions, or one single conditional rule (else:
    default). Anything else is traced and the tracer walks the rules in order.
    """
    if not rules:
        return [(default_act, ())]
    first = rules[0]
    if first.kernel_only and not first.args:
        return [(kernel_action(first.action, first.errno), ())]
    if len(rules) == 1 and first.kernel_only:
        return [(kernel_action(first.action, first.errno), _conds(first))]
    return [(RET_TRACE, ())]


def _guarded(plan, arg: int, bit: int, deny_errno: int):
    """Split `plan` on one flag bit: bit set -> EPERM, clear -> the plan."""
    if any(conds for _, conds in plan):
        plan = [(RET_TRACE, ())]  # conditions on the same syscall: the tracer decides
    act = plan[0][0]
    return [
        (L.ACT_ERRNO(deny_errno), (L.ArgCmp(arg, L.CMP_MASKED_EQ, bit, bit),)),
        (act, (L.ArgCmp(arg, L.CMP_MASKED_EQ, bit, 0),)),
    ]


def plan_syscall(nr: int, name: str | None, ruleset: RuleSet, default_act: int):
    """(kernel plan, reason or None) for one syscall number."""
    rules = ruleset.rules_for(nr)
    if name in ALWAYS_DENIED:
        return [(L.ACT_ERRNO(ALWAYS_DENIED[name]), ())], Message("jail integrity")
    if name in DENIED_UNLESS_NAMED and not rules:
        why = Message("io_uring bypasses syscall filtering; name it in a rule to allow")
        return [(L.ACT_ERRNO(errno.ENOSYS), ())], why
    if name in ALWAYS_TRACED:
        return [(RET_TRACE, ())], Message("the tracer checks clone3's flags (CLONE_UNTRACED)")
    if not rules and name in ESSENTIAL and default_act != L.ACT_ALLOW and default_act != RET_TRACE:
        return [(L.ACT_ALLOW, ())], Message("needed to exit and return from signal handlers")
    plan = _user_plan(rules, default_act)
    if name == "clone":
        return _guarded(plan, 0, CLONE_UNTRACED, errno.EPERM), Message("CLONE_UNTRACED is denied")
    if name == "seccomp":
        why = Message("seccomp listeners are denied")
        return _guarded(plan, 1, SECCOMP_FILTER_FLAG_NEW_LISTENER, errno.EPERM), why
    return plan, None


def _placement(plan, reason: Message | None) -> Placement:
    acts = {act for act, _ in plan}
    where = "tracer" if RET_TRACE in acts else "kernel"
    parts = []
    for act, conds in plan:
        text = _describe(act)
        if conds:
            text += " if " + " and ".join(_cond_text(c) for c in conds)
        parts.append(text)
    return Placement(where, "; ".join(parts), reason)


def _cond_text(c: L.ArgCmp) -> str:
    if c.op == L.CMP_MASKED_EQ:
        return f"arg{c.arg} & {c.a:#x} == {c.b:#x}"
    return f"arg{c.arg} {_CMP_SYMBOL[c.op]} {c.a:#x}"


# The jailed program must not stop, kill or starve the jail's own processes
# (a SIGSTOPped tracer would hang every task). Calls whose argument is a pid
# or a process group go to the tracer when it is one of the jail's (each of
# its processes leads a group of its own): syscall -> argument index. Not
# refused here: a task in a pid namespace of its own means another process
# by the same number, and only the tracer can tell.
AIMED_AT_JAIL = {"kill": 0, "tgkill": 0, "rt_sigqueueinfo": 0, "rt_tgsigqueueinfo": 0, "pidfd_open": 0,
                 "setpgid": 1, "perf_event_open": 1}
# Calls only the tracer can judge reach it whatever the rules say:
# syscall -> None (always) or (argument index, values that send it there;
# OTHER: any but 0, i.e. a process other than the caller). Thread ids (kill(2)
# and rt_sigqueueinfo(2) of a tid reach its whole process; the jail's threads
# start after the filter is built) and pidfds; files made to signal a process
# (F_SETOWN, F_SETOWN_EX; FIOSETOWN, SIOCSPGRP, TIOCSPGRP: with F_SETSIG even
# SIGSTOP); another process's rlimits (RLIMIT_CPU ends it) and scheduling;
# perf events on it (`sigtrap` sends SIGTRAP on every event). And TIOCSTI,
# input pushed into a terminal, which the user's shell would run after us.
OTHER = ()
TRACER_CHECKED: dict[str, tuple[int, tuple[int, ...]] | None] = {
    "tkill": None, "pidfd_send_signal": None, "kill": None, "rt_sigqueueinfo": None,
    "fcntl": (1, OWNER_FCNTLS), "ioctl": (1, (*OWNER_IOCTLS, TIOCSTI)),
    "prlimit64": (0, OTHER), "sched_setscheduler": (0, OTHER), "sched_setparam": (0, OTHER),
    "sched_setattr": (0, OTHER), "sched_setaffinity": (0, OTHER), "perf_event_open": (1, OTHER),
    "setpriority": (1, OTHER), "ioprio_set": (1, OTHER),
}
_SECCOMP_DATA_ARGS = 16  # low word of argument i at 16 + 8 * i


def _jail_values(name: str, protect: tuple[int, ...]) -> list[int]:
    """The values of AIMED_AT_JAIL's argument of `name` that aim at the
    jail: its pids; for kill(2) also their groups (-pgid) and every process
    (-1); for perf_event_open(2) every process on a CPU (-1). Elsewhere those
    are invalid, and the kernel's own error must stand: programs probe with
    pidfd_open(-1) and expect EINVAL."""
    values = list(protect)
    if name == "kill":
        values += [-pid for pid in protect]
    if name in ("kill", "perf_event_open"):
        values.append(-1)
    return [value & 0xFFFFFFFF for value in values]


def _assemble(program: list[tuple]) -> bytes:
    """Classic BPF from (label,) markers and (code, jt, jf, k) with labels as jump targets."""
    labels, at = {}, 0
    for item in program:
        if len(item) == 1:
            labels[item[0]] = at
        else:
            at += 1
    out, at = [], 0
    for item in program:
        if len(item) == 1:
            continue
        code, jt, jf, k = item
        jt = labels[jt] - at - 1 if isinstance(jt, str) else jt
        jf = labels[jf] - at - 1 if isinstance(jf, str) else jf
        if code == _JA:
            k, jt, jf = labels[k] - at - 1, 0, 0
        out.append(INSN.pack(code, jt, jf, k))
        at += 1
    return b"".join(out)


def _dispatch(items: list[tuple[int, str]], miss: str) -> list[tuple]:
    """Jump to the label of the (number, label) item whose number is in A, else
    to `miss`. A binary search over the sorted items: every syscall runs this,
    and one in none of them (nearly all) costs a few comparisons, not one each."""
    if len(items) <= 3:
        return [(_JEQ_K, label, 0, nr) for nr, label in items] + [(_JA, 0, 0, miss)]
    mid = len(items) // 2
    upper = f"from {items[mid][0]}"
    return [(_JGE_K, upper, 0, items[mid][0]), *_dispatch(items[:mid], miss), (upper,),
            *_dispatch(items[mid:], miss)]


def _to_tracer(when: tuple[int, tuple[int, ...]] | None) -> list[tuple]:
    """The end of a TRACER_CHECKED syscall's block: to the tracer always, or on its argument."""
    if when is None:
        return [(_JA, 0, 0, "trace")]
    arg, values = when
    load = (_LD_W_ABS, 0, 0, _SECCOMP_DATA_ARGS + 8 * arg)
    if values is OTHER:
        return [load, (_JEQ_K, "body", "trace", 0)]
    return [load, *[(_JEQ_K, "trace", 0, value) for value in values], (_JA, 0, 0, "body")]


def prefix(limit: int, table: SyscallTable, protect: tuple[int, ...] = ()) -> bytes:
    """BPF run before libseccomp's program ("body").

    * native numbers >= limit -> ENOSYS: libseccomp has no range rules, and its
      default action must stay the rule file's default, so syscalls newer than
      our table would otherwise fall through to that default (maybe allow);
    * with `protect` (the jail's own pids): AIMED_AT_JAIL aimed at them or
      their process groups, and TRACER_CHECKED -> the tracer.
    """
    prog: list[tuple] = [
        (_LD_W_ABS, 0, 0, _SECCOMP_DATA_ARCH),
        (_JEQ_K, 0, "body", table.arch),
        (_LD_W_ABS, 0, 0, _SECCOMP_DATA_NR),
        (_JGE_K, "enosys", 0, limit),
    ]
    if protect:
        names = sorted(dict.fromkeys((*AIMED_AT_JAIL, *TRACER_CHECKED)), key=table.number)
        prog += _dispatch([(table.number(name), name) for name in names], "body")
        for name in names:
            prog.append((name,))
            if name in AIMED_AT_JAIL:
                prog.append((_LD_W_ABS, 0, 0, _SECCOMP_DATA_ARGS + 8 * AIMED_AT_JAIL[name]))
                prog += [(_JEQ_K, "trace", 0, value) for value in _jail_values(name, protect)]
            prog += _to_tracer(TRACER_CHECKED[name]) if name in TRACER_CHECKED else [(_JA, 0, 0, "body")]
        prog += [("trace",), (_RET_K, 0, 0, RET_TRACE)]
    else:
        prog.append((_JA, 0, 0, "body"))
    prog += [("enosys",), (_RET_K, 0, 0, L.ACT_ERRNO(errno.ENOSYS)), ("body",)]
    return _assemble(prog)


def compile_rules(ruleset: RuleSet, table: SyscallTable, with_pfc: bool = False) -> CompiledFilter:
    default_act = kernel_action(ruleset.default, ruleset.default_errno)
    numbers = set(table.numbers())
    for rule in ruleset.rules:
        numbers.update(rule.syscalls)
    placements: dict[int, Placement] = {}
    always_traced = set()
    with L.Filter(default_act) as flt:
        flt.set_attr(L.ATTR_ACT_BADARCH, L.ACT_ERRNO(errno.ENOSYS))
        flt.set_attr(L.ATTR_CTL_OPTIMIZE, 2)  # binary tree: O(log n) per syscall
        for nr in sorted(numbers):
            plan, reason = plan_syscall(nr, table.name(nr) if nr in table.numbers_set else None, ruleset, default_act)
            placements[nr] = _placement(plan, reason)
            if plan == [(RET_TRACE, ())]:
                always_traced.add(nr)
            for act, conds in plan:
                if act != default_act:  # libseccomp refuses rules equal to the default
                    flt.add_rule(act, nr, conds)
        body = flt.export_bpf()
        pfc = flt.export_pfc() if with_pfc else ""
    return CompiledFilter(body, placements, pfc, max(numbers) + 1, table, frozenset(always_traced))
