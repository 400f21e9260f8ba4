"""bhubctl run TARGET and bhubctl init."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import runcmd
from cli.config import CONFIG_NAME, EXAMPLE
from cli.errors import ConfigError
from cli.gate import REGRESSION_EXIT, FailOn
from cli.output import console


def run(
    target: Annotated[str, typer.Argument(help="target name from bhub.yaml")],
    config: Annotated[Path | None, typer.Option(help="bhub.yaml to use (default: nearest)")] = None,
    commit: Annotated[str | None, typer.Option(help="commit SHA to record instead of HEAD")] = None,
    branch: Annotated[str | None, typer.Option(help="branch to record instead of git's")] = None,
    project: Annotated[str | None, typer.Option(help="'org/name' or 'name' instead of the remote's")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="do not stream the command's output")] = False,
    baseline: Annotated[
        str | None,
        typer.Option(help="compare with this branch's run at the merge-base of HEAD and it (CI gate)"),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option(help=f"exit {REGRESSION_EXIT} when a regression survives (needs --baseline)")
    ] = FailOn.never,
    rerun_suspects: Annotated[
        int, typer.Option(min=0, max=20, help="re-run up to N times while regressions remain; samples merge")
    ] = 0,
    report: Annotated[
        Path | None, typer.Option(help="write the comparison as Markdown (a PR comment)")
    ] = None,
    require_baseline: Annotated[
        bool, typer.Option(help="fail when the base branch has no run to compare with")
    ] = False,
) -> None:
    """Run a benchmark target and record it in central (which writes its results to VictoriaMetrics).

    With --baseline BRANCH the run is judged against BRANCH's run at the fork point: exit code
    10 when a regression survives --fail-on regression (after --rerun-suspects re-runs).
    """
    code = runcmd.run(
        target, config=config, commit=commit, branch=branch, project=project, quiet=quiet,
        baseline=baseline, fail_on=fail_on, rerun_suspects=rerun_suspects, report=report,
        require_baseline=require_baseline,
    )  # fmt: skip
    raise typer.Exit(code)


def init(
    path: Annotated[Path, typer.Option(help="where to write the file")] = Path(CONFIG_NAME),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented example bhub.yaml."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists already: edit it, or pass --force to overwrite it")
    path.write_text(EXAMPLE, encoding="utf-8")
    console.print(f"wrote {path}; edit the targets, then 'bhubctl run <target>'")
