"""bhubctl backup / backups / restore against a real local stack and a real S3 server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from cli.settings import token_file
from cli.stack import Stack
from tests.dashboards import seed
from tests.dashboards.conftest import load
from tests.postgres import postgres_cluster
from tests.s3 import KEY, SECRET, make_bucket, s3_server
from tests.servers import stack_env, stack_settings

# what the test loaded (vmalert's recorded baselines of the same org keep changing; not those)
MATCH = '{__name__=~"benchhub_benchmark_value|benchhub_benchmark_iterations|benchhub_run_info",org="inst"}'


def bhubctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


@pytest.fixture(params=["sqlite", "postgresql"])
def central_database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """central's database for the stack: its default SQLite file, or a real PostgreSQL database."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    with postgres_cluster() as server:
        with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE central")
        monkeypatch.setenv(
            "BENCHHUB_CENTRAL_DATABASE_URL", f"{server}/central"
        )  # the stack's central reads it
        yield server


def lose_central_database(database: str, home: Path) -> None:
    if database == "sqlite":
        for db in home.glob("central.db*"):
            db.unlink()
        return
    with psycopg.connect(database.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE central")
        conn.execute("CREATE DATABASE central")


def test_org_and_instance_backups_from_the_command_line(tmp_path: Path, central_database: str) -> None:
    settings = stack_settings(tmp_path / "home", org="inst")
    stack = Stack(settings)
    with s3_server(tmp_path) as (endpoint, _):
        make_bucket(endpoint, "org-bucket")
        make_bucket(endpoint, "ops-bucket")
        stack.up()
        try:
            vm = f"http://127.0.0.1:{settings.vm_port}"
            central = f"http://127.0.0.1:{settings.central_port}"
            env = {**os.environ, "BENCHHUB_HOME": str(settings.home), "BENCHHUB_CENTRAL_URL": central,
                   "COLUMNS": "200", "BENCHHUB_BACKUP_SECRET_ACCESS_KEY": SECRET,
                   "BENCHHUB_BACKUP_BUCKET": "ops-bucket", "BENCHHUB_BACKUP_ENDPOINT": endpoint,
                   "BENCHHUB_BACKUP_ACCESS_KEY_ID": KEY,
                   **stack_env(settings)}  # fmt: skip
            load(vm, seed.benchmark_lines(seed.runs(int(time.time()), count=4), org="inst"))

            def ours() -> list[str]:
                httpx.get(f"{vm}/internal/force_flush")
                text = httpx.post(f"{vm}/api/v1/export", data={"match[]": MATCH, "start": "0"}).text
                return sorted(text.splitlines())

            series = ours()
            assert len(series) == 4 * 4 * 2 + 4 * 2  # 4 runs x 4 results x (value, iterations) + markers

            configured = bhubctl(env, "backups", "configure", "--bucket", "org-bucket", "--endpoint", endpoint,
                                 "--access-key-id", KEY, "--keep-last", "3")  # fmt: skip
            assert configured.returncode == 0, configured.stderr
            assert SECRET not in configured.stdout + configured.stderr
            made = bhubctl(env, "backup")
            assert made.returncode == 0 and made.stdout.startswith("inst: backup "), made.stderr
            stamp = made.stdout.split()[2].rstrip(":")
            admin = {
                **env,
                "BENCHHUB_ADMIN_TOKEN": (settings.home / "secrets" / "admin-token").read_text().strip(),
            }
            everyone = bhubctl(admin, "backup", "--all-orgs")
            assert everyone.returncode == 0 and everyone.stdout.startswith("inst: backup "), everyone.stderr
            time.sleep(1.1)  # backups are named by the second
            listed = bhubctl(env, "backups", "list")
            assert listed.stdout.splitlines()[0].startswith(stamp) and len(listed.stdout.splitlines()) == 2, (
                listed.stdout
            )

            instance = bhubctl(env, "backup", "--instance")
            assert instance.returncode == 0 and "instance backup" in instance.stdout, instance.stderr
            again = bhubctl(env, "backup", "--instance")  # incremental: vmbackup reuses what is there
            assert again.returncode == 0, again.stderr

            # lose everything: VictoriaMetrics' data and central's database
            stack.down()
            shutil.rmtree(settings.home / "victoria-metrics-data")
            lose_central_database(central_database, settings.home)
            stack.up()
            assert ours() == []
            restored = bhubctl(env, "restore", "--instance")
            assert restored.returncode == 0, restored.stderr + restored.stdout
            assert ours() == series
            token = {"Authorization": f"Bearer {token_file(settings.home).read_text().strip()}"}
            listed_again = httpx.get(f"{central}/api/v1/backups", headers=token)
            assert listed_again.status_code == 200, listed_again.text
            runs = listed_again.json()["data"]
            # central's records (the org's bucket settings) came back with it: its backups are listed again
            assert runs[0]["timestamp"] == stamp and len(runs) == 2

            # and the org restore through the command line, after the org's series are lost again
            httpx.post(
                f"{vm}/api/v1/admin/tsdb/delete_series", data={"match[]": '{org="inst",project="shop"}'}
            )
            assert ours() == []
            org_restore = bhubctl(env, "restore", "--from", stamp)
            assert org_restore.returncode == 0 and f"restored {stamp}" in org_restore.stdout, (
                org_restore.stderr
            )
            assert ours() == series
            bad = bhubctl(env, "restore", "--from", "not-a-stamp")
            assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1
        finally:
            stack.down()
