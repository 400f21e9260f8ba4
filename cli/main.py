"""bhubctl's entry point: the table of commands, and the top-level help printed without typer.

``bhubctl`` and ``bhubctl --help`` are typed the most and only list the commands; typer's
help renderer imports markdown-it, pygments and its own machinery first (0.2 s of a 0.25 s
help), so this page is drawn here with rich alone. Everything else goes to the typer app
(cli.app), which loads a command's module only when that command runs.
"""

from __future__ import annotations

import os
import sys

SUMMARY = "BenchHub: continuous benchmarking on VictoriaMetrics and Grafana."
# name -> (module, attribute: a command function or a Typer group, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("cli.commands.run", "run", "Run a benchmark target and record it in central."),
    "submit": ("cli.commands.submit", "submit", "Queue a target for benchmark machines (the agents run it)."),
    "init": ("cli.commands.run", "init", "Write a commented example bhub.yaml."),
    "compare": ("cli.commands.compare", "compare", "Compare two branches, commits or runs, with statistics."),
    "analyze": ("cli.commands.analyze", "analyze", "Find where a history (a CSV) stepped: change points."),
    "parse": ("cli.commands.parse", "parse", "Parse benchmark output files without running anything."),
    "regressions": ("cli.commands.regressions", "app", "Regressions central found in branch histories; ack."),
    "alerts": ("cli.commands.alerts", "alerts", "List regression alerts of your organization."),
    "backup": (
        "cli.commands.backup",
        "backup",
        "Back up an organization, every organization, or the instance.",
    ),
    "restore": ("cli.commands.backup", "restore", "Restore an org's backup, or the whole instance."),
    "runs": (
        "cli.commands.runs",
        "app",
        "Runs recorded in central: list, show, logs, cancel, sync, reexport.",
    ),
    "backups": ("cli.commands.backup", "backups", "Backups of an organization in its own S3 bucket."),
    "stack": ("cli.commands.stack", "app", "Start, check and stop the local stack on 127.0.0.1."),
    "nodes": ("cli.commands.nodes", "app", "Machines running the agent: list, drain, resume."),
    "admin": ("cli.commands.admin", "app", "Organizations, users and API tokens."),
    "grafana": ("cli.commands.grafana", "app", "Grafana: organizations, datasources and dashboards."),
}
OPTIONS = (
    ("--version", "print the version and exit"),
    ("--install-completion", "install completion for the current shell"),
    ("--show-completion", "show completion for the current shell, to copy it or customize it"),
    ("--help", "show this message and exit"),
)


def print_help() -> None:
    """The top-level help: usage, options and commands, in typer's layout."""
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table

    def panel(title: str, rows: tuple[tuple[str, str], ...]) -> Panel:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan", no_wrap=True)
        table.add_column()
        for name, text in rows:
            table.add_row(name, text)
        return Panel(table, title=title, title_align="left", border_style="dim")

    console = Console()
    console.print(f"\n Usage: [bold]bhubctl[/] [OPTIONS] COMMAND [ARGS]...\n\n {SUMMARY}\n", highlight=False)
    console.print(panel("Options", OPTIONS))
    console.print(panel("Commands", tuple((name, help) for name, (_, _, help) in COMMANDS.items())))


def _fast_run(args: list[str]) -> bool:
    """``bhubctl run`` goes straight to cli.runcmd (argparse), unless typer is needed: help,
    or shell completion (click's ``_BHUBCTL_COMPLETE``)."""
    return (
        args[:1] == ["run"]
        and not {"--help", "-h"} & set(args)
        and not any(name.endswith("_COMPLETE") for name in os.environ)
    )


def main() -> None:
    args = sys.argv[1:]
    if args in ([], ["--help"]):
        print_help()
        return
    if _fast_run(args):
        from cli.runcmd import main as run_main

        run_main(args[1:])
    from cli.app import run

    run()


if __name__ == "__main__":
    main()
