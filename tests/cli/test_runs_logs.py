"""What `bhubctl runs logs` says about the output central gave (no server needed)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from central.schemas import RunPublic
from cli.commands.runs import output_note

TEXT = "BenchmarkX 12.5 ns/op\n"


def _run(**extra: object) -> RunPublic:
    return RunPublic.model_validate({
        "id": "1" * 36, "org": "acme", "project": "shop", "target": "t", "commit": "c" * 40, "branch": "main",
        "dirty": False, "host": "bench-1", "parser": "go", "labels": {}, "state": "finished", "exit_code": 0,
        "message": None, "raw_output_ref": "/home/ci/.benchhub/runs/1/output.log",
        "created_at": datetime.now(UTC), "started_at": None, "finished_at": None, **extra,
    })  # fmt: skip


def test_a_whole_output_matching_its_checksum_needs_no_word() -> None:
    assert output_note(_run(), TEXT) is None  # an older runner sent no count
    assert output_note(_run(output_chars=len(TEXT), output_sha256=hashlib.sha256(TEXT.encode()).hexdigest()),
                       TEXT) is None  # fmt: skip


def test_a_tail_says_where_the_whole_is_and_a_changed_output_is_flagged() -> None:
    assert output_note(_run(output_chars=3_000_000), TEXT) == (
        "the last 22 of 3,000,000 characters; all of it is in /home/ci/.benchhub/runs/1/output.log on bench-1"
    )
    changed = output_note(_run(output_chars=len(TEXT), output_sha256="0" * 64), TEXT)
    assert changed is not None and changed.startswith("warning: this output does not match")
