"""The writer process: reads batches from the tracer's pipe and feeds the sinks.

It runs apart from the tracer so that the tracer's hot path does no
formatting and no I/O, and so that the log survives whatever happens to the
tracer: the writer ignores SIGINT/SIGTERM/SIGHUP/SIGQUIT/SIGTSTP/SIGTTOU and
lives in a process group of its own (neither Ctrl-C nor the program's
kill(0, ...) must cut the log short), and ends only when every write end of
the pipe is closed, i.e. when the tracer is done or dead. Then it flushes and
closes every sink.

Typical use from the tracer side:

    log = start_writer(text=None, text_to_stderr=True, color=sys.stderr.isatty(),
                       db="run.sqlite", jsonl=None, command=argv)   # LogError -> exit 2
    ... log.send([("S", ...), ("T", ...)]) per batch ...
    log.close()        # returns once every record is on disk
"""

from __future__ import annotations

import os
import signal
import struct
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from seccomp_jail.kernel.libc import become_helper, read_line
from seccomp_jail.log.warn import report_suppressed, warn
from seccomp_jail.message import Message, MessageError, os_reason

if TYPE_CHECKING:
    from seccomp_jail.log.events import Sink

# framing and fcntl are imported where they are used: a run that logs
# nowhere imports this module for LogError alone.

_NICE = 10
COALESCE = 8192  # records: at most this many wait for a flush while more keep coming
_PIPE_SIZE = 1 << 20  # bytes; /proc/sys/fs/pipe-max-size allows 1 MiB by default
_reported: set[tuple[str, str]] = set()  # (log, reason) of write failures said in this serve


class LogError(MessageError):
    """A log destination cannot be opened; str() is one line for the user."""


def open_sinks(text: str | None, text_to_stderr: bool, color: bool, db: str | None,
               jsonl: str | None, *, command: Sequence[str] = (), durations: bool = False) -> list[Sink]:
    """Open every requested sink, or none: on failure the opened ones are closed
    and LogError names the destination and the reason.

    `color` colours the text lines, wherever they go: the caller decides
    (`sys.stderr.isatty()` for stderr, --color=always for a file);
    `durations` ends them with each call's duration (strace -T);
    `command` is recorded in the database's meta table.
    """
    # Sink modules are imported here, in the writer process, and only those
    # asked for: the tracer waits for the writer before starting the program.
    sinks: list[Sink] = []
    for where, opener in _openers(text, text_to_stderr, color, db, jsonl, command, durations):
        try:
            sinks.append(opener())
        except Exception as exc:  # OSError, sqlite3.Error: all mean "cannot log there"
            for sink in sinks:
                sink.close()
            raise LogError(Message("cannot open log {where}: {reason}", where=where, reason=os_reason(exc))) from exc
    return sinks


def has_sinks(text: str | None, text_to_stderr: bool, color: bool, db: str | None,
              jsonl: str | None, *, command: Sequence[str] = (), durations: bool = False) -> bool:
    """Whether `open_sinks` (same arguments) would open any sink: without one
    (`run -q` alone) there is no log, and no writer needs to run."""
    return bool(_openers(text, text_to_stderr, color, db, jsonl, command, durations))


def _openers(text, text_to_stderr, color, db, jsonl, command, durations) -> list[tuple[str, Callable[[], Sink]]]:
    """(destination, opener) for every sink asked for, in the order they open."""
    started = time.time()
    openers = []
    if text_to_stderr:
        openers.append(("stderr", lambda: _text_sink().to_stderr(color, durations)))
    if text:
        openers.append((text, lambda: _text_sink().to_file(text, color, durations)))
    if jsonl:
        openers.append((jsonl, lambda: _jsonl_sink(jsonl)))
    if db:
        openers.append((db, lambda: _db_sink(db, list(command), started)))
    return openers


def _text_sink():
    from seccomp_jail.log.text import TextSink

    return TextSink


def _jsonl_sink(path: str) -> Sink:
    from seccomp_jail.log.jsonl import JsonlSink

    return JsonlSink(path)


def _db_sink(path: str, command: list[str], started: float) -> Sink:
    from seccomp_jail.log.db import DbSink  # lazy: sqlite3 only when --db is used

    return DbSink(path, command, started)


