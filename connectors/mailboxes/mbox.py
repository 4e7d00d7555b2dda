"""Message records from mbox files (Google Takeout), reading headers only.

The file is read with `pread` in bounded chunks and scanned for `From ` separator
lines and header-block ends with `find`; only header blocks are parsed, bodies are
skipped without being decoded. Messages are split where `mailbox.mbox` splits them: at
every line starting with `From ` (mboxrd quotes such body lines as `>From `). At most
one chunk plus one header window is held at a time, so memory stays flat whatever the
size of the file.

A file may still be being written (a Takeout copy in progress): reading stops at the
size the caller saw, and a last message whose header block has no end is not read
(nor is one cut short known to be complete); `MboxRead.resume_offset` says where the
next run should start. A message without a usable Date takes its instant from its
From line, else from its newest (topmost) Received header, flagged in `problems`.

Large files are parsed by a few worker processes and by this one. The file is cut
into byte ranges by arithmetic alone; a range's messages are those whose From line
starts in it, and each process reads its ranges from the file itself. Results come
back in file order.
"""

from __future__ import annotations

import fcntl
import gc
import marshal
import os
import re
import select
import struct
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from pathlib import Path

from connectors.errors import ConnectorError
from connectors.mailboxes.body_text import BODY_PREFIX_BYTES
from connectors.mailboxes.closing import plain_text_verdict
from connectors.mailboxes.headers import (
    RECORD_FIELDS,
    MessageRecord,
    Rejected,
    header_end,
    parse_date,
    record_from_block,
    rules_verdict,
)
from connectors.mailboxes.native import scanner as _native

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


@dataclass(frozen=True, slots=True)
class Pending:
    """The file's last message may still be being written: read it again from `offset`."""

    offset: int


class MboxRead:
    """The messages of an mbox from byte `start` up to `size`, in file order.

    Iterating yields one record (or `Rejected`) per message. `source_ref` is
    `<path>:<byte offset of the message's From line>`. Afterwards `resume_offset` is
    where a later read of the grown file should start: the end, or the start of a
    last message that may be incomplete (one whose header block has no end is not
    yielded at all). `workers` is the number of parsing processes, this one included;
    by default large reads use one per core (up to `MAX_WORKERS`) and small ones run in
    this process alone.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mailbox: str,
        start: int = 0,
        size: int | None = None,
        workers: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.mailbox = mailbox
        self.start = start
        self.size = self.path.stat().st_size if size is None else size
        self.workers = default_workers(self.size - start) if workers is None else workers
        self.resume_offset = self.size

    def __iter__(self) -> Iterator[MessageRecord | Rejected]:
        if self.workers > 1:
            items = _iter_parallel(self.path, self.mailbox, self.workers, self.start, self.size)
        else:
            items = _scan_file(self.path, self.mailbox, self.start, self.size, self.size)
        for item in items:
            if isinstance(item, Pending):
                self.resume_offset = item.offset
            else:
                yield item


def iter_mbox(
    path: str | os.PathLike[str], *, mailbox: str, workers: int | None = None
) -> Iterator[MessageRecord | Rejected]:
    """Yield one record (or `Rejected`) per message of the whole mbox at `path` (`MboxRead`)."""
    return iter(MboxRead(path, mailbox=mailbox, workers=workers))


def _scan_file(
    path: Path, mailbox: str, start: int, stop: int, size: int
) -> Iterator[MessageRecord | Rejected | Pending]:
    fd = os.open(path, os.O_RDONLY)
    try:
        yield from _scan(fd, str(path), mailbox, start, stop, size)
    finally:
        os.close(fd)


def default_workers(size: int) -> int:
    """Parsing processes `iter_mbox` uses for a file of `size` bytes (1: in-process)."""
    if size < PARALLEL_MIN_BYTES:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_WORKERS, cores or 1))


@contextmanager
def _no_collection() -> Iterator[None]:
    """No cyclic garbage collection while a batch of records is built (they hold no
    cycles): the collector would otherwise run every few hundred records and walk the
    batch built so far, and the older generations again and again."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


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
        chunk = os.pread(fd, min(PROBE_BYTES, size - position), position)
        found = chunk.find(SEPARATOR)
        if found != -1:
            return position + found + 1
        if len(chunk) <= overlap:
            break
        position += len(chunk) - overlap
    return size


