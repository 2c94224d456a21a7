"""What the decoders need from the tracer: a way to read a stopped task's memory.

The tracer implements `MemReader` with /proc/PID/mem; tests use a fake
over a dict. Decoding itself never touches a process.
"""

from __future__ import annotations

from typing import Protocol

PAGE = 4096
WORD = 8


class MemReader(Protocol):
    def read(self, addr: int, size: int) -> bytes | None:
        """`size` bytes at `addr`, None when the address is not mapped."""

    def read_str(self, addr: int, limit: int) -> bytes | None:
        """The bytes before the first NUL, at most `limit` of them; None on a fault."""


def read_words(mem: MemReader, addr: int, limit: int) -> tuple[list[int], bool] | None:
    """A NULL-terminated array of pointers (argv, envp): (the words, whether the NULL was seen).

    At most `limit` words are read. Reads stop at page ends, so an array that
    ends just before an unmapped page is still read; a fault later on keeps
    what was read and reports the array as incomplete. None when nothing
    could be read.
    """
    words: list[int] = []
    while len(words) < limit:
        room = PAGE - addr % PAGE
        # Whole words up to the page end; a word straddling it is read on its own.
        size = min(max(room - room % WORD, WORD), (limit - len(words)) * WORD)
        data = mem.read(addr, size)
        if not data or len(data) < WORD:
            return (words, False) if words else None
        for off in range(0, len(data) - len(data) % WORD, WORD):
            word = int.from_bytes(data[off:off + WORD], "little")
            if word == 0:
                return words, True
            words.append(word)
        if len(data) < size:
            return words, False
        addr += size
    return words, False
