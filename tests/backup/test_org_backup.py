"""Per-organization backups to a real S3 server (moto_server), restored into a fresh stack."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from central import backup
from central.app import create_app
from central.models import Organization
from central.settings import CentralSettings
from tests.dashboards import seed
from tests.dashboards.conftest import load
from tests.s3 import KEY, SECRET, make_bucket, make_user_and_bucket, s3_server
from tests.servers import serve_app, victoria_metrics

BOOTSTRAP = "backup-tests-bootstrap-token"
RESULT = {
    "benchmark": "BenchmarkX",
    "measure": "time",
    "unit": "ns/op",
    "value": 12.5,
    "samples": [12.0, 13.0],
}


@dataclass
class Stack:
    vm: str
    central: str
    app: Any

    def token(self, org: str) -> dict[str, str]:
        admin = {"Authorization": f"Bearer {BOOTSTRAP}"}
        httpx.post(f"{self.central}/api/v1/admin/orgs", json={"name": org}, headers=admin)
        made = httpx.post(f"{self.central}/api/v1/admin/orgs/{org}/tokens", json={"name": "t", "role": "admin"},
                          headers=admin).json()  # fmt: skip
        return {"Authorization": f"Bearer {made['token']}"}

    def export(self, match: str) -> list[str]:
        httpx.get(f"{self.vm}/internal/force_flush")
        text = httpx.post(f"{self.vm}/api/v1/export", data={"match[]": match, "start": "0"}, timeout=30).text
        return sorted(line for line in text.splitlines() if line)


@contextmanager
def stack(root: Path) -> Iterator[Stack]:
    root.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack_:
        vm = stack_.enter_context(victoria_metrics(root))
        app = create_app(CentralSettings(database_url=f"sqlite:///{root / 'central.db'}", vm_url=vm,
                                         admin_token=BOOTSTRAP))  # fmt: skip
        central = stack_.enter_context(serve_app(app))
        yield Stack(vm, central, app)
        app.state.engine.dispose()


def streamed(response: httpx.Response) -> dict[str, Any]:
    """The last line of a streamed backup/restore: done or error."""
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines, response.text
    last: dict[str, Any] = lines[-1]
    return last


def fill(s: Stack, org: str, headers: dict[str, str], now: int) -> list[str]:
    load(s.vm, seed.benchmark_lines(seed.runs(now, count=5), org=org))
    ids = []
    for commit in ("c1", "c2"):
        run = httpx.post(f"{s.central}/api/v1/runs", headers=headers, json={
            "project": f"{org}-proj", "target": "bench", "commit": commit, "branch": "main", "host": "h", "parser": "go",
        }).json()  # fmt: skip
        httpx.post(
            f"{s.central}/api/v1/runs/{run['id']}/results", headers=headers, json={"results": [RESULT]}
        )
        httpx.post(f"{s.central}/api/v1/runs/{run['id']}/state", headers=headers, json={"state": "finished"})
        ids.append(run["id"])
    deadline = time.monotonic() + 30  # central writes the runs' markers in the background: wait for them
    while len(s.export(f'benchhub_run_info{{run_id=~"{"|".join(ids)}"}}')) < 2 * len(ids):
        assert time.monotonic() < deadline, "run markers did not arrive"
        time.sleep(0.2)
    return ids


def configure(s: Stack, headers: dict[str, str], endpoint: str, bucket: str, **extra: Any) -> None:
    body = {
        "bucket": bucket,
        "endpoint_url": endpoint,
        "access_key_id": KEY,
        "secret_access_key": SECRET,
        **extra,
    }
    response = httpx.put(f"{s.central}/api/v1/backup/target", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert "secret" not in json.dumps({k: v for k, v in response.json().items() if k != "has_secret"})
    assert SECRET not in response.text and response.json()["has_secret"] is True


def run_backup(s: Stack, headers: dict[str, str]) -> dict[str, Any]:
    return streamed(httpx.post(f"{s.central}/api/v1/backups", headers=headers, timeout=120))


def rows(s: Stack, headers: dict[str, str]) -> list[tuple[Any, ...]]:
    runs = httpx.get(f"{s.central}/api/v1/runs", headers=headers).json()["data"]
    out = []
    for run in sorted(runs, key=lambda r: r["id"]):
        results = httpx.get(f"{s.central}/api/v1/runs/{run['id']}/results", headers=headers).json()["data"]
        events = httpx.get(f"{s.central}/api/v1/runs/{run['id']}/events", headers=headers).json()["data"]
        out.append((run["id"], run["project"], run["state"], run["commit"], run["finished_at"],
                    [(r["benchmark"], r["value"], r["samples"]) for r in results],
                    [(e["from_state"], e["to_state"], e["at"]) for e in events]))  # fmt: skip
    return out


def test_backup_holds_one_org_and_restores_exactly_it_twice_over(tmp_path: Path) -> None:
    now = int(time.time())
    with s3_server(tmp_path) as (endpoint, _), stack(tmp_path / "a") as a:
        make_bucket(endpoint, "acme-backups")
        acme, beta = a.token("acme"), a.token("beta")
        acme_runs, beta_runs = fill(a, "acme", acme, now), fill(a, "beta", beta, now)
        configure(a, acme, endpoint, "acme-backups", keep_last=2)
        done = run_backup(a, acme)["done"]
        assert done["org"] == "acme" and done["series"] == len(a.export('{org="acme"}')) > 0
        assert done["rows"]["runs"] == 2 and done["rows"]["results"] == 2 and done["rows"]["projects"] == 1
        # the bucket holds only acme: no beta row, no beta series
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET)  # fmt: skip
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="acme-backups")["Contents"])
        stamp = done["timestamp"]
        assert keys == [f"benchhub/{stamp}/{n}" for n in ("manifest.json", "rows.jsonl", "series.native")]
        rows_text = (
            s3.get_object(Bucket="acme-backups", Key=f"benchhub/{stamp}/rows.jsonl")["Body"].read().decode()
        )
        assert all(r in rows_text for r in acme_runs) and not any(r in rows_text for r in beta_runs)
        assert "beta" not in rows_text
        expected_series, expected_rows = a.export('{org="acme"}'), rows(a, acme)
        names = {json.loads(line)["metric"]["__name__"] for line in expected_series}
        assert {"benchhub_benchmark_value", "benchhub_benchmark_trend", "benchhub_benchmark_change",
                "benchhub_benchmark_trend_daily", "benchhub_benchmark_change_daily",
                "benchhub_branch_run_results"} <= names  # fmt: skip
        listed = httpx.get(f"{a.central}/api/v1/backups", headers=acme).json()
        assert [m["timestamp"] for m in listed["data"]] == [stamp]

        with stack(tmp_path / "b") as b:  # a fresh stack, with an org of its own already
            other = b.token("zeta")
            fill(b, "zeta", other, now)
            acme_b = b.token("acme")
            configure(b, acme_b, endpoint, "acme-backups")
            first = streamed(
                httpx.post(f"{b.central}/api/v1/backups/{stamp}/restore", headers=acme_b, timeout=120)
            )
            assert first["done"]["rows"]["runs"] == 2, first
            assert b.export('{org="acme"}') == expected_series
            assert b.export('{org="beta"}') == []
            assert rows(b, acme_b) == expected_rows
            again = streamed(
                httpx.post(f"{b.central}/api/v1/backups/{stamp}/restore", headers=acme_b, timeout=120)
            )
            assert "done" in again, again
            assert b.export('{org="acme"}') == expected_series  # restoring twice duplicates nothing
            assert rows(b, acme_b) == expected_rows
            assert len(rows(b, other)) == 2  # zeta's own rows are untouched

        # retention: keep_last=2 keeps the two newest complete backups, pruned after a success
        time.sleep(1.1)
        run_backup(a, acme)
        time.sleep(1.1)
        third = run_backup(a, acme)["done"]
        assert third["pruned"] == [stamp]
        assert len(httpx.get(f"{a.central}/api/v1/backups", headers=acme).json()["data"]) == 2


def test_a_corrupted_backup_is_refused_naming_the_object(tmp_path: Path) -> None:
    with s3_server(tmp_path) as (endpoint, _), stack(tmp_path / "a") as a:
        make_bucket(endpoint, "acme-backups")
        acme = a.token("acme")
        fill(a, "acme", acme, int(time.time()))
        configure(a, acme, endpoint, "acme-backups")
        stamp = run_backup(a, acme)["done"]["timestamp"]
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET)  # fmt: skip
        key = f"benchhub/{stamp}/series.native"
        body = s3.get_object(Bucket="acme-backups", Key=key)["Body"].read()
        s3.put_object(Bucket="acme-backups", Key=key, Body=body[:-10] + b"0123456789")
        refused = streamed(
            httpx.post(f"{a.central}/api/v1/backups/{stamp}/restore", headers=acme, timeout=60)
        )
        assert (
            refused["error"] == "backup_corrupt"
            and key in refused["detail"]
            and "checksum" in refused["detail"]
        )
        missing = streamed(httpx.post(f"{a.central}/api/v1/backups/20000101T000000Z/restore", headers=acme))
        assert missing["error"] == "backup_corrupt" and stamp in missing["detail"]


def test_wrong_credentials_and_no_bucket_are_clear_errors(tmp_path: Path) -> None:
    with s3_server(tmp_path) as (endpoint, _), stack(tmp_path / "a") as a:
        acme = a.token("acme")
        configure(a, acme, endpoint, "no-such-bucket")
        failed = run_backup(a, acme)
        assert (
            failed["error"] == "backup_failed"
            and "does not exist" in failed["detail"]
            and "create the bucket" in failed["detail"]
        )
        unreachable = {"bucket": "acme-backups", "endpoint_url": "http://127.0.0.1:1", "access_key_id": KEY}
        httpx.put(f"{a.central}/api/v1/backup/target", json=unreachable, headers=acme).raise_for_status()
        down = run_backup(a, acme)
        assert down["error"] == "backup_failed" and "not reachable" in down["detail"]


def test_s3_stopped_mid_backup_leaves_no_backup_and_the_previous_one_restores(tmp_path: Path) -> None:
    with s3_server(tmp_path) as (endpoint, proc), stack(tmp_path / "a") as a:
        make_bucket(endpoint, "acme-backups")
        acme = a.token("acme")
        fill(a, "acme", acme, int(time.time()))
        with a.app.state.sessions() as session:
            org = session.query(Organization).filter_by(name="acme").one()
            target = backup.Target("acme-backups", "benchhub", endpoint_url=endpoint, access_key_id=KEY,
                                   secret_access_key=SECRET, timeout=2)  # fmt: skip
            previous = backup.backup_org(session, org, target, a.vm)
            time.sleep(1.1)

            def stop_s3_after_the_series(what: str, _done: int) -> None:
                if what == "rows.jsonl" and proc.poll() is None:
                    os.kill(proc.pid, signal.SIGSTOP)  # S3 stops answering half way through

            try:
                with pytest.raises(backup.BackupFailed, match="S3 is not reachable|S3 refused"):
                    backup.backup_org(session, org, target, a.vm, stop_s3_after_the_series)
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            assert [m.timestamp for m in backup.list_backups(target)] == [previous.timestamp]
            series = a.export('{org="acme"}')
            httpx.post(f"{a.vm}/api/v1/admin/tsdb/delete_series", data={"match[]": '{org="acme"}'})
            assert a.export('{org="acme"}') == []
            backup.restore_org(session, org, target, previous, a.vm)
            assert a.export('{org="acme"}') == series


def test_scheduled_backups_and_their_metrics(tmp_path: Path) -> None:
    with s3_server(tmp_path) as (endpoint, _), victoria_metrics(tmp_path) as vm:
        make_bucket(endpoint, "acme-backups")
        settings = CentralSettings(database_url=f"sqlite:///{tmp_path / 'c.db'}", vm_url=vm, admin_token=BOOTSTRAP,
                                   backup_interval_hours=1 / 3600)  # every second  # fmt: skip
        app = create_app(settings)
        with serve_app(app) as central:
            s = Stack(vm, central, app)
            acme = s.token("acme")
            configure(s, acme, endpoint, "acme-backups", keep_last=2)
            broken = s.token("broken")
            configure(s, broken, endpoint, "no-such-bucket")
            deadline = time.monotonic() + 30
            text = ""
            while time.monotonic() < deadline:
                text = httpx.get(f"{central}/metrics", headers={"Authorization": f"Bearer {BOOTSTRAP}"}).text
                if 'benchhub_backup_last_success_timestamp_seconds{org="acme"}' in text and \
                        'benchhub_backup_failures_total{org="broken"} 2.0' in text:  # fmt: skip
                    break
                time.sleep(0.5)
            listed = httpx.get(f"{central}/api/v1/backups", headers=acme).json()["data"]
        app.state.engine.dispose()
    lines = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("benchhub_backup")
    }
    assert time.time() - lines['benchhub_backup_last_success_timestamp_seconds{org="acme"}'] < 30
    assert lines['benchhub_backup_last_bytes{org="acme"}'] > 0
    assert lines['benchhub_backup_failures_total{org="broken"}'] >= 2
    assert 'benchhub_backup_last_success_timestamp_seconds{org="broken"}' not in lines
    assert 1 <= len(listed) <= 2  # retention keeps the newest two


def test_retention_keeps_the_last_n_and_the_last_d_days(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from central.schemas import BackupManifest

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    with s3_server(tmp_path) as (endpoint, _):
        make_bucket(endpoint, "retention")
        target = backup.Target(
            "retention", "p", endpoint_url=endpoint, access_key_id=KEY, secret_access_key=SECRET
        )
        s3 = target.client()
        ages = [40, 20, 9, 5, 1]  # days old
        for age in ages:
            at = now - timedelta(days=age)
            key = f"p/{backup.stamp(at)}/series.native"
            s3.put_object(Bucket="retention", Key=key, Body=b"x")
            manifest = BackupManifest(format=1, org="o", timestamp=backup.stamp(at), created_at=at, series=0, rows={},
                                      objects=[{"key": key, "bytes": 1, "sha256": "0" * 64}],
                                      benchhub_version="t", victoriametrics_version="t")  # fmt: skip
            s3.put_object(
                Bucket="retention", Key=f"p/{backup.stamp(at)}/manifest.json", Body=manifest.model_dump_json()
            )
        s3.put_object(
            Bucket="retention", Key="p/20200101T000000Z/series.native", Body=b"incomplete: no manifest"
        )
        pruned = backup.prune(target, keep_last=2, keep_days=10, now=now)
        left = [m.timestamp for m in backup.list_backups(target)]
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="retention")["Contents"]]
    assert pruned == [backup.stamp(now - timedelta(days=d)) for d in (40, 20)]
    assert left == [
        backup.stamp(now - timedelta(days=d)) for d in (9, 5, 1)
    ]  # within 10 days, or among the last 2
    assert not any(backup.stamp(now - timedelta(days=d)) in k for k in keys for d in (40, 20))
    assert "p/20200101T000000Z/series.native" in keys  # not a complete backup: not ours to judge


def test_wrong_credentials_fail_clearly_and_leave_earlier_backups(tmp_path: Path) -> None:
    with s3_server(tmp_path, auth=True) as (endpoint, _), stack(tmp_path / "a") as a:
        key_id, secret = make_user_and_bucket(endpoint, "acme-backups")
        acme = a.token("acme")
        fill(a, "acme", acme, int(time.time()))
        good = {
            "bucket": "acme-backups",
            "endpoint_url": endpoint,
            "access_key_id": key_id,
            "secret_access_key": secret,
        }
        httpx.put(f"{a.central}/api/v1/backup/target", json=good, headers=acme).raise_for_status()
        made = run_backup(a, acme)
        assert "done" in made, made
        first = made["done"]["timestamp"]
        for wrong in ({"secret_access_key": "not-the-secret"}, {"access_key_id": "AKIANOSUCHKEY"}):
            httpx.put(
                f"{a.central}/api/v1/backup/target", json={**good, **wrong}, headers=acme
            ).raise_for_status()
            failed = run_backup(a, acme)
            assert failed["error"] == "backup_failed", failed
            assert (
                "S3 refused (403)" in failed["detail"]
                and "check the access key, the secret" in failed["detail"]
            )
            assert "not-the-secret" not in failed["detail"] and secret not in failed["detail"]
        # the earlier backup is untouched (checked by key: moto's signature check rejects a '/' in a
        # listing's prefix, so this server cannot list it)
        target = backup.Target("acme-backups", "benchhub", endpoint_url=endpoint, access_key_id=key_id,
                               secret_access_key=secret)  # fmt: skip
        backup.verify(target, backup.find(target, first))


def test_backups_configure_hands_central_the_real_secret_and_backups_pass_a_signature_check(
    tmp_path: Path,
) -> None:
    # 'bhubctl backups configure' sent the secret as '**********' (SecretStr's JSON): every
    # backup to an S3 that checks signatures failed. This S3 checks them (moto with IAM).
    import subprocess
    import sys

    with s3_server(tmp_path, auth=True) as (endpoint, _), stack(tmp_path / "a") as a:
        key_id, secret = make_user_and_bucket(endpoint, "acme-backups")
        acme = a.token("acme")
        fill(a, "acme", acme, int(time.time()))
        env = {**os.environ, "BENCHHUB_HOME": str(tmp_path / "home"), "BENCHHUB_CENTRAL_URL": a.central,
               "BENCHHUB_TOKEN": acme["Authorization"].removeprefix("Bearer "),
               "BENCHHUB_BACKUP_SECRET_ACCESS_KEY": secret}  # fmt: skip
        configured = subprocess.run(
            [sys.executable, "-m", "cli.main", "backups", "configure", "--bucket", "acme-backups",
             "--endpoint", endpoint, "--access-key-id", key_id],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert configured.returncode == 0, configured.stderr
        assert secret not in configured.stdout + configured.stderr
        made = run_backup(a, acme)
        assert "done" in made, made


def _put_with_checksum(s3: Any, bucket: str, stamp: str, name: str, body: bytes) -> None:
    """Replace one object of a backup and rewrite the manifest's checksum for it (a crafted backup)."""
    import hashlib

    base = f"benchhub/{stamp}"
    s3.put_object(Bucket=bucket, Key=f"{base}/{name}", Body=body)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{base}/manifest.json")["Body"].read())
    for obj in manifest["objects"]:
        if obj["key"].endswith(name):
            obj["bytes"], obj["sha256"] = len(body), hashlib.sha256(body).hexdigest()
    s3.put_object(Bucket=bucket, Key=f"{base}/manifest.json", Body=json.dumps(manifest).encode())


