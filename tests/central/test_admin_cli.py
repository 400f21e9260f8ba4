"""bhub-central admin: organizations and tokens straight in the database, for the operator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from central.app import create_app
from central.auth import TokenCache
from central.settings import CentralSettings


def admin(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENCHHUB_CENTRAL_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "central.main", "admin", *args], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_operator_creates_an_org_and_a_token_that_central_accepts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    assert admin(url, "create-org", "acme").returncode == 0
    twice = admin(url, "create-org", "acme")
    assert twice.returncode == 1 and twice.stderr.strip() == "error: organization 'acme' exists already"
    minted = admin(url, "create-token", "--org", "acme", "--name", "ops", "--role", "writer")
    assert minted.returncode == 0 and "shown only now" in minted.stderr
    token = minted.stdout.strip()
    listed = admin(url, "list-tokens", "--org", "acme").stdout
    assert "ops\twriter" in listed and token not in listed
    app = create_app(CentralSettings(database_url=url))
    app.state.tokens = TokenCache(ttl=0)  # revoked by another process: seen once the cache entry expires
    with TestClient(app) as client:
        me = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
        assert me.json() == {"org": "acme", "role": "writer", "actor": "token:ops"}
        assert admin(url, "revoke-token", "--org", "acme", "1").returncode == 0
        assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    app.state.engine.dispose()
    unknown = admin(url, "create-token", "--org", "nope", "--name", "x")
    assert unknown.returncode == 1 and "no organization 'nope'" in unknown.stderr


def test_a_weak_bootstrap_token_is_refused() -> None:
    for weak in ("changeme", "short"):
        proc = subprocess.run([sys.executable, "-m", "central.main", "migrate"], capture_output=True, text=True,
                              env={**os.environ, "BENCHHUB_CENTRAL_ADMIN_TOKEN": weak,
                                   "BENCHHUB_CENTRAL_DATABASE_URL": "sqlite:///:memory:"}, timeout=60)  # fmt: skip
        assert proc.returncode != 0 and proc.stderr.startswith("error: BENCHHUB_CENTRAL_ADMIN_TOKEN: ")
        assert len(proc.stderr.strip().splitlines()) == 1
