"""Every central test runs twice: on SQLite (the default) and on a real PostgreSQL."""

from collections.abc import Iterator
from itertools import count
from pathlib import Path

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


@pytest.fixture
def settings(database_url: str) -> CentralSettings:
    return CentralSettings(database_url=database_url)


@pytest.fixture
def client(settings: CentralSettings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()
