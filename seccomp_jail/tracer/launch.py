"""Start the target: fork, let the tracer seize the child, load the filter, exec.

The child waits on a pipe until PTRACE_SEIZE is done, so its very first
filtered syscall (the execve) already has a tracer. Python ignores SIGPIPE
and SIGXFSZ, catches SIGINT, and the session blocks signals; the child puts
back what the jail inherited (a signal ignored by `nohup` or by a shell for
a background job stays ignored, a blocked one blocked), so the program
starts as it would have without the jail.
"""

from __future__ import annotations

import os
import signal
from typing import Callable

from seccomp_jail.kernel import ptrace
from seccomp_jail.kernel.seccomp import install_filter

OPTIONS = (
    ptrace.O_TRACESYSGOOD
    | ptrace.O_TRACEFORK
    | ptrace.O_TRACEVFORK
    | ptrace.O_TRACECLONE
    | ptrace.O_TRACEEXEC
    | ptrace.O_TRACESECCOMP
    | ptrace.O_EXITKILL
)

_PYTHON_IGNORES = ("SIGPIPE", "SIGXFSZ", "SIGXFZ")  # as subprocess's restore_signals


def spawn(path: str, argv: list[str], env: dict[str, str], bpf: bytes,
          seized: Callable[[int], object] | None = None, *,
          mask: set[int] = frozenset(), own_group: bool = False, foreground: int = -1,
          close_fds: tuple[int, ...] = ()) -> int:
    """Fork the target, seize it, and let it load `bpf` and exec. Returns its pid.

    `seized(pid)` runs once the child is seized and before it goes on: what
    must be in place before its first syscall (the exit feed) starts there.
    `mask`: the signal mask the program starts with; `own_group`: in a
    process group of its own, made the foreground of terminal `foreground`
    (an fd) when one is given; `close_fds`: descriptors to close before the
    exec, so that the program starts without them.
    """
    python_catches_sigint = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: only async-signal-safe-ish work until exec
        try:
            os.close(go_w)
            for name in _PYTHON_IGNORES:
                if hasattr(signal, name):
                    signal.signal(getattr(signal, name), signal.SIG_DFL)
            if python_catches_sigint:  # else it was ignored when the jail started: so it stays
                signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU})  # tcsetpgrp from the background
            if own_group:
                try:
                    os.setpgid(0, 0)
                    if foreground >= 0:
                        os.tcsetpgrp(foreground, os.getpid())
                except OSError:
                    pass  # the program runs where the jail is, as before
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            if os.read(go_r, 1) != b"g":
                os._exit(127)
            os.close(go_r)
            for fd in close_fds:  # before the filter: no syscall of ours is logged as the program's
                os.close(fd)
            install_filter(bpf)
            os.execve(path, argv, env)
        except BaseException:
            pass
        os._exit(127)
    os.close(go_r)
    try:
        ptrace.seize(pid, OPTIONS)
    except OSError:
        os.close(go_w)
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    if seized is not None:
        try:
            seized(pid)
        except BaseException:
            os.close(go_w)  # the child reads EOF and exits; kill it anyway, it never ran
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
    os.write(go_w, b"g")
    os.close(go_w)
    return pid
