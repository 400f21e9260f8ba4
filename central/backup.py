"""Per-organization backups to the organization's own S3 bucket, and their restore.

A backup is ``<prefix>/<UTC timestamp>/`` holding:
- ``series.native``: the org's series (``match[]={org="<org>"}``), VictoriaMetrics' native export;
- ``rows.jsonl``: the org's rows in central (projects, runs, results, nodes, events, alerts), one
  JSON object per line after a header line naming the format version;
- ``manifest.json``: sizes, SHA-256, series and row counts, versions. Written last: a backup
  without a manifest is incomplete, never listed and never restored.

Everything is streamed (S3 multipart upload of 8 MiB parts, at most two in flight), so memory
stays flat whatever the size. Retention prunes old backups only after a backup succeeded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import boto3
import httpx
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.errors import DomainError
from central.models import (
    Alert,
    BackupTarget,
    Event,
    Node,
    Organization,
    Project,
    Result,
    Run,
    UTCDateTime,
    utcnow,
)  # fmt: skip
from central.schemas import BackupManifest, BackupObject

log = logging.getLogger("central.backup")

FORMAT = 1
SERIES, ROWS, MANIFEST = "series.native", "rows.jsonl", "manifest.json"
CHUNK = 1 << 20
TRANSFER = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=2)
Progress = Callable[[str, int], None]  # (what, bytes so far)


class BackupFailed(DomainError):
    status_code = 502
    code = "backup_failed"


class BackupCorrupt(DomainError):
    status_code = 422
    code = "backup_corrupt"


@dataclass(frozen=True)
class Target:
    """An S3 location: an org's bucket, or the operator's for instance backups."""

    bucket: str
    prefix: str
    region: str = "us-east-1"
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    timeout: float = 60.0  # seconds without an answer before S3 counts as unreachable

    @classmethod
    def of(cls, row: BackupTarget) -> Target:
        return cls(row.bucket, row.prefix.strip("/"), row.region, row.endpoint_url, row.access_key_id,
                   row.secret_access_key)  # fmt: skip

    def client(self) -> Any:
        config = Config(connect_timeout=min(5.0, self.timeout), read_timeout=self.timeout,
                        retries={"max_attempts": 3, "mode": "standard"})  # fmt: skip
        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region, config=config,
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
        )  # fmt: skip

    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")


def _s3_error(target: Target, exc: Exception) -> BackupFailed:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "error")
        hint = {
            "NoSuchBucket": "the bucket does not exist: create the bucket first",
            "404": "the bucket does not exist: create the bucket first",
            "403": "access denied: check the access key, the secret and the bucket policy",
            "InvalidAccessKeyId": "check the access key id",
            "SignatureDoesNotMatch": "check the secret access key",
            "AccessDenied": "the credentials may not write there",
        }.get(code, "check the org's backup settings")
        return BackupFailed(f"S3 refused ({code}) for {target.where()}: {hint}")
    return BackupFailed(
        f"S3 is not reachable for {target.where()} ({type(exc).__name__}): check the endpoint"
    )


class _HashingStream:
    """A file-like view of byte chunks that hashes and counts what is read (for upload_fileobj)."""

    def __init__(self, chunks: Iterable[bytes], what: str, progress: Progress) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._what, self._progress = what, progress
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        self.sha256.update(out)
        self.size += len(out)
        self._progress(self._what, self.size)
        return out


def _upload(
    client: Any, target: Target, key: str, chunks: Iterable[bytes], progress: Progress
) -> BackupObject:
    stream = _HashingStream(chunks, key.rsplit("/", 1)[-1], progress)
    client.upload_fileobj(stream, target.bucket, key, Config=TRANSFER)
    return BackupObject(key=key, bytes=stream.size, sha256=stream.sha256.hexdigest())


# -- what goes in -------------------------------------------------------------------------------

ROW_TABLES: list[tuple[str, Any]] = [
    ("projects", Project), ("runs", Run), ("results", Result),
    ("nodes", Node), ("events", Event), ("alerts", Alert),
]  # fmt: skip


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _org_rows(session: Session, org_id: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every row of the org, table by table, streamed (results in batches)."""
    queries = {
        "projects": select(Project).where(Project.org_id == org_id),
        "runs": select(Run).join(Project).where(Project.org_id == org_id),
        "results": select(Result).join(Run).join(Project).where(Project.org_id == org_id),
        "nodes": select(Node).where(Node.org_id == org_id),
        "events": select(Event).where(Event.org_id == org_id),
        "alerts": select(Alert).where(Alert.org_id == org_id),
    }
    for table, model in ROW_TABLES:
        for row in session.scalars(queries[table].order_by(*model.__table__.primary_key.columns)
                                   .execution_options(yield_per=1000)):  # fmt: skip
            values = {
                c.name: _plain(getattr(row, c.key))
                for c in model.__mapper__.column_attrs
                for c in [c.columns[0]]
            }
            values.pop("org_id", None)  # restored into the org it is restored to
            yield table, values
        session.expunge_all()