def test_a_crafted_backup_restores_only_into_the_restoring_org(tmp_path: Path) -> None:
    # An org admin rewrites its own backup (series labelled with another org, rows naming the other
    # org's finished run) and fixes the checksums: the restore must not reach the other org.
    now = int(time.time())
    with s3_server(tmp_path) as (endpoint, _), stack(tmp_path / "a") as a:
        make_bucket(endpoint, "evil-backups")
        evil, victim = a.token("evil"), a.token("victim")
        fill(a, "evil", evil, now)
        (victim_run, _) = fill(a, "victim", victim, now)
        victim_rows, victim_series = rows(a, victim), a.export('{org="victim"}')
        configure(a, evil, endpoint, "evil-backups")
        stamp = run_backup(a, evil)["done"]["timestamp"]
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET)  # fmt: skip
        # series: a native export of a series labelled org="victim" (made here, then removed again)
        forged = f'benchhub_benchmark_value{{org="victim",run_id="forged",benchmark="X"}} 1 {now * 1000}\n'
        httpx.post(f"{a.vm}/api/v1/import/prometheus", content=forged).raise_for_status()
        httpx.get(f"{a.vm}/internal/force_flush")
        native = httpx.post(
            f"{a.vm}/api/v1/export/native", data={"match[]": '{run_id="forged"}', "start": "0"}
        )
        assert native.content
        httpx.post(f"{a.vm}/api/v1/admin/tsdb/delete_series", data={"match[]": '{run_id="forged"}'})
        _put_with_checksum(s3, "evil-backups", stamp, "series.native", native.content)
        # rows: a result for the victim's finished run, and a run row taking the victim's run id
        key = f"benchhub/{stamp}/rows.jsonl"
        text = s3.get_object(Bucket="evil-backups", Key=key)["Body"].read().decode()
        evil_project = next(json.loads(ln)["row"]["id"] for ln in text.splitlines()
                            if '"table": "projects"' in ln or '"table":"projects"' in ln)  # fmt: skip
        injected = [
            {"table": "runs", "row": {"id": victim_run, "project_id": evil_project, "target": "t",
                                      "commit": "c", "branch": "main", "dirty": False, "host": "h",
                                      "parser": "go", "labels": {}, "state": "finished",
                                      "created_at": "2026-01-01T00:00:00+00:00"}},
            {"table": "results", "row": {"id": 1, "run_id": victim_run, "key": "Injected\x1ftime\x1f",
                                         "benchmark": "Injected", "measure": "time", "unit": "ns/op",
                                         "value": 1.0, "labels": {}, "context": {}}},
        ]  # fmt: skip
        crafted = text + "".join(json.dumps(item) + "\n" for item in injected)
        _put_with_checksum(s3, "evil-backups", stamp, "rows.jsonl", crafted.encode())

        done = streamed(httpx.post(f"{a.central}/api/v1/backups/{stamp}/restore", headers=evil, timeout=120))
        assert "done" in done, done
        assert done["done"]["rows"]["skipped"] == 2
        assert rows(a, victim) == victim_rows  # no result injected into the victim's run
        assert a.export('{org="victim"}') == victim_series  # no series landed as the victim's
        restored = a.export('{run_id="forged"}')
        assert restored and all('"org":"evil"' in line for line in restored)
