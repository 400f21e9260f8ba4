"""bhubctl runs ...: runs recorded in central."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import console
from cli.settings import CliSettings

app = typer.Typer(help="Runs recorded in central.", no_args_is_help=True)


@app.command()
def reexport(run_id: Annotated[str, typer.Argument(help="the run's id (bhubctl run prints it)")]) -> None:
    """Send a finished run's results and markers to VictoriaMetrics again (safe to repeat)."""
    settings = CliSettings()
    done = settings.central().reexport(run_id)
    console.print(f"run {done.run_id}: {done.samples} samples sent to VictoriaMetrics")
