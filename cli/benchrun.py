"""One benchmark run: register with central, execute, parse, report, close the run."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from central.schemas import (
    MAX_RAW_OUTPUT,
    ResultIn,
    RunCreate,
    RunPublic,
    RunResources,
    RunState,
    RunTransition,
)
from cli.client import AgentClient, CentralClient
from cli.config import Target
from cli.errors import BenchHubError, ParseError, ServiceError
from cli.git import GitInfo
from cli.outputs import collect_documents
from cli.parsers import parse_documents
from cli.parsers.command import timing_results
from cli.runner import Cancelled, Execution, execute
from exporter.schemas import RunResults, WatchRequest

# The command succeeded but a benchmark in it reported an error (a failed result).
BENCHMARK_ERROR_EXIT = 1


@dataclass
class RunOutcome:
    run: RunPublic
    results: list[ResultIn]
    exit_code: int
    message: str | None
    output_path: Path
    warnings: list[str] = field(default_factory=list)


def _execute_target(
    name: str, target: Target, cwd: Path, echo: Callable[[bytes], None], on_spawn: Callable[[int], None]
) -> tuple[Execution, list[ResultIn], str | None]:
    """Run the target (repeats for 'command': the last execution, with the CPU and peak RSS of
    all of them); return that execution, the results, a parse error."""
    if target.framework == "command":
        timed: list[Execution] = []
        executions: list[Execution] = []
        for index in range(target.warmup + target.repeat):
            ex = execute(target.command, cwd, target.env, target.timeout, echo, on_spawn)
            executions.append(ex)
            if ex.exit_code != 0:
                break
            if index >= target.warmup:
                timed.append(ex)
        combined = replace(
            ex,
            output="".join(e.output for e in executions),
            wall_seconds=sum(t.wall_seconds for t in timed),
            user_seconds=sum(e.user_seconds for e in executions),  # warm-ups included, as the agent's
            system_seconds=sum(e.system_seconds for e in executions),
            max_rss_bytes=max(e.max_rss_bytes for e in executions),
        )
        return combined, timing_results(name, timed) if ex.exit_code == 0 else [], None
    started = time.time()
    ex = execute(target.command, cwd, target.env, target.timeout, echo, on_spawn)
    try:
        docs = collect_documents(target.framework, target.output, cwd, ex.output, started)
        return ex, parse_documents(target.framework, docs), None
    except ParseError as exc:
        return ex, [], f"cannot parse {target.framework} output: {exc}"


class _AgentWatch:
    """Asks the local agent to follow each execution's process tree; an absent agent is a warning."""

    def __init__(self, agent: AgentClient, run: RunPublic) -> None:
        self._agent = agent
        self._run = run
        self._watching = False
        self.warnings: list[str] = []

    def spawned(self, pid: int) -> None:
        request = WatchRequest(
            run_id=self._run.id, project=self._run.project, target=self._run.target,
            commit=self._run.commit, pid=pid, include_root=False,
        )  # fmt: skip
        try:
            self._agent.watch(request)
            self._watching = True
        except ServiceError as exc:
            if not self.warnings:
                self.warnings.append(f"{exc}; the run's CPU and memory are not recorded")

    def finish(self) -> RunResources | None:
        if not self._watching:
            return None
        try:
            return self._agent.unwatch(self._run.id)
        except ServiceError as exc:
            self.warnings.append(f"{exc}; the run's CPU and memory are not recorded")
            return None


def with_exact_usage(sampled: RunResources | None, ex: Execution) -> RunResources | None:
    """The agent's figures, raised to what the command's own rusage shows.

    The agent samples the process tree every half second and misses what lives in between
    (a command of a few milliseconds had 0 s of CPU, 0 bytes and 0 processes); rusage from
    wait4 is exact for the CPU of the command and its waited-for children and for the peak RSS
    of its largest process, so the sampled figures are at least those.
    """
    if sampled is None:
        return None
    return sampled.model_copy(
        update={
            "cpu_user_seconds": max(sampled.cpu_user_seconds, ex.user_seconds),
            "cpu_system_seconds": max(sampled.cpu_system_seconds, ex.system_seconds),
            "max_rss_bytes": max(sampled.max_rss_bytes, ex.max_rss_bytes),
            "max_processes": max(sampled.max_processes, 1),
            "max_threads": max(sampled.max_threads, 1),
        }
    )


