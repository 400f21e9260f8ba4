"""The ``go test -json`` event stream of Go benchmarks (``framework: go-json``).

Go splits benchmark result lines across ``output`` events, so the output of each package is
put back together in order and read by the text parser; ``pkg`` comes from the events.
"""

from __future__ import annotations

import json

from cli.errors import ParseError
from cli.parsers import go
from cli.parsers.common import obj
from cli.wire import Result


def parse(text: str) -> list[Result]:
    """Results of every package in the stream; ParseError names a line that is not an event."""
    outputs: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not line.startswith("{"):
            continue  # go prints build errors as plain text between the events
        try:
            event = obj(json.loads(line), "event")
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"expected one go test -json event per line: {exc}", number) from None
        except ParseError as exc:
            raise ParseError(str(exc), number) from None
        output, package = event.get("Output"), event.get("Package", "")
        if event.get("Action") == "output" and isinstance(output, str):
            outputs.setdefault(package if isinstance(package, str) else "", []).append(output)
    if not outputs:
        raise ParseError("no go test -json output event found (was the command run with -json -bench?)")
    return go.parse("\n".join("".join(chunks) for chunks in outputs.values()))
