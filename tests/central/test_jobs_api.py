"""Remote jobs in central: submit, the per-org cap, atomic claims, job tokens, cancel (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import update

from central import job_repository
from central.app import create_app
from central.auth import Principal
from central.job_schemas import JobClaim
from central.models import Job
from central.settings import CentralSettings
from tests.central.conftest import org_token
from tests.central.test_nodes_api import Clock, agent
from tests.central.test_nodes_api import body as node_body
from tests.servers import serve_app


def job(target: str = "strings", **extra: Any) -> dict[str, Any]:
    run = {"project": "shop", "target": target, "commit": "c" * 40, "branch": "main", "host": "laptop",
           "parser": "go", "state": "running", "timeout_seconds": 600}  # fmt: skip
    return {"run": run, "repository_url": "https://git.example.org/shop.git",
            "definition": {"command": "go test -bench .", "framework": "go"}} | extra  # fmt: skip


def node(client: TestClient, node_id: str = "n1", org: str = "acme") -> dict[str, str]:
    headers = agent(client, org)
    registered = client.put(
        f"/api/v1/nodes/{node_id}", json=node_body(org=org, hostname=node_id), headers=headers
    )
    assert registered.status_code == 200, registered.text
    return headers


def claim(client: TestClient, headers: dict[str, str], node_id: str = "n1", **extra: Any) -> Any:
    return client.post("/api/v1/jobs/claim", json={"node_id": node_id, **extra}, headers=headers)


def test_a_submitted_job_is_queued_and_claimed_once_with_a_token_for_its_run(client: TestClient) -> None:
    submitted = client.post("/api/v1/jobs", json=job())
    assert submitted.status_code == 201, submitted.text
    run = submitted.json()
    assert run["state"] == "queued" and run["host"] == "-"
    headers = node(client)
    got = claim(client, headers)
    assert got.status_code == 200, got.text
    taken = got.json()
    assert taken["run"]["id"] == run["id"] and taken["run"]["host"] == "n1" and taken["attempt"] == 1
    assert taken["definition"]["command"] == "go test -bench ." and taken["token"].startswith("bhub_")
    assert claim(client, headers).status_code == 204, "claimed once: nothing left"
    # the job token acts on its run: start it, upload, finish; read its state
    mine = {"Authorization": f"Bearer {taken['token']}"}
    started = client.post(f"/api/v1/runs/{run['id']}/state", json={"state": "running"}, headers=mine)
    assert started.status_code == 200, started.text
    result = {"benchmark": "BenchmarkX", "measure": "time", "unit": "ns", "value": 12.5}
    assert (
        client.post(f"/api/v1/runs/{run['id']}/results", json={"results": [result]}, headers=mine).status_code
        == 200
    )
    assert client.get(f"/api/v1/jobs/{run['id']}", headers=mine).json() == {
        "state": "running",
        "cancel_requested": False,
    }
    done = client.post(f"/api/v1/runs/{run['id']}/state", json={"state": "finished"}, headers=mine)
    assert done.json()["state"] == "finished"
    events = client.get(f"/api/v1/runs/{run['id']}/events").json()["data"]
    assert [(e["from_state"], e["to_state"]) for e in events] == [
        (None, "queued"), ("queued", "claimed"), ("queued", "running"), ("running", "finished")
    ]  # fmt: skip
    assert events[1]["actor"] == "node:n1" and events[2]["actor"] == "job:n1#1"


def test_a_job_token_does_nothing_else(client: TestClient) -> None:
    other = client.post("/api/v1/runs", json=job()["run"]).json()["id"]
    run_id = client.post("/api/v1/jobs", json=job()).json()["id"]
    token = claim(client, node(client)).json()["token"]
    mine = {"Authorization": f"Bearer {token}"}
    for method, path, payload in (
        ("POST", "/api/v1/runs", job()["run"]),  # create runs
        ("POST", "/api/v1/jobs", job()),  # submit jobs
        ("POST", "/api/v1/jobs/claim", {"node_id": "n1"}),  # claim jobs
        ("GET", f"/api/v1/runs/{other}", None),  # read another run
        ("POST", f"/api/v1/runs/{other}/state", {"state": "failed"}),  # close another run
        ("GET", "/api/v1/runs", None),  # list the org's runs
    ):
        answer = client.request(method, path, json=payload, headers=mine)
        assert answer.status_code == 403, (path, answer.text)
        assert (
            "job token acts on its own run only" in answer.json()["detail"]
            or "agent" in answer.json()["detail"]
        )
    assert client.get(f"/api/v1/runs/{run_id}", headers=mine).status_code == 200


def test_the_queue_is_capped_per_org_with_a_one_line_429(client: TestClient) -> None:
    client.app.state.settings.max_queued_jobs = 2  # type: ignore[attr-defined]
    assert [client.post("/api/v1/jobs", json=job()).status_code for _ in range(2)] == [201, 201]
    refused = client.post("/api/v1/jobs", json=job())
    assert refused.status_code == 429
    assert refused.json()["detail"] == (
        "your org has 2 queued jobs, the most it may have: wait for some to start or cancel them"
    )
    other = org_token(client, "globex")
    assert client.post("/api/v1/jobs", json=job(), headers=other).status_code == 201, "another org's queue"


def test_requirements_and_exclusive_jobs_pick_their_nodes(client: TestClient) -> None:
    gpu = client.post("/api/v1/jobs", json=job(requirements={"gpu": "a100"})).json()["id"]
    shared = client.post("/api/v1/jobs", json=job(exclusive=False)).json()["id"]
    headers = node(client)
    # a busy node without the label: only the non-exclusive job fits
    assert claim(client, headers, exclusive_ok=False).json()["run"]["id"] == shared
    assert claim(client, headers, labels={"gpu": "h100"}).status_code == 204
    assert claim(client, headers, labels={"gpu": "a100"}).json()["run"]["id"] == gpu


def test_racing_agents_claim_each_job_exactly_once(client: TestClient) -> None:
    ids = {client.post("/api/v1/jobs", json=job(exclusive=False)).json()["id"] for _ in range(50)}
    for n in range(8):
        node(client, f"n{n}")
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    principal = _agent_principal(client)
    taken: list[str] = []
    lock = threading.Lock()

    def agent_loop(n: int) -> None:
        while True:
            with sessions() as session:
                got = job_repository.claim(session, JobClaim(node_id=f"n{n}"), principal, _now())
            if got is None:
                return
            with lock:
                taken.append(got[0].run_id)

    threads = [threading.Thread(target=agent_loop, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(taken) == sorted(ids), "every job claimed, none twice"


def test_cancel_a_queued_job_now_and_a_running_one_through_its_agent(client: TestClient) -> None:
    queued = client.post("/api/v1/jobs", json=job()).json()["id"]
    running = client.post("/api/v1/jobs", json=job()).json()["id"]
    cancelled = client.post(f"/api/v1/runs/{queued}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    taken = claim(client, node(client)).json()
    assert taken["run"]["id"] == running, "a cancelled job is never claimed"
    mine = {"Authorization": f"Bearer {taken['token']}"}
    client.post(f"/api/v1/runs/{running}/state", json={"state": "running"}, headers=mine)
    assert client.post(f"/api/v1/runs/{running}/cancel").json()["state"] == "running"
    assert client.get(f"/api/v1/jobs/{running}", headers=mine).json()["cancel_requested"] is True
    again = client.post(f"/api/v1/runs/{queued}/cancel")
    assert again.status_code == 409 and again.json()["detail"] == f"run {queued} is already cancelled"
    plain = client.post("/api/v1/runs", json=job()["run"]).json()["id"]
    assert "not a queued job" in client.post(f"/api/v1/runs/{plain}/cancel").json()["detail"]


def test_other_orgs_neither_claim_nor_cancel(client: TestClient) -> None:
    run_id = client.post("/api/v1/jobs", json=job()).json()["id"]
    globex = node(client, "g1", org="globex")
    assert claim(client, globex, node_id="g1").status_code == 204
    assert claim(client, globex, node_id="n9").status_code == 404, "a node of another org, or none"
    assert (
        client.post(f"/api/v1/runs/{run_id}/cancel", headers=org_token(client, "globex")).status_code == 404
    )


def _agent_principal(client: TestClient) -> Principal:
    from central import auth

    token = agent(client)["Authorization"].removeprefix("Bearer ")
    return auth.lookup(client.app.state.sessions, auth.hash_token(token))  # type: ignore[attr-defined]


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_silent_agent_loses_its_job_requeued_before_it_started_failed_after(client: TestClient) -> None:
    clock = client.app.state.clock = Clock()  # type: ignore[attr-defined]
    lease = client.app.state.settings.job_lease_seconds  # type: ignore[attr-defined]
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    first = client.post("/api/v1/jobs", json=job()).json()["id"]
    second = client.post("/api/v1/jobs", json=job()).json()["id"]
    headers = node(client, "n1")
    node(client, "n2")
    lost_start = claim(client, headers, node_id="n1").json()
    started = claim(client, headers, node_id="n1", exclusive_ok=True).json()
    assert (lost_start["run"]["id"], started["run"]["id"]) == (first, second)
    mine = {"Authorization": f"Bearer {started['token']}"}
    assert (
        client.post(f"/api/v1/runs/{second}/state", json={"state": "running"}, headers=mine).status_code
        == 200
    )
    # heartbeats renew the running job's lease; the claimed one never started nor beat: requeued
    requeued: list[str] = []
    for _ in range(3):
        clock.now += timedelta(seconds=lease * 0.6)
        beat = client.post(f"/api/v1/jobs/{second}/heartbeat", headers=mine)
        assert beat.json() == {"state": "running", "cancel_requested": False}
        with sessions() as session:
            back, failed = job_repository.reap(session, clock.now)
            assert failed == [], "a job whose agent beats is never reaped"
            requeued += [r.id for r in back]
    assert requeued == [first]
    # then the running job's agent falls silent
    clock.now += timedelta(seconds=lease + 1)
    with sessions() as session:
        back, failed = job_repository.reap(session, clock.now)
        assert (back, [r.id for r in failed]) == ([], [second])
    lost = client.get(f"/api/v1/runs/{second}").json()
    assert lost["state"] == "failed" and lost["message"].startswith("node_lost: node n1 stopped renewing")
    # the stale attempts are refused: the failed run's with 409, the requeued one's token is gone
    late = client.post(f"/api/v1/runs/{second}/state", json={"state": "finished"}, headers=mine)
    assert late.status_code == 409 and "this job attempt is over" in late.json()["detail"]
    result = {"benchmark": "BenchmarkX", "measure": "time", "unit": "ns", "value": 1.0}
    refused = client.post(f"/api/v1/runs/{second}/results", json={"results": [result]}, headers=mine)
    assert refused.status_code == 409, "the lost attempt's results are not stored"
    old = {"Authorization": f"Bearer {lost_start['token']}"}
    assert client.post(f"/api/v1/jobs/{first}/heartbeat", headers=old).status_code == 401
    # the requeued job goes to another agent, attempt 2
    again = claim(client, agent(client), node_id="n2").json()
    assert (again["run"]["id"], again["attempt"], again["run"]["host"]) == (first, 2, "n2")
    events = client.get(f"/api/v1/runs/{first}/events").json()["data"]
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in events] == [
        (None, "queued", events[0]["actor"]), ("queued", "claimed", "node:n1"), ("claimed", "queued", "central"),
        ("queued", "claimed", "node:n2"),
    ]  # fmt: skip


def test_streamed_output_appends_by_offset_skips_resent_text_and_refuses_gaps(client: TestClient) -> None:
    run_id = client.post("/api/v1/jobs", json=job()).json()["id"]
    mine = {"Authorization": f"Bearer {claim(client, node(client)).json()['token']}"}
    out = f"/api/v1/runs/{run_id}/output"
    assert client.post(out, params={"offset": 0}, content=b"abc", headers=mine).status_code == 409, (
        "not running"
    )
    client.post(f"/api/v1/runs/{run_id}/state", json={"state": "running"}, headers=mine)
    assert client.post(out, params={"offset": 0}, content="abcé".encode(), headers=mine).json() == {
        "length": 4
    }
    assert client.post(out, params={"offset": 2}, content=b"c\xc3\xa9de", headers=mine).json() == {
        "length": 6
    }
    gap = client.post(out, params={"offset": 9}, content=b"x", headers=mine)
    assert gap.status_code == 409 and "send from offset 6" in gap.json()["detail"]
    tail = client.get(out, params={"offset": 3})
    assert (tail.text, tail.headers["x-output-length"], tail.headers["x-run-state"]) == (
        "éde",
        "6",
        "running",
    )
    assert client.get(out).text == "abcéde"


def test_a_drained_node_takes_no_new_jobs_until_resumed(client: TestClient) -> None:
    run_id = client.post("/api/v1/jobs", json=job()).json()["id"]
    headers = node(client)
    drained = client.post("/api/v1/nodes/n1/drain")
    assert drained.status_code == 200 and drained.json()["drained"] is True
    assert claim(client, headers).status_code == 204
    assert (
        client.post("/api/v1/nodes/n1/drain", headers=org_token(client, "acme", "writer")).status_code == 403
    )
    assert client.post("/api/v1/nodes/n1/resume").json()["drained"] is False
    assert claim(client, headers).json()["run"]["id"] == run_id
    events = client.get("/api/v1/nodes/n1/events").json()["data"]
    assert [e["to_state"] for e in events][-2:] == ["drained", "resumed"]


def test_a_job_with_retries_is_queued_again_without_the_lost_attempts_results(client: TestClient) -> None:
    clock = client.app.state.clock = Clock()  # type: ignore[attr-defined]
    lease = client.app.state.settings.job_lease_seconds  # type: ignore[attr-defined]
    sessions = client.app.state.sessions  # type: ignore[attr-defined]
    run_id = client.post("/api/v1/jobs", json=job(retries=1)).json()["id"]
    headers = node(client)
    result = {"benchmark": "BenchmarkX", "measure": "time", "unit": "ns", "value": 1.0}
    for attempt in (1, 2):
        taken = claim(client, headers).json()
        assert (taken["run"]["id"], taken["attempt"]) == (run_id, attempt)
        mine = {"Authorization": f"Bearer {taken['token']}"}
        client.post(f"/api/v1/runs/{run_id}/state", json={"state": "running"}, headers=mine)
        client.post(f"/api/v1/runs/{run_id}/results", json={"results": [result]}, headers=mine)
        clock.now += timedelta(seconds=lease + 1)
        with sessions() as session:
            back, failed = job_repository.reap(session, clock.now)
        if attempt == 1:  # lost, one retry left: queued again, the lost attempt's result gone
            assert [r.id for r in back] == [run_id] and failed == []
            assert client.get(f"/api/v1/runs/{run_id}/results").json()["count"] == 0
            assert client.get(f"/api/v1/runs/{run_id}").json()["state"] == "queued"
        else:  # lost again: no retry left
            assert back == [] and [r.id for r in failed] == [run_id]
    run = client.get(f"/api/v1/runs/{run_id}").json()
    assert run["state"] == "failed" and run["message"].startswith("node_lost")
    assert client.post("/api/v1/jobs", json=job(retries=9)).status_code == 422


def test_a_bundle_must_be_a_git_bundle_with_its_commit(client: TestClient) -> None:
    commit = "d" * 40
    for bad, why in (
        ({"bundle": "bm90IGEgYnVuZGxl", "bundle_commit": commit}, "not a git bundle"),
        ({"bundle": "%%%", "bundle_commit": commit}, "not base64"),
        ({"bundle": base64.b64encode(b"# v2 git bundle\n").decode()}, "bundle and bundle_commit go together"),
        # found by the fuzz test: orjson refused it with a TypeError, a 500
        ({"definition": {"command": "true", "x": -(2**63) - 1}}, "the target definition is not plain JSON"),
    ):
        refused = client.post("/api/v1/jobs", json=job(**bad))
        assert refused.status_code == 422 and why in refused.text, refused.text
    data = b"# v2 git bundle\n" + bytes(range(256))
    run_id = client.post(
        "/api/v1/jobs", json=job(bundle=base64.b64encode(data).decode(), bundle_commit=commit)
    ).json()["id"]
    taken = claim(client, node(client)).json()
    assert taken["bundle_commit"] == commit
    fetched = client.get(
        f"/api/v1/jobs/{run_id}/bundle", headers={"Authorization": f"Bearer {taken['token']}"}
    )
    assert fetched.content == data


def test_a_central_restart_gives_running_jobs_a_whole_lease_to_reconnect(settings: CentralSettings) -> None:
    with TestClient(create_app(settings)) as client:
        client.headers.update(org_token(client, "acme"))
        run_id = client.post("/api/v1/jobs", json=job()).json()["id"]
        claimed = claim(client, node(client, "n1"), exclusive_ok=True).json()
        mine = {"Authorization": f"Bearer {claimed['token']}"}
        started = client.post(f"/api/v1/runs/{run_id}/state", json={"state": "running"}, headers=mine)
        assert started.status_code == 200, started.text
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
    # central was down longer than the lease: its agent could not renew it
    with sessions() as session:
        session.execute(update(Job).values(lease_until=datetime.now(UTC) - timedelta(minutes=5)))
        session.commit()
    quick = settings.model_copy(update={"abandon_sweep_seconds": 0.05})
    with TestClient(create_app(quick)) as client:  # the restart: its sweeper runs at once and often
        time.sleep(0.5)
        assert client.get(f"/api/v1/runs/{run_id}", headers=mine).json()["state"] == "running"
        beat = client.post(f"/api/v1/jobs/{run_id}/heartbeat", headers=mine)
        assert beat.status_code == 200 and beat.json()["state"] == "running"
        done = client.post(f"/api/v1/runs/{run_id}/state", json={"state": "finished"}, headers=mine)
        assert done.status_code == 200, done.text


def test_an_agent_that_hung_up_its_long_poll_is_given_no_job(settings: CentralSettings) -> None:
    app = create_app(settings)
    with serve_app(app) as url, httpx.Client(base_url=url) as http:
        http.headers.update(org_token(http, "acme"))
        headers = org_token(http, "acme", role="agent", name="agent")
        assert http.put("/api/v1/nodes/n1", json=node_body(hostname="n1"), headers=headers).status_code == 200
        # an agent asks for a job, waiting up to 20 s, then dies (its connection closes)
        body = json.dumps({"node_id": "n1", "exclusive_ok": True, "wait_seconds": 20}).encode()
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as gone:
            gone.sendall(
                b"POST /api/v1/jobs/claim HTTP/1.1\r\nHost: central\r\nContent-Type: application/json\r\n"
                + f"Authorization: {headers['Authorization']}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            time.sleep(1)  # central is waiting for a job for it
        run_id = http.post("/api/v1/jobs", json=job()).json()["id"]
        time.sleep(2)  # several of the long poll's tries
        events = http.get(f"/api/v1/runs/{run_id}/events").json()["data"]
        assert [e["to_state"] for e in events] == ["queued"], "a job was claimed for an agent that is gone"
        # a live agent takes it at once
        claimed = http.post(
            "/api/v1/jobs/claim", json={"node_id": "n1", "exclusive_ok": True}, headers=headers
        )
        assert claimed.status_code == 200 and claimed.json()["run"]["id"] == run_id
    app.state.engine.dispose()


def test_a_queued_job_says_why_it_waits(client: TestClient) -> None:
    def waiting(run_id: str) -> str:
        shown = client.get(f"/api/v1/runs/{run_id}").json()["waiting"]
        listed = {r["id"]: r["waiting"] for r in client.get("/api/v1/runs").json()["data"]}
        assert listed[run_id] == shown
        return str(shown)

    gpu = client.post("/api/v1/jobs", json=job(requirements={"gpu": "a100"})).json()["id"]
    assert waiting(gpu).startswith("no agent of the org is taking jobs: start one with BENCHHUB_AGENT_JOBS")
    headers = node(client, "n1")
    assert claim(client, headers, labels={"pool": "cpu"}, exclusive_ok=False).status_code == 204
    assert waiting(gpu).startswith("none of the 1 node(s) taking jobs has the labels gpu=a100: give an agent")
    plain = client.post("/api/v1/jobs", json=job()).json()["id"]
    assert waiting(plain).startswith(
        "waiting for a node that matches to be free alone (n1); 1 queued jobs ahead"
    )
    client.post("/api/v1/nodes/n1/drain")
    assert waiting(plain) == "every node that matches is drained (n1): 'bhubctl nodes resume NODE'"
    client.post("/api/v1/nodes/n1/resume")
    assert claim(client, headers, exclusive_ok=True).json()["run"]["id"] == plain
    assert waiting(plain) == "claimed by node n1: starting"
    local = client.post("/api/v1/runs", json=job()["run"]).json()["id"]  # a bhubctl run: not a job
    assert client.get(f"/api/v1/runs/{local}").json()["waiting"] is None
