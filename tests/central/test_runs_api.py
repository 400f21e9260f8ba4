import asyncio
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.settings import CentralSettings
from tests.central.conftest import ADMIN, org_token
from tests.servers import serve_app

RUN = {"org": "acme", "project": "widgets", "target": "strings", "commit": "abc123",
       "branch": "main", "host": "bench-1", "parser": "go"}  # fmt: skip
RESULT = {"benchmark": "BenchmarkX", "measure": "time", "unit": "ns/op", "value": 12.5}


def create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/runs", json={**RUN, **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_create_get_and_list(client: TestClient) -> None:
    run = create(client)
    assert run["state"] == "running" and run["started_at"] and run["finished_at"] is None
    assert client.get(f"/api/v1/runs/{run['id']}").json() == run
    create(client, branch="dev", commit="def456")
    listed = client.get("/api/v1/runs", params={"branch": "main"}).json()
    assert [r["id"] for r in listed["data"]] == [run["id"]] and listed["count"] == 1
    assert client.get("/api/v1/runs", params={"commit": "def"}).json()["count"] == 1
    assert client.get("/api/v1/runs", params={"project": "widgets"}).json()["count"] == 2


def test_lifecycle_results_and_events(client: TestClient) -> None:
    run = create(client)
    url = f"/api/v1/runs/{run['id']}"
    second = {**RESULT, "benchmark": "BenchmarkY", "samples": [1.0, 2.0], "labels": {"procs": "2"}}
    assert client.post(f"{url}/results", json={"results": [RESULT, second]}).json() == {
        "received": 2,
        "stored": 2,
    }
    assert client.post(f"{url}/results", json={"results": [RESULT]}).json() == {
        "received": 1,
        "stored": 0,
    }
    results = client.get(f"{url}/results").json()
    assert results["count"] == 2
    assert results["data"][1]["samples"] == [1.0, 2.0] and results["data"][1]["labels"] == {"procs": "2"}
    done = client.post(f"{url}/state", json={"state": "finished", "exit_code": 0, "raw_output": "out"}).json()
    assert done["state"] == "finished" and done["exit_code"] == 0 and done["finished_at"]
    events = client.get(f"{url}/events").json()["data"]
    assert [(e["from_state"], e["to_state"]) for e in events] == [
        (None, "running"),
        ("running", "finished"),
    ]


@pytest.mark.parametrize(
    ("first", "second"), [("finished", "running"), ("failed", "finished"), ("cancelled", "failed")]
)
def test_illegal_transition_is_409_naming_allowed(client: TestClient, first: str, second: str) -> None:
    run = create(client)
    client.post(f"/api/v1/runs/{run['id']}/state", json={"state": first})
    response = client.post(f"/api/v1/runs/{run['id']}/state", json={"state": second})
    assert response.status_code == 409
    assert response.json() == {
        "error": "conflict",
        "detail": f"run {run['id']} is {first}; it can move to: none (the run is over)",
    }


def test_queued_run_names_its_allowed_moves(client: TestClient) -> None:
    run = create(client, state="queued")
    response = client.post(f"/api/v1/runs/{run['id']}/state", json={"state": "finished"})
    assert response.json()["detail"].endswith("it can move to: cancelled, running")


def test_results_refused_after_the_run_is_over(client: TestClient) -> None:
    run = create(client)
    client.post(f"/api/v1/runs/{run['id']}/state", json={"state": "failed"})
    response = client.post(f"/api/v1/runs/{run['id']}/results", json={"results": [RESULT]})
    assert response.status_code == 409


def test_unknown_run_is_404_json(client: TestClient) -> None:
    response = client.get("/api/v1/runs/nope")
    assert response.status_code == 404 and response.json() == {
        "error": "not_found",
        "detail": "no run 'nope'",
    }


