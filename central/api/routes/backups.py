"""Backups of an organization to its own S3 bucket: settings, run (streamed progress), list, restore.

An org admin token acts on its org; the bootstrap token on the org named by ``?org=``.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from central import auth, backup
from central.api.deps import AnyTokenDep, SessionDep
from central.auth import Principal
from central.errors import BadRequest, DomainError, Forbidden, NotConfigured, NotFound
from central.models import BackupTarget, Organization, utcnow
from central.schemas import BackupsPublic, BackupTargetIn, BackupTargetPublic, Role

router = APIRouter(prefix="/api/v1", tags=["backups"])
OrgQuery = Annotated[
    str | None, Query(max_length=200, description="with the bootstrap token: the org to act on")
]
STAMP = Path(pattern=r"^\d{8}T\d{6}Z$", description="a backup's UTC timestamp, as listed")


def org_of(session: Session, who: Principal, org: str | None) -> tuple[int, str]:
    if who.bootstrap:
        if org is None:
            raise BadRequest("org: the bootstrap token acts on the org given as ?org=NAME")
        found = auth.org_by_name(session, org)
        return found.id, found.name
    if not who.may(Role.admin):
        raise Forbidden(f"backups need an admin token of the org; yours is a {who.role.value} token")
    if org is not None and org != who.org:
        raise NotFound(f"no organization {org!r}")
    assert who.org_id is not None and who.org is not None
    return who.org_id, who.org


def target_public(row: BackupTarget) -> BackupTargetPublic:
    return BackupTargetPublic(
        bucket=row.bucket, endpoint_url=row.endpoint_url, region=row.region, prefix=row.prefix,
        access_key_id=row.access_key_id, has_secret=row.secret_access_key is not None,
        keep_last=row.keep_last,
        keep_days=row.keep_days, last_success_at=row.last_success_at,
        last_duration_seconds=row.last_duration_seconds, last_bytes=row.last_bytes,
    )  # fmt: skip


def _target(session: Session, org_id: int, org: str) -> BackupTarget:
    row = session.get(BackupTarget, org_id)
    if row is None:
        raise NotFound(f"organization {org!r} has no backup bucket: set one with 'bhubctl backups configure'")
    return row


@router.put("/backup/target")
def set_target(
    body: BackupTargetIn, session: SessionDep, who: AnyTokenDep, org: OrgQuery = None
) -> BackupTargetPublic:
    """Where the org's backups go; a secret left out keeps the stored one."""
    org_id, _ = org_of(session, who, org)
    row = session.get(BackupTarget, org_id) or BackupTarget(org_id=org_id)
    session.add(row)
    row.bucket, row.endpoint_url, row.region, row.prefix = (
        body.bucket,
        body.endpoint_url,
        body.region,
        body.prefix.strip("/"),
    )
    row.access_key_id, row.keep_last, row.keep_days, row.updated_at = (
        body.access_key_id,
        body.keep_last,
        body.keep_days,
        utcnow(),
    )
    if body.secret_access_key is not None:
        row.secret_access_key = body.secret_access_key.get_secret_value()
    session.commit()
    return target_public(row)


@router.get("/backup/target")
def get_target(session: SessionDep, who: AnyTokenDep, org: OrgQuery = None) -> BackupTargetPublic:
    org_id, name = org_of(session, who, org)
    return target_public(_target(session, org_id, name))


@router.get("/backups")
def list_backups(session: SessionDep, who: AnyTokenDep, org: OrgQuery = None) -> BackupsPublic:
    """The org's complete backups (with a manifest), oldest first."""
    org_id, name = org_of(session, who, org)
    found = backup.list_backups(backup.Target.of(_target(session, org_id, name)))
    return BackupsPublic(data=found, count=len(found))


def _streamed(work: Callable[[backup.Progress], dict[str, Any]]) -> Iterator[bytes]:
    """Run ``work`` in a thread; yield its progress (at most 4 a second), then its result or error,
    as JSON lines."""
    events: queue.Queue[dict[str, Any]] = queue.Queue()
    last = [0.0]

    def progress(what: str, done: int) -> None:
        if time.monotonic() - last[0] >= 0.25:
            last[0] = time.monotonic()
            events.put({"progress": what, "bytes": done})

    def run() -> None:
        try:
            events.put({"done": work(progress)})
        except DomainError as exc:
            events.put({"error": exc.code, "detail": exc.detail})
        except Exception as exc:  # a crash still ends the stream with one line saying so
            events.put({"error": "internal", "detail": f"{type(exc).__name__}: see central's log"})
            raise

    threading.Thread(target=run, name="backup", daemon=True).start()
    while True:
        event = events.get()
        yield (json.dumps(event, default=str) + "\n").encode()
        if "done" in event or "error" in event:
            return


def _vm(request: Request) -> str:
    vm_url: str | None = request.app.state.settings.vm_url
    if not vm_url:
        raise NotConfigured("central has no BENCHHUB_CENTRAL_VM_URL: backups need VictoriaMetrics")
    return vm_url


STREAMED: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON lines: progress events, then done (the result) or error"}
}


@router.post("/backups", response_class=StreamingResponse, responses=STREAMED)
def run_backup(
    request: Request, session: SessionDep, who: AnyTokenDep, org: OrgQuery = None
) -> StreamingResponse:
    """Back the org up now (series and rows; the manifest last), then apply retention."""
    org_id, name = org_of(session, who, org)
    row, vm_url, sessions = _target(session, org_id, name), _vm(request), request.app.state.sessions
    target, keep_last, keep_days = backup.Target.of(row), row.keep_last, row.keep_days

    def work(progress: backup.Progress) -> dict[str, Any]:
        with sessions() as own:
            org_row = own.get(Organization, org_id)
            assert org_row is not None
            run = backup.run_backup(own, org_row, target, keep_last, keep_days, vm_url, progress)
        done = {
            **run.manifest.model_dump(mode="json"),
            "seconds": round(run.seconds, 3),
            "pruned": run.pruned,
        }
        if run.prune_error is not None:  # the backup is complete whatever retention did
            done["prune_error"] = run.prune_error
        return done

    return StreamingResponse(_streamed(work), media_type="application/x-ndjson")


@router.post("/backups/{timestamp}/restore", response_class=StreamingResponse, responses=STREAMED)
def restore(
    request: Request,
    session: SessionDep,
    who: AnyTokenDep,
    timestamp: Annotated[str, STAMP],
    org: OrgQuery = None,
) -> StreamingResponse:
    """Restore one backup into this stack (checksums first; restoring twice adds nothing)."""
    org_id, name = org_of(session, who, org)
    row, vm_url, sessions = _target(session, org_id, name), _vm(request), request.app.state.sessions
    target = backup.Target.of(row)

    def work(progress: backup.Progress) -> dict[str, Any]:
        manifest = backup.find(target, timestamp)
        if manifest.org != name:
            raise BadRequest(f"backup {timestamp} is of organization {manifest.org!r}, not {name!r}")
        with sessions() as own:
            org_row = own.get(Organization, org_id)
            assert org_row is not None
            rows = backup.restore_org(own, org_row, target, manifest, vm_url, progress)
        return {"timestamp": timestamp, "series": manifest.series, "rows": rows}

    return StreamingResponse(_streamed(work), media_type="application/x-ndjson")
