"""What /proc tells of a task's open files: which mount each is on, and of what type.

Read only from procfs itself, which never waits on the program: a stat or
an open through the file would, on a FUSE mount of the program's own, or a
FIFO of its making.
"""

from __future__ import annotations


def mount_id(pid: int, fd: int | str) -> int:
    """The id of the mount the open file `fd` of task `pid` is on; -1 when unknown."""
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", "rb") as f:
            for line in f:
                if line.startswith(b"mnt_id:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return -1


def mount_types(pid: int) -> dict[int, bytes]:
    """Mount id -> file system type ("proc", "fuse.sshfs"...) of the mounts task `pid` sees."""
    types = {}
    try:
        with open(f"/proc/{pid}/mountinfo", "rb") as f:
            for line in f:
                fields, _, tail = line.partition(b" - ")
                types[int(fields.split(None, 1)[0])] = tail.split(None, 1)[0] if tail else b""
    except (OSError, ValueError, IndexError):
        pass
    return types
