"""Whole-instance backups for operators: vmbackup of VictoriaMetrics and a copy of central's
database, to an operator bucket (BENCHHUB_BACKUP_*); restore with vmrestore, VictoriaMetrics stopped.

vmbackup always writes to ``<prefix>/victoria-metrics``: with a backup already there it uploads
only what changed (incremental).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from cli.errors import ConfigError, ServiceError, StackError
from cli.stack import Stack, StackSettings, free_local_port, write_secret

MANIFEST_KEY = "instance.json"
DB_KEYS = {"sqlite": "central/central.db", "postgresql": "central/central.pgdump"}


class InstanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCHHUB_BACKUP_", extra="ignore")

    bucket: str = Field(default="", description="the operator's bucket (it must exist)")
    endpoint: str | None = None
    region: str = "us-east-1"
    prefix: str = "benchhub-instance"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None

    def check(self) -> None:
        if not self.bucket:
            raise ConfigError(
                "set BENCHHUB_BACKUP_BUCKET (and _ENDPOINT, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY)"
            )

    def s3(self) -> Any:
        secret = self.secret_access_key.get_secret_value() if self.secret_access_key else None
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=secret,
        )

    def vm_flags(self, creds: Path) -> list[str]:
        flags = [f"-credsFilePath={creds}"]
        if self.endpoint:
            flags.append(f"-customS3Endpoint={self.endpoint}")
        return flags


def _creds_file(settings: InstanceSettings, folder: Path) -> Path:
    """vmbackup's and vmrestore's credentials file (AWS ini), readable by its owner only."""
    path = folder / "credentials"
    secret = settings.secret_access_key.get_secret_value() if settings.secret_access_key else ""
    ini = f"[default]\naws_access_key_id={settings.access_key_id or ''}\naws_secret_access_key={secret}"
    write_secret(path, ini, keep=False)
    return path


def _database(stack: Stack) -> tuple[str, str]:
    """(backend, location): SQLite's file path, or a libpq URL for pg_dump / pg_restore."""
    url = os.environ.get("BENCHHUB_CENTRAL_DATABASE_URL") or f"sqlite:///{stack.home / 'central.db'}"
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite" and parsed.database:
        return backend, parsed.database
    if backend == "postgresql":
        return backend, parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    raise ConfigError(
        f"BENCHHUB_CENTRAL_DATABASE_URL: instance backups handle SQLite and PostgreSQL, not {backend}"
    )


def _dump(backend: str, location: str, into: Path) -> bytes:
    """A consistent copy of central's database while central runs."""
    if backend == "sqlite":
        with sqlite3.connect(location) as source, sqlite3.connect(into) as target:
            source.backup(target)
    else:
        _run(
            ["pg_dump", "--format=custom", "--no-owner", f"--file={into}", f"--dbname={location}"], "pg_dump"
        )
    return into.read_bytes()


def _load(backend: str, location: str, data: bytes, folder: Path) -> None:
    """Put the database back (central is stopped)."""
    if backend == "sqlite":
        db = Path(location)
        for extra in (db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            extra.unlink(missing_ok=True)
        tmp_db = db.with_suffix(".restoring")
        tmp_db.write_bytes(data)
        tmp_db.replace(db)
        return
    dump = folder / "central.pgdump"
    dump.write_bytes(data)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={location}",
            str(dump),
        ],
        "pg_restore",
    )


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ServiceError(f"{what} failed (exit {done.returncode}): {' | '.join(last)}")


