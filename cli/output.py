"""Rendering shared by the commands."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.humanize import digits, quantity


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


console = Console()
err_console = Console(stderr=True)


def _spread(result: Measured) -> str:
    """The spread as ± a percentage of the value (as benchstat prints it), or nothing."""
    if result.stddev is None or not result.value:
        return ""
    percent = abs(result.stddev / result.value) * 100
    return f"±{digits(percent)}%" if percent >= 0.01 else "±0%"


def results_table(results: Sequence[Measured], title: str | None = None) -> Table:
    """Benchmark, measure, value in a readable unit, spread, samples, labels: fits 80 columns.

    Long benchmark names and labels wrap (folded onto more lines, never cut with an ellipsis);
    measure names are short and keep their whole width.
    """
    table = Table(title=title, title_justify="left", pad_edge=False)
    measure_width = max((len(r.measure) for r in results), default=7)
    table.add_column("benchmark", overflow="fold", ratio=3, min_width=16)
    table.add_column("measure", no_wrap=True, min_width=max(7, measure_width))
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("±", justify="right", no_wrap=True)
    table.add_column("n", justify="right", no_wrap=True)
    table.add_column("labels", overflow="fold", ratio=1)
    for r in results:
        labels = ",".join(f"{k}={v}" for k, v in sorted(r.labels.items()))
        if r.error is not None:
            value = f"[red]error: {escape(r.error)}[/]"
        else:
            value = quantity(r.value, r.unit) if r.value is not None else ""
        table.add_row(
            escape(r.benchmark), r.measure, value, _spread(r), str(r.sample_count or ""), escape(labels)
        )
    return table
