"""Where an mbox file was read up to, and whether a later read may start there.

Takeout files and local archives only grow. The cursor keeps the file's size and
modification time (unchanged: nothing to read), the offset the read stopped at
(`MboxRead.resume_offset`) and a SHA-256 of the bytes just before it. A file whose
bytes before the offset still hash the same has only grown, and is read from the
offset; any other change (rewritten, compacted, truncated) means reading it again
in full.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

# Bytes hashed before the offset: the end of the last message read, and its separator.
TAIL_BYTES = 64 << 10


@dataclass(frozen=True)
class MboxCursor:
    size: int
    mtime_ns: int
    offset: int = 0
    tail_sha256: str = ""

    def dumps(self) -> str:
        return json.dumps(
            {
                "size": self.size,
                "mtime_ns": self.mtime_ns,
                "offset": self.offset,
                "tail_sha256": self.tail_sha256,
            }
        )

    @classmethod
    def loads(cls, value: str | None) -> MboxCursor | None:
        """The stored cursor; one from before offsets were kept resumes nowhere (offset 0)."""
        if value is None:
            return None
        stored = json.loads(value)
        return cls(
            int(stored["size"]),
            int(stored["mtime_ns"]),
            int(stored.get("offset", 0)),
            str(stored.get("tail_sha256", "")),
        )

    def unchanged(self, path: Path) -> bool:
        stat = path.stat()
        return (stat.st_size, stat.st_mtime_ns) == (self.size, self.mtime_ns)

    def resume_offset(self, path: Path) -> int:
        """The offset to read `path` from: ours if the bytes before it are unchanged, else 0."""
        if self.offset <= 0 or path.stat().st_size < self.offset:
            return 0
        return self.offset if tail_digest(path, self.offset) == self.tail_sha256 else 0


def cursor_after(path: Path, size: int, mtime_ns: int, offset: int) -> MboxCursor:
    """The cursor for a read of `path` (at `size`, `mtime_ns`) that stopped at `offset`."""
    return MboxCursor(size, mtime_ns, offset, tail_digest(path, offset))


def tail_digest(path: Path, offset: int) -> str:
    start = max(0, offset - TAIL_BYTES)
    fd = os.open(path, os.O_RDONLY)
    try:
        return hashlib.sha256(os.pread(fd, offset - start, start)).hexdigest()
    finally:
        os.close(fd)
