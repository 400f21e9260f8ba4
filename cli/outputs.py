"""What a target's parser reads: the command's output, or the files its ``output:`` glob names."""

from __future__ import annotations

import glob
import os
from pathlib import Path

from cli.errors import ParseError
from cli.parsers import Document, frameworks

# A file written by the run can carry an mtime a little before the run's start on coarse
# filesystem clocks; files older than this margin are left from an earlier run.
_MTIME_SLACK_SECONDS = 2.0


def _read(path: Path) -> Document:
    try:
        return Document(str(path), path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise ParseError(f"cannot read the output file {path}: {exc.strerror}") from None


def collect_documents(
    framework: str, output: str | None, cwd: Path, stdout: str, started_at: float | None = None
) -> list[Document]:
    """stdout, or every file matching ``output`` (relative to ``cwd``; ``**`` allowed).

    With ``started_at`` (a Unix time), files older than the run are ignored: results left by
    an earlier run must not pass for this one's.
    """
    if output is None:
        return [Document("<output>", stdout)]
    pattern = output if os.path.isabs(output) else str(cwd / output)
    paths = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
    if not paths:
        raise ParseError(f"output {output!r} matched no file in {cwd}; did the benchmark write it there?")
    if started_at is not None:
        fresh = [p for p in paths if p.stat().st_mtime >= started_at - _MTIME_SLACK_SECONDS]
        if not fresh:
            raise ParseError(
                f"output {output!r} matched only files older than this run ({len(paths)}), "
                "so the benchmark did not write its results there"
            )
        paths = fresh
    if started_at is not None:  # the run is over: a file still open for writing is someone else's
        writers = open_for_writing(paths)
        if writers and len(writers) == len(paths):
            path, pid = next(iter(writers.items()))
            raise ParseError(
                f"output {output!r}: {path} is still being written by process {pid}, not this run's "
                "command (a concurrent run?); give each target an output of its own"
            )
        paths = [p for p in paths if p not in writers]
    return read_files(framework, paths)


def open_for_writing(paths: list[Path]) -> dict[Path, int]:
    """Which of ``paths`` a process still holds open for writing, and one such pid (Linux /proc).

    Two runs whose ``output:`` globs match each other's files would otherwise read each
    other's half-written output. Read by hand from /proc: psutil's open_files() leaves out the
    open mode and costs a process object per pid.
    """
    wanted = {os.path.realpath(p): p for p in paths}
    found: dict[Path, int] = {}
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return found
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target not in wanted:
                    continue
                with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                    flags = next(int(ln.split()[1], 8) for ln in info if ln.startswith("flags:"))
            except (OSError, StopIteration, ValueError):
                continue
            if flags & (os.O_WRONLY | os.O_RDWR):
                found.setdefault(wanted[target], pid)
    return found


def read_files(framework: str, paths: list[Path]) -> list[Document]:
    """The files, plus the companions the framework reads beside them (criterion's)."""
    spec = frameworks().get(framework)
    paths = list(paths)
    for path in list(paths):
        for companion in spec.companions if spec else ():
            extra = path.with_name(companion)
            if extra.is_file() and extra not in paths:
                paths.append(extra)
    return [_read(p) for p in paths]
