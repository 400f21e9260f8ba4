"""One benchmark run: register with central, execute, parse, report, close the run."""

from __future__ import annotations

import contextlib
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import msgspec

from central.wire import MAX_RAW_OUTPUT, MAX_RUN_SECONDS, RunState
from cli import cachegrind, container, stages
from cli.cachegrind import Counts
from cli.client import AgentClient, CentralClient
from cli.config import Target
from cli.delivery import Delivered, deliver
from cli.errors import BenchHubError, ParseError, ServiceError
from cli.git import GitInfo
from cli.machine import load_now, machine_state
from cli.outputlog import OutputLog
from cli.outputs import collect_documents
from cli.parsers import parse_documents, parse_output
from cli.parsers.command import instruction_results, timing_results
from cli.runner import Cancelled, Execution, execute, user_shell
from cli.wire import Resources, Result, Run, RunCreate, RunTransition, Watch

# The command succeeded but a benchmark in it reported an error (a failed result).
BENCHMARK_ERROR_EXIT = 1


@dataclass
class RunOutcome:
    run: Run
    results: list[Result]
    exit_code: int
    message: str | None
    output_path: Path
    warnings: list[str] = field(default_factory=list)


def _execute_target(
    name: str,
    target: Target,
    cwd: Path,
    echo: Callable[[bytes], None],
    on_spawn: Callable[[int], None],
    log: OutputLog,
    cancel: threading.Event | None = None,
    run_id: str = "",
) -> tuple[Execution, list[Result], str | None]:
    """Run the target (repeats for 'command': the last execution, with the CPU and peak RSS of
    all of them); return that execution, the results, a parse error.

    The output streams into ``log``; the execution holds only its tail.
    """  # fmt: skip
    if target.image is not None:  # the docker runtime: the same command, in its container
        labels = {"benchhub.run": run_id, "benchhub.target": name}
        target = target.replace(command=container.command(target, cwd, labels), env={})
    if target.framework == "command":
        timed: list[Execution] = []
        executions: list[Execution] = []
        counted: list[Counts] = []
        for index in range(target.warmup + target.repeat):
            if target.measure == "instructions":
                with tempfile.TemporaryDirectory(prefix="bhub-cachegrind-") as tmp:
                    command = cachegrind.wrap(target.command, user_shell(), Path(tmp))
                    ex = execute(command, cwd, target.env, target.timeout, echo, on_spawn, log, cancel)
                    try:
                        counts = cachegrind.read_counts(Path(tmp)) if ex.exit_code == 0 else None
                    except BenchHubError as exc:
                        return ex, [], f"cannot count instructions: {exc}"
                if counts is not None and index >= target.warmup:
                    counted.append(counts)
            else:
                ex = execute(target.command, cwd, target.env, target.timeout, echo, on_spawn, log, cancel)
            executions.append(ex)
            if ex.exit_code != 0:
                break
            if index >= target.warmup:
                timed.append(ex)
        combined = replace(
            ex,
            output=log.tail(),
            wall_seconds=sum(t.wall_seconds for t in timed),
            user_seconds=sum(e.user_seconds for e in executions),  # warm-ups included, as the agent's
            system_seconds=sum(e.system_seconds for e in executions),
            max_rss_bytes=max(e.max_rss_bytes for e in executions),
        )
        if ex.exit_code != 0:
            return combined, [], None
        if target.measure == "instructions":
            return combined, instruction_results(name, counted), None
        return combined, timing_results(name, timed), None
    started = time.time()
    ex = execute(target.command, cwd, target.env, target.timeout, echo, on_spawn, log, cancel)
    try:
        if target.output is None:
            return ex, parse_output(target.framework, log.chunks), None
        docs = collect_documents(target.framework, target.output, cwd, "", started)
        return ex, parse_documents(target.framework, docs), None
    except ParseError as exc:
        return ex, [], f"cannot parse {target.framework} output: {exc}"


