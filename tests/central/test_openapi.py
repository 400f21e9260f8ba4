"""The API contract: central's OpenAPI document is pinned; a change must be deliberate."""

from tests.central.openapi_snapshot import SNAPSHOT, current, render


def test_openapi_document_matches_the_snapshot() -> None:
    assert render(current()) == SNAPSHOT.read_text(), (
        "central's API changed: review the difference, then regenerate with 'make openapi'"
    )
