"""bhubctl run TARGET and bhubctl init."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from cli import git as gitinfo
from cli.benchrun import RunOutcome, run_target
from cli.client import AgentClient, CentralClient
from cli.config import CONFIG_NAME, EXAMPLE, load_config
from cli.delivery import pending_runs, sync_one
from cli.errors import BenchHubError, ConfigError
from cli.gate import REGRESSION_EXIT, FailOn
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
    if baseline is None and (fail_on != FailOn.never or rerun_suspects or report or require_baseline):
        raise ConfigError(
            "--fail-on, --rerun-suspects, --report and --require-baseline need --baseline BRANCH"
        )
    settings = CliSettings()
    signal.signal(signal.SIGTERM, _interrupt)  # a CI job stopped is a run cancelled, like Ctrl-C
    path = config.resolve() if config else find_config(Path.cwd())
    bench = load_config(path)
    spec = bench.target(target, path)
    info = gitinfo.detect(path.parent, commit=commit, branch=branch, project=project or bench.project)
    central = settings.central()
    deliver_pending(central, settings.home / "runs")
    agent = AgentClient(settings.agent_url, settings.request_timeout, token=settings.central_token())
    dirty = " (dirty)" if info.dirty else ""
    err_console.print(f"[bold]{info.project}[/] {target} @ {info.commit[:12]}{dirty} on {info.branch}")

    def once() -> RunOutcome:
        outcome = run_target(
            name=target, target=spec, config_dir=path.parent, git=info, central=central, agent=agent,
            runs_dir=settings.home / "runs", echo=(lambda _c: None) if quiet else _echo,
            on_started=lambda r: err_console.print(
                f"run [cyan]{r.id}[/] started in {escape(f'{r.org}/{r.project}{settings.where()}')}",
                highlight=False,
            ),
        )  # fmt: skip
        _report_outcome(outcome, target, info.commit)
        return outcome

    outcome = once()
    if outcome.exit_code != 0 or baseline is None or info.root is None:
        if baseline is not None and info.root is None:
            err_console.print("[yellow]warning:[/] not a git repository: no merge-base, no baseline")
        raise typer.Exit(outcome.exit_code)
    code = _gate(
        central, info, target, baseline, outcome, once, fail_on=fail_on, rerun_suspects=rerun_suspects,
        report=report, require_baseline=require_baseline, grafana_url=settings.grafana_url,
    )  # fmt: skip
    raise typer.Exit(code)


def _report_outcome(outcome: RunOutcome, target: str, commit: str) -> None:
    if outcome.results:
        console.print(results_table(outcome.results, title=f"{target} @ {commit[:12]}"))
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


def _gate(
    central: CentralClient, info: gitinfo.GitInfo, target: str, branch: str, first: RunOutcome,
    again: Any, *, fail_on: FailOn, rerun_suspects: int, report: Path | None, require_baseline: bool,
    grafana_url: str | None,
) -> int:  # fmt: skip
    """Judge the run against its baseline, re-run suspects, report; the exit code."""
    from cli import compare_view, gate

    assert info.root is not None
    head_ids = [first.run.id]
    base = gate.find_baseline(central, info.root, branch, info.project, target, exclude=set(head_ids))
    if base is None:
        message = (
            f"no finished run of {target} on {branch}'s history before the fork point: nothing to compare"
        )
        err_console.print(f"[yellow]baseline:[/] {escape(message)}")
        return 2 if require_baseline else 0
    err_console.print(f"baseline: {len(base.run_ids)} run(s) at {base.commit[:12]}, {escape(base.why)}")
    comparison = gate.judge(central, base, head_ids, info.project, target)
    for attempt in range(1, rerun_suspects + 1):
        suspects = gate.regressed(comparison)
        if not suspects:
            break
        shown = ", ".join(suspects[:3]) + (f" and {len(suspects) - 3} more" if len(suspects) > 3 else "")
        err_console.print(f"re-running {target} ({attempt} of {rerun_suspects}): suspect {escape(shown)}")
        outcome = again()
        if outcome.exit_code != 0:
            return int(outcome.exit_code)
        head_ids.append(outcome.run.id)
        comparison = gate.judge(central, base, head_ids, info.project, target)
    for table in compare_view.tables(comparison, only_changed=True):
        console.print(table)
    regressions = gate.regressed(comparison)
    colour = "red" if regressions else "green"
    err_console.print(
        f"compare with {escape(branch)} @ {base.commit[:12]}: [{colour}]{compare_view.summary(comparison)}[/]"
    )
    title = f"{target} @ {info.commit[:12]} vs {branch} @ {base.commit[:12]}"
    about = f"Baseline: {base.why}; head: {len(head_ids)} run(s) of {info.branch}."
    links = compare_view.grafana_links(grafana_url, comparison)
    for path in gate.publish(compare_view.markdown(comparison, title, about, links), report):
        err_console.print(f"report: {path}")
    return gate.REGRESSION_EXIT if regressions and fail_on == FailOn.regression else 0


def init(
    path: Annotated[Path, typer.Option(help="where to write the file")] = Path(CONFIG_NAME),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented example bhub.yaml."""
    if path.exists() and not force:
        raise ConfigError(f"{path} exists already: edit it, or pass --force to overwrite it")
    path.write_text(EXAMPLE, encoding="utf-8")
    console.print(f"wrote {path}; edit the targets, then 'bhubctl run <target>'")