class _AgentWatch:
    """Asks the local agent to follow each execution's process tree; an absent agent is a warning.

    The request goes from a thread while the command runs (the agent checks it with central, ~15
    ms that a short command would otherwise wait for); one at a time, all done before finish.
    """

    def __init__(self, agent: AgentClient, run: Run) -> None:
        self._agent = agent
        self._run = run
        self._watching = False
        self._sending: threading.Thread | None = None
        self.warnings: list[str] = []

    def spawned(self, pid: int) -> None:
        request = Watch(
            run_id=self._run.id, project=self._run.project, target=self._run.target,
            commit=self._run.commit, pid=pid, include_root=False,
        )  # fmt: skip
        self._sent()
        self._sending = threading.Thread(target=self._send, args=(request,), name="watch", daemon=True)
        self._sending.start()

    def _send(self, request: Watch) -> None:
        try:
            self._agent.watch(request)
            self._watching = True
        except ServiceError as exc:
            if not self.warnings:
                self.warnings.append(f"{exc}; the run's CPU and memory are not recorded")

    def _sent(self) -> None:
        if self._sending is not None:
            self._sending.join()
            self._sending = None

    def finish(self) -> Resources | None:
        self._sent()
        if not self._watching:
            return None
        try:
            return self._agent.unwatch(self._run.id)
        except ServiceError as exc:
            self.warnings.append(f"{exc}; the run's CPU and memory are not recorded")
            return None


def with_exact_usage(sampled: Resources | None, ex: Execution) -> Resources | None:
    """The agent's figures, raised to what the command's own rusage shows.

    The agent samples the process tree every half second and misses what lives in between
    (a command of a few milliseconds had 0 s of CPU, 0 bytes and 0 processes); rusage from
    wait4 is exact for the CPU of the command and its waited-for children and for the peak RSS
    of its largest process, so the sampled figures are at least those.
    """
    if sampled is None:
        return None
    return msgspec.structs.replace(
        sampled,
        cpu_user_seconds=max(sampled.cpu_user_seconds, ex.user_seconds),
        cpu_system_seconds=max(sampled.cpu_system_seconds, ex.system_seconds),
        max_rss_bytes=max(sampled.max_rss_bytes, ex.max_rss_bytes),
        max_processes=max(sampled.max_processes, 1),
        max_threads=max(sampled.max_threads, 1),
    )


def _failed_results(results: list[Result]) -> str | None:
    failed = [r for r in results if r.error is not None]
    if not failed:
        return None
    first = failed[0]
    more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
    return f"{len(failed)} benchmark(s) reported an error: {first.benchmark}: {first.error}{more}"


def allowed_seconds(target: Target) -> float:
    """How long the run may take: each execution's timeout, and a minute to parse and deliver."""
    executions = target.warmup + target.repeat if target.framework == "command" else 1
    return min(target.timeout * executions + 60, MAX_RUN_SECONDS)


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
    on_started: Callable[[Run], None] = lambda _run: None,
) -> RunOutcome:
    """Do the whole run; central unreachable at the start is an error before anything runs."""
    cwd = (config_dir / target.cwd).resolve()
    if not cwd.is_dir():
        raise BenchHubError(f"target {name!r}: cwd {target.cwd!r} is not a folder under {config_dir}")
    run = central.create_run(  # central unreachable: a ServiceError before anything runs
        RunCreate(
            org=git.named_org, project=git.project, repository_url=git.remote_url, target=name,
            commit=git.commit, branch=git.branch, dirty=git.dirty, host=socket.gethostname(),
            parser=target.framework, labels=target.labels, timeout_seconds=allowed_seconds(target),
            thresholds=target.thresholds, machine=machine_state(target.cpuset),
        )
    )  # fmt: skip
    on_started(run)
    return _run_registered(name, target, cwd, run, central, agent, runs_dir, echo)


def run_job(
    *, name: str, target: Target, workdir: Path, run_id: str, central: CentralClient, agent: AgentClient,
    runs_dir: Path, echo: Callable[[bytes], None], cancel: threading.Event | None = None,
) -> RunOutcome:  # fmt: skip
    """Run a job an agent claimed (run ``run_id`` is queued; ``central`` holds the job's token): started,
    then everything as ``bhubctl run`` does it, in a checkout of the job's commit."""
    cwd = (workdir / target.cwd).resolve()
    if not cwd.is_dir() or not cwd.is_relative_to(workdir.resolve()):
        raise BenchHubError(f"target {name!r}: cwd {target.cwd!r} is not a folder of the repository")
    # the run was created where it was submitted: the machine is this agent's
    run = central.transition(
        run_id, RunTransition(state=RunState.running, machine=machine_state(target.cpuset))
    )
    return _run_registered(name, target, cwd, run, central, agent, runs_dir, echo, cancel)


