"""Parsers: pure functions from a tool's output to results; the runner does the I/O."""

from __future__ import annotations

from collections.abc import Callable

from central.schemas import ResultIn
from cli.parsers import go

Parser = Callable[[str], list[ResultIn]]

# framework -> parser of the command's output; 'command' is timed by the runner instead.
PARSERS: dict[str, Parser] = {"go": go.parse}
