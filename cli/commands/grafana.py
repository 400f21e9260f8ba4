"""bhubctl grafana sync: Grafana orgs, datasources and dashboards for every BenchHub org."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.errors import ConfigError
from cli.output import console, err_console
from cli.settings import CliSettings

app = typer.Typer(help="Grafana: organizations, datasources and dashboards.", no_args_is_help=True)


@app.command("sync")
def sync_command(
    url: Annotated[str, typer.Option(envvar="BENCHHUB_GRAFANA_URL", help="Grafana's URL")],
    auth: Annotated[
        str, typer.Option(envvar="BENCHHUB_GRAFANA_AUTH", help="a Grafana server admin's user:password")
    ],
    vm_url: Annotated[
        str, typer.Option(envvar="BENCHHUB_GRAFANA_VM_URL", help="VictoriaMetrics as Grafana reaches it")
    ] = "http://127.0.0.1:8428",
    org: Annotated[
        list[str] | None, typer.Option(help="only these orgs (default: every org central knows)")
    ] = None,
) -> None:
    """Create or update one Grafana org per BenchHub org, with its datasource and dashboards."""
    user, sep, password = auth.partition(":")
    if not sep or not user:
        raise ConfigError("--auth / BENCHHUB_GRAFANA_AUTH must be user:password of a Grafana server admin")
    orgs = org or [o.name for o in CliSettings().central(admin=True).list_orgs().data]
    from cli.grafana import connect, sync  # grafana-client: only for this

    report = sync(lambda org_id: connect(url, user, password, org_id), orgs, vm_url, err_console.print)
    created = f" (created: {', '.join(report.created_orgs)})" if report.created_orgs else ""
    console.print(
        f"synced {len(orgs)} organizations{created}: {report.datasources} datasources, "
        f"{report.dashboards} dashboards"
    )