def backup(settings: InstanceSettings, progress: Callable[[str], None]) -> str:
    """vmbackup (snapshot via the API, incremental) and central's database; returns the timestamp."""
    settings.check()
    stack = Stack(StackSettings())
    vm = f"http://127.0.0.1:{stack.settings.vm_port}"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    dst = f"s3://{settings.bucket}/{settings.prefix.strip('/')}/victoria-metrics"
    with tempfile.TemporaryDirectory() as tmp:
        creds = _creds_file(settings, Path(tmp))
        progress(f"vmbackup -> {dst}")
        try:
            _run(
                [
                    "vmbackup",
                    f"-storageDataPath={stack.home / 'victoria-metrics-data'}",
                    f"-snapshot.createURL={vm}/snapshot/create",
                    f"-dst={dst}",
                    *settings.vm_flags(creds),
                    f"-httpListenAddr=127.0.0.1:{free_local_port()}",
                ],
                "vmbackup",
            )
        except ServiceError:
            subprocess.run(["curl", "-s", f"{vm}/snapshot/delete_all"], capture_output=True, check=False)
            raise
        backend, location = _database(stack)
        progress(f"central's {backend} database")
        data = _dump(backend, location, Path(tmp) / "central.dump")
        client = settings.s3()
        key = f"{settings.prefix.strip('/')}/{DB_KEYS[backend]}"
        digest = hashlib.sha256(data).hexdigest()
        manifest = {
            "timestamp": stamp,
            "database": {"key": key, "bytes": len(data), "sha256": digest, "backend": backend},
            "victoria_metrics": dst,
        }
        try:
            client.put_object(Bucket=settings.bucket, Key=key, Body=data)
            client.put_object(
                Bucket=settings.bucket,
                Key=f"{settings.prefix.strip('/')}/{MANIFEST_KEY}",
                Body=json.dumps(manifest, indent=2),
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceError(f"S3 failed for s3://{settings.bucket}: {exc}") from None
    return stamp


def restore(settings: InstanceSettings, expected: str | None, progress: Callable[[str], None]) -> str:
    """Stop VictoriaMetrics and central, vmrestore, put the database back, start the stack again."""
    settings.check()
    stack = Stack(StackSettings())
    client = settings.s3()
    prefix = settings.prefix.strip("/")
    try:
        manifest = json.loads(
            client.get_object(Bucket=settings.bucket, Key=f"{prefix}/{MANIFEST_KEY}")["Body"].read()
        )
        data = client.get_object(Bucket=settings.bucket, Key=manifest["database"]["key"])["Body"].read()
    except (ClientError, BotoCoreError) as exc:
        raise ServiceError(f"no instance backup in s3://{settings.bucket}/{prefix}: {exc}") from None
    if expected and manifest["timestamp"] != expected:
        raise ConfigError(
            f"the instance backup in s3://{settings.bucket}/{prefix} is {manifest['timestamp']}, "
            f"not {expected}"
        )
    if hashlib.sha256(data).hexdigest() != manifest["database"]["sha256"]:
        raise ServiceError(f"{manifest['database']['key']} failed its checksum: not restored")
    backend, location = _database(stack)
    if backend != manifest["database"].get("backend", "sqlite"):
        raise ConfigError(f"the backup holds a {manifest['database'].get('backend', 'sqlite')} database; "
                          f"central now uses {backend}")  # fmt: skip
    for name in ("agent", "vmagent", "vmalert", "central", "victoria-metrics"):
        progress(f"stopping {name}")
        stack._stop(name)
    with tempfile.TemporaryDirectory() as tmp:
        creds = _creds_file(settings, Path(tmp))
        progress(f"vmrestore <- {manifest['victoria_metrics']}")
        _run(
            [
                "vmrestore",
                f"-src={manifest['victoria_metrics']}",
                f"-storageDataPath={stack.home / 'victoria-metrics-data'}",
                *settings.vm_flags(creds),
                f"-httpListenAddr=127.0.0.1:{free_local_port()}",
            ],
            "vmrestore",
        )
        progress(f"central's {backend} database")
        _load(backend, location, data, Path(tmp))
    progress("starting the stack")
    try:
        stack.up(progress)
    except StackError as exc:
        raise ServiceError(f"restored, but the stack did not start again: {exc}") from None
    return str(manifest["timestamp"])