def _rows_lines(session: Session, org: Organization, counts: dict[str, int]) -> Iterator[bytes]:
    yield (json.dumps({"benchhub_backup": FORMAT, "org": org.name}) + "\n").encode()
    batch: list[str] = []
    for table, values in _org_rows(session, org.id):
        counts[table] = counts.get(table, 0) + 1
        batch.append(json.dumps({"table": table, "row": values}, separators=(",", ":")))
        if len(batch) >= 1000:
            yield ("\n".join(batch) + "\n").encode()
            batch = []
    if batch:
        yield ("\n".join(batch) + "\n").encode()


def _series_chunks(vm_url: str, org: str) -> Iterator[bytes]:
    with (
        httpx.Client(timeout=httpx.Timeout(60, read=600)) as http,
        http.stream(
            "POST", f"{vm_url}/api/v1/export/native", data={"match[]": f'{{org="{org}"}}', "start": "0"}
        ) as response,
    ):
        if response.status_code != 200:
            raise BackupFailed(
                f"VictoriaMetrics refused the export ({response.status_code}): {response.read()[:200]!r}"
            )
        yield from response.iter_bytes(CHUNK)


def _series_count(vm_url: str, org: str) -> int:
    query = f'count(last_over_time({{org="{org}"}}[3650d]))'
    result = httpx.get(f"{vm_url}/api/v1/query", params={"query": query}, timeout=120).json()["data"][
        "result"
    ]
    return int(float(result[0]["value"][1])) if result else 0


def vm_version(vm_url: str) -> str:
    """VictoriaMetrics' version (the Debian build reports none: its package version then)."""
    try:
        for line in httpx.get(f"{vm_url}/metrics", timeout=10).text.splitlines():
            if line.startswith("vm_app_version{") and 'short_version="' in line:
                return line.split('short_version="', 1)[1].split('"', 1)[0]
    except httpx.HTTPError:
        pass
    if shutil.which("dpkg-query"):
        found = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"], capture_output=True,
                               text=True, check=False).stdout.strip()  # fmt: skip
        if found:
            return found
    return "unknown"


def benchhub_version() -> str:
    try:
        return version("benchhub")
    except PackageNotFoundError:
        return "unknown"