def _scan(
    fd: int, path: str, mailbox: str, start: int, stop: int, size: int
) -> Iterator[MessageRecord | Rejected | Pending]:
    """Items for the messages whose From line starts in [start, stop) of the file's
    first `size` bytes; a `Pending` last when the file's last message may be cut.

    The last one may run past `stop`; it is read to its end (or to `size`). `buffer`
    holds the file from `base`; a message is parsed once the buffer reaches the next
    separator, or holds a whole header window (then its body is skipped unread).
    """
    position = _next_message(fd, start, size)
    window = 2 * MAX_HEADER_BYTES + 2
    base, buffer = position, b""
    while position < stop:
        at = position - base
        if _native is not None:  # the messages that end inside the buffer, in one call
            with _no_collection():
                items, at = _native.scan(buffer, at, stop - base, base, path, mailbox)
            yield from items
            position = base + at
            if position >= stop:
                break
        following = buffer.find(SEPARATOR, at)
        complete = following != -1 or base + len(buffer) >= size
        if not complete and len(buffer) - at < window:
            if base + len(buffer) < stop:
                wanted = max(READ_BYTES, window)
            else:  # past `stop` only this message is left: read it in doubling steps
                wanted = max(PROBE_BYTES, len(buffer) - at)
            wanted = min(wanted, size - base - len(buffer))
            buffer = buffer[at:] + os.pread(fd, wanted, base + len(buffer))
            base = position
            continue
        end_of_message = len(buffer) if following == -1 else following + 1
        last = following == -1 and complete
        item = _item(buffer, at, end_of_message, f"{path}:{position}", mailbox, complete, last)
        if item is not None:
            yield item
        if last and (item is None or not buffer.endswith((b"\n\n", b"\n\r\n"))):
            yield Pending(position)  # the file does not end the way a finished mbox does
        if following != -1:
            position = base + following + 1
        elif complete:
            break
        else:  # a message longer than the window: find its end without keeping it
            position = _next_message(fd, base + len(buffer) - len(SEPARATOR) + 1, size)
            base, buffer = position, b""


def _item(
    data: bytes,
    start: int,
    end_of_message: int,
    source_ref: str,
    mailbox: str,
    complete: bool,
    last: bool,
) -> MessageRecord | Rejected | None:
    """The message at `start` (a From line); `complete` says `end_of_message` is its end.

    None for the file's `last` message when its header block has no end (still being
    written).
    """
    line_end = data.find(b"\n", start, end_of_message)
    if line_end == -1 or line_end - start > MAX_HEADER_BYTES:
        if last:
            return None
        if not complete or line_end != -1:
            reason = f"From line longer than {MAX_HEADER_BYTES} bytes"
            return Rejected(source_ref, "headers", reason)
        return Rejected(source_ref, "headers", "no header fields before the body")
    end = header_end(data, line_end + 1, end_of_message)
    if end == end_of_message and last:
        if header_so_far(data[line_end + 1 : end]):
            return None
        return Rejected(source_ref, "headers", NOT_A_HEADER)
    if end - line_end > MAX_HEADER_BYTES or (end == end_of_message and not complete):
        reason = f"no end of the header block in its first {MAX_HEADER_BYTES} bytes"
        return Rejected(source_ref, "headers", reason)
    block = data[line_end + 1 : end]
    body_start = min(end + (1 if data[end : end + 1] == b"\n" else 2), end_of_message)
    body_stop = min(end_of_message, body_start + BODY_PREFIX_BYTES)
    body = (data[body_start:body_stop], complete and body_stop == end_of_message)
    item = record_from_block(
        block, mailbox=mailbox, source="mbox", source_ref=source_ref, body=body
    )
    if isinstance(item, MessageRecord) and item.sent_at is None:
        _date_from_envelope(item, data[start + 5 : line_end], block)
    return item


# The line after a From line: a header field (`Name: value`), perhaps cut short while
# the message is being written.
_FIELD_LINE = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:[^\n\x00]*\n")
_FIELD_SO_FAR = re.compile(rb"[\x21-\x39\x3b-\x7e]*(?:[ \t]*(?::[^\n\x00]*)?)?")
NOT_A_HEADER = "no mail header after the From line (its next line is no `Name: value` field)"


def header_so_far(data: bytes) -> bool:
    """Whether `data`, what follows a From line, begins as a header block does (a
    field line, or the start of one): else the "message" is garbage, and waiting for
    the rest of it to be written would wait for ever. Only the first line is judged:
    a malformed line further down is the message's problem, not the file's."""
    if b"\n" in data:
        return _FIELD_LINE.match(data) is not None
    return _FIELD_SO_FAR.fullmatch(data) is not None