def test_422_names_the_field(client: TestClient) -> None:
    response = client.post("/api/v1/runs", json={**RUN, "commit": "bad commit!"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body.commit:")
    bad = client.post(
        f"/api/v1/runs/{create(client)['id']}/results", json={"results": [{**RESULT, "value": "x"}]}
    )
    assert bad.json()["detail"].startswith("body.results.0.value:")


def test_payload_limit(client: TestClient) -> None:
    response = client.post(
        "/api/v1/runs",
        content=b"x" * (9 * 1024 * 1024),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["error"] == "payload_too_large"


def test_health_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    create(client)
    assert client.get("/metrics").status_code == 401  # its labels name every org: bootstrap only
    text = client.get("/metrics", headers=ADMIN).text
    assert 'benchhub_central_requests_total{method="POST",route="/api/v1/runs",status="201"} 1.0' in text
    assert "_created" not in text


def test_failed_result_keeps_its_error_and_context_without_a_value(client: TestClient) -> None:
    url = f"/api/v1/runs/{create(client)['id']}"
    failed = {"benchmark": "BenchmarkFails", "measure": "time", "unit": "ns/op", "error": "backend down",
              "context": {"pkg": "example.com/x"}}  # fmt: skip
    assert client.post(f"{url}/results", json={"results": [failed]}).json()["stored"] == 1
    (stored,) = client.get(f"{url}/results").json()["data"]
    assert (stored["value"], stored["error"], stored["context"]) == (
        None,
        "backend down",
        {"pkg": "example.com/x"},
    )
    neither = {"benchmark": "b", "measure": "time", "unit": "s"}
    response = client.post(f"{url}/results", json={"results": [neither]})
    assert response.status_code == 422 and "either a value or an error" in response.json()["detail"]
    nan = client.post(f"{url}/results", content=b'{"results": [{"benchmark": "b", "measure": "m", "unit": "s", "value": NaN}]}',
                      headers={"content-type": "application/json"})  # fmt: skip
    assert nan.status_code == 422


def test_a_value_past_a_float_s_range_in_base_units_is_refused_and_the_batch_not_stored(
    client: TestClient,
) -> None:
    url = f"/api/v1/runs/{create(client)['id']}"
    kept = {"benchmark": "b", "measure": "time", "unit": "ns/op", "value": 12.5}
    assert client.post(f"{url}/results", json={"results": [kept]}).json()["stored"] == 1
    huge = {"benchmark": "Copy", "measure": "throughput", "unit": "GB/s", "value": 1e300}  # 1e309 B/s: +Inf
    response = client.post(f"{url}/results", json={"results": [{**kept, "value": 13.0}, huge]})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "results.1: 1e+300 GB/s (Copy) is past a float's range in bytes_per_second" in detail, detail
    assert [r["value"] for r in client.get(f"{url}/results").json()["data"]] == [12.5]  # nothing replaced
    big = {"benchmark": "Slow", "measure": "time", "unit": "ms", "value": 1e300}  # 1e297 s: finite
    assert client.post(f"{url}/results", json={"results": [big]}).json()["stored"] == 1


def test_reexport_needs_a_run_that_is_over_and_a_victoriametrics(client: TestClient) -> None:
    run = create(client)
    response = client.post(f"/api/v1/runs/{run['id']}/reexport")
    assert response.status_code == 503 and "BENCHHUB_CENTRAL_VM_URL" in response.json()["detail"]
    client.app.state.settings.vm_url = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    busy = client.post(f"/api/v1/runs/{run['id']}/reexport")
    assert busy.status_code == 409 and "only a run that is over" in busy.json()["detail"]
    client.post(f"/api/v1/runs/{run['id']}/state", json={"state": "finished"})
    down = client.post(f"/api/v1/runs/{run['id']}/reexport")
    assert down.status_code == 502 and "did not take the samples" in down.json()["detail"]
    assert client.post("/api/v1/runs/nope/reexport").status_code == 404


def test_cursor_pagination_walks_every_run_once_newest_first(client: TestClient) -> None:
    made = [create(client, commit=f"c{i}")["id"] for i in range(7)]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/runs", params=params).json()
        seen += [r["id"] for r in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == list(reversed(made))
    filtered = client.get("/api/v1/runs", params={"commit": "c3"}).json()
    assert [r["id"] for r in filtered["data"]] == [made[3]] and filtered["next_cursor"] is None
    bad = client.get("/api/v1/runs", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("cursor:")


def test_big_counts_are_stored_and_too_big_ones_are_422(client: TestClient) -> None:
    url = f"/api/v1/runs/{create(client)['id']}/results"
    big = {
        **RESULT,
        "iterations": 10_000_000_000,
        "sample_count": 3_000_000_000,
    }  # -count 10 of 1e9 iterations
    assert client.post(url, json={"results": [big]}).json()["stored"] == 1
    assert client.get(url).json()["data"][0]["iterations"] == 10_000_000_000
    huge = client.post(url, json={"results": [{**RESULT, "benchmark": "B2", "iterations": 2**70}]})
    assert huge.status_code == 422 and huge.json()["detail"].startswith("body.results.0.iterations:")


def test_concurrent_first_runs_of_a_new_project_all_succeed(settings: CentralSettings) -> None:
    # Real concurrency needs a real server: requests racing to create the same project.
    app = create_app(settings)
    with serve_app(app) as url:
        with httpx.Client(base_url=url) as setup:
            token = org_token(setup, "raceorg", role="writer")

        async def burst() -> list[int]:
            async with httpx.AsyncClient(base_url=url, timeout=30, headers=token) as client:
                body = {**RUN, "org": None, "project": "raceproj"}
                responses = await asyncio.gather(*(client.post("/api/v1/runs", json=body) for _ in range(12)))
            return [r.status_code for r in responses]

        assert asyncio.run(burst()) == [201] * 12
        runs = httpx.get(f"{url}/api/v1/runs", params={"project": "raceproj"}, headers=token).json()
    assert runs["count"] == 12
    app.state.engine.dispose()


def test_runs_nobody_closes_fail_as_abandoned_and_still_take_late_results(client: TestClient) -> None:
    # before: a runner that died (killed, central away at its end) left its run 'running' forever
    from datetime import timedelta

    from central import repository

    timed = create(client, timeout_seconds=60)
    untimed = create(client, commit="def456")
    fresh = create(client, commit="fff000", timeout_seconds=3600)
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    created = repository.utcnow()

    def sweep(after: float) -> list[str]:
        with sessions() as session:
            return [
                r.id
                for r in repository.abandon_overdue(session, created + timedelta(seconds=after), 600, 300)
            ]

    assert sweep(60 + 300 - 5) == []  # inside timeout + grace: left alone
    assert sweep(60 + 300 + 5) == [timed["id"]]
    assert sweep(60 + 300 + 10) == []  # once only, whoever sweeps again
    assert set(sweep(600 + 300 + 5)) == {untimed["id"]}  # no timeout given: the default one
    failed = client.get(f"/api/v1/runs/{timed['id']}").json()
    assert (failed["state"], failed["reason"]) == ("failed", "abandoned") and "abandoned" in failed["message"]
    assert client.get(f"/api/v1/runs/{fresh['id']}").json()["state"] == "running"
    # the runner comes back: its results and final state are still taken, once
    url = f"/api/v1/runs/{timed['id']}"
    assert client.post(f"{url}/results", json={"results": [RESULT]}).json()["stored"] == 1
    done = client.post(f"{url}/state", json={"state": "finished", "exit_code": 0}).json()
    assert (done["state"], done["reason"]) == ("finished", None)
    assert client.post(f"{url}/results", json={"results": [RESULT]}).status_code == 409
    assert client.post(f"{url}/state", json={"state": "failed"}).status_code == 409
    events = client.get(f"{url}/events").json()["data"]
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        (None, "running", "token:test"), ("running", "failed", "central"), ("failed", "finished", "token:test"),
    ]  # fmt: skip


def test_a_run_timeout_is_bounded(client: TestClient) -> None:
    too_long = client.post("/api/v1/runs", json={**RUN, "timeout_seconds": 1e10})
    assert too_long.status_code == 422 and too_long.json()["detail"].startswith("body.timeout_seconds:")


def test_one_identity_twice_keeps_the_first_within_a_batch_as_across_batches(client: TestClient) -> None:
    # before: the last of a batch won in central while VictoriaMetrics (fed by the agent) kept the
    # first; now VictoriaMetrics is written from central's rows, and central keeps the first
    run = create(client)
    url = f"/api/v1/runs/{run['id']}/results"
    twice = [RESULT, {**RESULT, "value": 99.0}]
    assert client.post(url, json={"results": twice}).json() == {"received": 2, "stored": 1}
    assert client.post(url, json={"results": [{**RESULT, "value": 7.0}]}).json()["stored"] == 0
    assert [r["value"] for r in client.get(url).json()["data"]] == [12.5]


def test_a_run_holds_a_bounded_number_of_results(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from central import repository

    monkeypatch.setattr(repository, "MAX_RESULTS_PER_RUN", 3)
    url = f"/api/v1/runs/{create(client)['id']}/results"
    two = [{**RESULT, "benchmark": f"B{i}"} for i in range(2)]
    assert client.post(url, json={"results": two}).json()["stored"] == 2
    refused = client.post(url, json={"results": [{**RESULT, "benchmark": f"C{i}"} for i in range(2)]})
    assert refused.status_code == 409 and "at most 3" in refused.json()["detail"]
    assert client.get(url).json()["count"] == 2


def test_central_sweeps_abandoned_runs_by_itself(settings: CentralSettings) -> None:
    import time

    quick = settings.model_copy(update={"abandon_grace_seconds": 0, "abandon_sweep_seconds": 0.1})
    with TestClient(create_app(quick)) as client:  # the lifespan starts the sweeper
        client.headers.update(org_token(client, "acme", role="writer"))
        run = create(client, timeout_seconds=0.01)
        deadline = time.monotonic() + 10
        while (state := client.get(f"/api/v1/runs/{run['id']}").json())["state"] == "running":
            assert time.monotonic() < deadline, "the sweeper never failed the run"
            time.sleep(0.05)
        assert (state["state"], state["reason"]) == ("failed", "abandoned")


def test_central_closes_its_database_connections_when_it_stops(settings: CentralSettings) -> None:
    # left open, they were closed by the garbage collector during some later test (a psycopg
    # ResourceWarning that failed CI)
    app = create_app(settings.model_copy(update={"abandon_sweep_seconds": 0.05}))
    with TestClient(app) as client:
        client.headers.update(org_token(client, "acme", role="writer"))
        assert client.get("/api/v1/runs").status_code == 200
        assert app.state.engine.pool.checkedin() >= 1
    assert app.state.engine.pool.checkedin() == 0


def test_the_runners_count_and_checksum_of_the_output_are_checked_at_the_end(client: TestClient) -> None:
    import hashlib

    def end(run_id: str, raw: str, chars: int, sha: str) -> Any:
        body = {"state": "finished", "raw_output": raw, "output_chars": chars, "output_sha256": sha}
        return client.post(f"/api/v1/runs/{run_id}/state", json=body)

    text = "BenchmarkX 12.5 ns/op ✓\n"
    sha256 = hashlib.sha256(text.encode()).hexdigest()
    run = create(client)["id"]
    damaged = end(run, text.replace("12.5", "13.5"), len(text), sha256)
    assert damaged.status_code == 400 and "damaged on its way" in damaged.json()["detail"]
    longer = end(run, text + "more", len(text), sha256)
    assert longer.status_code == 400 and "output_chars says the whole output has" in longer.json()["detail"]
    assert client.get(f"/api/v1/runs/{run}").json()["state"] == "running", "nothing stored from those"
    assert end(run, text, len(text), sha256).status_code == 200
    shown = client.get(f"/api/v1/runs/{run}").json()
    assert (shown["output_chars"], shown["output_sha256"]) == (len(text), sha256)
    # a tail of a longer output: kept with the runner's count (the whole is on the runner's disk)
    tail = create(client)["id"]
    assert end(tail, text, 5_000_000, "0" * 64).status_code == 200
    response = client.get(f"/api/v1/runs/{tail}/output")
    assert response.text == text and response.headers["x-output-length"] == "5000000"
