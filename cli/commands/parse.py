"""bhubctl parse FILE... [--framework X]: show what BenchHub reads from a tool's output."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer

from cli.errors import BenchHubError
from cli.outputs import collect_documents, read_files
from cli.parsers import FRAMEWORKS, Document, detect, parse_documents
from cli.table import results_text

_CHOICES = ", ".join([*FRAMEWORKS, "auto"])


def _documents(paths: list[Path], framework: str) -> list[Document]:
    docs: list[Document] = []
    for path in paths:
        if str(path) == "-":
            docs.append(Document("<stdin>", typer.get_text_stream("stdin").read()))
        elif path.is_dir():  # criterion's target/criterion: every benchmark's newest estimates
            docs.extend(collect_documents(framework, "**/new/estimates.json", path, ""))
        else:
            docs.extend(read_files(framework, [path]))
    return docs


def parse(
    files: Annotated[
        list[Path], typer.Argument(help="output files ('-' for standard input), or target/criterion")
    ],
    framework: Annotated[str, typer.Option(help=f"one of: {_CHOICES}")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Parse benchmark output files without running anything."""
    if framework not in (*FRAMEWORKS, "auto"):
        raise BenchHubError(f"no parser {framework!r}; choose one of: {_CHOICES}")
    if framework == "auto" and any(p.is_dir() for p in files):
        framework = "criterion"
    if framework == "auto" and files and str(files[0]) != "-":
        framework = detect(_documents(files[:1], framework)[0].text)
    results = parse_documents(framework, _documents(files, framework))
    if as_json:
        print(msgspec.json.format(msgspec.json.encode(results), indent=2).decode())
    else:
        print(results_text(results, title=", ".join(str(f) for f in files)))
