"""Runs a target's command: streams its output, captures it, enforces the timeout, stops it."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cli.errors import BenchHubError
from cli.outputlog import OutputLog

GRACE_SECONDS = 5.0


class Cancelled(BenchHubError):
    """The user pressed Ctrl-C; the command was stopped."""

    exit_code = 130


@dataclass(frozen=True)
class Execution:
    """One run of a command; CPU and RSS figures cover it and the children it waited for."""

    exit_code: int
    output: str
    wall_seconds: float
    user_seconds: float
    system_seconds: float
    max_rss_bytes: int
    timed_out: bool

    @property
    def cpu_seconds(self) -> float:
        return self.user_seconds + self.system_seconds


# ru_maxrss is in KiB on Linux and in bytes on macOS.
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024


def user_shell() -> str:
    shell = os.environ.get("SHELL", "")
    return shell if shell and Path(shell).exists() else "/bin/sh"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(pgid: int) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to the command's whole process group until it is gone.

    The shell may exit at once while its background children (which ignore SIGINT) live on,
    so each step waits for the group, not only for the shell (the reaper thread collects it).
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        if group_gone(pgid, GRACE_SECONDS):
            return


def group_gone(pgid: int, seconds: float) -> bool:
    """Whether nothing of the process group is left within ``seconds`` (its leader reaped)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _group_alive(pgid):
            return True
        time.sleep(0.05)
    return False


# Runs the command as its child and reports that child's own rusage on a pipe. Our process is
# large; a child spawned from it has its peak RSS accounted at least as large (exec records the
# RSS of the memory it replaces), so the command is forked from this small process instead.
_MEASURER = """
import os, signal, sys, time
fd = int(sys.argv[1])
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.close(fd)
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    except OSError as exc:
        os.write(2, f"cannot run {sys.argv[2]}: {exc}\\n".encode())
        os._exit(127)
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, signal.SIG_IGN)
_, status, ru = os.wait4(pid, 0)
os.write(fd, f"{time.perf_counter() - start} {ru.ru_utime} {ru.ru_stime} {ru.ru_maxrss}".encode())
code = os.waitstatus_to_exitcode(status)
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


class _Reaper(threading.Thread):
    """Waits for the command, then reads what the measurer reported of it."""

    def __init__(self, proc: subprocess.Popen[bytes], report: int) -> None:
        super().__init__(daemon=True)
        self._proc = proc
        self._report = report
        self.usage: tuple[float, float, float, int] | None = None

    def run(self) -> None:
        self._proc.wait()
        with os.fdopen(self._report, "rb") as fh:
            fields = fh.read().split()
        if len(fields) == 4:
            self.usage = (float(fields[0]), float(fields[1]), float(fields[2]), int(fields[3]) * _RSS_UNIT)


def execute(
    command: str,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    echo: Callable[[bytes], None],
    on_spawn: Callable[[int], None] = lambda _pid: None,
    log: OutputLog | None = None,
    cancel: threading.Event | None = None,
) -> Execution:
    """Run ``command`` in the user's shell; stdout and stderr merged, echoed as they come.

    ``on_spawn`` gets the pid of the measuring helper whose children are the command. With
    ``log`` the output goes there as it arrives and ``Execution.output`` is only its tail;
    without, it is all kept in memory. ``cancel`` set (from another thread: an agent's job
    cancelled in central) stops the command's process group as Ctrl-C does.
    """
    start = time.perf_counter()
    report_read, report_write = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-S", "-E", "-c", _MEASURER, str(report_write), user_shell(), "-c", command],
            pass_fds=(report_write,),
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        os.close(report_read)
        raise BenchHubError(f"cannot start {command!r} in {cwd}: {exc}") from None
    finally:
        os.close(report_write)
    chunks: list[bytes] = []
    stream = proc.stdout
    assert isinstance(stream, io.BufferedReader)

    keep = chunks.append if log is None else log.write

    def pump() -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            keep(chunk)
            echo(chunk)

    reader = threading.Thread(target=pump, daemon=True)
    reaper = _Reaper(proc, report_read)
    timed_out = False
    try:  # Ctrl-C may land anywhere from here on, even before the wait: the child always stops
        reader.start()
        reaper.start()
        on_spawn(proc.pid)
        deadline = time.monotonic() + timeout
        while reaper.is_alive() and time.monotonic() < deadline:
            reaper.join(min(0.2, max(deadline - time.monotonic(), 0)) if cancel is not None else timeout)
            if cancel is not None and cancel.is_set() and reaper.is_alive():
                _stop(proc.pid)
                reaper.join(GRACE_SECONDS)
                reader.join(GRACE_SECONDS)
                raise Cancelled(f"cancelled: {command!r} was stopped")
        if reaper.is_alive():
            timed_out = True
            _stop(proc.pid)
        reaper.join()
        reader.join(GRACE_SECONDS)
    except KeyboardInterrupt:
        _stop(proc.pid)
        reaper.join(GRACE_SECONDS)
        reader.join(GRACE_SECONDS)
        raise Cancelled(f"interrupted: {command!r} was stopped") from None
    except BaseException:  # whatever goes wrong here, the command does not outlive bhubctl
        _stop(proc.pid)
        raise
    finally:
        stream.close()
    usage = reaper.usage or (time.perf_counter() - start, 0.0, 0.0, 0)
    code = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    return Execution(
        exit_code=124 if timed_out else (128 - code if code < 0 else code),
        output=b"".join(chunks).decode("utf-8", errors="replace") if log is None else log.tail(),
        wall_seconds=usage[0],
        user_seconds=usage[1],
        system_seconds=usage[2],
        max_rss_bytes=usage[3],
        timed_out=timed_out,
    )
