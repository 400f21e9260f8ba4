"""Every central test runs twice: on SQLite (the default) and on a real PostgreSQL."""

import secrets
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.settings import CentralSettings
from tests.postgres import postgres_cluster

_databases = count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'central.db'}"
    server: str = request.getfixturevalue("postgres_server")
    name = f"bhub_test_{next(_databases)}"
    with psycopg.connect(server.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


ADMIN_TOKEN = secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def org_token(client: httpx.Client, org: str, role: str = "admin", name: str = "test") -> dict[str, str]:
    """Headers with a new token of ``org`` (created if new), minted by the bootstrap token."""
    created = client.post("/api/v1/admin/orgs", json={"name": org}, headers=ADMIN)
    assert created.status_code in (201, 409), created.text
    response = client.post(
        f"/api/v1/admin/orgs/{org}/tokens", json={"name": name, "role": role}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def settings(database_url: str) -> CentralSettings:
    return CentralSettings(database_url=database_url, admin_token=ADMIN_TOKEN)


@pytest.fixture
def client(settings: CentralSettings) -> Iterator[TestClient]:
    """A client holding an admin token of org 'acme'."""
    app = create_app(settings)
    with TestClient(app) as test_client:
        test_client.headers.update(org_token(test_client, "acme"))
        yield test_client
    app.state.engine.dispose()
