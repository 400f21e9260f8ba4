"""Results of recent runs, kept in memory and in a JSON-lines file so a restart loses none."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from exporter.schemas import RunResults, StoredRun

log = logging.getLogger("exporter.store")


class ResultStore:
    """Runs received in the last ``retention_seconds``; a run sent twice is kept once."""

    def __init__(
        self,
        path: Path | None,
        retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._path = path
        self._retention = retention_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._runs: dict[str, StoredRun] = {}
        self.version = 0  # changes whenever the set of runs does
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._load(path)

    def _load(self, path: Path) -> None:
        if not path.exists():
            return
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                try:
                    stored = StoredRun.model_validate_json(line)
                except ValidationError:
                    log.warning("%s:%d: unreadable entry skipped (partial write?)", path, number)
                    continue
                self._runs[stored.run.run_id] = stored
        self._prune(force_rewrite=True)

    def add(self, run: RunResults) -> None:
        stored = StoredRun(received_at=datetime.fromtimestamp(self._clock(), UTC), run=run)
        with self._lock:
            self._runs[run.run_id] = stored
            self.version += 1
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as fh:
                    fh.write(stored.model_dump_json() + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())

    def current(self) -> list[RunResults]:
        """The runs still inside the exposure window."""
        self._prune()
        with self._lock:
            return [s.run for s in self._runs.values()]

    def _prune(self, force_rewrite: bool = False) -> None:
        horizon = self._clock() - self._retention
        with self._lock:
            expired = [k for k, s in self._runs.items() if s.received_at.timestamp() < horizon]
            for key in expired:
                del self._runs[key]
            self.version += len(expired)
            if self._path is not None and (expired or force_rewrite):
                tmp = self._path.with_suffix(".tmp")
                tmp.write_text("".join(s.model_dump_json() + "\n" for s in self._runs.values()))
                os.replace(tmp, self._path)
