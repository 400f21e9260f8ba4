"""The output log: streamed to disk, read back in line-aligned pieces, a bounded tail in memory."""

from __future__ import annotations

import hashlib
import os
import resource
import signal
from pathlib import Path

import pytest

from cli import outputlog
from cli.outputlog import OutputLog

TEXT = "".join(f"line {i} é€ {'x' * (i % 50)}\n" for i in range(5_000)) + "no newline at the end ü"


def test_pieces_end_at_line_ends_and_give_back_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outputlog, "READ_BYTES", 777)  # blocks cut through lines and characters
    log = OutputLog(tmp_path / "output.log", tail_bytes=1000)
    data = TEXT.encode()
    for start in range(0, len(data), 333):
        log.write(data[start : start + 333])
    log.close()
    pieces = list(log.chunks())
    assert "".join(pieces) == TEXT == (tmp_path / "output.log").read_text()
    assert all(p.endswith("\n") for p in pieces[:-1]) and len(pieces) > 10
    tail = log.tail()
    assert TEXT.endswith(tail) and 990 <= len(tail.encode()) <= 1000
    assert log.error is None


def test_a_disk_that_refuses_writes_keeps_the_rest_in_memory(tmp_path: Path) -> None:
    # a file size limit stands in for a full disk: the kernel refuses the write past it (EFBIG)
    pid = os.fork()
    if pid == 0:  # in a child: the limit must not reach this test process
        code = 1
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))
            log = OutputLog(tmp_path / "output.log")
            data = TEXT.encode()
            for start in range(0, len(data), 4096):
                log.write(data[start : start + 4096])
            log.close()
            whole = log.text() == TEXT and log.error is not None and "File too large" in log.error
            on_disk = (tmp_path / "output.log").stat().st_size
            code = 0 if whole and on_disk <= 10_000 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_log_that_cannot_be_opened_keeps_everything_in_memory(tmp_path: Path) -> None:
    log = OutputLog(tmp_path / "missing-folder" / "output.log")
    log.write(b"BenchmarkA-2 10 5 ns/op\n")
    assert log.error is not None and "No such file" in log.error
    assert log.text() == "BenchmarkA-2 10 5 ns/op\n"


def test_the_whole_outputs_length_and_checksum_are_of_central_s_text(tmp_path: Path) -> None:
    data = "naïve ✓ line\n".encode() * 1000 + b"\xff bad byte\n"
    log = OutputLog(tmp_path / "out.log", tail_bytes=100)
    for i in range(0, len(data), 7):  # chunks split multi-byte characters
        log.write(data[i : i + 7])
    log.close()
    text = data.decode("utf-8", errors="replace")
    assert log.chars == len(text) and log.sha256() == hashlib.sha256(text.encode()).hexdigest()
    assert log.text() == text and len(log.tail()) < log.chars
