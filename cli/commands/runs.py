"""bhubctl runs ...: runs recorded in central."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from cli.delivery import pending_runs, sync_one
from cli.errors import BenchHubError
from cli.output import console, err_console
from cli.settings import CliSettings

app = typer.Typer(help="Runs recorded in central.", no_args_is_help=True)


@app.command()
def reexport(run_id: Annotated[str, typer.Argument(help="the run's id (bhubctl run prints it)")]) -> None:
    """Send a finished run's results and markers to VictoriaMetrics again (safe to repeat)."""
    settings = CliSettings()
    done = settings.central().reexport(run_id)
    console.print(f"run {done.run_id}: {done.samples} samples sent to VictoriaMetrics")


@app.command()
def sync() -> None:
    """Deliver runs whose results and final state wait on this machine (central was away)."""
    settings = CliSettings()
    central = settings.central()
    waiting = pending_runs(settings.home / "runs")
    if not waiting:
        console.print("nothing waits for delivery")
        return
    failed = 0
    for number, run_dir in enumerate(waiting, 1):
        step = escape(f"[{number}/{len(waiting)}]")
        try:
            done = sync_one(central, run_dir)
        except BenchHubError as exc:
            failed += 1
            err_console.print(f"{step} run {run_dir.name}: [red]not delivered:[/] {escape(str(exc))}")
            continue
        console.print(f"{step} run {done.id}: delivered, {done.state.value}")
    if failed:
        err_console.print(f"{failed} run(s) still wait; run 'bhubctl runs sync' again once central answers")
        raise typer.Exit(1)
