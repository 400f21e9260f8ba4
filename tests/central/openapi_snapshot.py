"""Writes central's OpenAPI document to tests/central/snapshots/openapi.json (make openapi)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from central.app import create_app
from central.settings import CentralSettings

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


def current() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(CentralSettings(database_url=f"sqlite:///{tmp}/openapi.db"))
        document: dict[str, Any] = app.openapi()
        app.state.engine.dispose()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SNAPSHOT.write_text(render(current()))
    print(f"wrote {SNAPSHOT}")