def _failed_results(results: list[ResultIn]) -> str | None:
    failed = [r for r in results if r.error is not None]
    if not failed:
        return None
    first = failed[0]
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return f"{len(failed)} benchmark(s) reported an error: {first.benchmark}: {first.error}{more}"


def run_target(
    *,
    name: str,
    target: Target,
    config_dir: Path,
    git: GitInfo,
    central: CentralClient,
    agent: AgentClient,
    runs_dir: Path,
    echo: Callable[[bytes], None],
    on_started: Callable[[RunPublic], None] = lambda _run: None,
) -> RunOutcome:
    """Do the whole run; central unreachable at the start is an error before anything runs."""
    cwd = (config_dir / target.cwd).resolve()
    if not cwd.is_dir():
        raise BenchHubError(f"target {name!r}: cwd {target.cwd!r} is not a folder under {config_dir}")
    central.health()
    run = central.create_run(
        RunCreate(
            org=git.named_org, project=git.project, repository_url=git.remote_url, target=name,
            commit=git.commit, branch=git.branch, dirty=git.dirty, host=socket.gethostname(),
            parser=target.framework, labels=target.labels,
        )
    )  # fmt: skip
    on_started(run)
    run_dir = runs_dir / run.id
    run_dir.mkdir(parents=True, exist_ok=True)
    output_path = run_dir / "output.log"
    watcher = _AgentWatch(agent, run)
    try:
        ex, results, parse_error = _execute_target(name, target, cwd, echo, watcher.spawned)
    except (Cancelled, KeyboardInterrupt) as exc:
        reason = str(exc) or "interrupted"
        resources = watcher.finish()
        central.transition(
            run.id, RunTransition(state=RunState.cancelled, message=reason, resources=resources)
        )
        raise Cancelled(f"run {run.id} cancelled: {reason}") from None
    resources = with_exact_usage(watcher.finish(), ex)
    output_path.write_text(ex.output, encoding="utf-8")
    if results:
        (run_dir / "results.json").write_text(json.dumps([r.model_dump() for r in results], indent=1))
        central.upload_results(run.id, results)
    message: str | None
    if ex.timed_out:
        exit_code, message = 124, f"timed out after {target.timeout:g} s; the command was stopped"
    elif ex.exit_code != 0:
        exit_code, message = ex.exit_code, f"the command exited with code {ex.exit_code}"
    elif parse_error:
        exit_code, message = ParseError.exit_code, parse_error
    elif failures := _failed_results(results):
        exit_code, message = BENCHMARK_ERROR_EXIT, failures
    else:
        exit_code, message = 0, None
    state = RunState.finished if exit_code == 0 else RunState.failed
    run = central.transition(
        run.id,
        RunTransition(
            state=state, exit_code=ex.exit_code, message=message,
            raw_output=ex.output[-MAX_RAW_OUTPUT:], raw_output_ref=str(output_path), resources=resources,
        ),
    )  # fmt: skip
    outcome = RunOutcome(run, results, exit_code, message, output_path, warnings=watcher.warnings)
    if results and run.finished_at is not None:
        try:
            agent.push(
                RunResults(
                    run_id=run.id, org=run.org, project=run.project, target=run.target,
                    commit=run.commit, branch=run.branch, timestamp=run.finished_at, results=results,
                )
            )  # fmt: skip
        except ServiceError as exc:
            outcome.warnings.append(f"{exc}; the results are safe in central")
    return outcome
