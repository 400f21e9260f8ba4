"""bhubctl alerts: regression alerts of your organization (vmalert -> central)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from central.schemas import AlertState
from cli.output import console
from cli.settings import CliSettings


def alerts(
    all_: Annotated[bool, typer.Option("--all", help="resolved ones too (default: firing only)")] = False,
) -> None:
    """List regression alerts: newest run of a benchmark worse than its branch's baseline."""
    found = CliSettings().central().list_alerts(None if all_ else AlertState.firing)
    if not found.data:
        console.print("no firing alerts" if not all_ else "no alerts")
        return
    table = Table("state", "since", "project", "branch", "target", "benchmark", "measure", "summary")
    for a in found.data:
        cells = [a.labels.get(k, "") for k in ("project", "branch", "target", "benchmark", "measure")]
        table.add_row(
            a.state.value, f"{a.starts_at:%Y-%m-%d %H:%M}", *cells, a.annotations.get("summary", a.name)
        )
    console.print(table)
