"""A command's output on its way to disk: streamed to ``output.log`` as it arrives, never held whole.

Memory stays bounded whatever the command prints: only the last ``tail_bytes`` are kept (for
central's copy of the raw output). Parsers read the log back a megabyte at a time. If the
disk refuses a write (full, quota), the rest of the output is kept in memory instead, so the
run's results are still read whole, and the failure is reported.
"""

from __future__ import annotations

import codecs
import hashlib
import os
from collections import deque
from collections.abc import Generator, Iterator
from pathlib import Path

from central.wire import MAX_RAW_OUTPUT

READ_BYTES = 1 << 20


class OutputLog:
    """Append-only output of one run; ``write`` is called from the command's reader thread."""

    def __init__(self, path: Path, tail_bytes: int = MAX_RAW_OUTPUT) -> None:
        self.path = path
        self._fd: int | None = None
        self.error: str | None = None  # why the disk refused the output
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        except OSError as exc:
            self.error = f"{path}: {exc.strerror}"
        self._opened = self._fd is not None
        self._spill: list[bytes] = []  # what the disk refused, in order
        self._tail: deque[bytes] = deque()
        self._tail_size = 0
        self._tail_limit = tail_bytes
        self.size = 0
        # the whole output as central's text (UTF-8, bad bytes replaced): its length and SHA-256,
        # sent with the run's end so central can check the output it holds
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._digest = hashlib.sha256()
        self.chars = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self._count(self._decoder.decode(chunk))
        self._keep_tail(chunk)
        if self._fd is None:
            self._spill.append(chunk)
            return
        written = 0
        try:
            while written < len(chunk):
                written += os.write(self._fd, chunk[written:])
        except OSError as exc:  # the rest stays in memory: the results are read whole all the same
            self.error = f"{self.path}: {exc.strerror}"
            self._spill.append(chunk[written:])
            os.close(self._fd)
            self._fd = None

    def _keep_tail(self, chunk: bytes) -> None:
        self._tail.append(chunk)
        self._tail_size += len(chunk)
        while self._tail_size - len(self._tail[0]) >= self._tail_limit:
            self._tail_size -= len(self._tail.popleft())

    def _count(self, text: str) -> None:
        self.chars += len(text)
        self._digest.update(text.encode())

    def close(self) -> None:
        self._count(self._decoder.decode(b"", final=True))
        self._decoder.reset()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def sha256(self) -> str:
        """Of the whole output's text (after close)."""
        return self._digest.hexdigest()

    def tail(self) -> str:
        """The last ``tail_bytes`` of the output (a character cut at the edge is dropped)."""
        data = b"".join(self._tail)[-self._tail_limit :]
        return data.decode("utf-8", errors="ignore" if len(data) < self.size else "replace")

    def _blocks(self) -> Iterator[bytes]:
        if self._opened:
            with self.path.open("rb") as fh:
                while block := fh.read(READ_BYTES):
                    yield block
        yield from self._spill

    def chunks(self) -> Generator[str]:
        """The whole output as text, a megabyte at a time, each piece ending at a line's end."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        pending = ""
        for block in self._blocks():
            text = pending + decoder.decode(block)
            cut = text.rfind("\n") + 1
            pending = text[cut:]
            if cut:
                yield text[:cut]
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending

    def text(self) -> str:
        """The whole output (for parsers that need it at once)."""
        return "".join(self.chunks())
