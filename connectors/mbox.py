"""Message records from mbox files (Google Takeout), reading headers only.

The file is read with `pread` in bounded chunks and scanned for `From ` separator
lines and header-block ends with `find`; only header blocks are parsed, bodies are
skipped without being decoded. Messages are split where `mailbox.mbox` splits them: at
every line starting with `From ` (mboxrd quotes such body lines as `>From `). At most
one chunk plus one header window is held at a time, so memory stays flat whatever the
size of the file.

Large files are parsed by a few worker processes. The file is cut into byte ranges
by arithmetic alone; a range's messages are those whose From line starts in it, and
each worker reads its ranges from the file itself. Results come back in file order.
"""

from __future__ import annotations

import gc
import marshal
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path

from connectors.errors import ConnectorError
from connectors.mail_headers import (
    RECORD_FIELDS,
    MessageRecord,
    Rejected,
    header_end,
    record_from_block,
)

SEPARATOR = b"\nFrom "
# Real header blocks are a few KiB; one without an end this far in is not a message.
MAX_HEADER_BYTES = 1 << 20
# Bytes read per `pread`; with the header window, the most this holds at once.
READ_BYTES = 4 << 20
# Bytes read per step when looking for the next From line from an arbitrary offset.
PROBE_BYTES = 64 << 10
# Below this size a worker pool costs more to start than it saves.
PARALLEL_MIN_BYTES = 48 << 20
CHUNK_BYTES = 4 << 20
MAX_WORKERS = 4
_PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)


def iter_mbox(
    path: str | os.PathLike[str], *, mailbox: str, workers: int | None = None
) -> Iterator[MessageRecord | Rejected]:
    """Yield one record (or `Rejected`) per message of the mbox at `path`, in file order.

    `source_ref` is `<path>:<byte offset of the message's From line>`. `workers` is the
    number of parsing processes; by default large files use one per core (up to
    `MAX_WORKERS`) and small files are parsed in this process.
    """
    path = Path(path)
    size = path.stat().st_size
    if workers is None:
        workers = default_workers(size)
    if workers > 1:
        yield from _iter_parallel(path, mailbox, workers, size)
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        yield from _scan(fd, str(path), mailbox, 0, size)
    finally:
        os.close(fd)


def default_workers(size: int) -> int:
    """Parsing processes `iter_mbox` uses for a file of `size` bytes (1: in-process)."""
    if size < PARALLEL_MIN_BYTES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_WORKERS, cores or 1))


def _next_message(fd: int, offset: int, size: int) -> int:
    """File offset of the first From line starting at or after `offset` (`size` if none).

    Like `mailbox.mbox`, anything before the file's first From line is ignored.
    """
    if offset == 0:
        if os.pread(fd, 5, 0) == b"From ":
            return 0
        offset = 1
    overlap = len(SEPARATOR) - 1
    position = offset - 1  # the separator's "\n" may sit just before `offset`
    while position < size:
        chunk = os.pread(fd, PROBE_BYTES, position)
        found = chunk.find(SEPARATOR)
        if found != -1:
            return position + found + 1
        if len(chunk) <= overlap:
            break
        position += len(chunk) - overlap
    return size


def _scan(
    fd: int, path: str, mailbox: str, start: int, stop: int
) -> Iterator[MessageRecord | Rejected]:
    """Items for the messages whose From line starts in [start, stop) of the file.

    The last one may run past `stop`; it is read to its end (or the file's). `buffer`
    holds the file from `base`; a message is parsed once the buffer reaches the next
    separator, or holds a whole header window (then its body is skipped unread).
    """
    size = os.fstat(fd).st_size
    position = _next_message(fd, start, size)
    window = 2 * MAX_HEADER_BYTES + 2
    base, buffer = position, b""
    while position < stop:
        at = position - base
        following = buffer.find(SEPARATOR, at)
        complete = following != -1 or base + len(buffer) >= size
        if not complete and len(buffer) - at < window:
            buffer = buffer[at:] + os.pread(fd, max(READ_BYTES, window), base + len(buffer))
            base = position
            continue
        end_of_message = len(buffer) if following == -1 else following + 1
        yield _item(buffer, at, end_of_message, f"{path}:{position}", mailbox, complete)
        if following != -1:
            position = base + following + 1
        elif complete:
            break
        else:  # a message longer than the window: find its end without keeping it
            position = _next_message(fd, base + len(buffer) - len(SEPARATOR) + 1, size)
            base, buffer = position, b""