# The From line's date: asctime, as Takeout (with "+0000") and mbox writers put it.
_FROM_LINE_DATE = re.compile(
    rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +"
    rb"(\d{1,2}) (\d\d):(\d\d)(?::(\d\d))?(?: ([+-]\d{4}))? +(\d{4})\s*$"
)
_RECEIVED = re.compile(rb"(?im)^received:((?:.*)(?:\r?\n[ \t].*)*)")


def _date_from_envelope(item: MessageRecord, from_line: bytes, block: bytes) -> None:
    """Give an undated message the instant its From line, else its newest Received, has."""
    found = _FROM_LINE_DATE.search(from_line)
    if found:
        month, day, hour, minute, second, zone, year = (
            part.decode() if part else part for part in found.groups()
        )
        text = f"{day} {month} {year} {hour}:{minute}:{second or '00'} {zone or '+0000'}"
        sent_at, status = parse_date(text)
        if sent_at is not None and status == "ok":
            item.sent_at = sent_at
            item.problems.append("sent_at_from_from_line")
            return
    received = _RECEIVED.search(block)
    if received:
        stamp = b" ".join(received[1].rpartition(b";")[2].split())
        sent_at, status = parse_date(stamp.decode("ascii", "replace"))
        if sent_at is not None and status == "ok":
            item.sent_at = sent_at
            item.problems.append("sent_at_from_received")


if _native is not None:
    _native.configure_scan(
        (
            _item,
            MessageRecord,
            RECORD_FIELDS,
            rules_verdict,
            plain_text_verdict,
            _date_from_envelope,
            MAX_HEADER_BYTES,
            BODY_PREFIX_BYTES,
        )
    )


# --- parallel parsing ---------------------------------------------------------------
#
# Workers are plain `python -m connectors.mailboxes.mbox` processes, so nothing of the caller's
# `__main__` is re-imported and no threads are forked. Ranges are handed out in file
# order, a few ahead per worker; the parent reads results strictly in range order, and
# parses the next range itself whenever the result it needs is not ready yet, so its
# own idle time goes into parsing (while a slow consumer keeps it busy, the workers do
# it all).

_LENGTH = struct.Struct("<Q")
_RANGE = struct.Struct("<QQ")
# Ranges handed to a worker ahead of the one it is parsing, and ranges the parent may
# hold parsed while it waits for earlier ones: both bound memory.
_AHEAD = 2
_HELD = 2
# Room for a whole range's result in a worker's pipe, so it goes on to its next range
# without waiting for the parent (Linux; the default 64 KiB elsewhere).
_PIPE_BYTES = 1 << 20


def _iter_parallel(
    path: Path, mailbox: str, workers: int, first: int, size: int
) -> Iterator[MessageRecord | Rejected | Pending]:
    """The items from `first` to `size` of `path`, parsed by this process and
    `workers - 1` others, in order."""
    ranges = deque(
        (start, min(start + CHUNK_BYTES, size)) for start in range(first, size, CHUNK_BYTES)
    )
    pool = [_Worker(path, mailbox, size) for _ in range(min(workers - 1, len(ranges)))]
    # What comes next, in file order: a worker's next result, or items parsed here.
    queue: deque[_Worker | list[MessageRecord | Rejected | Pending]] = deque()

    def hand_out(worker: _Worker) -> None:
        if ranges:
            worker.send(ranges.popleft())
            queue.append(worker)
        if not ranges:
            for each in pool:
                each.done_sending()

    fd = os.open(path, os.O_RDONLY)
    try:
        for worker in pool * _AHEAD:
            hand_out(worker)
        while queue:
            head = queue[0]
            held = sum(1 for entry in queue if type(entry) is list)
            if type(head) is _Worker and ranges and held < _HELD and not head.ready():
                start, stop = ranges.popleft()  # parsed here while the worker works
                queue.append(list(_scan(fd, str(path), mailbox, start, stop, size)))
                continue
            queue.popleft()
            if type(head) is list:
                yield from head
            else:
                packed = head.next_result()
                hand_out(head)
                yield from _unpack(packed)
        for worker in pool:
            worker.finish()
    finally:
        os.close(fd)
        for worker in pool:
            worker.close()