def serve(read_fd: int, sinks: list[Sink], durable: Callable[[], None] | None = None) -> None:
    """Dispatch every record read from `read_fd` to every sink until EOF, then
    close the sinks. A bad record or a failing sink is reported on stderr and
    skipped; nothing that arrived intact is dropped.

    `durable()` is called once every record is written; what a sink's
    `finish` does after it (building indexes) makes no one wait.
    """
    from seccomp_jail.log.framing import iter_batches

    unflushed = 0
    _reported.clear()
    try:
        for batch in iter_batches(read_fd, warn):
            if sinks:  # with none (-q alone), records are read and let go undecoded
                _dispatch(batch, sinks)
                unflushed += len(batch)
                # While more is waiting, batches share a flush (one SQLite
                # commit, one write): fewer, bigger ones while we are behind.
                if unflushed >= COALESCE or not _queued(read_fd):
                    _flush(sinks)
                    unflushed = 0
    finally:  # closing flushes what is left
        for sink in sinks:
            try:
                sink.close()
            except Exception as exc:
                _sink_failed(sink, exc)
        report_suppressed()
        if durable is not None:
            durable()
        for sink in sinks:
            finish = getattr(sink, "finish", None)
            if finish is not None:
                try:
                    finish()
                except Exception as exc:
                    _sink_failed(sink, exc)


def _dispatch(batch: list, sinks: list[Sink]) -> None:
    from seccomp_jail.log.events import from_raw
    if not isinstance(batch, list):
        warn(Message("batch of type {type} skipped", type=type(batch).__name__))
        return
    events = []
    for raw in batch:
        try:
            events.append(from_raw(raw))
        except Exception as exc:  # malformed tuple of any shape
            warn(Message("bad record skipped: {record}: {reason}", record=repr(raw)[:200], reason=exc))
    for sink in sinks:
        handle = sink.handle
        for event in events:
            try:
                handle(event)
            except Exception as exc:  # one sink failing (disk full...) must not stop the others
                _sink_failed(sink, exc)


def _flush(sinks: list[Sink]) -> None:
    for sink in sinks:
        try:
            sink.flush()
        except Exception as exc:
            _sink_failed(sink, exc)


def _sink_failed(sink: Sink, exc: Exception) -> None:
    """Say once per log and reason that writing failed (a full disk fails
    every flush after the first): the user learns which log lacks records."""
    reason = os_reason(exc)
    if (sink.where, reason) not in _reported:
        _reported.add((sink.where, reason))
        warn(Message("cannot write log {where}: {reason}", where=sink.where, reason=reason))


class WriterHandle:
    """The running writer process, as the tracer sees it.

    `fd` is the pipe's write end (close-on-exec, so the jailed program never
    holds it): give it to `send_batch`, or call `send`. `pid` is the writer's;
    it is not a child of this process (it was double-forked), so a
    `waitpid(-1)` loop never reaps it. `close` ends the stream and waits until
    the writer has flushed and closed every sink.
    """

    def __init__(self, fd: int, pid: int, done_fd: int) -> None:
        self.fd = fd
        self.pid = pid
        self._done_fd = done_fd
        self._ready = False
        self._behind = False  # boosted by `pace`
        self._pipe_size = 0

    def ready(self) -> None:
        """Wait until the sinks are open; LogError (the writer is gone then) when one cannot be."""
        if self._ready:
            return
        status = read_line(self._done_fd)
        if status == "ok":
            self._ready = True
            return
        os.close(self.fd)
        os.close(self._done_fd)
        self.fd = -1
        if status.startswith("error "):  # the writer's LogError, as _writer_main sent it
            import json

            template, values = json.loads(status[6:])
            raise LogError(Message(template, **values))
        raise LogError(Message("the log writer did not start"))

    def send(self, batch: list) -> None:
        from seccomp_jail.log.framing import send_batch  # a lookup in sys.modules after the first

        send_batch(self.fd, batch)

    def pace(self) -> None:
        """Call after each batch: the writer gets ordinary CPU time while it is
        behind (its pipe half full), idle time again once it has caught up.

        Idle time keeps the log off the CPU the tracer and the program need
        (du runs 14 % faster than with the writer at nice 10). Alone it
        would let programs that keep every CPU busy (a parallel build)
        starve the log, and the tracer behind the full pipe with it: 8x
        fewer syscalls than under strace in our test, on a par when paced.
        Only a privileged jail can lift a task out of SCHED_IDLE; an
        unprivileged writer runs at nice 10 throughout.
        """
        if not self._pipe_size:
            import fcntl

            self._pipe_size = fcntl.fcntl(self.fd, fcntl.F_GETPIPE_SZ)
        queued = _queued(self.fd)
        if not self._behind and queued > self._pipe_size // 2:
            self._behind = _set_idle(self.pid, False)
        elif self._behind and queued < self._pipe_size // 8:
            self._behind = not _set_idle(self.pid, True)

    def close(self) -> None:
        if self.fd < 0:
            return
        if not self._behind:  # we wait for it now
            _set_idle(self.pid, False)
        os.close(self.fd)
        self.fd = -1
        # The writer holds the other end of this pipe until it exits.
        while os.read(self._done_fd, 4096):
            pass
        os.close(self._done_fd)

    def __enter__(self) -> WriterHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def start_writer(text: str | None, text_to_stderr: bool, color: bool, db: str | None,
                 jsonl: str | None, *, command: Sequence[str] = (), durations: bool = False,
                 wait: bool = True) -> WriterHandle:
    """Fork the writer process with the sinks of `open_sinks` (same arguments).

    Returns once the sinks are open; raises LogError, with nothing left
    running, when one cannot be. With `wait=False` it returns as soon as the
    writer's pid is known, and `ready()` does the rest: the sinks open while
    the caller gets on with its own start-up. Call it before the tracer
    starts the target and before any thread is started. A process forked
    later that does not exec keeps the pipe open: close `fd` in it.
    """
    data_r, data_w = os.pipe()
    done_r, done_w = os.pipe()
    child = os.fork()
    if child == 0:
        code = 0
        try:
            os.close(data_w)
            os.close(done_r)
            if os.fork() == 0:
                _writer_main(data_r, done_w, text, text_to_stderr, color, db, jsonl, command, durations)
        except BaseException as exc:  # never return into the caller's code in a fork
            warn(Message("log writer failed: {error}", error=repr(exc)))
            code = 1
        finally:
            os._exit(code)
    os.close(data_r)
    os.close(done_w)
    os.waitpid(child, 0)
    first = read_line(done_r)
    handle = WriterHandle(data_w, int(first[4:]) if first.startswith("pid ") else 0, done_r)
    if not handle.pid:
        os.close(data_w)
        os.close(done_r)
        raise LogError(Message("the log writer did not start"))
    if wait:
        handle.ready()
    return handle


