"""bhubctl run TARGET, without its command-line parsing: shared by the typer command
(cli.commands.run: help, completion) and the fast path of cli.main, which parses ``run``'s
arguments with argparse so that a run imports neither typer nor pydantic (issue 16)."""

from __future__ import annotations

import argparse
import gc
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from cli import git as gitinfo
from cli.benchrun import RunOutcome, run_target
from cli.client import AgentClient, CentralClient
from cli.config import CONFIG_NAME, load_config
from cli.delivery import pending_runs, sync_one
from cli.errors import BenchHubError, ConfigError
from cli.gate import FailOn
from cli.humanize import size
from cli.settings import CliSettings
from cli.table import error, note, paint, results_text, warn


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
            warn(f"run {run_dir.name} still waits for delivery: {exc}")
            return
        note(f"delivered the earlier run {done.id} ({done.state.value}) to central")


def run(
    target: str, *, config: Path | None = None, commit: str | None = None, branch: str | None = None,
    project: str | None = None, quiet: bool = False, baseline: str | None = None,
    fail_on: FailOn = FailOn.never, rerun_suspects: int = 0, report: Path | None = None,
    require_baseline: bool = False,
) -> int:  # fmt: skip
    """Run the target, record it, judge it against --baseline: the exit code."""
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
    note(f"{paint(info.project, 'bold')} {target} @ {info.commit[:12]}{dirty} on {info.branch}")

    def once() -> RunOutcome:
        outcome = run_target(
            name=target, target=spec, config_dir=path.parent, git=info, central=central, agent=agent,
            runs_dir=settings.home / "runs", echo=(lambda _c: None) if quiet else _echo,
            on_started=lambda r: note(
                f"run {paint(r.id, 'cyan')} started in {r.org}/{r.project}{settings.where()}"
            ),
        )  # fmt: skip
        _report_outcome(outcome, target, info.commit)
        return outcome

    outcome = once()
    if outcome.exit_code != 0 or baseline is None or info.root is None:
        if baseline is not None and info.root is None:
            warn("not a git repository: no merge-base, no baseline")
        return outcome.exit_code
    code = _gate(
        central, info, target, baseline, outcome, once, fail_on=fail_on, rerun_suspects=rerun_suspects,
        report=report, require_baseline=require_baseline, grafana_url=settings.grafana_url,
    )  # fmt: skip
    return code


def _report_outcome(outcome: RunOutcome, target: str, commit: str) -> None:
    if outcome.results:
        print(results_text(outcome.results, title=f"{target} @ {commit[:12]}"), flush=True)
    if (used := outcome.run.resources) is not None:
        note(
            f"resources: {used.cpu_user_seconds:.2f} s user, {used.cpu_system_seconds:.2f} s system CPU; "
            f"peak RSS {size(used.max_rss_bytes)}; up to {used.max_processes} "
            f"process{'' if used.max_processes == 1 else 'es'}"
        )
    for warning in outcome.warnings:
        warn(warning)
    colour = "green" if outcome.exit_code == 0 else "red"
    detail = f": {outcome.message}" if outcome.message else ""
    note(f"run {paint(outcome.run.id, 'cyan')} {paint(outcome.run.state.value, colour)}{detail}")
    note(f"raw output: {outcome.output_path}")


def _gate(
    central: CentralClient, info: gitinfo.GitInfo, target: str, branch: str, first: RunOutcome,
    again: Any, *, fail_on: FailOn, rerun_suspects: int, report: Path | None, require_baseline: bool,
    grafana_url: str | None,
) -> int:  # fmt: skip
    """Judge the run against its baseline, re-run suspects, report; the exit code."""
    from rich.markup import escape

    from cli import compare_view, gate
    from cli.output import console, err_console

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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """click's exit code (2) for a bad command line, in one line that says where help is."""
        self.exit(2, f"error: {message} (see 'bhubctl run --help')\n")


def parser() -> argparse.ArgumentParser:
    """``bhubctl run``'s options, as the typer command (cli.commands.run.run) defines them.

    Written with argparse on purpose: typer builds a pydantic adapter per option when it parses,
    and importing typer and pydantic cost a run ~150 ms (issue 16). tests/cli/test_startup.py
    checks that both define the same options and defaults.
    """
    parser = _Parser(prog="bhubctl run", add_help=False, allow_abbrev=False)
    parser.add_argument("target")
    parser.add_argument("--config", type=Path)
    parser.add_argument("--commit")
    parser.add_argument("--branch")
    parser.add_argument("--project")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--baseline")
    parser.add_argument("--fail-on", choices=[f.value for f in FailOn], default=FailOn.never.value)
    parser.add_argument("--rerun-suspects", type=_suspects, default=0)
    parser.add_argument("--report", type=Path)
    parser.add_argument("--require-baseline", action=argparse.BooleanOptionalAction, default=False)
    return parser


def parse_args(argv: list[str]) -> dict[str, Any]:
    """``bhubctl run``'s arguments, as the typer command takes them."""
    parsed = vars(parser().parse_args(argv))
    parsed["fail_on"] = FailOn(parsed["fail_on"])
    return parsed


def _suspects(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 20:
        raise argparse.ArgumentTypeError(f"{value} is not in the range 0<=x<=20")
    return value


def main(argv: list[str]) -> NoReturn:
    """``bhubctl run ARGS`` without typer: its exit code, an error in one line."""
    # what the imports made lives until the end: out of the collector's sight, collections (and
    # the one at exit) skip it; measured 20-30 ms of a ~280 ms run of nothing (issue 16)
    gc.freeze()
    try:
        code = run(**parse_args(argv))
    except BenchHubError as exc:
        error(str(exc))
        code = exc.exit_code
    except KeyboardInterrupt:
        note("Aborted!")  # click's answer to a Ctrl-C outside a run
        code = 1
    sys.exit(code)
