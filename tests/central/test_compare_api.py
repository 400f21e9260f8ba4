"""GET /api/v1/compare: runs, commits and branches judged against real databases."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from tests.central.conftest import org_token


def record(
    client: TestClient, commit: str, results: list[dict[str, Any]], *, branch: str = "main",
    target: str = "strings", project: str = "shop", thresholds: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None, state: str = "finished", machine: dict[str, Any] | None = None,
) -> str:  # fmt: skip
    """A run recorded as bhubctl does: created, its results uploaded, closed."""
    body = {"project": project, "target": target, "commit": commit, "branch": branch, "host": "ci-1",
            "parser": "json", "thresholds": thresholds or {}, "machine": machine}  # fmt: skip
    created = client.post("/api/v1/runs", json=body, headers=headers)
    assert created.status_code == 201, created.text
    run_id: str = created.json()["id"]
    uploaded = client.post(f"/api/v1/runs/{run_id}/results", json={"results": results}, headers=headers)
    assert uploaded.status_code == 200, uploaded.text
    closed = client.post(f"/api/v1/runs/{run_id}/state", json={"state": state}, headers=headers)
    assert closed.status_code == 200, closed.text
    return run_id


def sampled(
    name: str, centre: float, seed: int, n: int = 10, cv: float = 0.01, **extra: Any
) -> dict[str, Any]:
    samples = np.random.default_rng(seed).normal(centre, centre * cv, n).tolist()
    return {"benchmark": name, "measure": "time", "unit": "ns", "value": float(np.median(samples)),
            "samples": samples, **extra}  # fmt: skip


def compared(client: TestClient, base: str, head: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/compare", params={"base": base, "head": head, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["benchmark"]: r for r in body["data"]}


def test_two_runs_slowed_improved_unchanged_added_removed(client: TestClient) -> None:
    base = record(client, "a" * 40, [
        sampled("Slow", 100, 1), sampled("Fast", 100, 2), sampled("Same", 100, 3), sampled("Gone", 5, 4),
        {"benchmark": "Copy", "measure": "throughput", "unit": "MB/s", "value": 500.0,
         "samples": np.random.default_rng(5).normal(500, 5, 10).tolist()},
    ])  # fmt: skip
    head = record(client, "b" * 40, [
        sampled("Slow", 110, 11), sampled("Fast", 80, 12), sampled("Same", 100, 13), sampled("New", 5, 14),
        {"benchmark": "Copy", "measure": "throughput", "unit": "MB/s", "value": 450.0,
         "samples": np.random.default_rng(15).normal(450, 5, 10).tolist()},
    ])  # fmt: skip
    body = compared(client, base, head)
    rows = by_name(body)
    assert {n: r["verdict"] for n, r in rows.items()} == {
        "Slow": "regressed", "Fast": "improved", "Same": "unchanged", "Gone": "removed", "New": "added",
        "Copy": "regressed",  # throughput fell: higher is better
    }  # fmt: skip
    slow = rows["Slow"]
    assert slow["base"]["n"] == 10 and slow["head"]["n"] == 10
    assert slow["base"]["low"] <= slow["base"]["centre"] <= slow["base"]["high"]
    assert 0.05 < slow["change"] < 0.15 and slow["p_value"] < 0.001 and slow["test"] == "mwu"
    assert rows["Copy"]["direction"] == "higher"
    assert body["counts"]["regressed"] == 2 and body["count"] == 6
    (target,) = body["targets"]
    assert target["base_runs"] == [base] and target["head_runs"] == [head]
    assert 0.9 < target["geomean"] < 1.1
    # the head run's time, for the report's link to its run dashboard
    run = client.get(f"/api/v1/runs/{head}").json()
    assert target["head_span"] == [run["started_at"], run["finished_at"]]


def test_branches_commits_and_prefixes(client: TestClient) -> None:
    record(client, "1" * 40, [sampled("A", 100, 1)])
    old_main = record(client, "2" * 40, [sampled("A", 100, 2)])
    record(client, "3" * 40, [sampled("A", 120, 3)], branch="feature")
    record(client, "3" * 40, [sampled("A", 120, 4)], branch="feature")  # a re-run: pooled
    record(client, "4" * 40, [sampled("A", 100, 5)], branch="feature", state="failed")  # not finished
    body = compared(client, "main", "feature")
    (row,) = body["data"]
    assert row["verdict"] == "regressed" and row["head"]["n"] == 20 and row["head"]["runs"] == 2
    assert body["targets"][0]["base_runs"] == [old_main]
    assert compared(client, "2222222", "commit:333")["data"][0]["verdict"] == "regressed"
    assert compared(client, f"run:{old_main[:8]}", "branch:feature")["data"][0]["verdict"] == "regressed"


def test_a_commit_that_is_no_hex_sha_is_found_whole(client: TestClient) -> None:
    # what runs record as their commit is any [0-9A-Za-z._-]: an SVN revision, a short id
    record(client, "r1234", [sampled("A", 100, 1)])
    record(client, "abc", [sampled("A", 120, 2)], branch="feature")
    body = compared(client, "r1234", "abc")
    assert body["data"][0]["verdict"] == "regressed"
    missing = client.get("/api/v1/compare", params={"base": "r123", "head": "abc"})  # whole, not a prefix
    assert missing.status_code == 404 and "no run, commit or branch 'r123'" in missing.json()["detail"]


def test_unknown_ambiguous_and_cross_project_names_are_refused(client: TestClient) -> None:
    record(client, "a" * 40, [sampled("A", 100, 1)])
    record(client, "ab" + "0" * 38, [sampled("A", 100, 2)], branch="dev")
    record(client, "c" * 40, [sampled("A", 100, 3)], project="other")
    missing = client.get("/api/v1/compare", params={"base": "nope", "head": "main"})
    assert missing.status_code == 404
    assert "no run, commit or branch 'nope'" in missing.json()["detail"]
    assert "bhubctl runs list" in missing.json()["detail"]
    ambiguous = client.get("/api/v1/compare", params={"base": "commit:a", "head": "main"})
    assert ambiguous.status_code == 400 and "ambiguous" in ambiguous.json()["detail"]
    crossing = client.get("/api/v1/compare", params={"base": "main", "head": "cccc"})
    assert crossing.status_code == 400 and "projects other, shop" in crossing.json()["detail"]
    scoped = client.get("/api/v1/compare", params={"base": "main", "head": "cccc", "project": "shop"})
    assert scoped.status_code == 404


def test_another_orgs_runs_are_not_found(client: TestClient) -> None:
    mine = record(client, "a" * 40, [sampled("A", 100, 1)])
    theirs_headers = org_token(client, "globex")
    theirs = record(client, "b" * 40, [sampled("A", 100, 2)], headers=theirs_headers)
    for base, head in ((mine, theirs), (theirs, mine), ("main", theirs)):
        response = client.get("/api/v1/compare", params={"base": base, "head": head})
        assert response.status_code == 404, response.text
    as_them = client.get("/api/v1/compare", params={"base": theirs, "head": theirs}, headers=theirs_headers)
    assert as_them.status_code == 200


def test_single_values_use_the_base_branch_window(client: TestClient) -> None:
    rng = np.random.default_rng(7)
    for i in range(12):
        record(client, f"{i:040x}", [{"benchmark": "Build", "measure": "time", "unit": "s",
                                      "value": float(rng.normal(30.0, 0.3))}])  # fmt: skip
    slower = record(client, "f" * 40, [{"benchmark": "Build", "measure": "time", "unit": "s", "value": 33.0}],
                    branch="pr")  # fmt: skip
    same = record(client, "e" * 40, [{"benchmark": "Build", "measure": "time", "unit": "s", "value": 30.1}],
                  branch="pr2")  # fmt: skip
    row = compared(client, "main", slower)["data"][0]
    assert row["test"] == "z_score" and row["verdict"] == "regressed"
    assert row["base"]["runs"] == 12 and row["base"]["n"] == 12
    assert compared(client, "main", slower, window=5)["data"][0]["base"]["runs"] == 5
    assert compared(client, "main", same)["data"][0]["verdict"] == "unchanged"


def test_thresholds_come_from_the_head_run_and_parameters_override_them(client: TestClient) -> None:
    base = record(client, "a" * 40, [sampled("A", 100, 1)])
    lenient = {"*": {"test": "percentage", "limit": 0.2}}
    head = record(client, "b" * 40, [sampled("A", 110, 2)], thresholds=lenient)
    row = compared(client, base, head)["data"][0]
    assert row["test"] == "percentage" and row["verdict"] == "unchanged"
    assert compared(client, base, head, limit=0.05)["data"][0]["verdict"] == "regressed"
    assert compared(client, base, head, test="mwu")["data"][0]["verdict"] == "regressed"
    assert compared(client, base, head, test="mwu", min_effect=0.5)["data"][0]["verdict"] == "unchanged"


def test_a_declared_direction_wins(client: TestClient) -> None:
    base = record(client, "a" * 40, [sampled("Score", 100, 1, direction="higher")])
    head = record(client, "b" * 40, [sampled("Score", 110, 2, direction="higher")])
    row = compared(client, base, head)["data"][0]
    assert row["direction"] == "higher" and row["verdict"] == "improved"


def test_bad_thresholds_are_refused_at_run_creation(client: TestClient) -> None:
    body = {"project": "shop", "target": "t", "commit": "a" * 40, "branch": "main", "host": "h",
            "parser": "json", "thresholds": {"*": {"test": "magic"}}}  # fmt: skip
    response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 422


def test_a_machine_that_differs_from_the_bases_is_flagged_and_its_load_is_not(client: TestClient) -> None:
    machine = {"cpu_model": "EPYC", "cpus": 2, "cpu_set": "0-1", "governor": "performance", "boost": False,
               "smt": False, "aslr": 2, "kernel": "6.1.0", "load_start": 0.1}  # fmt: skip
    base = record(client, "a" * 40, [sampled("A", 100, 1)], machine=machine)
    same = record(client, "b" * 40, [sampled("A", 100, 2)], machine={**machine, "load_start": 3.5})
    other = record(
        client, "c" * 40, [sampled("A", 100, 3)],
        machine={**machine, "governor": "powersave", "boost": True, "cpu_set": "1"},
    )  # fmt: skip
    unknown = record(client, "d" * 40, [sampled("A", 100, 4)])  # an older bhubctl: nothing to compare
    assert compared(client, base, same)["targets"][0]["machine"] == []
    assert compared(client, base, unknown)["targets"][0]["machine"] == []
    assert compared(client, base, other)["targets"][0]["machine"] == [
        "cpu_set: 0-1 → 1", "governor: performance → powersave", "boost: off → on",
    ]  # fmt: skip
    # the load at the end arrives with the run's last state and joins the facts of its start
    run = client.get(f"/api/v1/runs/{base}").json()
    assert run["machine"]["governor"] == "performance" and run["machine"]["load_start"] == 0.1
    created = client.post("/api/v1/runs", json={"project": "shop", "target": "strings", "commit": "e" * 40,
                                                "branch": "main", "host": "ci-1", "parser": "json",
                                                "machine": machine})  # fmt: skip
    closed = client.post(f"/api/v1/runs/{created.json()['id']}/state",
                         json={"state": "finished", "machine": {"load_end": 1.25}})  # fmt: skip
    assert closed.json()["machine"] == {**machine, "load_end": 1.25}
    bad = client.post("/api/v1/runs", json={"project": "shop", "target": "strings", "commit": "f" * 40,
                                            "branch": "main", "host": "ci-1", "parser": "json",
                                            "machine": {"aslr": 7}})  # fmt: skip
    assert bad.status_code == 422 and "aslr" in bad.text
