"""The provisioned dashboards: generated output in sync, Grafana's model, and every query proven
against a real VictoriaMetrics holding seeded data."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm

from central.markers import annotation_tags
from dashboards.__main__ import JSON_DIR, RULES, dashboard_text, rules_text
from dashboards.build import DASHBOARDS, DATASOURCE_UID, PROM_ANNOTATION_OPTIONS, SCHEMA_VERSION
from exporter.metrics import CATALOG, EXTERNAL
from tests.dashboards import seed
from tests.dashboards.promql import SCRAPE_SECONDS, Runner, grafana_step, run_dashboard, substitute

ROOT = Path(__file__).resolve().parents[2]
BOARDS = {uid: json.loads((JSON_DIR / f"{uid}.json").read_text()) for uid in DASHBOARDS}
REPORT = ROOT / ".test-reports" / "dashboard-queries.txt"


def test_checked_in_output_is_what_the_generator_writes() -> None:
    for uid in DASHBOARDS:
        assert (JSON_DIR / f"{uid}.json").read_text() == dashboard_text(uid), (
            f"{uid}.json is stale: run 'make dashboards'"
        )
    assert RULES.read_text() == rules_text(), "rules.yml is stale: run 'make dashboards'"
    assert sorted(p.stem for p in JSON_DIR.glob("*.json")) == sorted(DASHBOARDS)


@pytest.mark.parametrize("uid", DASHBOARDS)
def test_dashboard_is_valid_grafana_json(uid: str) -> None:
    board = BOARDS[uid]
    assert board["uid"] == uid and re.fullmatch(r"[a-z0-9-]{1,40}", uid)
    assert board["schemaVersion"] == SCHEMA_VERSION and board["title"].startswith("BenchHub / ")
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), f"{uid}: duplicate panel ids"
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] >= 0 and pos["y"] >= 0 and pos["x"] + pos["w"] <= 24
        mine = {
            (x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])
        }
        assert not cells & mine, f"{uid}: panel {panel['title']!r} overlaps another"
        cells |= mine
        for t in panel["targets"]:
            assert t["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}
    # Grafana's own model (grafana-foundation-sdk's types, generated from Grafana's schema):
    # reading the JSON into it and writing it back loses and changes nothing.
    # The Prometheus annotation options are the one part it does not model (dashboards.build
    # writes them itself).
    back = json.loads(json.dumps(dm.Dashboard.from_json(board), cls=JSONEncoder))
    modelled = json.loads(json.dumps(board))
    for ann in modelled.get("annotations", {}).get("list", []):
        for option in set(ann) & PROM_ANNOTATION_OPTIONS:
            del ann[option]
    assert back == modelled


def test_the_commits_annotation_finds_the_tags_central_posts() -> None:
    """The trends board's "Runs: commits" (Grafana's own annotations, by tags) shows a run of the
    board's org, project, target and branch, and no other org's (Grafana cannot run here: the
    tags are compared)."""
    (commits,) = [
        a for a in BOARDS["benchhub-trends"]["annotations"]["list"] if a["name"].startswith("Runs: ")
    ]
    chosen = {"org": ["acme"], "project": ["shop"], "target": ["bench"], "branch": ["main"]}
    wanted = {substitute(tag, chosen) for tag in commits["target"]["tags"]}
    assert commits["datasource"]["type"] == "grafana" and commits["target"]["matchAny"] is False
    ours = seed.run_public(seed.Run("r1", "c1", 1_700_000_000, {}))
    assert wanted <= set(annotation_tags(ours))
    assert not wanted <= set(annotation_tags(ours.model_copy(update={"org": "beta"})))
    assert not wanted <= set(annotation_tags(ours.model_copy(update={"branch": "dev"})))


def metric_names(text: str) -> set[str]:
    """Names in queries that look like ours or vmagent's (label names and functions are not)."""
    names = set(
        re.findall(
            r"(?<![\w:])(benchhub_[a-z0-9_]*[a-z0-9]|vm_[a-z0-9_]+|vmagent_[a-z0-9_]+|up|ALERTS)(?=\s*[{\[)]|\s*$|\s)",
            text,
        )
    )
    return names


def known_names() -> set[str]:
    known = {s.name for s in (*CATALOG, *EXTERNAL.values())}
    for spec in CATALOG:
        if spec.type == "histogram":
            known |= {f"{spec.name}_bucket", f"{spec.name}_sum", f"{spec.name}_count"}
    return known


def used_everywhere() -> dict[str, set[str]]:
    where = {f"dashboard {uid}": metric_names(json.dumps(board)) for uid, board in BOARDS.items()}
    where["vmalert rules"] = metric_names(RULES.read_text())
    where["vmagent scrape config"] = metric_names(
        (ROOT / "provisioning" / "vmagent" / "scrape.yml").read_text()
    )
    return where


def test_every_metric_name_is_in_the_catalog() -> None:
    known = known_names()
    used = used_everywhere()
    assert sum(len(v) for v in used.values()) > 40  # the names are really read
    for where, names in used.items():
        assert names <= known, f"{where} uses names not in exporter/metrics.py: {sorted(names - known)}"
    # the check can fail: a name that is not in the catalog is caught
    assert metric_names('rate(benchhub_host_cpu_secs_total{mode="idle"}[5m])') - known == {
        "benchhub_host_cpu_secs_total"
    }


