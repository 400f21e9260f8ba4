"""bhubctl submit TARGET: queue a target of this repository's bhub.yaml for benchmark machines."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cli import git as gitinfo
from cli.benchrun import allowed_seconds
from cli.config import load_config
from cli.errors import ConfigError, GitError
from cli.output import err_console
from cli.runcmd import find_config
from cli.settings import CliSettings


def submit(
    target: Annotated[str, typer.Argument(help="target name from bhub.yaml")],
    ref: Annotated[str, typer.Option(help="the commit to run (any git revision; pushed)")] = "HEAD",
    config: Annotated[Path | None, typer.Option(help="bhub.yaml to use (default: nearest)")] = None,
    requires: Annotated[
        list[str] | None, typer.Option("--requires", help="KEY=VALUE a node's labels must have (repeat)")
    ] = None,
    shared: Annotated[
        bool, typer.Option(help="may share its machine with other jobs (default: alone)")
    ] = False,
    retries: Annotated[int, typer.Option(min=0, max=5, help="run again if its machine is lost mid-run")] = 0,
    wait: Annotated[bool, typer.Option(help="wait for the end; exit with the run's exit code")] = False,
    follow: Annotated[bool, typer.Option(help="--wait, and print the run's output as it comes")] = False,
) -> None:
    """Queue a target for benchmark machines: an agent of your org checks out the commit and runs
    it as 'bhubctl run' would. Prints the run id at once; --wait waits for the run to end."""
    from central.job_schemas import JobSubmit
    from central.schemas import RunCreate, RunState
    from central.wire import ALLOWED_TRANSITIONS

    settings = CliSettings()
    path = config.resolve() if config else find_config(Path.cwd())
    bench = load_config(path)
    spec = bench.target(target, path)
    info = gitinfo.detect(path.parent, project=bench.project)
    if info.root is None:
        raise GitError(f"{path.parent} is not in a git repository: agents fetch the commit from one")
    commit = gitinfo.rev_parse(info.root, ref)
    if commit is None:
        raise GitError(f"--ref {ref!r} names no commit of {info.root}")
    bundle, bundle_commit = (
        _local_changes(info.root, commit) if info.dirty and ref == "HEAD" else (None, None)
    )
    # the target's folder, relative to the repository's root: where the agent's checkout runs it
    folder = (path.parent / spec.cwd).resolve().relative_to(info.root.resolve())
    definition = spec.replace(cwd=str(folder)).to_json()
    wanted = dict(_pair(item) for item in requires or [])
    body = JobSubmit(
        run=RunCreate(
            org=info.named_org, project=info.project, repository_url=info.remote_url, target=target,
            commit=commit, branch=info.branch, dirty=bundle is not None, host=socket.gethostname(),
            parser=spec.framework, labels=spec.labels, state=RunState.queued,
            timeout_seconds=allowed_seconds(spec), thresholds=spec.thresholds,
        ),
        repository_url=info.remote_url or str(info.root), definition=definition, requirements=wanted,
        exclusive=not shared, retries=retries, bundle=bundle, bundle_commit=bundle_commit,
    )  # fmt: skip
    central = settings.central()
    run = central.submit_job(body.model_dump_json().encode())
    print(run.id, flush=True)
    err_console.print(
        f"queued {escape(f'{run.org}/{run.project}')} {target} @ {commit[:12]}{settings.where()}",
        highlight=False,
    )
    if not wait and not follow:
        return
    state, waiting = run.state, None
    if follow:
        from cli.commands.runs import follow_output

        follow_output(central, run.id)
    while True:
        run = central.get_run(run.id)
        if run.waiting and run.waiting != waiting:
            err_console.print(f"queued: {escape(run.waiting)}", highlight=False)
        waiting = run.waiting
        if run.state != state:
            state = run.state
            where = f" on {run.host}" if run.host != "-" else ""
            err_console.print(f"run [cyan]{run.id}[/] {state.value}{where}", highlight=False)
        if not ALLOWED_TRANSITIONS[state]:  # the run is over
            break
        time.sleep(1.0)
    if run.message:
        err_console.print(escape(run.message), highlight=False)
    if state == RunState.finished:
        raise typer.Exit(0)
    raise typer.Exit(130 if state == RunState.cancelled else (run.exit_code or 1))


def _local_changes(root: Path, base: str) -> tuple[str | None, str | None]:
    """The tree's uncommitted changes to tracked files as a git bundle over ``base`` (base64),
    and the commit in it that holds them (``git stash create``: the stash list is not touched)."""
    import base64
    import subprocess
    import tempfile

    from central.job_schemas import MAX_BUNDLE_BYTES

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise GitError(f"git {args[0]} failed: {done.stderr.strip().splitlines()[-1:]}")
        return done.stdout.strip()

    changes = git("stash", "create", "bhubctl submit: local changes")
    if not changes:
        return None, None
    ref = "refs/bhub/submit"
    with tempfile.TemporaryDirectory(prefix="bhub-bundle-") as tmp:
        path = Path(tmp) / "changes.bundle"
        git("update-ref", ref, changes)
        try:
            git("bundle", "create", str(path), ref, f"^{base}")
        finally:
            git("update-ref", "-d", ref)
        data = path.read_bytes()
    if len(data) > MAX_BUNDLE_BYTES:
        raise ConfigError(
            f"the local changes are {len(data) / 2**20:.1f} MiB as a git bundle (at most "
            f"{MAX_BUNDLE_BYTES // 2**20} MiB): commit and push them"
        )
    if git("ls-files", "--others", "--exclude-standard"):
        err_console.print("[yellow]warning:[/] untracked files are not sent with the job: 'git add' them")
    err_console.print(f"sending the local changes ({len(data) / 1024:.0f} KiB git bundle over {base[:12]})")
    return base64.b64encode(data).decode(), changes


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise ConfigError(f"--requires {item!r}: write KEY=VALUE, such as --requires gpu=a100")
    return key, value
