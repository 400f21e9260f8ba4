"""bhubctl run TARGET and bhubctl init."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli import git as gitinfo
from cli.benchrun import run_target
from cli.client import AgentClient, CentralClient
from cli.config import CONFIG_NAME, EXAMPLE, load_config
from cli.delivery import pending_runs, sync_one
from cli.errors import BenchHubError, ConfigError
from cli.humanize import size
from cli.output import console, err_console, results_table
from cli.settings import CliSettings


def find_config(start: Path) -> Path:
    """bhub.yaml in ``start`` or the nearest parent folder that has one."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder / CONFIG_NAME
    raise ConfigError(f"no {CONFIG_NAME} in {start} or its parents: create one with 'bhubctl init'")


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _echo(chunk: bytes) -> None:
    sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


def deliver_pending(central: CentralClient, runs_dir: Path) -> None:
    """Runs an earlier bhubctl could not close (central was away): delivered now, if it can take them."""
    for run_dir in pending_runs(runs_dir):
        try:
            done = sync_one(central, run_dir)
        except BenchHubError as exc:
            err_console.print(
                f"[yellow]warning:[/] run {run_dir.name} still waits for delivery: {escape(str(exc))}"
            )
            return
        err_console.print(f"delivered the earlier run {done.id} ({done.state.value}) to central")


def run(
    target: Annotated[str, typer.Argument(help="target name from bhub.yaml")],
    config: Annotated[Path | None, typer.Option(help="bhub.yaml to use (default: nearest)")] = None,
    commit: Annotated[str | None, typer.Option(help="commit SHA to record instead of HEAD")] = None,
    branch: Annotated[str | None, typer.Option(help="branch to record instead of git's")] = None,
    project: Annotated[str | None, typer.Option(help="'org/name' or 'name' instead of the remote's")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="do not stream the command's output")] = False,
) -> None:
    """Run a benchmark target and record it in central (which writes its results to VictoriaMetrics)."""
    settings = CliSettings()
    signal.signal(signal.SIGTERM, _interrupt)  # a CI job stopped is a run cancelled, like Ctrl-C
    path = config.resolve() if config else find_config(Path.cwd())
    bench = load_config(path)
    spec = bench.target(target, path)
    info = gitinfo.detect(path.parent, commit=commit, branch=branch, project=project or bench.project)
    central = settings.central()
    deliver_pending(central, settings.home / "runs")
    agent = AgentClient(settings.agent_url or "", settings.request_timeout, token=settings.central_token())
    dirty = " (dirty)" if info.dirty else ""
    err_console.print(f"[bold]{info.project}[/] {target} @ {info.commit[:12]}{dirty} on {info.branch}")
    outcome = run_target(
        name=target, target=spec, config_dir=path.parent, git=info, central=central, agent=agent,
        runs_dir=settings.home / "runs", echo=(lambda _c: None) if quiet else _echo,
        on_started=lambda r: err_console.print(
            f"run [cyan]{r.id}[/] started in {escape(f'{r.org}/{r.project}{settings.where()}')}",
            highlight=False,
        ),
    )  # fmt: skip
    if outcome.results:
        console.print(results_table(outcome.results, title=f"{target} @ {info.commit[:12]}"))
    if (used := outcome.run.resources) is not None:
        err_console.print(
            f"resources: {used.cpu_user_seconds:.2f} s user, {used.cpu_system_seconds:.2f} s system CPU; "
            f"peak RSS {size(used.max_rss_bytes)}; up to {used.max_processes} "
            f"process{'' if used.max_processes == 1 else 'es'}"
        )
    for warning in outcome.warnings:
        err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    colour = "green" if outcome.exit_code == 0 else "red"
    detail = f": {escape(outcome.message)}" if outcome.message else ""
    err_console.print(f"run [cyan]{outcome.run.id}[/] [{colour}]{outcome.run.state.value}[/]{detail}")
    err_console.print(f"raw output: {outcome.output_path}")
    raise typer.Exit(outcome.exit_code)


def init(
    path: Annotated[Path, typer.Option(help="where to write the file")] = Path(CONFIG_NAME),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented example bhub.yaml."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists already: edit it, or pass --force to overwrite it")
    path.write_text(EXAMPLE, encoding="utf-8")
    console.print(f"wrote {path}; edit the targets, then 'bhubctl run <target>'")
