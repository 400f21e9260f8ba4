"""bhubctl stack up|down|status|logs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.output import console, err_console
from cli.stack import Stack, StackSettings

app = typer.Typer(help="Start, check and stop the local stack on 127.0.0.1.", no_args_is_help=True)


def _stack() -> Stack:
    return Stack(StackSettings())


def _status_table(stack: Stack) -> Table:
    table = Table(title=f"BenchHub stack ({stack.home})")
    for column in ("service", "state", "pid", "url"):
        table.add_column(column)
    for s in stack.status():
        colour = {"running": "green", "stopped": "dim"}.get(s.state, "red")
        table.add_row(s.name, f"[{colour}]{s.state}[/]", str(s.pid or ""), s.url)
    return table


@app.command()
def up() -> None:
    """Start VictoriaMetrics, central, the agent and vmagent (what is not running yet)."""
    stack = _stack()
    stack.up(progress=lambda msg: err_console.print(msg))
    console.print(_status_table(stack))


@app.command()
def down() -> None:
    """Stop the processes 'stack up' started, and nothing else."""
    _stack().down(progress=lambda msg: err_console.print(msg))


@app.command()
def status() -> None:
    """Show each service's state; exit 1 if any is not running."""
    stack = _stack()
    console.print(_status_table(stack))
    if any(s.state != "running" for s in stack.status()):
        raise typer.Exit(1)


@app.command()
def logs(
    service: Annotated[str, typer.Argument(help="victoria-metrics, central, agent or vmagent")],
    lines: Annotated[int, typer.Option("--lines", "-n", min=1)] = 50,
) -> None:
    """Print the end of a service's log."""
    print(_stack().tail(service, lines))
