"""bhubctl compare BASE HEAD: every result of HEAD against BASE, judged by central."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from central.schemas import StatTest
from cli import compare_view
from cli import git as gitinfo
from cli.errors import BenchHubError, GitError
from cli.gate import REGRESSION_EXIT, FailOn
from cli.output import console, err_console
from cli.settings import CliSettings

_GIT_NAMES = ("HEAD", "@")


class Format(enum.StrEnum):
    table = "table"
    markdown = "markdown"
    json = "json"


def _spec(name: str, cwd: Path) -> str:
    """HEAD, HEAD~2, @^... are git's names: the commit they stand for; anything else is central's."""
    if not name.startswith(_GIT_NAMES):
        return name
    root = gitinfo.repository_root(cwd)
    commit = gitinfo.rev_parse(root, name)
    if commit is None:
        raise GitError(f"{name!r} is not a commit of the repository at {root}")
    return f"commit:{commit}"


def _project(cwd: Path) -> str | None:
    """The project of the repository here (as bhubctl run records it), if this is one."""
    try:
        return gitinfo.detect(cwd).project
    except BenchHubError:
        return None


def compare(
    base: Annotated[str, typer.Argument(help="branch, commit (prefix), run id (prefix), or HEAD~N")],
    head: Annotated[
        str, typer.Argument(help="the same kinds; prefix run:, commit: or branch: to be explicit")
    ],
    project: Annotated[str | None, typer.Option(help="project (default: this repository's)")] = None,
    target: Annotated[str | None, typer.Option(help="only this target")] = None,
    format: Annotated[
        Format, typer.Option("--format", "-f", help="table, markdown (a PR comment) or json")
    ] = Format.table,
    only_changed: Annotated[bool, typer.Option(help="list regressed and improved results only")] = False,
    fail_on: Annotated[FailOn, typer.Option(help=f"exit {REGRESSION_EXIT} on a regression")] = FailOn.never,
    test: Annotated[StatTest | None, typer.Option(help="the test for every measure")] = None,
    alpha: Annotated[float | None, typer.Option(help="false discovery rate, e.g. 0.01")] = None,
    min_effect: Annotated[float | None, typer.Option(help="smallest change that counts, e.g. 0.05")] = None,
    confidence: Annotated[float, typer.Option(help="confidence level of the intervals")] = 0.95,
) -> None:
    """Compare two branches, commits or runs: centres with CIs, change, p-value, verdict."""
    settings = CliSettings()
    cwd = Path.cwd()
    params: dict[str, str | list[str]] = {
        "base": _spec(base, cwd), "head": _spec(head, cwd), "confidence": str(confidence),
    }  # fmt: skip
    chosen = project or _project(cwd)
    given = {"project": chosen, "target": target, "test": test, "alpha": alpha, "min_effect": min_effect}
    params.update({k: str(v) for k, v in given.items() if v is not None})
    if format == Format.json:  # as central wrote it: 10,000 results need not be parsed to be printed
        text = settings.central().compare_json(params)
        typer.echo(text)
        if fail_on == FailOn.regression and json.loads(text)["counts"].get("regressed"):
            raise typer.Exit(REGRESSION_EXIT)
        return
    comparison = settings.central().compare(params)
    if format == Format.markdown:
        links = compare_view.grafana_links(settings.grafana_url, comparison)
        typer.echo(
            compare_view.markdown(comparison, f"{comparison.project}: {head} vs {base}", links=links),
            nl=False,
        )
    else:
        for table in compare_view.tables(comparison, only_changed):
            console.print(table)
        for summary in comparison.targets:
            base_at, head_at = (summary.base_commit or "")[:12], (summary.head_commit or "")[:12]
            err_console.print(
                f"{summary.target}: {len(summary.base_runs)} base run(s) at {base_at}, "
                f"{len(summary.head_runs)} head run(s) at {head_at}; {compare_view.geomean_text(summary)}"
            )
            if summary.machine:
                err_console.print(f"[yellow]{escape(compare_view.machine_text(summary))}[/]")
        err_console.print(f"{comparison.project}{settings.where()}: {compare_view.summary(comparison)}")
    if fail_on == FailOn.regression and any(r.verdict == "regressed" for r in comparison.data):
        raise typer.Exit(REGRESSION_EXIT)
