"""seccomp-jail: run a program so that every syscall of its whole tree is judged by rules."""

__version__ = "0.1.0"
