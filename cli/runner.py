"""Runs a target's command: streams its output, captures it, enforces the timeout, stops it."""

from __future__ import annotations

import io
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cli.errors import BenchHubError

GRACE_SECONDS = 5.0


class Cancelled(BenchHubError):
    """The user pressed Ctrl-C; the command was stopped."""

    exit_code = 130


@dataclass(frozen=True)
class Execution:
    exit_code: int
    output: str
    wall_seconds: float
    cpu_seconds: float
    timed_out: bool


def _shell() -> str:
    shell = os.environ.get("SHELL", "")
    return shell if shell and Path(shell).exists() else "/bin/sh"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to the command's whole process group until it is gone.

    The shell may exit at once while its background children (which ignore SIGINT) live on,
    so each step waits for the group, not only for the shell.
    """
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < deadline:
            proc.poll()
            if not _group_alive(proc.pid):
                break
            time.sleep(0.05)
        else:
            continue
        break
    proc.wait()


def execute(
    command: str,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    echo: Callable[[bytes], None],
) -> Execution:
    """Run ``command`` in the user's shell; stdout and stderr merged, echoed as they come."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [_shell(), "-c", command],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise BenchHubError(f"cannot start {command!r} in {cwd}: {exc}") from None
    chunks: list[bytes] = []
    stream = proc.stdout
    assert isinstance(stream, io.BufferedReader)

    def pump() -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):
            chunks.append(chunk)
            echo(chunk)

    reader = threading.Thread(target=pump, daemon=True)
    timed_out = False
    try:  # Ctrl-C may land anywhere from here on, even before wait(): the child always stops
        reader.start()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(proc)
        reader.join(GRACE_SECONDS)
    except KeyboardInterrupt:
        _stop(proc)
        reader.join(GRACE_SECONDS)
        raise Cancelled(f"interrupted: {command!r} was stopped") from None
    finally:
        stream.close()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    code = proc.returncode
    return Execution(
        exit_code=124 if timed_out else (128 - code if code < 0 else code),
        output=b"".join(chunks).decode("utf-8", errors="replace"),
        wall_seconds=wall,
        cpu_seconds=cpu,
        timed_out=timed_out,
    )
