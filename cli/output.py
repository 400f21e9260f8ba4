"""Rendering shared by the commands."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from central.schemas import ResultIn

console = Console()
err_console = Console(stderr=True)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def results_table(results: list[ResultIn], title: str | None = None) -> Table:
    table = Table(title=title)
    for column in ("benchmark", "measure", "value", "unit", "stddev", "n", "labels"):
        right = column in ("value", "stddev", "n")
        table.add_column(column, justify="right" if right else "left", no_wrap=column == "benchmark")
    for r in results:
        labels = ",".join(f"{k}={v}" for k, v in sorted(r.labels.items()))
        value = _num(r.value) if r.error is None else f"[red]error: {escape(r.error)}[/]"
        table.add_row(r.benchmark, r.measure, value, r.unit, _num(r.stddev),
                      str(r.sample_count or ""), labels)  # fmt: skip
    return table
