from datetime import UTC, datetime
from pathlib import Path

from central.schemas import ResultIn
from exporter.schemas import RunResults
from exporter.store import ResultStore


def run(run_id: str, value: float = 1.0) -> RunResults:
    return RunResults(
        run_id=run_id, org="o", project="p", target="t", commit="c", branch="main",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        results=[ResultIn(benchmark="B", measure="time", unit="ns/op", value=value)],
    )  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_restart_keeps_runs_inside_the_window(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "results.jsonl"
    store = ResultStore(path, retention_seconds=60, clock=clock)
    store.add(run("a"))
    clock.now += 30
    store.add(run("b"))
    reopened = ResultStore(path, retention_seconds=60, clock=clock)
    assert [r.run_id for r in reopened.current()] == ["a", "b"]
    clock.now += 45  # a is 75 s old, b 45 s
    assert [r.run_id for r in reopened.current()] == ["b"]
    assert [r.run_id for r in ResultStore(path, 60, clock).current()] == ["b"]


def test_same_run_twice_is_kept_once(tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "r.jsonl", retention_seconds=60, clock=Clock())
    store.add(run("a", 1.0))
    store.add(run("a", 2.0))
    assert [r.results[0].value for r in store.current()] == [2.0]
    assert [r.results[0].value for r in ResultStore(tmp_path / "r.jsonl", 60, Clock()).current()] == [2.0]


def test_torn_last_line_is_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    store = ResultStore(path, retention_seconds=60, clock=Clock())
    store.add(run("a"))
    with path.open("a") as fh:
        fh.write('{"received_at": "2026-')
    assert [r.run_id for r in ResultStore(path, 60, Clock()).current()] == ["a"]
