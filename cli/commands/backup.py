"""bhubctl backup / restore / backups: org backups (through central) and instance backups (local)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from central.schemas import BackupTargetIn
from cli.client import CentralClient
from cli.errors import BenchHubError, ConfigError, ServiceError
from cli.output import console, err_console
from cli.settings import CliSettings

backups = typer.Typer(help="Backups of an organization in its own S3 bucket.", no_args_is_help=True)
OrgOption = Annotated[
    str | None, typer.Option(help="this org, with the bootstrap token (default: your token's org)")
]


def _client(org: str | None) -> CentralClient:
    return CliSettings().central(admin=org is not None)


def _follow(client: CentralClient, path: str, org: str | None, title: str) -> dict[str, Any]:
    """Show a streamed operation's progress; its result, or a BenchHubError with its one-line error."""
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=err_console, transient=True
    ) as bar:
        task = bar.add_task(title)
        for event in client.stream(path, org):
            if "progress" in event:
                bar.update(task, description=f"{title}: {event['progress']} {event['bytes'] / 2**20:.1f} MiB")
            elif "error" in event:
                raise ServiceError(f"{title} failed: {event['detail']}")
            elif "done" in event:
                done: dict[str, Any] = event["done"]
                return done
    raise ServiceError(f"{title}: central ended the stream without a result; see its log")


def _backup_org(org: str | None) -> None:
    done = _follow(_client(org), "/api/v1/backups", org, f"backup of {org or 'your org'}")
    size = sum(o["bytes"] for o in done["objects"])
    rows = ", ".join(f"{n} {t}" for t, n in done["rows"].items() if n)
    pruned = f"; pruned {', '.join(done['pruned'])}" if done["pruned"] else ""
    if "prune_error" in done:
        err_console.print(
            f"[yellow]warning:[/] the backup is complete; retention failed: {done['prune_error']}"
        )
    console.print(
        f"{done['org']}: backup {done['timestamp']}: {done['series']} series, {rows}; "
        f"{size / 2**20:.2f} MiB in {done['seconds']:.1f} s{pruned}"
    )


def backup(
    org: OrgOption = None,
    all_orgs: Annotated[
        bool, typer.Option("--all-orgs", help="every org with a backup bucket (bootstrap token)")
    ] = False,
    instance: Annotated[
        bool, typer.Option("--instance", help="the whole VictoriaMetrics and central's database")
    ] = False,
) -> None:
    """Back up an organization (to its bucket), every organization, or the whole instance."""
    if sum((org is not None, all_orgs, instance)) > 1:
        raise ConfigError("choose one of --org, --all-orgs and --instance")
    if instance:
        from cli import instance_backup  # boto3: only for this

        stamp = instance_backup.backup(instance_backup.InstanceSettings(), err_console.print)
        console.print(f"instance backup {stamp} written")
        return
    if not all_orgs:
        _backup_org(org)
        return
    failed = []
    central = CliSettings().central(admin=True)
    for name in [o.name for o in central.list_orgs().data]:
        if central.backup_target(name) is None:
            err_console.print(f"{name}: no backup bucket, skipped")
            continue
        try:
            _backup_org(name)
        except BenchHubError as exc:
            err_console.print(f"[red]{name}:[/] {exc}", highlight=False)
            failed.append(name)
    if failed:
        raise ServiceError(f"backups failed for: {', '.join(failed)}")


def restore(
    source: Annotated[
        str, typer.Option("--from", help="the backup's timestamp ('bhubctl backups list')")
    ] = "",
    org: OrgOption = None,
    instance: Annotated[
        bool, typer.Option("--instance", help="restore the whole instance (stops VictoriaMetrics)")
    ] = False,
) -> None:
    """Restore an org's backup into the running stack (idempotent), or the whole instance."""
    if instance:
        from cli import instance_backup  # boto3: only for this

        stamp = instance_backup.restore(instance_backup.InstanceSettings(), source or None, err_console.print)
        console.print(f"instance restored from {stamp}")
        return
    if not source:
        raise ConfigError("--from TIMESTAMP is needed: 'bhubctl backups list' shows them")
    done = _follow(_client(org), f"/api/v1/backups/{source}/restore", org, f"restore of {source}")
    rows = ", ".join(f"{n} {t}" for t, n in done["rows"].items())
    console.print(f"restored {done['timestamp']}: {done['series']} series, {rows}")


@backups.command("list")
def list_backups(org: OrgOption = None) -> None:
    """The org's complete backups, oldest first."""
    found = _client(org).list_backups(org).data
    if not found:
        console.print("no backups")
    for m in found:
        size = sum(o.bytes for o in m.objects) / 2**20
        console.print(f"{m.timestamp}  {m.series} series  {sum(m.rows.values())} rows  {size:.2f} MiB")


@backups.command("configure")
def configure(
    bucket: Annotated[str, typer.Option(help="the org's S3 bucket (it must exist)")],
    endpoint: Annotated[str | None, typer.Option(help="S3-compatible endpoint URL; none: AWS")] = None,
    region: Annotated[str, typer.Option()] = "us-east-1",
    prefix: Annotated[str, typer.Option()] = "benchhub",
    access_key_id: Annotated[str | None, typer.Option(envvar="BENCHHUB_BACKUP_ACCESS_KEY_ID")] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(help="file holding the secret access key (or BENCHHUB_BACKUP_SECRET_ACCESS_KEY)"),
    ] = None,
    keep_last: Annotated[int, typer.Option(min=1)] = 7,
    keep_days: Annotated[int | None, typer.Option(min=1)] = None,
    org: OrgOption = None,
) -> None:
    """Set where the org's backups go; the secret is stored by central and never shown."""
    secret = os.environ.get("BENCHHUB_BACKUP_SECRET_ACCESS_KEY")
    if secret_file is not None:
        try:
            secret = secret_file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"--secret-file {secret_file}: {exc.strerror}") from None
    try:
        body = BackupTargetIn(
            bucket=bucket,
            endpoint_url=endpoint,
            region=region,
            prefix=prefix,
            access_key_id=access_key_id,
            secret_access_key=secret,
            keep_last=keep_last,
            keep_days=keep_days,
        )
    except ValueError as exc:
        raise ConfigError(f"backup settings: {str(exc).splitlines()[1:3]}") from None
    saved = _client(org).set_backup_target(body, org)
    console.print(
        f"backups go to s3://{saved.bucket}/{saved.prefix}"
        f"{' at ' + saved.endpoint_url if saved.endpoint_url else ''}; keep {saved.keep_last}"
    )
