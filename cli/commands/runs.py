"""bhubctl runs ...: runs recorded in central: list, show, logs, sync, reexport."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from central.schemas import MachineState, RunPublic, RunState
from central.wire import ALLOWED_TRANSITIONS
from cli.client import CentralClient
from cli.delivery import pending_runs, sync_one
from cli.errors import BenchHubError
from cli.humanize import size
from cli.output import console, err_console
from cli.settings import CliSettings
from cli.table import results_text

app = typer.Typer(help="Runs recorded in central.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON (for scripts) instead of a table")]
_STATE_COLOURS = {"finished": "green", "failed": "red", "cancelled": "yellow", "running": "cyan"}


def _when(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if at else ""


def _state(run: RunPublic) -> str:
    colour = _STATE_COLOURS.get(run.state.value, "white")
    extra = f" ({run.reason})" if run.reason else ""
    return f"[{colour}]{run.state.value}[/]{extra}"


@app.command("list")
def list_runs(
    project: Annotated[str | None, typer.Option(help="only this project")] = None,
    target: Annotated[str | None, typer.Option(help="only this target")] = None,
    branch: Annotated[str | None, typer.Option(help="only this branch")] = None,
    commit: Annotated[str | None, typer.Option(help="only commits starting so")] = None,
    state: Annotated[RunState | None, typer.Option(help="only runs in this state")] = None,
    since: Annotated[datetime | None, typer.Option(help="only runs created since (ISO date/time)")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="at most this many runs")] = 20,
    page_size: Annotated[int, typer.Option(min=1, max=1000, help="runs asked of central at a time")] = 100,
    as_json: JsonOption = False,
) -> None:
    """Runs, newest first (central's pages followed up to --limit)."""
    settings = CliSettings()
    central = settings.central()
    filters = {"project": project, "target": target, "branch": branch, "commit": commit,
               "state": state.value if state else None,
               "since": since.astimezone().isoformat() if since else None}  # fmt: skip
    params = {k: v for k, v in filters.items() if v is not None}
    runs: list[RunPublic] = []
    cursor: str | None = None
    while len(runs) < limit:
        page = central.list_runs({**params, "limit": str(min(page_size, limit - len(runs))),
                                  **({"cursor": cursor} if cursor else {})})  # fmt: skip
        runs.extend(page.data)
        cursor = page.next_cursor
        if cursor is None:
            break
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in runs], indent=1))
        return
    table = Table(pad_edge=False)
    table.add_column("run", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("project/target", overflow="fold")
    table.add_column("commit", no_wrap=True)
    table.add_column("branch", overflow="fold")
    table.add_column("state", no_wrap=True)
    for run in runs:
        where = escape(f"{run.project}/{run.target}")
        table.add_row(
            run.id[:8], _when(run.created_at), where, run.commit[:8], escape(run.branch), _state(run)
        )
    console.print(table)
    for run in runs:
        if run.waiting:
            console.print(f"{run.id[:8]} queued: {escape(run.waiting)}", highlight=False)
    more = " (more with --limit)" if cursor else ""
    err_console.print(
        f"{len(runs)} run{'' if len(runs) == 1 else 's'}{more}{settings.where()}", highlight=False
    )


@app.command()
def show(
    run: Annotated[str, typer.Argument(help="the run's id, or the start of it")],
    as_json: JsonOption = False,
) -> None:
    """A run: what ran where, its state and history, what it used, its results."""
    central = CliSettings().central()
    found = central.get_run(central.resolve_run(run))
    results = central.list_results(found.id).data
    events = central.list_events(found.id).data
    if as_json:
        print(json.dumps({"run": found.model_dump(mode="json"),
                          "results": [r.model_dump(mode="json", exclude_none=True) for r in results],
                          "events": [e.model_dump(mode="json") for e in events]}, indent=1))  # fmt: skip
        return
    dirty = " (dirty)" if found.dirty else ""
    lines = [
        f"run      {found.id}",
        f"project  {escape(found.org)}/{escape(found.project)}   target {escape(found.target)}",
        f"commit   {found.commit}{dirty} on {escape(found.branch)}",
        f"machine  {escape(found.host)}   parser {escape(found.parser)}",
        f"state    {_state(found)}"
        + (f", exit code {found.exit_code}" if found.exit_code is not None else ""),
    ]
    if found.message:
        lines.append(f"message  {escape(found.message)}")
    if found.waiting:
        lines.append(f"waiting  {escape(found.waiting)}")
    if found.labels:
        lines.append("labels   " + escape(", ".join(f"{k}={v}" for k, v in sorted(found.labels.items()))))
    if (used := found.resources) is not None:
        cpu = f"{used.cpu_user_seconds:.2f} s user + {used.cpu_system_seconds:.2f} s system CPU"
        lines.append(
            f"used     {cpu}, peak RSS {size(used.max_rss_bytes)}, up to {used.max_processes} processes"
        )
    if (machine := found.machine) is not None:
        lines.append(f"cpu      {escape(machine_line(machine))}")
    console.print("\n".join(lines), highlight=False)
    history = Table(title="history", title_justify="left", pad_edge=False)
    for column in ("at", "from", "to", "by"):
        history.add_column(column, no_wrap=column != "by", overflow="fold")
    for event in events:
        history.add_row(_when(event.at), event.from_state or "", event.to_state, escape(event.actor))
    console.print(history)
    if results:
        print(results_text(results, title=f"{len(results)} results"))


def machine_line(machine: MachineState) -> str:
    """'AMD EPYC, CPUs 0-1 of 2, governor performance, boost off, ASLR 2, kernel 6.1, load 0.2 -> 1.1'"""
    facts = [machine.cpu_model or "unknown CPU"]
    if machine.cpu_set is not None:
        facts.append(f"CPUs {machine.cpu_set}" + (f" of {machine.cpus}" if machine.cpus else ""))
    if machine.governor is not None:
        facts.append(f"governor {machine.governor}")
    for name, flag in (("boost", machine.boost), ("SMT", machine.smt)):
        if flag is not None:
            facts.append(f"{name} {'on' if flag else 'off'}")
    if machine.aslr is not None:
        facts.append(f"ASLR {machine.aslr}")
    if machine.kernel is not None:
        facts.append(f"kernel {machine.kernel}")
    if machine.load_start is not None:
        end = "" if machine.load_end is None else f" -> {machine.load_end:g}"
        facts.append(f"load {machine.load_start:g}{end}")
    return ", ".join(facts)


@app.command()
def logs(
    run: Annotated[str, typer.Argument(help="the run's id, or the start of it")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing until the run ends")] = False,
) -> None:
    """The raw output central keeps of a run (its last MiB; bhubctl keeps it all in runs/<id>/output.log)."""
    central = CliSettings().central()
    run_id = central.resolve_run(run)
    if follow:
        follow_output(central, run_id)
        return
    text = central.run_output(run_id)
    sys.stdout.write(text if not text or text.endswith("\n") else text + "\n")
    if (note := output_note(central.get_run(run_id), text)) is not None:
        err_console.print(escape(note), highlight=False)


def output_note(run: RunPublic, text: str) -> str | None:
    """What to say about the output central gave: a tail of a longer one, or not its runner's."""
    if run.output_chars is None:
        return None
    if len(text) < run.output_chars:
        where = f"{run.raw_output_ref} on {run.host}" if run.raw_output_ref else "its runner's log"
        return f"the last {len(text):,} of {run.output_chars:,} characters; all of it is in {where}"
    if run.output_sha256 and hashlib.sha256(text.encode()).hexdigest() != run.output_sha256:
        return "warning: this output does not match its runner's SHA-256 of it: it was changed after the run"
    return None


_ENDED = frozenset(state.value for state, then in ALLOWED_TRANSITIONS.items() if not then)  # over


def follow_output(central: CentralClient, run_id: str, poll_seconds: float = 0.5) -> str:
    """Print a run's output as central receives it (a job's agent streams it) until the run
    ends; the run's last state."""
    offset = 0
    while True:
        text, length, state = central.output_from(run_id, offset)
        if text:
            sys.stdout.write(text)
            sys.stdout.flush()
        offset = max(length, offset)  # what central has up to now was all in this answer
        if state in _ENDED:
            if text and not text.endswith("\n"):
                sys.stdout.write("\n")
            return state
        time.sleep(poll_seconds)


@app.command()
def cancel(run: Annotated[str, typer.Argument(help="the run's id, or the start of it")]) -> None:
    """Cancel a submitted run: a queued one now, a running one through its agent."""
    central = CliSettings().central()
    done = central.cancel_run(central.resolve_run(run))
    what = "cancelled" if done.state.value == "cancelled" else "asked to stop (its agent stops it)"
    err_console.print(f"run [cyan]{done.id}[/] {what}", highlight=False)


@app.command()
def reexport(
    run_id: Annotated[str | None, typer.Argument(help="the run's id (bhubctl run prints it)")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="every run that is over (of --project/--branch)")
    ] = False,
    project: Annotated[str | None, typer.Option(help="with --all: only this project")] = None,
    branch: Annotated[str | None, typer.Option(help="with --all: only this branch")] = None,
) -> None:
    """Send runs' results and markers to VictoriaMetrics again (safe to repeat).

    --all is the upgrade path of a new series layout: every run is written again in the
    layout of this version (README "Data model").
    """
    central = CliSettings().central()
    if (run_id is None) == (not every):
        raise BenchHubError("name one run, or --all (with --project/--branch to narrow it)")
    if run_id is not None:
        done = central.reexport(run_id)
        console.print(f"run {done.run_id}: {done.samples} samples sent to VictoriaMetrics")
        return
    params = {k: v for k, v in {"project": project, "branch": branch}.items() if v is not None}
    sent = failed = seen = 0
    cursor: str | None = None
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err_console) as bar:
        task = bar.add_task("re-exporting runs", total=None)
        while True:
            page = central.list_runs({**params, "limit": "500", **({"cursor": cursor} if cursor else {})})
            for run in page.data:
                seen += 1
                if run.state in (RunState.queued, RunState.running):
                    continue  # not over: central writes it when it ends
                try:
                    sent += central.reexport(run.id).samples
                except BenchHubError as exc:
                    failed += 1
                    err_console.print(f"run {run.id}: {escape(str(exc))}")
                bar.update(task, description=f"re-exported {seen} runs, {sent} samples")
            cursor = page.next_cursor
            if cursor is None:
                break
    console.print(
        f"{seen} runs, {sent} samples sent to VictoriaMetrics" + (f"; {failed} failed" if failed else "")
    )
    if failed:
        raise typer.Exit(1)


@app.command()
def sync() -> None:
    """Deliver runs whose results and final state wait on this machine (central was away)."""
    settings = CliSettings()
    central = settings.central()
    waiting = pending_runs(settings.home / "runs")
    if not waiting:
        console.print("nothing waits for delivery")
        return
    failed = 0
    for number, run_dir in enumerate(waiting, 1):
        step = escape(f"[{number}/{len(waiting)}]")
        try:
            done = sync_one(central, run_dir)
        except BenchHubError as exc:
            failed += 1
            err_console.print(f"{step} run {run_dir.name}: [red]not delivered:[/] {escape(str(exc))}")
            continue
        console.print(f"{step} run {done.id}: delivered, {done.state.value}")
    if failed:
        err_console.print(f"{failed} run(s) still wait; run 'bhubctl runs sync' again once central answers")
        raise typer.Exit(1)
