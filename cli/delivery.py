"""A run's end reaches central whatever happens: results in batches under central's limits,
then the final state; when central cannot take them, both wait on disk for ``runs sync``.

The spool of a run is its folder under ``$BENCHHUB_HOME/runs/<run id>/``: ``results.jsonl``
(one result a line) and ``pending.json`` (the final state, written last: a folder without it
holds nothing to deliver). Delivery is idempotent: central keeps one result per key, and a
final state it already has is not an error, so a sync interrupted halfway is simply repeated.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec

from central.wire import MAX_RESULTS_PER_BATCH
from cli.client import CentralClient
from cli.errors import BenchHubError, ServiceError
from cli.wire import Result, Run, RunTransition

# central refuses a body over BENCHHUB_CENTRAL_MAX_BODY_BYTES (8 MiB by default) and a batch of
# more than MAX_RESULTS_PER_BATCH results: stay well under both
BATCH_BYTES = 4 << 20
BATCH_RESULTS = min(5_000, MAX_RESULTS_PER_BATCH)
RESULTS, PENDING = "results.jsonl", "pending.json"


class Pending(msgspec.Struct, kw_only=True):
    """What is still to tell central about one run."""

    run_id: str
    central_url: str
    transition: RunTransition


def encoded_batches(lines: Iterable[bytes]) -> Iterator[bytes]:
    """ResultsIn bodies of already-encoded results, each under BATCH_BYTES and BATCH_RESULTS."""
    batch: list[bytes] = []
    size = 0
    for line in lines:
        if batch and (size + len(line) + 1 > BATCH_BYTES or len(batch) >= BATCH_RESULTS):
            yield b'{"results":[' + b",".join(batch) + b"]}"
            batch, size = [], 0
        batch.append(line)
        size += len(line) + 1
    if batch:
        yield b'{"results":[' + b",".join(batch) + b"]}"


def _encoded(results: Iterable[Result]) -> Iterator[bytes]:
    encode = msgspec.json.Encoder().encode
    return (encode(r) for r in results)


def _spooled(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from (line.rstrip(b"\n") for line in fh if line.strip())


def _send(central: CentralClient, run_id: str, bodies: Iterable[bytes], transition: RunTransition) -> Run:
    try:
        for body in bodies:
            central.upload_encoded(run_id, body)
        return central.transition(run_id, transition)
    except ServiceError as exc:
        # The run is over already: the final state goes last, so an earlier delivery got through
        # whole (a sync repeated after an interruption), or someone else closed the run.
        if exc.status == 409:
            return central.run_now(run_id)
        raise


@dataclass
class Delivered:
    run: Run | None  # None: kept on disk, not delivered
    warning: str | None = None


def deliver(
    central: CentralClient, run_dir: Path, run_id: str, results: list[Result], transition: RunTransition
) -> Delivered:
    """Upload the results and close the run; when central cannot take them now, keep them on disk.

    A refusal for what the request says (4xx) is raised: keeping it would not make it pass.
    """
    try:
        return Delivered(_send(central, run_id, encoded_batches(_encoded(results)), transition))
    except ServiceError as exc:
        if not exc.retryable:
            raise
        reason = str(exc)
    try:
        spool(run_dir, Pending(run_id=run_id, central_url=central.base_url, transition=transition), results)
    except OSError as exc:
        raise BenchHubError(
            f"{reason}; and the run's {len(results)} results could not be kept in {run_dir} "
            f"({exc.strerror}): they are lost, and central will fail the run as abandoned"
        ) from None
    kept = f"the run's {len(results)} results and its final state are kept in {run_dir}"
    return Delivered(
        None, f"{reason}; {kept}: 'bhubctl runs sync' delivers them (so does the next 'bhubctl run')"
    )


def spool(run_dir: Path, pending: Pending, results: Iterable[Result]) -> None:
    """Write the results, then pending.json (atomically, last), each synced to disk."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / RESULTS).open("wb") as fh:
        for line in _encoded(results):
            fh.write(line + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    tmp = run_dir / (PENDING + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(msgspec.json.encode(pending))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, run_dir / PENDING)


def pending_runs(runs_dir: Path) -> list[Path]:
    """Run folders holding something to deliver, oldest first."""
    if not runs_dir.is_dir():
        return []
    found = [p.parent for p in runs_dir.glob(f"*/{PENDING}")]
    return sorted(found, key=lambda p: (p / PENDING).stat().st_mtime)


def sync_one(central: CentralClient, run_dir: Path) -> Run:
    """Deliver one spooled run; its spool is removed once central has everything."""
    try:
        pending = msgspec.json.decode((run_dir / PENDING).read_bytes(), type=Pending)
    except msgspec.DecodeError as exc:
        raise BenchHubError(
            f"{run_dir / PENDING} is not a pending run bhubctl can read ({exc}): move it away"
        ) from None
    if pending.central_url.rstrip("/") != central.base_url:
        raise BenchHubError(
            f"run {pending.run_id} belongs to central at {pending.central_url}, not {central.base_url}: "
            "set BENCHHUB_CENTRAL_URL to it and sync again"
        )
    results = run_dir / RESULTS
    bodies = encoded_batches(_spooled(results)) if results.exists() else iter(())
    run = _send(central, pending.run_id, bodies, pending.transition)
    (run_dir / PENDING).unlink()
    results.unlink(missing_ok=True)
    return run