def test_provisioning_files_follow_grafanas_format() -> None:
    ds = yaml.safe_load((ROOT / "provisioning" / "grafana" / "datasources" / "benchhub.yml").read_text())
    assert ds["apiVersion"] == 1
    (source,) = ds["datasources"]
    assert {"name", "type", "uid", "url", "access"} <= set(source) and source["type"] == "prometheus"
    assert source["uid"] == DATASOURCE_UID and source["access"] in ("proxy", "direct")
    # the least step the query runner takes Grafana to ask at (tests.dashboards.promql)
    assert source["jsonData"]["timeInterval"] == f"{SCRAPE_SECONDS}s"
    dash = yaml.safe_load((ROOT / "provisioning" / "grafana" / "dashboards" / "benchhub.yml").read_text())
    assert dash["apiVersion"] == 1
    (provider,) = dash["providers"]
    assert provider["type"] == "file" and provider["options"]["path"] and provider["name"]
    assert set(provider) <= {"name", "orgId", "folder", "folderUid", "type", "disableDeletion", "editable",
                             "allowUiUpdates", "updateIntervalSeconds", "options"}  # fmt: skip


def test_compose_mounts_the_provisioning_files_grafana_expects() -> None:
    compose = yaml.safe_load((ROOT / "stack" / "docker-compose.yml").read_text())
    grafana = compose["services"]["grafana"]
    mounts = {
        v.split(":")[1]: (ROOT / "stack" / v.split(":")[0]).resolve()
        for v in grafana["volumes"]
        if v.startswith("..")
    }
    assert (
        mounts["/etc/grafana/provisioning/datasources"] == ROOT / "provisioning" / "grafana" / "datasources"
    )
    assert mounts["/etc/grafana/provisioning/dashboards"] == ROOT / "provisioning" / "grafana" / "dashboards"
    provider = yaml.safe_load((ROOT / "provisioning" / "grafana" / "dashboards" / "benchhub.yml").read_text())
    assert mounts[provider["providers"][0]["options"]["path"]] == JSON_DIR
    assert "BENCHHUB_VM_URL" in grafana["environment"]  # the datasource file's ${BENCHHUB_VM_URL}


def _write_report(lines: list[str]) -> None:
    REPORT.parent.mkdir(exist_ok=True)
    with REPORT.open("a") as out:
        out.write("\n".join(lines) + "\n")


@pytest.mark.parametrize("uid", DASHBOARDS)
def test_every_query_returns_data_with_its_legend_labels(uid: str, seeded_vm: str) -> None:
    runner = Runner(seeded_vm)
    try:
        _, outcomes = run_dashboard(runner, BOARDS[uid])
    finally:
        runner.close()
    failed = [f"{o.where}: {o.error or ('no data' if not o.series else f'missing labels {o.missing_labels}')}"
              f"\n    {o.expr}" for o in outcomes if not o.ok]  # fmt: skip
    assert not failed, f"{uid}:\n" + "\n".join(failed)
    slowest = max(outcomes, key=lambda o: o.seconds)
    _write_report([f"{uid}: {len(outcomes)} queries, max {slowest.seconds * 1000:.1f} ms ({slowest.where})"])


def test_a_broken_query_fails_the_check(seeded_vm: str) -> None:
    board: dict[str, Any] = json.loads(json.dumps(BOARDS["benchhub-hosts"]))
    board["panels"][1]["targets"][0]["expr"] = "benchhub_host_load_one"  # a typo: no such series
    board["panels"][2]["targets"][0]["expr"] += " +"  # a syntax error
    board["panels"][3]["targets"][0]["legendFormat"] = "{{hostnam}}"  # a legend label no series has
    runner = Runner(seeded_vm)
    try:
        _, outcomes = run_dashboard(runner, board)
    finally:
        runner.close()
    bad = {o.where.split("'")[1] for o in outcomes if not o.ok}
    assert bad == {board["panels"][i]["title"] for i in (1, 2, 3)}


def test_the_trend_graphs_ask_at_most_250_points_a_line_at_grafana_s_rounded_steps() -> None:
    graphs = [p for p in BOARDS["benchhub-trends"]["panels"] if p["type"] == "timeseries"]
    assert len(graphs) == 2 and all(p["maxDataPoints"] == 250 for p in graphs)
    # the range over 250 points, rounded as Grafana rounds it: a day 5.8 min -> 5 min, a week
    # 40 min -> 30 min, a month 2.9 h -> 3 h, a year 35 h -> 1 d
    assert [grafana_step(days * 86400, 250) for days in (1, 7, 30, 365)] == [300, 1800, 10800, 86400]
    # a full-width panel without them (1,900 px): 20 min over a month; over 3 h, the scrape
    # interval (10 s); over a year at 20,000 points, the safe resolution (range / 11,000 -> 1 h)
    assert grafana_step(30 * 86400, 1900) == 1200
    assert grafana_step(3 * 3600, 1900) == 10
    assert grafana_step(365 * 86400, 20_000) == 3600
