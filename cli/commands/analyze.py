"""bhubctl analyze: change points of a history, offline from a CSV or from central's runs."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from cli.errors import BenchHubError, ConfigError
from cli.humanize import digits
from cli.output import console, err_console
from cli.settings import CliSettings

MAX_CSV_BYTES = 64 << 20
MAX_ROWS = 1_000_000


def read_history(path: Path) -> tuple[list[float], list[str | None]]:
    """Values and commits of a CSV (a header row; ``value`` required, ``commit``, ``timestamp``
    optional; one row per run, oldest first); an error names the row and the column."""
    try:
        if path.stat().st_size > MAX_CSV_BYTES:
            raise ConfigError(f"{path}: over {MAX_CSV_BYTES >> 20} MiB; a history is one row per run")
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "value" not in [f.strip() for f in reader.fieldnames]:
                raise ConfigError(
                    f"{path}:1: the header row needs a 'value' column (and may have commit, timestamp)"
                )
            values: list[float] = []
            commits: list[str | None] = []
            for row in reader:
                line = reader.line_num
                if None in row:
                    raise ConfigError(f"{path}:{line}: more fields than the header has")
                cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
                try:
                    value = float(cells["value"])
                except ValueError:
                    raise ConfigError(
                        f"{path}:{line}: column value: {cells['value']!r} is not a number"
                    ) from None
                if not math.isfinite(value):
                    raise ConfigError(
                        f"{path}:{line}: column value: {cells['value']!r} is not a finite number"
                    )
                values.append(value)
                commits.append(cells.get("commit") or None)
                if len(values) > MAX_ROWS:
                    raise ConfigError(f"{path}: over {MAX_ROWS:,} rows")
    except FileNotFoundError:
        raise ConfigError(f"{path}: not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{path}: cannot be read as CSV ({exc})") from None
    return values, commits


def _from_central(
    project: str, target: str | None, benchmark: str | None, measure: str, branch: str, labels: list[str]
) -> tuple[list[float], list[str | None], str]:
    if not target or not benchmark:
        raise ConfigError("--project needs --target and --benchmark (and --measure, --branch, --label)")
    params: dict[str, str | list[str]] = {
        "project": project, "target": target, "benchmark": benchmark, "measure": measure, "branch": branch,
        "limit": "10000", **({"labels": labels} if labels else {}),
    }  # fmt: skip
    settings = CliSettings()
    found = settings.central().history(params)
    name = f"{project}/{target} {benchmark} ({measure}) on {branch}{settings.where()}"
    return [p.value for p in found.data], [p.commit for p in found.data], name


def analyze(
    history: Annotated[
        Path | None,
        typer.Argument(help="CSV: a header row, 'value' (and 'commit', 'timestamp'), oldest first"),
    ] = None,
    project: Annotated[
        str | None, typer.Option(help="instead of a CSV: this project's series in central")
    ] = None,
    target: Annotated[str | None, typer.Option(help="its target")] = None,
    benchmark: Annotated[str | None, typer.Option(help="its benchmark")] = None,
    measure: Annotated[str, typer.Option(help="its measure")] = "time",
    branch: Annotated[str, typer.Option(help="its branch")] = "main",
    label: Annotated[
        list[str] | None, typer.Option(help="NAME=VALUE, when the series has several label sets")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print JSON for scripts")] = False,
) -> None:
    """Find where a history stepped (the detector central runs on every branch it watches)."""
    from central.changepoints import detect

    if (history is None) == (project is None):
        raise ConfigError("name a CSV history, or a series in central with --project --target --benchmark")
    if history is not None:
        values, commits = read_history(history)
        name = history.name
    else:
        assert project is not None
        values, commits, name = _from_central(project, target, benchmark, measure, branch, label or [])
    if len(values) < 2:
        raise BenchHubError(f"{name}: {len(values)} value(s); a history needs at least 2 rows")
    points = detect(values)
    found = [
        {"index": p.index, "commit": commits[p.index], "before": p.before, "after": p.after,
         "change": p.change, "p_value": p.p_value}
        for p in points
    ]  # fmt: skip
    if json_output:
        typer.echo(json.dumps({"change_points": found}))
        return
    table = Table(title=f"{name}: {len(values)} runs", title_justify="left", pad_edge=False)
    for name in ("run", "commit", "before", "after", "change", "p"):
        table.add_column(name, justify="left" if name == "commit" else "right", no_wrap=True)
    for p in points:
        table.add_row(
            str(p.index), escape((commits[p.index] or "")[:12]), digits(p.before), digits(p.after),
            f"{p.change * 100:+.2f}%", f"{p.p_value:.2g}",
        )  # fmt: skip
    console.print(table)
    err_console.print(f"{len(points)} change point{'s' if len(points) != 1 else ''} in {len(values)} runs")
