"""The log pipeline: raw records from the tracer to a writer process.

The tracer only appends a tuple per record; decoding, formatting and
SQLite/JSONL/text output happen in a separate process (seccomp_jail.log),
on the other CPU, so the traced program waits for none of it. Records go in
batches; a flusher thread sends a partial batch that is older than
`FLUSH_AFTER`, so a quiet target's lines still show up promptly.

With no sink at all (`run -q` alone) nothing is forked and no thread runs:
records are dropped as they come.
"""

from __future__ import annotations

import collections
import threading
import time

from seccomp_jail.log.warn import say
from seccomp_jail.log.writer import LogError, WriterHandle, has_sinks, start_writer
from seccomp_jail.message import Message

BATCH = 512
FLUSH_AFTER = 0.1


class LogPipe:
    def __init__(self, sink_options: dict, writer: WriterHandle | None = None) -> None:
        """Start the writer, if there is a sink, or take `writer`, started with
        the same options (see session.prestart); its log files open meanwhile:
        call `ready` before the program starts."""
        if writer is None and has_sinks(**sink_options):
            writer = start_writer(**sink_options, wait=False)
        self._writer = writer
        self._fd = self._writer.fd if self._writer else -1
        # The jail's own processes, which the filter keeps the target from signalling.
        self.pids = (self._writer.pid,) if self._writer else ()
        if not self._writer:
            self.emit = _drop
        self._queue: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._last_send = time.monotonic()
        self._closed = threading.Event()
        self._flusher = threading.Thread(target=self._flush_loop, name="log-flusher", daemon=True)

    def ready(self) -> None:
        """Wait until the log files are open; LogError (one line) when one cannot be."""
        if self._writer:
            try:
                self._writer.ready()
            except LogError:
                self._fd = -1  # the writer closed it: nothing goes there any more
                raise

    def start(self) -> None:
        """Start the flusher thread: after the target is forked, never before."""
        if self._writer:
            self._flusher.start()

    def emit(self, record) -> None:
        """Called by the tracer for every record; cheap unless a batch is full."""
        self._queue.append(record)
        if len(self._queue) >= BATCH:
            self.flush()

    def flush(self) -> None:
        queue = self._queue
        with self._lock:
            batch = []
            while queue:
                batch.append(queue.popleft())
            if batch and self._fd >= 0:
                try:
                    self._writer.send(batch)
                    self._writer.pace()
                except BrokenPipeError:
                    say(Message("log writer is gone; records are lost"))
                    self._fd = -1
            self._last_send = time.monotonic()

    def _flush_loop(self) -> None:
        while not self._closed.wait(FLUSH_AFTER):
            if self._queue and time.monotonic() - self._last_send >= FLUSH_AFTER:
                self.flush()

    def close(self) -> None:
        """Send everything, close the pipe and wait until the writer has written it all."""
        self._closed.set()
        if self._flusher.is_alive():
            self._flusher.join()
        self.flush()
        with self._lock:
            self._fd = -1
            if self._writer:
                self._writer.close()


def _drop(record) -> None:
    """`emit` when no sink is open."""