# -- backup -------------------------------------------------------------------------------------


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _exists(client: Any, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return False
        raise
    return True


def backup_org(session: Session, org: Organization, target: Target, vm_url: str,
               progress: Progress = lambda _w, _n: None) -> BackupManifest:  # fmt: skip
    """Back the org up to ``target``; the manifest goes last, retention is applied after."""
    client = target.client()
    counts: dict[str, int] = {}
    try:
        client.head_bucket(Bucket=target.bucket)
        now = utcnow()
        while _exists(client, target.bucket, f"{target.prefix}/{stamp(now)}/{SERIES}"):
            time.sleep(0.2)  # a backup of this second exists already: backups are named by the second
            now = utcnow()
        base = f"{target.prefix}/{stamp(now)}"
        series = _series_count(vm_url, org.name)
        objects = [
            _upload(client, target, f"{base}/{SERIES}", _series_chunks(vm_url, org.name), progress),
            _upload(client, target, f"{base}/{ROWS}", _rows_lines(session, org, counts), progress),
        ]
        manifest = BackupManifest(
            format=FORMAT, org=org.name, timestamp=stamp(now), created_at=now, objects=objects, series=series,
            rows={table: counts.get(table, 0) for table, _ in ROW_TABLES},
            benchhub_version=benchhub_version(), victoriametrics_version=vm_version(vm_url),
        )  # fmt: skip
        client.put_object(
            Bucket=target.bucket, Key=f"{base}/{MANIFEST}", Body=manifest.model_dump_json(indent=2)
        )
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(target, exc) from None
    except httpx.HTTPError as exc:
        raise BackupFailed(f"VictoriaMetrics at {vm_url} failed during the backup: {exc}") from None
    return manifest


def list_backups(target: Target) -> list[BackupManifest]:
    """Complete backups (those with a manifest), oldest first."""
    client = target.client()
    found = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=target.bucket, Prefix=f"{target.prefix}/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                if item["Key"].endswith(f"/{MANIFEST}"):
                    body = client.get_object(Bucket=target.bucket, Key=item["Key"])["Body"].read()
                    found.append(BackupManifest.model_validate_json(body))
    except (ClientError, BotoCoreError) as exc:
        raise _s3_error(target, exc) from None
    return sorted(found, key=lambda m: m.timestamp)


def prune(target: Target, keep_last: int, keep_days: int | None, now: datetime) -> list[str]:
    """Delete complete backups beyond the newest ``keep_last`` and (if set) older than ``keep_days``."""
    backups = list_backups(target)
    keep = {m.timestamp for m in backups[-keep_last:]}
    if keep_days is not None:
        keep |= {m.timestamp for m in backups if m.created_at >= now - timedelta(days=keep_days)}
    doomed = [m for m in backups if m.timestamp not in keep]
    client = target.client()
    for m in doomed:  # manifest first: a half-deleted backup is incomplete, never half-restored
        client.delete_object(Bucket=target.bucket, Key=f"{target.prefix}/{m.timestamp}/{MANIFEST}")
        for obj in m.objects:
            client.delete_object(Bucket=target.bucket, Key=obj.key)
    return [m.timestamp for m in doomed]


# -- restore ------------------------------------------------------------------------------------


def _object_chunks(client: Any, target: Target, key: str) -> Iterator[bytes]:
    body = client.get_object(Bucket=target.bucket, Key=key)["Body"]
    yield from body.iter_chunks(CHUNK)


def verify(target: Target, manifest: BackupManifest, progress: Progress = lambda _w, _n: None) -> None:
    """Read every object once: a size or checksum that differs refuses the whole restore."""
    client = target.client()
    for obj in manifest.objects:
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in _object_chunks(client, target, obj.key):
                digest.update(chunk)
                size += len(chunk)
                progress(f"verify {obj.key.rsplit('/', 1)[-1]}", size)
        except ClientError as exc:
            raise BackupCorrupt(
                f"backup {manifest.timestamp}: {obj.key} cannot be read ({exc}); it is incomplete"
            ) from None
        if size != obj.bytes or digest.hexdigest() != obj.sha256:
            raise BackupCorrupt(
                f"backup {manifest.timestamp}: {obj.key} failed its checksum (sha256 "
                f"{digest.hexdigest()[:12]}…, {size} bytes; the manifest says {obj.sha256[:12]}…, "
                f"{obj.bytes} bytes): not restored"
            )


def find(target: Target, timestamp: str) -> BackupManifest:
    client = target.client()
    key = f"{target.prefix}/{timestamp}/{MANIFEST}"
    try:
        body = client.get_object(Bucket=target.bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            known = ", ".join(m.timestamp for m in list_backups(target)) or "none"
            raise BackupCorrupt(
                f"no complete backup {timestamp} in {target.where()}; complete backups: {known}"
            ) from None
        raise _s3_error(target, exc) from None
    return BackupManifest.model_validate_json(body)


def _insert_new(session: Session, model: Any, values: dict[str, Any], unique: list[str]) -> None:
    """Insert the row unless one with the same natural key exists: restoring twice changes nothing."""
    table = model.__table__
    clean = {}
    for column in table.columns:
        if column.name in values:
            value = values[column.name]
            is_time = isinstance(column.type, UTCDateTime) and value is not None
            clean[column.name] = datetime.fromisoformat(value) if is_time else value
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table).values(clean)
    session.execute(insert.on_conflict_do_nothing(index_elements=unique))


@dataclass
class _Restoring:
    """What a restore learned so far: the org's project ids by the backup's ids, its run ids."""

    org_id: int
    projects: dict[int, int] = field(default_factory=dict)
    runs: set[str] = field(default_factory=set)
    skipped: int = 0  # rows naming runs or projects that are not this org's (a crafted backup)


def _restore_row(session: Session, state: _Restoring, table: str, row: dict[str, Any]) -> bool:
    """One row into the org, by natural keys: ids made by another database never collide.

    Nothing reaches another org: projects and runs are made in this org, a run id that another
    org holds is not touched, and results go only into runs of this org. False: row skipped.
    """
    org_id, projects = state.org_id, state.projects
    if table == "projects":
        old = row.pop("id")
        found = session.scalar(
            select(Project.id).where(Project.org_id == org_id, Project.name == row["name"])
        )
        if found is None:
            _insert_new(session, Project, {**row, "org_id": org_id}, ["org_id", "name"])
            found = session.scalar(
                select(Project.id).where(Project.org_id == org_id, Project.name == row["name"])
            )
        projects[old] = int(found)  # type: ignore[arg-type]
    elif table == "runs":
        if row.get("project_id") not in projects:
            return False
        _insert_new(session, Run, {**row, "project_id": projects[row["project_id"]]}, ["id"])
        owner = session.scalar(select(Project.org_id).join(Run, Run.project_id == Project.id)
                               .where(Run.id == row["id"]))  # fmt: skip
        if owner != org_id:
            return False  # the id is another org's run: left alone
        state.runs.add(row["id"])
    elif table == "results":
        if row.get("run_id") not in state.runs:
            return False
        row.pop("id")
        _insert_new(session, Result, row, ["run_id", "key"])
    elif table == "nodes":
        _insert_new(session, Node, {**row, "org_id": org_id}, ["id"])
    elif table == "alerts":
        row.pop("id")
        _insert_new(session, Alert, {**row, "org_id": org_id}, ["org_id", "fingerprint"])
    elif table == "events":
        row.pop("id")
        at = datetime.fromisoformat(row["at"])
        same = select(Event.id).where(
            Event.org_id == org_id, Event.subject == row["subject"], Event.subject_id == row["subject_id"],
            Event.to_state == row["to_state"], Event.at == at,
        )  # fmt: skip
        if session.scalar(same) is None:
            session.add(Event(**{**row, "at": at, "org_id": org_id}))
    else:
        raise BackupCorrupt(f"rows: unknown table {table!r}")
    return True


def restore_org(session: Session, org: Organization, target: Target, manifest: BackupManifest, vm_url: str,
                progress: Progress = lambda _w, _n: None) -> dict[str, int]:  # fmt: skip
    """Verify, then import the series into VictoriaMetrics and the rows into central (idempotent)."""
    verify(target, manifest, progress)
    client = target.client()
    by_name = {obj.key.rsplit("/", 1)[-1]: obj for obj in manifest.objects}
    try:
        with httpx.Client(timeout=httpx.Timeout(60, write=600, read=600)) as http:
            # extra_label overrides the org label of every imported series: a backup's series land
            # in the restoring org whatever their labels say
            response = http.post(f"{vm_url}/api/v1/import/native", params={"extra_label": f"org={org.name}"},
                                 content=_object_chunks(client, target, by_name[SERIES].key))  # fmt: skip
            if response.status_code >= 300:
                raise BackupFailed(
                    f"VictoriaMetrics refused the series ({response.status_code}): {response.text[:200]}"
                )
            http.get(f"{vm_url}/internal/force_flush")
    except httpx.HTTPError as exc:
        raise BackupFailed(f"VictoriaMetrics at {vm_url} failed during the restore: {exc}") from None
    restored: dict[str, int] = {}
    state = _Restoring(org.id)
    lines = _lines(_object_chunks(client, target, by_name[ROWS].key))
    header = json.loads(next(lines))
    if header.get("benchhub_backup") != FORMAT:
        raise BackupCorrupt(
            f"backup {manifest.timestamp}: rows are format {header.get('benchhub_backup')}, expected {FORMAT}"
        )
    for line in lines:
        item = json.loads(line)
        if _restore_row(session, state, item["table"], item["row"]):
            restored[item["table"]] = restored.get(item["table"], 0) + 1
        else:
            state.skipped += 1
    session.commit()
    if state.skipped:
        log.warning("backup %s for org %s: %d rows name runs or projects not of this org; skipped",
                    manifest.timestamp, org.name, state.skipped)  # fmt: skip
        restored["skipped"] = state.skipped
    return restored


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line for line in complete if line)
    if pending:
        yield pending


def record_success(session: Session, org_id: int, manifest: BackupManifest, seconds: float) -> None:
    row = session.get(BackupTarget, org_id)
    if row is not None:
        row.last_success_at = manifest.created_at
        row.last_duration_seconds = seconds
        row.last_bytes = sum(o.bytes for o in manifest.objects)
        session.commit()


@dataclass(frozen=True)
class BackupRun:
    manifest: BackupManifest
    seconds: float
    pruned: list[str]
    prune_error: str | None  # retention failed after the backup completed


def run_backup(session: Session, org: Organization, target: Target, keep_last: int, keep_days: int | None,
               vm_url: str, progress: Progress = lambda _w, _n: None) -> BackupRun:  # fmt: skip
    """Back up, record the success, then apply retention: what the API and the schedule both do.
    A failed backup raises; a failed prune after a complete backup is reported, not raised."""
    start = time.monotonic()
    manifest = backup_org(session, org, target, vm_url, progress)
    seconds = time.monotonic() - start
    record_success(session, org.id, manifest, seconds)
    try:
        return BackupRun(manifest, seconds, prune(target, keep_last, keep_days, utcnow()), None)
    except DomainError as exc:
        return BackupRun(manifest, seconds, [], exc.detail)