def _run_registered(
    name: str, target: Target, cwd: Path, run: Run, central: CentralClient, agent: AgentClient,
    runs_dir: Path, echo: Callable[[bytes], None], cancel: threading.Event | None = None,
) -> RunOutcome:  # fmt: skip
    run_dir = runs_dir / run.id
    with contextlib.suppress(OSError):  # a full disk: the output is kept in memory instead
        runs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # raw outputs, spooled results: the owner's
        run_dir.mkdir(exist_ok=True)
    watcher = _AgentWatch(agent, run)
    closer = _Closer(central, run, run_dir)
    try:
        return _run_and_close(name, target, cwd, echo, run, run_dir, watcher, closer, cancel)
    except (Cancelled, KeyboardInterrupt) as exc:
        reason = str(exc) or "interrupted"
        closer.close_once(RunTransition(state=RunState.cancelled, message=reason, resources=watcher.finish()))
        raise Cancelled(f"run {run.id} cancelled: {reason}") from None
    except BaseException as exc:  # a bug, a full disk, a refusal: the run is closed, never left running
        detail = str(exc) or type(exc).__name__
        closer.close_once(RunTransition(state=RunState.failed, message=f"bhubctl failed: {detail}"[:10_000]))
        raise


class _Closer:
    """Closes the run once: delivered to central, or kept on disk for 'bhubctl runs sync'."""

    def __init__(self, central: CentralClient, run: Run, run_dir: Path) -> None:
        self._central, self._run, self._run_dir = central, run, run_dir
        self.delivered: Delivered | None = None

    def close(self, results: list[Result], transition: RunTransition) -> Delivered:
        self.delivered = Delivered(None)  # set first: a failure below must not close the run twice
        self.delivered = deliver(self._central, self._run_dir, self._run.id, results, transition)
        return self.delivered

    def stage_event(self, stage: str, state: str, reason: str | None) -> None:
        """A stage's change into the run's history (best effort: the run goes on without it)."""
        with contextlib.suppress(BenchHubError):
            self._central.stage_event(self._run.id, stage, state, reason)

    def close_once(self, transition: RunTransition) -> None:
        """On the way out after an error: close the run unless that was done; never raises."""
        if self.delivered is not None:
            return
        # central refused or is gone, and nothing could be kept: central fails the run as abandoned
        with contextlib.suppress(BenchHubError):
            self.close([], transition)


def _run_and_close(
    name: str, target: Target, cwd: Path, echo: Callable[[bytes], None], run: Run, run_dir: Path,
    watcher: _AgentWatch, closer: _Closer, cancel: threading.Event | None = None,
) -> RunOutcome:  # fmt: skip
    output_path = run_dir / "output.log"
    log = OutputLog(output_path)
    stage_error: str | None = None
    lock = threading.Lock()

    def shown(chunk: bytes) -> None:  # the command's and its stages' output, from their threads
        with lock:
            echo(chunk)

    try:
        with stages.running(target.stages, cwd, target.env, run_dir, shown, closer.stage_event) as started:
            if target.stages:  # the foreground task's own changes, between its stages'
                closer.stage_event(name, "starting", target.command[:200])
            ex, results, parse_error = _execute_target(
                name, target, cwd, shown, watcher.spawned, log, cancel, run.id
            )
            if target.stages:
                timed_out = " (timed out)" if ex.timed_out else ""
                closer.stage_event(name, "exited", f"exit code {ex.exit_code}{timed_out}")
            stage_error = started.exited()
    except stages.StageError as exc:  # not ready: the command never ran
        stage_error, results, parse_error = str(exc), [], None
        ex = Execution(1, log.tail(), 0.0, 0.0, 0.0, 0, False)
    finally:
        log.close()
    resources = with_exact_usage(watcher.finish(), ex)
    warnings = watcher.warnings
    if log.error:  # the results were read whole all the same (the rest was kept in memory)
        warnings.append(f"the raw output could not be written ({log.error}); central keeps its last 1 MiB")
    message: str | None
    if stage_error is not None:
        exit_code, message = 1, stage_error
    elif ex.timed_out:
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
    transition = RunTransition(
        state=state, exit_code=ex.exit_code, message=message,
        raw_output=ex.output[-MAX_RAW_OUTPUT:], raw_output_ref=str(output_path), resources=resources,
        output_chars=log.chars, output_sha256=log.sha256(), machine=load_now(),
    )  # fmt: skip
    delivered = closer.close(results, transition)
    if delivered.warning:
        warnings.append(delivered.warning)
    # not delivered: the run as it will be once 'runs sync' delivers it
    closed = delivered.run or msgspec.structs.replace(
        run, state=state, exit_code=ex.exit_code, message=message
    )
    outcome = RunOutcome(closed, results, exit_code, message, output_path, warnings=warnings)
    return outcome
