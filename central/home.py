"""Where BenchHub keeps its files on a machine (read by central, the agent and bhubctl alike;
a module of its own so bhubctl reads it without importing central's settings)."""

from __future__ import annotations

import os
from pathlib import Path


def benchhub_home() -> Path:
    """$BENCHHUB_HOME, default ~/.local/share/benchhub."""
    return Path(os.environ.get("BENCHHUB_HOME") or Path.home() / ".local/share/benchhub")
