"""Nodes (machines running the agent): register, heartbeat, list, history; service discovery."""

from __future__ import annotations

from fastapi import APIRouter

from central import node_repository as nodes
from central import repository
from central.api.deps import AgentDep, AnyTokenDep, ClockDep, OrgAdminDep, ReaderDep, RemoteDep, SessionDep
from central.schemas import (
    EventPublic,
    EventsPublic,
    NodePublic,
    NodeRegister,
    NodesPublic,
    NodeState,
    TargetGroup,
)

router = APIRouter(prefix="/api/v1", tags=["nodes"])


@router.put("/nodes/{node_id}")
def register_node(
    node_id: str, body: NodeRegister, session: SessionDep, who: AgentDep, remote: RemoteDep, now: ClockDep
) -> NodePublic:
    """Register the node (in the token's org) or update what it says of itself; it is up from now on.

    Needs an agent token: a registered node is a scrape target whose series are stored as the org's.
    """
    org_id = repository.check_org(who, body.org)
    return nodes.node_public(nodes.register(session, org_id, node_id, body, remote, who.actor, now()))


@router.post("/nodes/{node_id}/heartbeat")
def heartbeat(
    node_id: str, session: SessionDep, who: AgentDep, remote: RemoteDep, now: ClockDep
) -> NodePublic:
    org_id = repository.check_org(who, None)
    return nodes.node_public(nodes.heartbeat(session, org_id, node_id, remote, who.actor, now()))


@router.post("/nodes/{node_id}/drain")
def drain_node(node_id: str, session: SessionDep, who: OrgAdminDep, now: ClockDep) -> NodePublic:
    """The node takes no new jobs (the ones it runs finish): maintenance, a noisy machine."""
    return nodes.node_public(nodes.drain(session, who.org_id or 0, node_id, True, who.actor, now()))


@router.post("/nodes/{node_id}/resume")
def resume_node(node_id: str, session: SessionDep, who: OrgAdminDep, now: ClockDep) -> NodePublic:
    """The drained node takes jobs again."""
    return nodes.node_public(nodes.drain(session, who.org_id or 0, node_id, False, who.actor, now()))


@router.get("/nodes")
def list_nodes(
    session: SessionDep, who: ReaderDep, now: ClockDep, state: NodeState | None = None
) -> NodesPublic:
    found = [nodes.node_public(n) for n in nodes.list_nodes(session, who.org_id, now(), state)]
    return NodesPublic(data=found, count=len(found))


@router.get("/nodes/{node_id}/events")
def node_events(node_id: str, session: SessionDep, who: ReaderDep, now: ClockDep) -> EventsPublic:
    org_id = repository.check_org(who, None)
    nodes.sweep(session, now())
    nodes.get_node(session, org_id, node_id)
    rows = repository.list_subject_events(session, org_id, "node", node_id)
    return EventsPublic(data=[EventPublic.model_validate(e) for e in rows], count=len(rows))


@router.get("/sd/agents", tags=["service discovery"])
def sd_agents(session: SessionDep, who: AnyTokenDep, now: ClockDep) -> list[TargetGroup]:
    """Prometheus HTTP service discovery of the org's live agents (the whole list every time).

    With the bootstrap admin token: every organization's agents (the stack's own vmagent).
    """
    return nodes.sd_groups(session, who.org_id, now())