def _set_idle(pid: int, idle: bool) -> bool:
    """Put the writer `pid` on SCHED_IDLE, or back on SCHED_OTHER at nice 10;
    False when not allowed (leaving SCHED_IDLE takes CAP_SYS_NICE)."""
    try:
        if idle:
            os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
        else:
            os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
            os.setpriority(os.PRIO_PROCESS, pid, min(os.getpriority(os.PRIO_PROCESS, 0) + _NICE, 19))
    except OSError:  # also ESRCH: the writer is gone
        return False
    return True


def _queued(fd: int) -> int:
    """Bytes waiting in the pipe (FIONREAD answers on the write end too)."""
    import fcntl
    import termios

    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except OSError:
        return 0


def _writer_main(data_r: int, done_w: int, text, text_to_stderr, color, db, jsonl,
                 command, durations) -> None:
    """Body of the writer process; the caller _exits when it returns."""
    os.write(done_w, f"pid {os.getpid()}\n".encode())
    # It outlives the user's signals to finish the log. SIGTTOU: in a process
    # group of its own, the writer is in the background of the terminal it may
    # write to; ignored, the writes go through.
    become_helper(also_ignore=(signal.SIGTTOU,))
    import fcntl

    try:
        fcntl.fcntl(data_r, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    except OSError:
        pass
    # Keep none of the tracer's descriptors: a pipe end held here would keep
    # someone else's EOF from ever arriving.
    keep = sorted({data_r, done_w})
    low = 3
    for fd in keep:
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, os.sysconf("SC_OPEN_MAX"))
    try:
        sinks = open_sinks(text, text_to_stderr, color, db, jsonl, command=command, durations=durations)
    except LogError as exc:  # its template and values, for the front end to translate
        import json

        message = json.dumps([exc.message.template, exc.message.values])
        os.write(done_w, f"error {message}\n".encode())
        return
    os.write(done_w, b"ok\n")
    # Until here the jail waited for us. From now on the tracer and the traced
    # program are on the critical path, the log is not: idle CPU time, and a
    # deep pipe absorbs the backlog (see WriterHandle.pace).
    if os.geteuid() != 0 or not _set_idle(0, True):  # only root can be boosted out of it again
        os.nice(_NICE)
    # While the program starts: the first batch would wait for these imports,
    # and for a short run that batch comes at the very end.
    from seccomp_jail import decode  # noqa: F401
    from seccomp_jail.log import events  # noqa: F401
    # Millions of short-lived records that never form a cycle: here the cyclic
    # collector finds nothing and costs a few per cent of the writer's time.
    import gc

    gc.disable()
    serve(data_r, sinks, durable=lambda: os.close(done_w))  # the jail may exit from here on

