"""What the benchmarks share: a throwaway stack and a folder of files to run bhubctl in."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.stack import Stack, StackSettings
from tests.servers import stack_settings


@contextmanager
def bench_stack(files: dict[str, str]) -> Iterator[tuple[StackSettings, Path, dict[str, str]]]:
    """A stack on free ports in a temp dir, and a folder holding ``files``:
    (the stack's settings, the folder, the environment a bhubctl there needs)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = stack_settings(root / "home")
        stack = Stack(settings)
        stack.up()
        try:
            repo = root / "repo"
            repo.mkdir()
            for name, text in files.items():
                (repo / name).write_text(text)
            env = {**os.environ, "BENCHHUB_HOME": str(settings.home),
                   "BENCHHUB_CENTRAL_URL": f"http://127.0.0.1:{settings.central_port}",
                   "BENCHHUB_AGENT_URL": f"http://127.0.0.1:{settings.agent_port}"}  # fmt: skip
            yield settings, repo, env
        finally:
            stack.down()
