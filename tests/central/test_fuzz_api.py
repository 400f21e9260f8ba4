"""schemathesis fuzzes every operation of central's OpenAPI document: no request gets a 5xx.

The schema is loaded at import (before fixtures exist) from an app on SQLite; the ``backend``
fixture points that app at SQLite or at the real PostgreSQL of the session, and gives the
token every call carries (an org admin token; the bootstrap token for /admin routes).
"""

from __future__ import annotations

import atexit
import secrets
import shutil
import tempfile
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from central import db
from central.app import create_app
from central.settings import CentralSettings
from tests.servers import seed_token

_DB_DIR = tempfile.mkdtemp(prefix="bhub-fuzz-")
atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)
_BOOTSTRAP = secrets.token_urlsafe(24)
APP = create_app(CentralSettings(database_url=f"sqlite:///{_DB_DIR}/central.db", admin_token=_BOOTSTRAP))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The org token for the database the app now uses."""
    if request.param == "sqlite":
        url = f"sqlite:///{_DB_DIR}/central.db"
    else:
        server: str = request.getfixturevalue("postgres_server")
        url = f"{server}/postgres"
    token = seed_token(url, "fuzz")
    saved = APP.state.engine, APP.state.sessions
    APP.state.engine = db.make_engine(url)
    APP.state.sessions = db.session_factory(APP.state.engine)
    yield token
    APP.state.engine.dispose()
    APP.state.engine, APP.state.sessions = saved


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_central_fail(case: schemathesis.Case, backend: str) -> None:
    token = _BOOTSTRAP if case.path.startswith("/api/v1/admin/") else backend
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
