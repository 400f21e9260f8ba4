"""Work central repeats on a thread of its own: scheduled backups, the abandoned-run sweep."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class Periodic:
    """Calls ``work`` every ``interval`` seconds until stopped; a failing round is logged and
    the next one runs all the same."""

    def __init__(self, name: str, interval: float, work: Callable[[], object], log: logging.Logger,
                 join_seconds: float = 10) -> None:  # fmt: skip
        self._name, self._interval, self._work, self._log = name, interval, work, log
        self._join_seconds = join_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._work()
            except Exception:  # e.g. the database away for a while: the next round tries again
                self._log.exception("%s failed", self._name)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._join_seconds)
            self._thread = None
