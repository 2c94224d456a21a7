"""Architecture layer: register layout and syscall ABI of the machine we trace.

Only x86_64 is implemented; the tracer reaches registers through `native()`
so that another architecture is one more module here.
"""

from __future__ import annotations

from seccomp_jail.arch import x86_64


def native():
    """The module describing the running machine's syscall ABI."""
    return x86_64
