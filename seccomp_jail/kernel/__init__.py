"""Kernel bindings: the only layer that speaks ptrace(2), seccomp(2) and libseccomp.

Everything here is a thin, typed wrapper over one kernel or library interface;
policy and bookkeeping live in the layers above.
"""
