"""schemathesis fuzzes every operation of central's OpenAPI document: no request gets a 5xx.

On SQLite (the schema is loaded at import, before fixtures exist); the PostgreSQL-only
limits it found (64-bit counts) are pinned by tests that run on both databases.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile

import schemathesis
from hypothesis import HealthCheck, settings

from central.app import create_app
from central.settings import CentralSettings

_DB_DIR = tempfile.mkdtemp(prefix="bhub-fuzz-")
atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)
APP = create_app(CentralSettings(database_url=f"sqlite:///{_DB_DIR}/central.db"))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_makes_central_fail(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
