"""bhubctl grafana sync: one Grafana organization per BenchHub organization, each with its own
VictoriaMetrics datasource (queries pinned to the org's series) and the BenchHub dashboards.

Grafana organizations cannot be provisioned from files, so this goes through Grafana's HTTP
API with grafana-client, as a Grafana server admin (basic auth). Safe to repeat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from cli.errors import ServiceError

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards" / "json"
DATASOURCE_UID = "benchhub-vm"
FOLDER_UID = "benchhub"


@dataclass
class SyncReport:
    created_orgs: list[str] = field(default_factory=list)
    datasources: int = 0
    dashboards: int = 0


def connect(
    url: str, user: str, password: str, org_id: int | None = None, timeout: float = 10.0
) -> GrafanaApi:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ServiceError(f"Grafana URL {url!r}: expected http(s)://host[:port][/path]")
    return GrafanaApi(
        auth=(user, password),
        host=parsed.hostname,
        port=parsed.port,
        protocol=parsed.scheme,
        url_path_prefix=parsed.path.strip("/") + ("/" if parsed.path.strip("/") else ""),
        organization_id=org_id,
        timeout=timeout,
    )


def datasource(org: str, vm_url: str) -> dict[str, Any]:
    """VictoriaMetrics for one org: every query carries extra_label=org=<org>, which VictoriaMetrics
    enforces as a filter, so an org's dashboards and Explore see only its own series."""
    return {
        "name": "VictoriaMetrics",
        "uid": DATASOURCE_UID,
        "type": "prometheus",
        "access": "proxy",
        "url": vm_url,
        "isDefault": True,
        "editable": False,
        "jsonData": {
            "httpMethod": "POST",
            "timeInterval": "10s",
            "customQueryParameters": f"extra_label=org={org}",
        },
    }


def _missing(exc: GrafanaClientError) -> bool:
    return bool(exc.status_code == 404)


def sync(
    connect_as: Callable[[int | None], GrafanaApi],
    orgs: list[str],
    vm_url: str,
    progress: Callable[[str], None] = lambda _m: None,
) -> SyncReport:
    """Create what is missing and update the rest, org by org."""
    boards = [json.loads(p.read_text()) for p in sorted(DASHBOARDS.glob("*.json"))]
    report = SyncReport()
    admin = connect_as(None)
    try:
        for org in orgs:
            try:
                org_id = int(admin.organization.find_organization(org)["id"])
            except GrafanaClientError as exc:
                if not _missing(exc):
                    raise
                org_id = int(admin.organization.create_organization({"name": org})["orgId"])
                report.created_orgs.append(org)
            api = connect_as(org_id)
            source = datasource(org, vm_url)
            try:
                api.datasource.get_datasource_by_uid(DATASOURCE_UID)
                api.datasource.update_datasource_by_uid(DATASOURCE_UID, source)
            except GrafanaClientError as exc:
                if not _missing(exc):
                    raise
                api.datasource.create_datasource(source)
            report.datasources += 1
            try:
                api.folder.get_folder(FOLDER_UID)
            except GrafanaClientError as exc:
                if not _missing(exc):
                    raise
                api.folder.create_folder("BenchHub", uid=FOLDER_UID)
            for board in boards:
                api.dashboard.update_dashboard(
                    {
                        "dashboard": board,
                        "folderUid": FOLDER_UID,
                        "overwrite": True,
                        "message": "bhubctl grafana sync",
                    }
                )
                report.dashboards += 1
            progress(f"{org}: Grafana org {org_id}, datasource and {len(boards)} dashboards")
    except GrafanaClientError as exc:
        hint = " (a Grafana server admin's user:password is needed)" if exc.status_code in (401, 403) else ""
        raise ServiceError(f"Grafana refused the sync ({exc.status_code}): {exc.message}{hint}") from None
    except (GrafanaException, OSError) as exc:  # niquests' connection errors are OSErrors
        raise ServiceError(f"Grafana is not reachable at {admin.client.url}: {type(exc).__name__}") from None
    return report