class _Worker:
    """One `python -m connectors.mailboxes.mbox` process parsing the ranges it is sent, in order.

    Its stderr goes to a temporary file (a pipe nobody reads could block it) and is
    quoted when the worker fails.
    """

    def __init__(self, path: Path, mailbox: str, size: int) -> None:
        self.path = path
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PROJECT_ROOT, env.get("PYTHONPATH")]))
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "connectors.mailboxes.mbox", str(path), mailbox, str(size)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            env=env,
            bufsize=0,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._requests = self._process.stdin
        self._results = self._process.stdout
        if hasattr(fcntl, "F_SETPIPE_SZ"):
            with suppress(OSError):  # above the system's limit: the default size
                fcntl.fcntl(self._results.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)

    def send(self, byte_range: tuple[int, int]) -> None:
        # A worker that died is reported when its results are read.
        with suppress(BrokenPipeError):
            self._requests.write(_RANGE.pack(*byte_range))

    def done_sending(self) -> None:
        """No more ranges: the worker exits once it has sent the results of those it has."""
        with suppress(BrokenPipeError):
            self._requests.close()

    def ready(self) -> bool:
        """Whether the next result (or the end of a failed worker) can be read at once."""
        return bool(select.select([self._results], [], [], 0)[0])

    def next_result(self) -> bytearray:
        header = self._read(_LENGTH.size)
        size = _LENGTH.unpack(header)[0] if len(header) == _LENGTH.size else 0
        packed = self._read(size) if size else b""
        if len(packed) != size or not size:
            self.finish()
            raise ConnectorError(f"mbox worker for {self.path} stopped before sending all results")
        return packed

    def _read(self, size: int) -> bytearray:
        """Up to `size` bytes, fewer only at the end of the pipe."""
        data = bytearray(size)
        view, got = memoryview(data), 0
        while got < size and (count := self._results.readinto(view[got:])):
            got += count
        view.release()
        return data if got == size else data[:got]

    def finish(self) -> None:
        """Wait for the worker to exit; raise with its last error line if it failed."""
        self.done_sending()
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
        self.done_sending()
        self._results.close()
        self._errors.close()


def _serve_ranges(path: str, mailbox: str, size: int) -> None:
    """Worker side: parse each range read from stdin, write its result to stdout."""
    # Records hold no reference cycles: the cyclic collector would only cost time here.
    gc.disable()
    requests, out = sys.stdin.buffer, sys.stdout.buffer
    fd = os.open(path, os.O_RDONLY)
    try:
        while len(request := requests.read(_RANGE.size)) == _RANGE.size:
            start, stop = _RANGE.unpack(request)
            items = list(_scan(fd, path, mailbox, start, stop, size))
            values = _native.pack(items, _pack) if _native is not None else list(map(_pack, items))
            # Values the records no longer share are marshalled without back-references.
            del items
            packed = marshal.dumps(values)
            out.write(_LENGTH.pack(len(packed)))
            out.write(packed)
            out.flush()
    finally:
        os.close(fd)


# Records travel as tuples (marshal is several times faster than pickling dataclasses),
# with `sent_at` as microseconds since the epoch; a 3-tuple is a Rejected, a 1-tuple
# a Pending.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SENT_AT = RECORD_FIELDS.index("sent_at")
_record_values = attrgetter(*RECORD_FIELDS)


def _pack(item: MessageRecord | Rejected | Pending) -> tuple:
    if isinstance(item, Pending):
        return (item.offset,)
    if isinstance(item, Rejected):
        return (item.source_ref, item.field, item.reason)
    values = _record_values(item)
    sent_at = values[_SENT_AT]
    if sent_at is None:
        return values
    return (*values[:_SENT_AT], (sent_at - _EPOCH) // _MICROSECOND, *values[_SENT_AT + 1 :])


def _unpack(packed: bytes | bytearray) -> Iterator[MessageRecord | Rejected | Pending]:
    with _no_collection():
        items = marshal.loads(packed)  # noqa: S302 - from our own worker
        if _native is not None:  # the records rebuilt in one call; the other tuples below
            items = _native.unpack(items)
    for values in items:
        if type(values) is not tuple:
            yield values
            continue
        if len(values) < 4:
            yield Rejected(*values) if len(values) == 3 else Pending(*values)
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
    _serve_ranges(sys.argv[1], sys.argv[2], int(sys.argv[3]))
