from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.settings import CentralSettings


@pytest.fixture
def settings(tmp_path: Path) -> CentralSettings:
    return CentralSettings(database_url=f"sqlite:///{tmp_path / 'central.db'}")


@pytest.fixture
def client(settings: CentralSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
