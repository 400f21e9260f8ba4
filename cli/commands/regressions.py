"""bhubctl regressions: what central found in the histories of watched branches."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from central.regression_schemas import RegressionState
from cli.output import console, err_console
from cli.settings import CliSettings

app = typer.Typer(help="Regressions central found: list them, acknowledge one.", invoke_without_command=True)
_COLOURS = {"open": "red", "acknowledged": "yellow", "fixed": "green"}


@app.callback()
def list_regressions(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option(help="only this project")] = None,
    branch: Annotated[str | None, typer.Option(help="only this branch")] = None,
    target: Annotated[str | None, typer.Option(help="only this target")] = None,
    state: Annotated[RegressionState | None, typer.Option(help="only regressions in this state")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (for scripts)")] = False,
) -> None:
    """Regressions, newest first: the suspect commits, the size with its 95% interval, the state."""
    if ctx.invoked_subcommand is not None:
        return
    given = {
        "project": project,
        "branch": branch,
        "target": target,
        "state": state.value if state else None,
    }
    params: dict[str, str | list[str]] = {k: v for k, v in given.items() if v}
    found = CliSettings().central().list_regressions(params)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    if not found.data:
        err_console.print("no regressions" + (f" in state {state.value}" if state else ""))
        return
    table = Table(
        "id", "state", "project/target", "benchmark", "measure", "change", "suspects", pad_edge=False
    )
    for r in found.data:
        suspects = f"{(r.previous_commit or '?')[:8]}..{r.commit[:8]}"
        change = f"{r.change * 100:+.1f}% [{r.change_low * 100:+.1f}, {r.change_high * 100:+.1f}]"
        labels = ",".join(f"{k}={v}" for k, v in sorted(r.labels.items()))
        table.add_row(
            str(r.id), f"[{_COLOURS[r.state.value]}]{r.state.value}[/]", escape(f"{r.project}/{r.target}"),
            escape(r.benchmark + (f" [{labels}]" if labels else "")), r.measure, change, suspects,
        )  # fmt: skip
    console.print(table)


@app.command("ack")
def acknowledge(
    regression_id: Annotated[int, typer.Argument(help="the regression's id (bhubctl regressions)")],
    reason: Annotated[str, typer.Option(help="why it is accepted, e.g. 'expected: new feature'")],
) -> None:
    """Acknowledge a regression: it stays on record, leaves the open list and the alerts."""
    done = CliSettings().central().acknowledge_regression(regression_id, reason)
    console.print(f"regression {done.id} acknowledged: {escape(done.reason or '')}")
