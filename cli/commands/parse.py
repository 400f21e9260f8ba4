"""bhubctl parse FILE --framework X: show what BenchHub reads from a tool's output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import BenchHubError
from cli.output import console, results_table
from cli.parsers import PARSERS


def parse(
    file: Annotated[Path, typer.Argument(help="the tool's output, '-' for standard input")],
    framework: Annotated[str, typer.Option(help=f"one of: {', '.join(sorted(PARSERS))}")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Parse a benchmark output file without running anything."""
    if framework not in PARSERS:
        raise BenchHubError(f"no parser {framework!r}; choose one of: {', '.join(sorted(PARSERS))}")
    try:
        text = typer.get_text_stream("stdin").read() if str(file) == "-" else file.read_text()
    except OSError as exc:
        raise BenchHubError(f"cannot read {file}: {exc}") from None
    results = PARSERS[framework](text)
    if as_json:
        print(json.dumps([r.model_dump() for r in results], indent=2))
    else:
        console.print(results_table(results, title=str(file)))
