"""Results as a plain-text table, and notes on stderr, for ``bhubctl run`` (and the commands
that show results: ``runs show``, ``parse``).

Written by hand rather than with rich: importing rich costs ``bhubctl run`` ~35 ms (issue 16)
and a results table needs only aligned columns, folded long names and a width to fit. Notes
are coloured only on a terminal, and never when NO_COLOR is set or TERM is dumb (as rich does).
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import Protocol, TextIO

from cli.humanize import digits, quantity

_COLOURS = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
GAP = "  "


class Measured(Protocol):
    """A result as bhubctl parsed it (cli.wire.Result) or as central keeps it (ResultPublic)."""

    @property
    def benchmark(self) -> str: ...
    @property
    def measure(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def value(self) -> float | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def stddev(self) -> float | None: ...
    @property
    def sample_count(self) -> int | None: ...
    @property
    def labels(self) -> dict[str, str]: ...


def _coloured(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(os.environ.get("FORCE_COLOR")) or stream.isatty()


def paint(text: str, colour: str, stream: TextIO | None = None) -> str:
    """``text`` in ``colour`` (a name of _COLOURS) when ``stream`` (stderr) shows colours."""
    if not _coloured(stream or sys.stderr):
        return text
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m"


def note(text: str) -> None:
    """A line on stderr (what bhubctl says about the run, apart from its results)."""
    print(text, file=sys.stderr, flush=True)


def warn(text: str) -> None:
    note(f"{paint('warning:', 'yellow')} {text}")


def error(text: str) -> None:
    note(f"{paint('error:', 'red')} {text}")


def width() -> int:
    """The terminal's columns ($COLUMNS first); 80 when the output is not a terminal."""
    return shutil.get_terminal_size((80, 24)).columns


def _spread(result: Measured) -> str:
    """The spread as ± a percentage of the value (as benchstat prints it), or nothing."""
    if result.stddev is None or not result.value:
        return ""
    percent = abs(result.stddev / result.value) * 100
    return f"±{digits(percent)}%" if percent >= 0.01 else "±0%"


def _fold(text: str, size: int) -> list[str]:
    """``text`` in lines of at most ``size`` characters, broken at spaces, else mid-name."""
    return textwrap.wrap(text, size, break_on_hyphens=False, drop_whitespace=True) or [""]


def _value(result: Measured) -> str:
    if result.error is not None:
        return "error"  # its message goes on the lines below the row, the table's whole width
    return quantity(result.value, result.unit) if result.value is not None else ""


def results_text(results: Sequence[Measured], title: str | None = None, columns: int | None = None) -> str:
    """Benchmark, measure, value in a readable unit, spread, samples, labels, in ``columns``
    (the terminal's width): long benchmark names and labels fold onto more lines, never cut;
    measure names and values keep their whole width; a failed benchmark's error follows its row."""
    header = ("benchmark", "measure", "value", "±", "n", "labels")
    rows = [header]
    for r in results:
        tags = ",".join(f"{k}={v}" for k, v in sorted(r.labels.items()))
        rows.append((r.benchmark, r.measure, _value(r), _spread(r), str(r.sample_count or ""), tags))
    natural = [max(len(row[i]) for row in rows) for i in range(len(header))]
    total = columns or width()
    room = total - sum(natural[1:5]) - len(GAP) * 5
    bench, labels = natural[0], natural[5]
    if bench + labels > room:  # share the room 3:1, each getting what it needs at least
        labels = min(labels, max(len("labels"), room // 4))
        bench = max(16, room - labels)
    widths = [bench, *natural[1:5], labels]

    def lines(row: tuple[str, ...]) -> list[str]:
        cells = [_fold(row[0], bench), *([cell] for cell in row[1:5]), _fold(row[5], labels)]
        out = []
        for n in range(max(map(len, cells))):
            parts = [cell[n] if n < len(cell) else "" for cell in cells]
            aligned = [
                p.rjust(w) if 2 <= i <= 4 else p.ljust(w)
                for i, (p, w) in enumerate(zip(parts, widths, strict=True))
            ]
            out.append(GAP.join(aligned).rstrip())
        return out

    text = [title] if title else []
    text += lines(header)
    text.append(GAP.join("─" * w for w in widths))
    for row, result in zip(rows[1:], results, strict=True):
        text += lines(row)
        if result.error is not None:
            text += [GAP + part for part in _fold(result.error, max(total - len(GAP), 20))]
    return "\n".join(text)
