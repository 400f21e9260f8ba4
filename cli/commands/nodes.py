"""bhubctl nodes: the machines running the agent, and draining one (no new jobs)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from central.schemas import NodeState
from cli.output import console, err_console
from cli.settings import CliSettings

app = typer.Typer(help="Machines running the agent: list, drain, resume.", no_args_is_help=True)
_COLOURS = {"up": "green", "lost": "red"}


@app.command("list")
def list_nodes(
    state: Annotated[NodeState | None, typer.Option(help="only nodes in this state")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON (for scripts)")] = False,
) -> None:
    """Your org's nodes: state (up, lost), drained or not, the last heartbeat."""
    found = CliSettings().central().list_nodes(state)
    if as_json:
        typer.echo(found.model_dump_json(indent=2))
        return
    if not found.data:
        err_console.print("no nodes: an agent with BENCHHUB_AGENT_CENTRAL_URL registers its machine")
        return
    table = Table("node", "hostname", "state", "jobs", "CPUs", "last heartbeat", pad_edge=False)
    for node in found.data:
        colour = _COLOURS.get(node.state.value, "white")
        table.add_row(
            escape(node.id), escape(node.hostname), f"[{colour}]{node.state.value}[/]",
            "drained" if node.drained else "taking", str(node.cpus or "?"),
            node.last_heartbeat_at.strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
    console.print(table)


@app.command()
def drain(node: Annotated[str, typer.Argument(help="the node's id (bhubctl nodes list)")]) -> None:
    """The node takes no new jobs; the ones it runs finish (an org admin's token)."""
    CliSettings().central().drain_node(node, True)
    err_console.print(f"node {escape(node)} drained: it takes no new jobs")


@app.command()
def resume(node: Annotated[str, typer.Argument(help="the node's id (bhubctl nodes list)")]) -> None:
    """A drained node takes jobs again."""
    CliSettings().central().drain_node(node, False)
    err_console.print(f"node {escape(node)} takes jobs again")
