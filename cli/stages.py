"""Background stages of a target: processes a benchmark needs running (a database server, a
service) started before its command, checked ready, watched while it runs, torn down after.

A stage runs in its own process group (so teardown reaches what it started); its output goes to
``stage-NAME.log`` beside the run's output (never into what the parser reads) and is shown with
the run's, each line prefixed with ``[stage NAME]``. Ready is a TCP port that accepts a
connection, a command that exits 0, or a line of its output matching a regular expression,
within ``timeout`` seconds. A stage that exits before it is ready, or while the benchmark runs
(``background_exited``), fails the run with one line naming it. Teardown is in reverse order:
SIGTERM to the group, a grace period, SIGKILL.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cli.errors import BenchHubError
from cli.runner import group_gone, user_shell

if TYPE_CHECKING:
    from cli.config import Stage

GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.1


class StageError(BenchHubError):
    """A stage did not come up, or went away while the benchmark ran."""


class _Background:
    def __init__(
        self, stage: Stage, cwd: Path, env: dict[str, str], log_dir: Path, echo: Callable[[bytes], None]
    ) -> None:
        self.stage = stage
        self._cwd, self._env, self._echo = cwd, env, echo
        self._file = log_dir / f"stage-{stage.name}.log"
        self._seen: list[str] = []  # its output's lines, for a 'log' readiness check
        self._lock = threading.Lock()
        self.proc: subprocess.Popen[bytes] | None = None
        self._pump_thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            self.proc = subprocess.Popen(
                [user_shell(), "-c", self.stage.command],
                cwd=self._cwd, env={**os.environ, **self._env}, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        except OSError as exc:
            raise StageError(f"stage {self.stage.name!r} cannot start: {exc}") from None
        self._pump_thread = threading.Thread(target=self._pump, name=f"stage-{self.stage.name}", daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        prefix = f"[stage {self.stage.name}] ".encode()
        with open(self._file, "ab") if self._file.parent.is_dir() else open(os.devnull, "wb") as kept:
            for line in iter(self.proc.stdout.readline, b""):
                with self._lock:
                    self._seen.append(line.decode("utf-8", "replace"))
                    del self._seen[:-1000]  # what a 'log' check and an error need: the recent lines
                kept.write(line)
                kept.flush()
                self._echo(prefix + line if line.endswith(b"\n") else prefix + line + b"\n")

    def last_line(self) -> str:
        with self._lock:
            return next((line.strip() for line in reversed(self._seen) if line.strip()), "")

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def _ready_now(self) -> bool:
        ready = self.stage.ready
        if ready.tcp is not None:
            try:
                with socket.create_connection((ready.host, ready.tcp), timeout=0.5):
                    return True
            except OSError:
                return False
        if ready.command is not None:
            done = subprocess.run(ready.command, shell=True, cwd=self._cwd, env={**os.environ, **self._env},
                                  capture_output=True, timeout=max(ready.timeout, 1))  # fmt: skip
            return done.returncode == 0
        if ready.log is not None:
            pattern = re.compile(ready.log)
            with self._lock:
                return any(pattern.search(line) for line in self._seen)
        return True

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.stage.ready.timeout
        while True:
            if (code := self.exited()) is not None:
                time.sleep(_POLL_SECONDS)  # its last words
                said = f": {self.last_line()[:300]}" if self.last_line() else ""
                raise StageError(
                    f"stage {self.stage.name!r} exited with code {code} before it was ready{said}"
                )
            if self._ready_now():
                return
            if time.monotonic() > deadline:
                raise StageError(
                    f"stage {self.stage.name!r} was not ready within {self.stage.ready.timeout:g} s "
                    f"({self.stage.ready.describe()})"
                )
            time.sleep(_POLL_SECONDS)

    def stop(self) -> None:
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(GRACE_SECONDS)  # reaped: the group is gone once its children are
            except subprocess.TimeoutExpired:
                continue
            if group_gone(self.proc.pid, GRACE_SECONDS):  # a stage's children get the signal too
                break
        if self.proc.poll() is None:
            self.proc.wait(GRACE_SECONDS)
        if self._pump_thread is not None:
            self._pump_thread.join(GRACE_SECONDS)  # its output read to the end (a child may hold it open)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


Report = Callable[[str, str, str | None], None]  # (stage, state, reason): into the run's history


class Running:
    """The started stages; ``exited()`` names one that went away (background_exited)."""

    def __init__(self, started: list[_Background], report: Report) -> None:
        self._started, self._report = started, report

    def exited(self) -> str | None:
        for background in self._started:
            if (code := background.exited()) is not None:
                name = background.stage.name
                self._report(name, "exited", f"exited with code {code} during the run")
                return f"background_exited: stage {name!r} exited with code {code} during the run"
        return None


@contextmanager
def running(
    stages: list[Stage], cwd: Path, env: dict[str, str], log_dir: Path, echo: Callable[[bytes], None],
    report: Report = lambda _stage, _state, _reason: None,
) -> Iterator[Running]:  # fmt: skip
    """Start ``stages`` in order, each ready before the next; torn down in reverse on the way out.
    Each change is reported: starting, ready, failed (with why), exited, stopped."""
    started: list[_Background] = []
    try:
        for stage in stages:
            background = _Background(stage, (cwd / stage.cwd).resolve(), {**env, **stage.env}, log_dir, echo)
            started.append(background)
            report(stage.name, "starting", stage.command[:200])
            try:
                background.start()
                background.wait_ready()
            except StageError as exc:
                report(stage.name, "failed", str(exc))
                raise
            report(stage.name, "ready", stage.ready.describe())
        yield Running(started, report)
    finally:
        for background in reversed(started):
            background.stop()
            report(background.stage.name, "stopped", None)
