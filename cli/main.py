"""bhubctl: the command line. Errors print one line and set a non-zero exit code."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from cli.commands import admin, alerts, backup, grafana, parse, run, runs, stack
from cli.errors import BenchHubError
from cli.output import err_console

app = typer.Typer(
    help="BenchHub: continuous benchmarking on VictoriaMetrics and Grafana.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
)


def _version(show: bool) -> None:
    if show:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"bhubctl {version('benchhub')}")
        except PackageNotFoundError:
            print("bhubctl (not installed as a package)")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """BenchHub: continuous benchmarking on VictoriaMetrics and Grafana."""


app.command()(run.run)
app.command()(run.init)
app.command()(parse.parse)
app.command()(alerts.alerts)
app.command()(backup.backup)
app.command()(backup.restore)
app.add_typer(backup.backups, name="backups")
app.add_typer(stack.app, name="stack")
app.add_typer(runs.app, name="runs")
app.add_typer(admin.app, name="admin")
app.add_typer(grafana.app, name="grafana")


def main() -> None:
    try:
        app(standalone_mode=True)
    except BenchHubError as exc:
        # escaped: an error text may quote anything ('[...]' in a path, a key, a server's answer)
        err_console.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