def _item(
    data: bytes, start: int, end_of_message: int, source_ref: str, mailbox: str, complete: bool
) -> MessageRecord | Rejected:
    """The message at `start` (a From line); `complete` says `end_of_message` is its end."""
    line_end = data.find(b"\n", start, end_of_message)
    if line_end == -1 or line_end - start > MAX_HEADER_BYTES:
        if not complete or line_end != -1:
            reason = f"From line longer than {MAX_HEADER_BYTES} bytes"
            return Rejected(source_ref, "headers", reason)
        return Rejected(source_ref, "headers", "no header fields before the body")
    end = header_end(data, line_end + 1, end_of_message)
    if end - line_end > MAX_HEADER_BYTES or (end == end_of_message and not complete):
        reason = f"no end of the header block in its first {MAX_HEADER_BYTES} bytes"
        return Rejected(source_ref, "headers", reason)
    block = data[line_end + 1 : end]
    return record_from_block(block, mailbox=mailbox, source="mbox", source_ref=source_ref)


# --- parallel parsing ---------------------------------------------------------------
#
# Workers are plain `python -m connectors.mbox` processes, so nothing of the caller's
# `__main__` is re-imported and no threads are forked. Range i goes to worker
# i % workers; the parent reads results strictly in range order, and pipe
# back-pressure keeps each worker at most one range ahead.

_LENGTH = struct.Struct("<Q")


def _iter_parallel(
    path: Path, mailbox: str, workers: int, size: int
) -> Iterator[MessageRecord | Rejected]:
    """The items of `path`, parsed by `workers` processes, in file order."""
    ranges = [(start, min(start + CHUNK_BYTES, size)) for start in range(0, size, CHUNK_BYTES)]
    workers = min(workers, len(ranges))
    pool = [_Worker(path, mailbox, ranges[k::workers]) for k in range(workers)]
    try:
        for index in range(len(ranges)):
            yield from _unpack(pool[index % workers].next_result())
        for worker in pool:
            worker.finish()
    finally:
        for worker in pool:
            worker.close()


class _Worker:
    """One `python -m connectors.mbox` process parsing the ranges it was given, in order.

    Its stderr goes to a temporary file (a pipe nobody reads could block it) and is
    quoted when the worker fails.
    """

    def __init__(self, path: Path, mailbox: str, ranges: list[tuple[int, int]]) -> None:
        self.path = path
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PROJECT_ROOT, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "connectors.mbox", str(path), mailbox],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=env,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._results = self._process.stdout
        # A worker that died at start is reported when its results are read.
        # suppress() outermost: closing stdin flushes, which is where a dead worker shows.
        with suppress(BrokenPipeError), self._process.stdin:
            self._process.stdin.write(marshal.dumps(ranges))

    def next_result(self) -> bytes:
        header = self._results.read(_LENGTH.size)
        size = _LENGTH.unpack(header)[0] if len(header) == _LENGTH.size else 0
        packed = self._results.read(size) if size else b""
        if len(packed) != size or not size:
            self.finish()
            raise ConnectorError(f"mbox worker for {self.path} stopped before sending all results")
        return packed

    def finish(self) -> None:
        """Wait for the worker to exit; raise with its last error line if it failed."""
        if self._process.wait() != 0:
            self._errors.seek(0)
            lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
            last = lines[-1] if lines else "no error output"
            raise ConnectorError(
                f"mbox worker for {self.path} exited with {self._process.returncode}: {last}"
            )

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        self._results.close()
        self._errors.close()


def _serve_ranges(path: str, mailbox: str) -> None:
    """Worker side: parse the ranges read from stdin, write each result to stdout."""
    ranges = marshal.loads(sys.stdin.buffer.read())  # noqa: S302 - from our parent
    # Records hold no reference cycles: the cyclic collector would only cost time here.
    gc.disable()
    out = sys.stdout.buffer
    fd = os.open(path, os.O_RDONLY)
    try:
        for start, stop in ranges:
            packed = marshal.dumps([_pack(item) for item in _scan(fd, path, mailbox, start, stop)])
            out.write(_LENGTH.pack(len(packed)))
            out.write(packed)
            out.flush()
    finally:
        os.close(fd)


# Records travel as tuples (marshal is several times faster than pickling dataclasses),
# with `sent_at` as microseconds since the epoch; a 3-tuple is a Rejected.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SENT_AT = RECORD_FIELDS.index("sent_at")
_record_values = attrgetter(*RECORD_FIELDS)


def _pack(item: MessageRecord | Rejected) -> tuple:
    if isinstance(item, Rejected):
        return (item.source_ref, item.field, item.reason)
    values = _record_values(item)
    sent_at = values[_SENT_AT]
    if sent_at is None:
        return values
    return (*values[:_SENT_AT], (sent_at - _EPOCH) // _MICROSECOND, *values[_SENT_AT + 1 :])


def _unpack(packed: bytes) -> Iterator[MessageRecord | Rejected]:
    for values in marshal.loads(packed):  # noqa: S302 - from our own worker
        if len(values) == 3:
            yield Rejected(*values)
            continue
        micros = values[_SENT_AT]
        if micros is not None:
            values = (
                *values[:_SENT_AT],
                _EPOCH + timedelta(microseconds=micros),
                *values[_SENT_AT + 1 :],
            )
        yield MessageRecord(*values)


if __name__ == "__main__":
    _serve_ranges(sys.argv[1], sys.argv[2])
