"""bhubctl's typer app. Errors print one line and set a non-zero exit code.

Commands load lazily: ``bhubctl X`` imports the module of X only (each needs its own
libraries: httpx and the wire schemas, YAML, psutil, boto3...), and a help listing shows the
commands from cli.main.COMMANDS without importing any of them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand, TyperGroup

from cli.errors import BenchHubError
from cli.main import COMMANDS


def load(name: str) -> Any:
    """The click command of ``name``, its module imported now."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    if isinstance(target, typer.Typer):
        command: Any = typer.main.get_group(target)
    else:
        single = typer.Typer()
        single.command(name=name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _LazyGroup(TyperGroup):
    """Lists commands from COMMANDS; imports a command's module only when it is run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._resolving = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            if not self._resolving:  # a help listing: the one-line help is all it needs
                return TyperCommand(name=cmd_name, help=COMMANDS[cmd_name][2])
            self.commands[cmd_name] = load(cmd_name)
        return self.commands[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        self._resolving = True
        try:
            return super().resolve_command(ctx, args)
        finally:
            self._resolving = False


app = typer.Typer(
    cls=_LazyGroup,
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


def run() -> None:
    try:
        app(standalone_mode=True)
    except BenchHubError as exc:
        # escaped: an error text may quote anything ('[...]' in a path, a key, a server's answer)
        Console(stderr=True).print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
